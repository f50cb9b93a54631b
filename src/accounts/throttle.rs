//! Attempt counters shared by every instance: in Redis when `USE_REDIS=true`,
//! else in the database (`counters`), each one atomic increment. Used to slow
//! and then refuse repeated failed sign-ins per email and per client address.
//! When the store cannot be reached the counter is skipped (logged): signing
//! in must not depend on Redis being up.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Failures allowed per email inside the window before refusing.
pub const EMAIL_LIMIT: u64 = 5;
/// Failures allowed per client address inside the window before refusing.
pub const IP_LIMIT: u64 = 20;
/// How long failures are remembered, and how long a refusal lasts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// After this many failures each attempt waits a little (slowed).
pub const SLOW_AFTER: u64 = 3;

pub enum Store {
    Redis(std::sync::Arc<crate::platform::redis_conn::RedisConn>),
    Database(DatabaseConnection),
}

impl Store {
    /// Adds one to `key`'s count (a new window starts when the last one ended)
    /// and returns the count.
    pub async fn increment(&self, key: &str) -> Option<u64> {
        let fut = async {
            match self {
                Self::Redis(redis) => {
                    let mut conn = redis.get().await?;
                    let (count,): (u64,) = redis::pipe()
                        .atomic()
                        .cmd("INCR")
                        .arg(key)
                        .cmd("PEXPIRE")
                        .arg(key)
                        .arg(u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX))
                        .arg("NX")
                        .ignore()
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| tracing::warn!(error = %e, "throttle: redis INCR failed"))
                        .ok()?;
                    Some(count)
                }
                Self::Database(db) => {
                    let now = Utc::now();
                    let ends = now + chrono::Duration::from_std(WINDOW).unwrap_or_default();
                    let backend = db.get_database_backend();
                    // PostgreSQL: a counter lost to a crash only forgets a few
                    // attempts, so its commit does not wait for the disk (one
                    // counter per request must not cost a WAL flush each).
                    let sql = if backend == sea_orm::DbBackend::Postgres {
                        "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) \
                         INSERT INTO counters (key, count, expires_at) SELECT $1, 1, $2 FROM relaxed \
                         ON CONFLICT (key) DO UPDATE SET \
                         count = CASE WHEN counters.expires_at <= $3 THEN 1 ELSE counters.count + 1 END, \
                         expires_at = CASE WHEN counters.expires_at <= $3 THEN $2 ELSE counters.expires_at END \
                         RETURNING count"
                    } else {
                        "INSERT INTO counters (key, count, expires_at) VALUES ($1, 1, $2) \
                         ON CONFLICT (key) DO UPDATE SET \
                         count = CASE WHEN counters.expires_at <= $3 THEN 1 ELSE counters.count + 1 END, \
                         expires_at = CASE WHEN counters.expires_at <= $3 THEN $2 ELSE counters.expires_at END \
                         RETURNING count"
                    };
                    let row = db
                        .query_one_raw(Statement::from_sql_and_values(
                            backend,
                            sql,
                            [key.into(), ends.into(), now.into()],
                        ))
                        .await
                        .map_err(|e| tracing::warn!(error = %e, "throttle: counter write failed"))
                        .ok()??;
                    let count: i32 = row.try_get("", "count").ok()?;
                    // Counters of clients gone quiet are swept now and then,
                    // by whichever writer, so the table stays small.
                    if rand::random::<u8>() == 0 {
                        let _ = db
                            .execute_raw(Statement::from_sql_and_values(
                                backend,
                                "DELETE FROM counters WHERE expires_at <= $1",
                                [now.into()],
                            ))
                            .await;
                    }
                    u64::try_from(count).ok()
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(1), fut)
            .await
            .ok()
            .flatten()
    }

    /// The current count of `key` (0 when none or expired).
    pub async fn count(&self, key: &str) -> u64 {
        let fut = async {
            match self {
                Self::Redis(redis) => {
                    let mut conn = redis.get().await?;
                    let n: Option<u64> = redis::cmd("GET")
                        .arg(key)
                        .query_async(&mut conn)
                        .await
                        .ok()?;
                    n
                }
                Self::Database(db) => {
                    let backend = db.get_database_backend();
                    let row = db
                        .query_one_raw(Statement::from_sql_and_values(
                            backend,
                            "SELECT count FROM counters WHERE key = $1 AND expires_at > $2",
                            [key.into(), Utc::now().into()],
                        ))
                        .await
                        .ok()??;
                    let count: i32 = row.try_get("", "count").ok()?;
                    u64::try_from(count).ok()
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(1), fut)
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    }

    /// Takes one back from `key`'s count (never below zero, never creating it).
    pub async fn decrement(&self, key: &str) {
        let fut = async {
            match self {
                Self::Redis(redis) => {
                    if let Some(mut conn) = redis.get().await {
                        let _: redis::RedisResult<i64> = redis::Script::new(
                            "if redis.call('GET', KEYS[1]) and tonumber(redis.call('GET', KEYS[1])) > 0 \
                             then return redis.call('DECR', KEYS[1]) end return 0",
                        )
                        .key(key)
                        .invoke_async(&mut conn)
                        .await;
                    }
                }
                Self::Database(db) => {
                    let backend = db.get_database_backend();
                    let _ = db
                        .execute_raw(Statement::from_sql_and_values(
                            backend,
                            "UPDATE counters SET count = count - 1 WHERE key = $1 AND count > 0",
                            [key.into()],
                        ))
                        .await;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), fut).await;
    }

    /// Forgets `key` (a successful sign-in clears its email's failures).
    pub async fn reset(&self, key: &str) {
        let fut = async {
            match self {
                Self::Redis(redis) => {
                    if let Some(mut conn) = redis.get().await {
                        let _: redis::RedisResult<()> =
                            redis::cmd("DEL").arg(key).query_async(&mut conn).await;
                    }
                }
                Self::Database(db) => {
                    let backend = db.get_database_backend();
                    let _ = db
                        .execute_raw(Statement::from_sql_and_values(
                            backend,
                            "DELETE FROM counters WHERE key = $1",
                            [key.into()],
                        ))
                        .await;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), fut).await;
    }
}

/// Sign-in throttling by email and by client address.
pub struct LoginThrottle {
    store: Store,
    namespace: String,
}

impl LoginThrottle {
    #[must_use]
    pub fn new(store: Store, namespace: &str) -> Self {
        Self {
            store,
            namespace: namespace.to_string(),
        }
    }

    fn keys(&self, email: &str, ip: &str) -> (String, String) {
        (
            format!("{}:login:email:{}", self.namespace, email.to_lowercase()),
            format!("{}:login:ip:{ip}", self.namespace),
        )
    }

    /// Counts an attempt by `email` from `ip` before its password is checked:
    /// `Err(seconds)` when this one is over either limit (the count is one
    /// atomic increment, so a parallel burst gets exactly as many tries as
    /// the limit); otherwise waits a little after a few failures. A success
    /// ([`Self::succeeded`]) takes the attempt back.
    pub async fn attempt(&self, email: &str, ip: &str) -> Result<(), u64> {
        let (by_email, by_ip) = self.keys(email, ip);
        let (e, i) = tokio::join!(
            self.store.increment(&by_email),
            self.store.increment(&by_ip)
        );
        let (e, i) = (e.unwrap_or(0), i.unwrap_or(0));
        if e > EMAIL_LIMIT || i > IP_LIMIT {
            return Err(WINDOW.as_secs());
        }
        if e > SLOW_AFTER {
            tokio::time::sleep(Duration::from_millis(250 * (e - SLOW_AFTER))).await;
        }
        Ok(())
    }

    /// A successful attempt: the email's failures are forgotten and the
    /// address's count gets this attempt back.
    pub async fn succeeded(&self, email: &str, ip: &str) {
        let (by_email, by_ip) = self.keys(email, ip);
        tokio::join!(self.store.reset(&by_email), self.store.decrement(&by_ip));
    }

    /// Counts one request under `key` (in its own namespace): `Err(seconds)`
    /// once more than `limit` came within the window.
    pub async fn limit(&self, key: &str, limit: u64) -> Result<(), u64> {
        let key = format!("{}:rate:{key}", self.namespace);
        match self.store.increment(&key).await {
            Some(n) if n > limit => Err(WINDOW.as_secs()),
            _ => Ok(()),
        }
    }
}
