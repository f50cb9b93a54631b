//! The response cache of the public catalogue.
//!
//! Two tiers: an in-process one (moka) in front of a shared one — Redis when
//! `USE_REDIS=true`, else the `cache_entries` table, as Django's database cache.
//! An entry carries the time its body was rendered and is never served more
//! than `ttl` after it, from either tier. Concurrent misses of one key render it
//! once. A failing shared tier (Redis down) is logged and skipped: reads are
//! then rendered fresh, never answered with an error.
//!
//! [`ResponseCache::invalidate`] makes a change visible at once on this
//! instance: every entry rendered before it is ignored from then on, here and
//! in the shared tier; other instances see the change within `ttl`.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use axum::body::Bytes;
use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{models::cache_entries, platform::redis_conn::RedisConn};

/// A rendered body and when it was rendered (unix milliseconds).
#[derive(Debug, Clone)]
pub struct Entry {
    pub body: Bytes,
    pub rendered_at: i64,
}

impl Entry {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.body.len());
        out.extend_from_slice(&self.rendered_at.to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    fn decode(raw: &[u8]) -> Option<Self> {
        let stamp: [u8; 8] = raw.get(..8)?.try_into().ok()?;
        Some(Self {
            rendered_at: i64::from_be_bytes(stamp),
            body: Bytes::copy_from_slice(&raw[8..]),
        })
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The query parameters that shape the answer of a cached path. Anything
/// else is left out of the cache key and of the page links, so random
/// parameters cannot force fresh queries or fill the cache with copies of
/// one answer.
#[must_use]
pub fn params_for(path: &str) -> &'static [&'static str] {
    const LIST: &[&str] = &[
        "category",
        "end_date",
        "location",
        "no_pagination",
        "page",
        "start_date",
        "type",
    ];
    const PAGED: &[&str] = &["no_pagination", "page"];
    let path = path.trim_end_matches('/');
    if path.ends_with("/events/public_list") {
        LIST
    } else if path.ends_with("/event-categories") || path.ends_with("/locations") {
        PAGED
    } else {
        &[]
    }
}

/// A host as the cache keys it: case and a trailing dot do not make
/// another answer.
#[must_use]
pub fn host_key(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.split_once(':') {
        Some((name, port)) => format!("{}:{port}", name.trim_end_matches('.')),
        None => host.trim_end_matches('.').to_string(),
    }
}

/// Parameters that may repeat (the filter matches any of their values).
const REPEATABLE: [&str; 2] = ["category", "type"];

/// A query in canonical form for `path`: its parameters only, by name;
/// a repeatable one's values sorted and deduplicated, any other its last
/// value (as Django's `QueryDict.get`); empty values dropped (they filter
/// nothing); page numbers as plain numbers; `no_pagination` only when true.
#[must_use]
pub fn canonical_query<I: IntoIterator<Item = (String, String)>>(
    path: &str,
    pairs: I,
) -> Vec<(String, String)> {
    let known = params_for(path);
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs {
        if v.is_empty() || !known.contains(&k.as_str()) {
            continue;
        }
        let v = match k.as_str() {
            "page" => v.parse::<u64>().map_or(v, |n| n.to_string()),
            "no_pagination" if v.eq_ignore_ascii_case("true") => "true".to_string(),
            "no_pagination" => continue,
            _ => v,
        };
        if !REPEATABLE.contains(&k.as_str()) {
            out.retain(|(name, _)| *name != k);
        }
        out.push((k, v));
    }
    out.sort();
    out.dedup();
    out
}

/// The cache key of a catalogue answer: everything that shapes it (the
/// scheme and host appear in page links and image URLs) and nothing else.
/// Built here only, for the handlers and the fast path alike.
#[must_use]
pub fn key(scheme: &str, host: &str, path: &str, canonical: &[(String, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in canonical {
        query.append_pair(k, v);
    }
    format!(
        "api:v1:{scheme}://{}{path}?{}",
        host_key(host),
        query.finish()
    )
}

/// The in-process tier holds at most this many bytes of answers and keys.
pub const LOCAL_MAX_BYTES: u64 = 32 * 1024 * 1024;

/// Answers larger than this are never written to the shared tier (a row of
/// the cache table, or a Redis value).
pub const SHARED_MAX_BYTES: usize = 256 * 1024;

/// How long a shared-tier operation may take before it is given up.
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);

/// Where entries are shared between instances.
pub enum Shared {
    Redis(Arc<RedisConn>),
    Database(DatabaseConnection),
}

impl Shared {
    async fn get(&self, key: &str) -> Option<Entry> {
        let fetched = async {
            match self {
                Self::Redis(tier) => {
                    let mut conn = tier.get().await?;
                    let raw: Option<Vec<u8>> = redis::cmd("GET")
                        .arg(key)
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| tracing::warn!(error = %e, "redis GET failed"))
                        .ok()?;
                    raw.as_deref().and_then(Entry::decode)
                }
                Self::Database(db) => cache_entries::Entity::find_by_id(key.to_string())
                    .filter(cache_entries::Column::ExpiresAt.gt(Utc::now()))
                    .one(db)
                    .await
                    .map_err(|e| tracing::warn!(error = %e, "cache table read failed"))
                    .ok()?
                    .and_then(|row| Entry::decode(&row.value)),
            }
        };
        tokio::time::timeout(SHARED_TIMEOUT, fetched)
            .await
            .ok()
            .flatten()
    }

    async fn put(&self, key: &str, entry: &Entry, ttl: Duration) {
        let stored = async {
            match self {
                Self::Redis(tier) => {
                    let Some(mut conn) = tier.get().await else {
                        return;
                    };
                    let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                    let res: redis::RedisResult<()> = redis::cmd("SET")
                        .arg(key)
                        .arg(entry.encode())
                        .arg("PX")
                        .arg(millis)
                        .query_async(&mut conn)
                        .await;
                    if let Err(e) = res {
                        tracing::warn!(error = %e, "redis SET failed");
                    }
                }
                Self::Database(db) => {
                    let expires = Utc::now() + ttl;
                    let upsert =
                        cache_entries::put(db, key.to_string(), entry.encode(), expires).await;
                    if let Err(e) = upsert {
                        tracing::warn!(error = %e, "cache table write failed");
                    }
                    // Expired rows are swept now and then, by whichever writer.
                    if rand::random::<u8>() == 0 {
                        let _ = cache_entries::Entity::delete_many()
                            .filter(cache_entries::Column::ExpiresAt.lt(Utc::now()))
                            .exec(db)
                            .await;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(SHARED_TIMEOUT, stored).await;
    }
}

/// The local tier expires each entry when it would be `ttl` old.
struct UntilStale {
    ttl_ms: i64,
}

impl moka::Expiry<String, Arc<Entry>> for UntilStale {
    fn expire_after_create(&self, _: &String, value: &Arc<Entry>, _: Instant) -> Option<Duration> {
        let left = value.rendered_at + self.ttl_ms - now_ms();
        Some(Duration::from_millis(
            u64::try_from(left.max(0)).unwrap_or(0),
        ))
    }
}

pub struct ResponseCache {
    /// Keeps apart deployments (and test databases) that share one Redis.
    namespace: String,
    ttl: Duration,
    local: moka::future::Cache<String, Arc<Entry>>,
    shared: Option<Shared>,
    /// Entries rendered before this instant (unix ms) are stale.
    valid_from: AtomicI64,
}

impl ResponseCache {
    /// `ttl` zero turns caching off (every read renders). `namespace` prefixes
    /// every key.
    #[must_use]
    pub fn new(namespace: &str, ttl: Duration, shared: Option<Shared>) -> Self {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        Self {
            namespace: namespace.to_string(),
            ttl,
            local: moka::future::Cache::builder()
                .weigher(|key: &String, entry: &Arc<Entry>| {
                    u32::try_from(key.len() + entry.body.len() + 64).unwrap_or(u32::MAX)
                })
                .max_capacity(LOCAL_MAX_BYTES)
                .expire_after(UntilStale { ttl_ms })
                .build(),
            shared,
            valid_from: AtomicI64::new(0),
        }
    }

    /// The shared tier: the instance's Redis connection when Redis is on,
    /// else the database.
    #[must_use]
    pub fn shared_for(redis: Option<&Arc<RedisConn>>, db: &DatabaseConnection) -> Shared {
        redis.map_or_else(
            || Shared::Database(db.clone()),
            |r| Shared::Redis(r.clone()),
        )
    }

    fn fresh(&self, entry: &Entry) -> bool {
        let ttl_ms = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        entry.rendered_at >= self.valid_from.load(Ordering::Acquire)
            && now_ms() - entry.rendered_at < ttl_ms
    }

    /// Whether answers are cached at all (`CATALOGUE_CACHE_SECONDS` > 0).
    #[must_use]
    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The fresh body under `key` in this instance's tier, if there is one
    /// (never renders, never asks the shared tier).
    pub async fn peek(&self, key: &str) -> Option<Bytes> {
        if self.ttl.is_zero() {
            return None;
        }
        let hit = self
            .local
            .get(&format!("tuki:{}:{key}", self.namespace))
            .await?;
        self.fresh(&hit).then(|| hit.body.clone())
    }

    /// The body cached under `key`, or the one `render` makes (then cached).
    ///
    /// # Errors
    /// Whatever `render` fails with; failures are not cached.
    pub async fn get_or_render<F, Fut, E>(&self, key: String, render: F) -> Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, E>>,
        E: Clone + Send + Sync + 'static,
    {
        if self.ttl.is_zero() {
            return render().await;
        }
        let key = format!("tuki:{}:{key}", self.namespace);
        if let Some(hit) = self.local.get(&key).await {
            if self.fresh(&hit) {
                return Ok(hit.body.clone());
            }
            self.local.invalidate(&key).await;
        }
        let entry = self
            .local
            .try_get_with(key.clone(), async {
                if let Some(shared) = &self.shared {
                    if let Some(hit) = shared.get(&key).await.filter(|e| self.fresh(e)) {
                        return Ok(Arc::new(hit));
                    }
                }
                let entry = Entry {
                    rendered_at: now_ms(),
                    body: render().await?,
                };
                if let Some(shared) = &self.shared {
                    if entry.body.len() <= SHARED_MAX_BYTES {
                        shared.put(&key, &entry, self.ttl).await;
                    }
                }
                Ok(Arc::new(entry))
            })
            .await
            .map_err(|e: Arc<E>| (*e).clone())?;
        Ok(entry.body.clone())
    }

    /// How many answers this instance holds (after pending evictions).
    pub async fn local_entries(&self) -> u64 {
        self.local.run_pending_tasks().await;
        self.local.entry_count()
    }

    /// Everything cached so far is stale from now on (this instance).
    pub fn invalidate(&self) {
        self.valid_from.store(now_ms(), Ordering::Release);
        self.local.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    async fn render(counter: &AtomicUsize) -> Result<Bytes, ()> {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Ok(Bytes::from(format!("v{n}")))
    }

    #[tokio::test]
    async fn a_hit_is_served_until_the_ttl_then_rendered_again() {
        let cache = ResponseCache::new("t", Duration::from_millis(300), None);
        let renders = AtomicUsize::new(0);
        let a = cache
            .get_or_render("k".into(), || render(&renders))
            .await
            .unwrap();
        let b = cache
            .get_or_render("k".into(), || render(&renders))
            .await
            .unwrap();
        assert_eq!((a.as_ref(), b.as_ref()), (&b"v0"[..], &b"v0"[..]));
        tokio::time::sleep(Duration::from_millis(350)).await;
        let c = cache
            .get_or_render("k".into(), || render(&renders))
            .await
            .unwrap();
        assert_eq!(c.as_ref(), b"v1");
    }

    #[tokio::test]
    async fn invalidate_makes_a_change_visible_at_once() {
        let cache = ResponseCache::new("t", Duration::from_secs(60), None);
        let renders = AtomicUsize::new(0);
        cache
            .get_or_render("k".into(), || render(&renders))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
        cache.invalidate();
        let after = cache
            .get_or_render("k".into(), || render(&renders))
            .await
            .unwrap();
        assert_eq!(after.as_ref(), b"v1");
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_zero_ttl_turns_caching_off() {
        let cache = ResponseCache::new("t", Duration::from_secs(60), None);
        let failed: Result<Bytes, &str> = cache
            .get_or_render("k".into(), || async { Err("boom") })
            .await;
        assert_eq!(failed, Err("boom"));
        let ok: Result<Bytes, &str> = cache
            .get_or_render("k".into(), || async { Ok(Bytes::from("ok")) })
            .await;
        assert_eq!(ok.unwrap().as_ref(), b"ok");

        let off = ResponseCache::new("t", Duration::ZERO, None);
        let renders = AtomicUsize::new(0);
        off.get_or_render("k".into(), || render(&renders))
            .await
            .unwrap();
        off.get_or_render("k".into(), || render(&renders))
            .await
            .unwrap();
        assert_eq!(renders.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_dead_redis_degrades_to_rendering() {
        let dead = RedisConn::open("redis://127.0.0.1:1/0").unwrap();
        let shared = ResponseCache::shared_for(Some(&dead), &DatabaseConnection::default());
        let cache = ResponseCache::new("t", Duration::from_secs(10), Some(shared));
        let renders = AtomicUsize::new(0);
        let body = cache.get_or_render("k".into(), || render(&renders)).await;
        assert_eq!(body.unwrap().as_ref(), b"v0");
    }

    #[test]
    fn the_key_holds_only_the_known_parameters_in_one_order() {
        let q = |s: &str| {
            canonical_query(
                "/api/v1/events/public_list/",
                url::form_urlencoded::parse(s.as_bytes()).into_owned(),
            )
        };
        assert_eq!(
            q("type=b&x=1&category=z&page=02&category=a&type=b&utm=9&page=3&no_pagination=no"),
            q("category=a&category=z&page=3&type=b")
        );
        assert_eq!(q("random=1"), q(""));
        assert_eq!(
            q("no_pagination=TRUE"),
            vec![("no_pagination".into(), "true".into())]
        );
        assert_eq!(
            key("https", "H.", "/p/", &q("type=a&page=2")),
            "api:v1:https://h/p/?page=2&type=a"
        );
        let detail = canonical_query("/api/v1/events/x/", [("location".into(), "z".into())]);
        assert!(detail.is_empty());
        let cats = canonical_query(
            "/api/v1/event-categories",
            [("page".into(), "2".into()), ("type".into(), "z".into())],
        );
        assert_eq!(cats, vec![("page".into(), "2".into())]);
    }

    #[tokio::test]
    async fn the_local_tier_is_bounded_by_bytes() {
        let cache = ResponseCache::new("t", Duration::from_secs(60), None);
        let body = Bytes::from(vec![b'x'; 1024 * 1024]);
        for i in 0..100 {
            let b = body.clone();
            let _: Result<Bytes, ()> = cache
                .get_or_render(format!("k{i}"), || async move { Ok(b) })
                .await;
        }
        cache.local.run_pending_tasks().await;
        assert!(cache.local.weighted_size() <= LOCAL_MAX_BYTES);
        assert!(cache.local.entry_count() < 100);
    }

    #[tokio::test]
    async fn answers_too_big_for_the_shared_tier_stay_out_of_the_cache_table() {
        use sea_orm::{ConnectOptions, ConnectionTrait, Database, PaginatorTrait};
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE cache_entries (key TEXT PRIMARY KEY, value BLOB NOT NULL, \
             expires_at TEXT NOT NULL)",
        )
        .await
        .unwrap();
        let cache = ResponseCache::new(
            "t",
            Duration::from_secs(60),
            Some(ResponseCache::shared_for(None, &db)),
        );
        let small = Bytes::from(vec![b'x'; 1024]);
        let big = Bytes::from(vec![b'x'; SHARED_MAX_BYTES + 1]);
        for (key, body) in [("small", small), ("big", big.clone())] {
            let got: Result<Bytes, ()> = cache
                .get_or_render(key.into(), || async move { Ok(body) })
                .await;
            assert!(got.is_ok());
        }
        let rows = cache_entries::Entity::find().count(&db).await.unwrap();
        assert_eq!(rows, 1, "only the small answer is shared");
        // The big one is still served from this instance.
        let again: Result<Bytes, ()> = cache
            .get_or_render("big".into(), || async { Err(()) })
            .await;
        assert_eq!(again.unwrap().len(), big.len());
    }

    #[test]
    fn entries_round_trip_through_bytes() {
        let e = Entry {
            body: Bytes::from_static(b"{}"),
            rendered_at: 1_795_000_000_000,
        };
        let d = Entry::decode(&e.encode()).unwrap();
        assert_eq!((d.body, d.rendered_at), (e.body, e.rendered_at));
        assert!(Entry::decode(b"short").is_none());
    }
}
