//! limit-server: the machine's ceiling for the catalogue URLs, brought to this
//! project's contract (a copy of `../shared/bench/limit_server`, whose `db` mode
//! spoke the Django reference's older schema and JSON).
//!
//! Two modes, picked by LIMIT_MODE:
//!   static (default): public_list page 1 and ?page=10 and one event's detail
//!                     replayed from bodies this project's server answered
//!                     (`fetch_bodies.sh`): the fully cached ceiling.
//!   db:               public_list and the detail each run one hand-written
//!                     statement on this project's schema (tokio-postgres, a pool
//!                     of DB_POOL=10, each statement prepared once per connection)
//!                     and serialize the same JSON, byte for byte, as the project
//!                     (`check_bodies.sh` compares them): the uncached ceiling.
//! Only what the harness asks is served: the listing without filters (`?page=N`),
//! the detail by id or slug. /healthz answers "ok". PORT (default 8080); image URLs
//! are `http(s)://Host/media/…` (https when X-Forwarded-Proto says so), and every
//! catalogue answer carries the project's headers (CORS `vary`, security headers).
use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Path, RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::Response,
    routing::get,
    Router,
};
use bytes::Bytes;
use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use chrono_tz::America::Santiago;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const PAGE_SIZE: i64 = 20;
const LIST_PATH: &str = "/api/v1/events/public_list/";
const CURRENCY: &str = "CLP";
const UNLIMITED: i32 = 9_999_999;
/// The project's default `TICKETS_PER_ORDER` and its hard ceiling.
const TICKETS_PER_ORDER: i32 = 10;
const HARD_TICKETS_PER_ORDER: i32 = 100;
const MONTHS_ES: [&str; 12] = [
    "Enero",
    "Febrero",
    "Marzo",
    "Abril",
    "Mayo",
    "Junio",
    "Julio",
    "Agosto",
    "Septiembre",
    "Octubre",
    "Noviembre",
    "Diciembre",
];

/// The page of 20 and the total in one round trip: ids read in the listing's
/// order from the partial index, then each row's venue, first image and public
/// tier aggregates (one LATERAL pass over its tiers). Past the end: no rows.
/// The offset is written into the text (one prepared statement per page): with
/// a parameter, PostgreSQL's generic plan cannot know how many rows the page
/// skips, and deep pages cost more.
const LIST_SQL: &str = "\
WITH page AS (
  SELECT id, featured, start_date FROM events
   WHERE status = 'published' AND visibility = 'public' AND deleted_at IS NULL
   ORDER BY featured DESC, start_date DESC, id LIMIT 20 OFFSET {offset})
SELECT (SELECT count(*) FROM events
         WHERE status = 'published' AND visibility = 'public' AND deleted_at IS NULL),
       e.id, e.title,
       CASE WHEN e.short_description <> '' THEN e.short_description ELSE e.description END,
       e.start_date, e.end_date, e.ticket_sales_start, e.ticket_sales_end,
       l.name, l.city,
       (SELECT i.path FROM event_images i WHERE i.event_id = e.id
         ORDER BY i.position, i.id LIMIT 1),
       agg.min_price, agg.sold, agg.available
FROM page p
JOIN events e ON e.id = p.id
LEFT JOIN locations l ON l.id = e.location_id
LEFT JOIN LATERAL (
  SELECT min(t.price) AS min_price, sum(t.sold)::int8 AS sold,
         CASE WHEN count(*) > count(t.capacity) THEN -1
              ELSE sum(t.capacity - t.sold - t.reserved)::int8 END AS available
    FROM ticket_tiers t WHERE t.event_id = e.id AND t.is_public) agg ON true
ORDER BY p.featured DESC, p.start_date DESC, p.id";

const COUNT_SQL: &str = "SELECT count(*) FROM events \
     WHERE status = 'published' AND visibility = 'public' AND deleted_at IS NULL";

/// The event, its venue, category, organizer, images and buyer-visible ticket
/// categories (JSON arrays built by PostgreSQL) on every row, one row per public
/// tier in display order.
const DETAIL_SQL: &str = "\
SELECT e.id, e.title, e.slug, e.short_description, e.description, e.type, e.status,
       e.visibility, e.featured, e.start_date, e.end_date, e.ticket_sales_start,
       e.ticket_sales_end, e.max_tickets_per_purchase, e.service_fee_bps, e.tags,
       e.age_restriction, e.dresscode, e.accessibility, e.parking, e.views_count,
       e.dates_pending,
       (SELECT count(*) FROM orders a WHERE a.event_id = e.id),
       (SELECT count(*) FROM orders p WHERE p.event_id = e.id
            AND p.status IN ('paid', 'partially_refunded')),
       o.name, o.description, o.logo,
       c.id, c.name, c.slug, c.description,
       l.id, l.name, l.address,
       (SELECT json_agg(json_build_object('id', i.id, 'path', i.path, 'alt', i.alt,
                'kind', i.kind) ORDER BY i.position, i.id)::text
          FROM event_images i WHERE i.event_id = e.id),
       (SELECT json_agg(json_build_object('id', k.id, 'name', k.name,
                'description', k.description, 'capacity', k.capacity,
                'sold', (SELECT coalesce(sum(s.sold), 0) FROM ticket_tiers s
                          WHERE s.category_id = k.id),
                'status', k.status, 'visibility', k.visibility, 'color', k.color,
                'order', k.display_order, 'max_per_purchase', k.max_per_purchase,
                'min_per_purchase', k.min_per_purchase,
                'sale_start_date', k.sale_start_date, 'sale_end_date', k.sale_end_date,
                'sale_start_time', k.sale_start_time, 'sale_end_time', k.sale_end_time,
                'access_start_date', k.access_start_date,
                'access_end_date', k.access_end_date,
                'access_start_time', k.access_start_time,
                'access_end_time', k.access_end_time,
                'requires_approval', k.requires_approval)
              ORDER BY k.display_order, k.id)::text
          FROM ticket_categories k WHERE k.event_id = e.id
           AND k.status <> 'hidden' AND k.visibility = 'public'),
       t.id, t.name, t.description, t.tier_type, t.benefits, t.is_highlighted, t.price,
       t.capacity, t.sold, t.reserved, t.min_per_order, t.max_per_order, t.sale_start,
       t.sale_end, tc.id, tc.name, tc.description
FROM events e
LEFT JOIN organizers o ON o.id = e.organizer_id
LEFT JOIN event_categories c ON c.id = e.category_id
LEFT JOIN locations l ON l.id = e.location_id
LEFT JOIN ticket_tiers t ON t.event_id = e.id AND t.is_public
     AND NOT EXISTS (SELECT 1 FROM ticket_categories h WHERE h.id = t.category_id
                     AND (h.status = 'hidden' OR h.visibility <> 'public'))
LEFT JOIN ticket_categories tc ON tc.id = t.category_id
WHERE e.status = 'published' AND e.visibility = 'public' AND e.deleted_at IS NULL
  AND e.{key} = $1
ORDER BY t.display_order, t.price, t.id";

struct StaticBodies {
    list_p1: Bytes,
    list_p10: Bytes,
    detail_key: String,
    detail: Bytes,
}

struct Db {
    pool: deadpool_postgres::Pool,
    detail_by_id: String,
    detail_by_slug: String,
}

enum Mode {
    Static(StaticBodies),
    Db(Db),
}

type AppState = Arc<Mode>;

/// The headers the project sends with every catalogue answer (CORS's `vary`
/// and credentials, the security headers), so both servers write the same
/// bytes.
const CONTRACT_HEADERS: [(&str, &str); 7] = [
    (
        "vary",
        "origin, access-control-request-method, access-control-request-headers",
    ),
    ("access-control-allow-credentials", "true"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains; preload",
    ),
];

fn json(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in CONTRACT_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}

fn not_found(detail: &'static str) -> Response {
    json(
        StatusCode::NOT_FOUND,
        format!("{{\"detail\":\"{detail}\"}}"),
    )
}

fn server_error(e: impl std::fmt::Display) -> Response {
    eprintln!("error: {e}");
    let mut r = Response::new(Body::from("internal error"));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}

async fn healthz() -> Response {
    let mut r = Response::new(Body::from("ok"));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

/// `?page=N` alone (or nothing): the page number; anything else: None.
fn page_of(query: Option<&str>) -> Option<i64> {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return Some(1);
    };
    let mut page = None;
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=')?;
        if k != "page" {
            return None;
        }
        page = Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| (1..=1_000_000_000).contains(n))?,
        );
    }
    Some(page.unwrap_or(1))
}

fn page_url(scheme: &str, host: &str, page: i64) -> String {
    if page == 1 {
        format!("{scheme}://{host}{LIST_PATH}")
    } else {
        format!("{scheme}://{host}{LIST_PATH}?page={page}")
    }
}

fn santiago(at: DateTime<Utc>) -> chrono::DateTime<chrono_tz::Tz> {
    at.with_timezone(&Santiago)
}

fn iso(at: DateTime<Utc>) -> String {
    santiago(at).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn date_es(at: DateTime<Utc>) -> String {
    let l = santiago(at);
    format!(
        "{} {} {}",
        l.day(),
        MONTHS_ES[l.month0() as usize],
        l.year()
    )
}

fn time_hm(at: DateTime<Utc>) -> String {
    let l = santiago(at);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

/// The media base and a storage path, each segment percent-encoded.
fn media_url(base: &str, path: &str) -> String {
    let mut url = String::with_capacity(base.len() + path.len() + 8);
    url.push_str(base);
    for (i, segment) in path.trim_start_matches('/').split('/').enumerate() {
        if i > 0 {
            url.push('/');
        }
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                url.push(b as char);
            } else {
                url.push_str(&format!("%{b:02X}"));
            }
        }
    }
    url
}

fn in_window(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    start.is_none_or(|s| now >= s) && end.is_none_or(|e| now <= e)
}

fn comma_list(text: &str) -> Vec<&str> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn is_virtual(address: &str) -> bool {
    let lower = address.to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || ["zoom.us", "meet.google.com", "teams.microsoft.com"]
            .iter()
            .any(|host| lower.contains(host))
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct Card<'a> {
    id: Uuid,
    title: &'a str,
    image: Option<String>,
    description: Option<&'a str>,
    price: i64,
    rating: i64,
    reviews: i64,
    location: String,
    date: String,
    time: String,
    ticketsAvailable: i64,
    ticketsSold: i64,
    is_sales_active: bool,
    is_available_for_purchase: bool,
    has_available_tickets: bool,
    is_upcoming: bool,
    is_ongoing: bool,
}

#[derive(Serialize)]
struct ListPage<'a> {
    count: i64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<Card<'a>>,
}

/// `https` when the proxy says so (X-Forwarded-Proto), else `http`.
fn scheme_of(headers: &HeaderMap) -> &'static str {
    match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    }
}

fn host_of(headers: &HeaderMap) -> &str {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
}

async fn public_list(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(page) = page_of(q.as_deref()) else {
        return not_found("not served here: ?page=N only");
    };
    let db = match &*st {
        Mode::Static(b) => {
            return match page {
                1 => json(StatusCode::OK, b.list_p1.clone()),
                10 => json(StatusCode::OK, b.list_p10.clone()),
                _ => not_found("not precomputed"),
            }
        }
        Mode::Db(db) => db,
    };
    let client = match db.pool.get().await {
        Ok(c) => c,
        Err(e) => return server_error(e),
    };
    let sql = LIST_SQL.replace("{offset}", &((page - 1) * PAGE_SIZE).to_string());
    let stmt = match client.prepare_cached(&sql).await {
        Ok(s) => s,
        Err(e) => return server_error(e),
    };
    let rows = match client.query(&stmt, &[]).await {
        Ok(r) => r,
        Err(e) => return server_error(e),
    };
    let count: i64 = match rows.first() {
        Some(r) => r.get(0),
        None if page == 1 => match client.query_one(COUNT_SQL, &[]).await {
            Ok(r) => r.get(0),
            Err(e) => return server_error(e),
        },
        None => return not_found("Página inválida."),
    };
    drop(client);
    let now = Utc::now();
    let host = host_of(&headers);
    let scheme = scheme_of(&headers);
    let media = format!("{scheme}://{host}/media/");
    let results = rows
        .iter()
        .map(|r| {
            let start: DateTime<Utc> = r.get(4);
            let end: DateTime<Utc> = r.get(5);
            let sales_active = in_window(r.get(6), r.get(7), now) && end >= now;
            let available: i64 = r.get::<_, Option<i64>>(13).unwrap_or(0);
            let description: &str = r.get::<_, &str>(3).trim();
            let location = [r.get::<_, Option<&str>>(8), r.get::<_, Option<&str>>(9)]
                .into_iter()
                .flatten()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            Card {
                id: r.get(1),
                title: r.get(2),
                image: r
                    .get::<_, Option<&str>>(10)
                    .filter(|p| !p.is_empty())
                    .map(|p| media_url(&media, p)),
                description: (!description.is_empty()).then_some(description),
                price: r.get::<_, Option<i64>>(11).unwrap_or(0),
                rating: 0,
                reviews: 0,
                location: if location.is_empty() {
                    "Ubicación por confirmar".into()
                } else {
                    location
                },
                date: date_es(start),
                time: time_hm(start),
                ticketsAvailable: available,
                ticketsSold: r.get::<_, Option<i64>>(12).unwrap_or(0),
                is_sales_active: sales_active,
                is_available_for_purchase: sales_active && available != 0,
                has_available_tickets: available != 0,
                is_upcoming: start > now && sales_active,
                is_ongoing: start <= now && now <= end,
            }
        })
        .collect();
    let pages = ((count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let body = ListPage {
        count,
        next: (page < pages).then(|| page_url(scheme, host, page + 1)),
        previous: (page > 1).then(|| page_url(scheme, host, page - 1)),
        results,
    };
    match serde_json::to_vec(&body) {
        Ok(v) => json(StatusCode::OK, v),
        Err(e) => server_error(e),
    }
}

#[derive(Deserialize)]
struct Image {
    id: Uuid,
    path: String,
    alt: String,
    kind: String,
}

#[derive(Deserialize)]
struct TicketCategory {
    id: Uuid,
    name: String,
    description: String,
    capacity: Option<i32>,
    sold: i64,
    status: String,
    visibility: String,
    color: String,
    order: i32,
    max_per_purchase: i32,
    min_per_purchase: i32,
    sale_start_date: Option<String>,
    sale_end_date: Option<String>,
    sale_start_time: Option<String>,
    sale_end_time: Option<String>,
    access_start_date: Option<String>,
    access_end_date: Option<String>,
    access_start_time: Option<String>,
    access_end_time: Option<String>,
    requires_approval: bool,
}

#[derive(Serialize)]
struct CategoryOut<'a> {
    id: Uuid,
    name: &'a str,
    description: &'a str,
    capacity: Option<i32>,
    sold: i64,
    available: i64,
    status: &'a str,
    visibility: &'a str,
    color: &'a str,
    order: i32,
    max_per_purchase: i32,
    min_per_purchase: i32,
    sale_start_date: Option<&'a str>,
    sale_end_date: Option<&'a str>,
    sale_start_time: Option<&'a str>,
    sale_end_time: Option<&'a str>,
    access_start_date: Option<&'a str>,
    access_end_date: Option<&'a str>,
    access_start_time: Option<&'a str>,
    access_end_time: Option<&'a str>,
    is_sold_out: bool,
    has_capacity_limit: bool,
    requires_approval: bool,
}

#[derive(Serialize)]
struct ImageOut<'a> {
    id: Uuid,
    url: String,
    r#type: &'a str,
    alt: &'a str,
}

#[derive(Serialize)]
struct Location<'a> {
    id: Uuid,
    name: &'a str,
    address: &'a str,
    is_virtual: bool,
}

#[derive(Serialize)]
struct EventCategory<'a> {
    id: Uuid,
    name: &'a str,
    slug: &'a str,
    description: &'a str,
    icon: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Price {
    base_price: f64,
    currency: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_fee: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TierMetadata<'a> {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    is_highlighted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category_description: Option<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    total_capacity: Option<i32>,
    available: i32,
    sold: i32,
    on_hold: i32,
    real_available: i32,
    utilization_rate: f64,
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct TierOut<'a> {
    id: Uuid,
    name: &'a str,
    r#type: &'a str,
    description: &'a str,
    price: Price,
    capacity: Option<i32>,
    available: i32,
    is_public: bool,
    max_per_order: i32,
    min_per_order: i32,
    benefits: Vec<&'a str>,
    metadata: TierMetadata<'a>,
    requires_approval: bool,
    is_pay_what_you_want: bool,
    min_price: Option<&'a str>,
    max_price: Option<&'a str>,
    suggested_price: Option<&'a str>,
    is_raffle: bool,
    tickets_sold: i32,
    tickets_on_hold: i32,
    real_available: i32,
    availability_summary: Summary,
    service_fee_rate: Option<&'a str>,
    isPayWhatYouWant: bool,
    isRaffle: bool,
    maxPerOrder: i32,
    minPerOrder: i32,
    isPublic: bool,
    requiresApproval: bool,
    on_sale: bool,
}

#[derive(Serialize)]
struct DetailOut<'a> {
    id: Uuid,
    title: &'a str,
    slug: &'a str,
    description: &'a str,
    short_description: &'a str,
    status: &'a str,
    visibility: &'a str,
    r#type: &'a str,
    template: &'static str,
    start_date: Option<String>,
    end_date: Option<String>,
    location: Option<Location<'a>>,
    category: Option<EventCategory<'a>>,
    featured: bool,
    tags: &'a str,
    tags_list: Vec<&'a str>,
    organizer_name: &'a str,
    organizer_logo: Option<String>,
    organizer_description: &'a str,
    age_restriction: &'a str,
    dresscode: &'a str,
    accessibility: &'a str,
    parking: &'a str,
    max_tickets_per_purchase: i32,
    ticket_sales_start: Option<String>,
    ticket_sales_end: Option<String>,
    images: Vec<ImageOut<'a>>,
    ticket_tiers: Vec<TierOut<'a>>,
    ticket_categories: Vec<CategoryOut<'a>>,
    date: String,
    time: String,
    is_past: bool,
    is_upcoming: bool,
    is_ongoing: bool,
    views_count: i32,
    cart_adds_count: i64,
    conversion_count: i64,
    is_sales_active: bool,
}

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref()
}

async fn detail(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    let db = match &*st {
        Mode::Static(b) => {
            return if key == b.detail_key {
                json(StatusCode::OK, b.detail.clone())
            } else {
                not_found("No encontrado.")
            }
        }
        Mode::Db(db) => db,
    };
    let client = match db.pool.get().await {
        Ok(c) => c,
        Err(e) => return server_error(e),
    };
    let rows = match Uuid::parse_str(&key) {
        Ok(id) if id.to_string() == key => {
            let stmt = match client.prepare_cached(&db.detail_by_id).await {
                Ok(s) => s,
                Err(e) => return server_error(e),
            };
            client.query(&stmt, &[&id]).await
        }
        Ok(_) => return not_found("No encontrado."),
        Err(_) => {
            let stmt = match client.prepare_cached(&db.detail_by_slug).await {
                Ok(s) => s,
                Err(e) => return server_error(e),
            };
            client.query(&stmt, &[&key]).await
        }
    };
    drop(client);
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return server_error(e),
    };
    let Some(e) = rows.first() else {
        return not_found("No encontrado.");
    };
    let images: Vec<Image> = match e.get::<_, Option<&str>>(34).map(serde_json::from_str) {
        None => Vec::new(),
        Some(Ok(v)) => v,
        Some(Err(err)) => return server_error(err),
    };
    let categories: Vec<TicketCategory> =
        match e.get::<_, Option<&str>>(35).map(serde_json::from_str) {
            None => Vec::new(),
            Some(Ok(v)) => v,
            Some(Err(err)) => return server_error(err),
        };
    let now = Utc::now();
    let media = format!("{}://{}/media/", scheme_of(&headers), host_of(&headers));
    let title: &str = e.get(1);
    let status: &str = e.get(6);
    let start: DateTime<Utc> = e.get(9);
    let end: DateTime<Utc> = e.get(10);
    let sales_start: Option<DateTime<Utc>> = e.get(11);
    let sales_end: Option<DateTime<Utc>> = e.get(12);
    let pending: bool = e.get(21);
    let sales_active =
        status == "published" && in_window(sales_start, sales_end, now) && end >= now;
    let ceiling = e
        .get::<_, Option<i32>>(13)
        .filter(|m| *m >= 0)
        .unwrap_or(TICKETS_PER_ORDER)
        .min(HARD_TICKETS_PER_ORDER);
    let fee_bps: i32 = e.get(14);
    let tags: &str = e.get(15);
    let logo: Option<&str> = e.get(26);
    let tiers = rows
        .iter()
        .filter_map(|t| {
            let id: Uuid = t.get::<_, Option<Uuid>>(36)?;
            let price: i64 = t.get(42);
            let capacity: Option<i32> = t.get(43);
            let (sold, reserved): (i32, i32) = (t.get(44), t.get(45));
            let available = capacity.map_or(UNLIMITED, |c| (c - sold - reserved).max(0));
            let fee = (price * i64::from(fee_bps) + 5_000) / 10_000;
            let max_per_order = t
                .get::<_, Option<i32>>(47)
                .map_or(ceiling, |m| m.min(ceiling));
            let min_per_order: i32 = t.get(46);
            let category: Option<Uuid> = t.get(50);
            Some(TierOut {
                id,
                name: t.get(37),
                r#type: t.get(39),
                description: t.get(38),
                price: Price {
                    base_price: price as f64,
                    currency: CURRENCY,
                    service_fee: (fee != 0).then_some(fee as f64),
                },
                capacity,
                available,
                is_public: true,
                max_per_order,
                min_per_order,
                benefits: comma_list(t.get(40)),
                metadata: TierMetadata {
                    is_highlighted: t.get(41),
                    category,
                    category_id: category,
                    category_name: t.get(51),
                    category_description: t.get(52),
                },
                requires_approval: false,
                is_pay_what_you_want: false,
                min_price: None,
                max_price: None,
                suggested_price: None,
                is_raffle: false,
                tickets_sold: sold,
                tickets_on_hold: reserved,
                real_available: available,
                availability_summary: Summary {
                    total_capacity: capacity,
                    available,
                    sold,
                    on_hold: reserved,
                    real_available: available,
                    utilization_rate: match capacity {
                        Some(c) if c > 0 => {
                            (f64::from(sold) * 10_000.0 / f64::from(c)).round() / 100.0
                        }
                        _ => 0.0,
                    },
                },
                service_fee_rate: None,
                isPayWhatYouWant: false,
                isRaffle: false,
                maxPerOrder: max_per_order,
                minPerOrder: min_per_order,
                isPublic: true,
                requiresApproval: false,
                on_sale: sales_active && in_window(t.get(48), t.get(49), now) && available > 0,
            })
        })
        .collect();
    let body = DetailOut {
        id: e.get(0),
        title,
        slug: e.get(2),
        description: e.get(4),
        short_description: e.get(3),
        status,
        visibility: e.get(7),
        r#type: e.get(5),
        template: "standard",
        start_date: (!pending).then(|| iso(start)),
        end_date: (!pending).then(|| iso(end)),
        location: e.get::<_, Option<Uuid>>(31).map(|id| {
            let address: &str = e.get(33);
            Location {
                id,
                name: e.get(32),
                address,
                is_virtual: is_virtual(address),
            }
        }),
        category: e.get::<_, Option<Uuid>>(27).map(|id| EventCategory {
            id,
            name: e.get(28),
            slug: e.get(29),
            description: e.get(30),
            icon: None,
        }),
        featured: e.get(8),
        tags,
        tags_list: comma_list(tags),
        organizer_name: e.get::<_, Option<&str>>(24).unwrap_or_default(),
        organizer_logo: logo.filter(|p| !p.is_empty()).map(|p| media_url(&media, p)),
        organizer_description: e.get::<_, Option<&str>>(25).unwrap_or_default(),
        age_restriction: e.get(16),
        dresscode: e.get(17),
        accessibility: e.get(18),
        parking: e.get(19),
        max_tickets_per_purchase: ceiling,
        ticket_sales_start: sales_start.map(iso),
        ticket_sales_end: sales_end.map(iso),
        images: images
            .iter()
            .map(|i| ImageOut {
                id: i.id,
                url: media_url(&media, &i.path),
                r#type: &i.kind,
                alt: if i.alt.is_empty() { title } else { &i.alt },
            })
            .collect(),
        ticket_tiers: tiers,
        ticket_categories: categories
            .iter()
            .map(|c| {
                let available = c
                    .capacity
                    .map_or(i64::from(UNLIMITED), |cap| (i64::from(cap) - c.sold).max(0));
                CategoryOut {
                    id: c.id,
                    name: &c.name,
                    description: &c.description,
                    capacity: c.capacity,
                    sold: c.sold,
                    available,
                    status: &c.status,
                    visibility: &c.visibility,
                    color: &c.color,
                    order: c.order,
                    max_per_purchase: c.max_per_purchase,
                    min_per_purchase: c.min_per_purchase,
                    sale_start_date: opt(&c.sale_start_date),
                    sale_end_date: opt(&c.sale_end_date),
                    sale_start_time: opt(&c.sale_start_time),
                    sale_end_time: opt(&c.sale_end_time),
                    access_start_date: opt(&c.access_start_date),
                    access_end_date: opt(&c.access_end_date),
                    access_start_time: opt(&c.access_start_time),
                    access_end_time: opt(&c.access_end_time),
                    is_sold_out: c.status == "sold_out" || (c.capacity.is_some() && available == 0),
                    has_capacity_limit: c.capacity.is_some(),
                    requires_approval: c.requires_approval,
                }
            })
            .collect(),
        date: if pending {
            String::new()
        } else {
            date_es(start)
        },
        time: if pending {
            String::new()
        } else {
            time_hm(start)
        },
        is_past: !pending && end < now,
        is_upcoming: !pending && start > now && sales_active,
        is_ongoing: start <= now && now <= end && status == "published",
        views_count: e.get(20),
        cart_adds_count: e.get(22),
        conversion_count: e.get(23),
        is_sales_active: sales_active,
    };
    match serde_json::to_vec(&body) {
        Ok(v) => json(StatusCode::OK, v),
        Err(e) => server_error(e),
    }
}

fn env(k: &str, default: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| default.to_string())
}

fn load_static() -> StaticBodies {
    let dir = env("BODY_DIR", "bodies");
    let read = |f: &str| -> Bytes {
        std::fs::read(format!("{dir}/{f}"))
            .unwrap_or_else(|e| panic!("{dir}/{f}: {e} (run ./fetch_bodies.sh)"))
            .into()
    };
    StaticBodies {
        list_p1: read("list_p1.json"),
        list_p10: read("list_p10.json"),
        detail_key: String::from_utf8(read("detail.slug").to_vec())
            .unwrap()
            .trim()
            .to_string(),
        detail: read("detail.json"),
    }
}

fn make_pool() -> deadpool_postgres::Pool {
    let mut cfg = tokio_postgres::Config::new();
    let host = env("DB_HOST", "/tmp/tuki-bench-pg/sock");
    if host.starts_with('/') {
        cfg.host_path(&host);
    } else {
        cfg.host(&host);
    }
    cfg.port(env("DB_PORT", "5433").parse().expect("DB_PORT"))
        .dbname(env("DB_NAME", "tuki_rust"))
        .user(env("DB_USER", "tuki"))
        .password(env("DB_PASSWORD", "tuki"));
    // PostgreSQL's own choice between generic and custom plans unless told
    // (force_generic_plan, force_custom_plan): the same as the project's.
    if let Some(mode) = std::env::var("PLAN_CACHE_MODE")
        .ok()
        .filter(|m| !m.is_empty())
    {
        cfg.options(format!("-c plan_cache_mode={mode}"));
    }
    let mgr = deadpool_postgres::Manager::from_config(
        cfg,
        tokio_postgres::NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    let size: usize = env("DB_POOL", "10").parse().expect("DB_POOL");
    deadpool_postgres::Pool::builder(mgr)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .expect("pool")
}

#[tokio::main]
async fn main() {
    let mode = env("LIMIT_MODE", "static");
    let state: AppState = Arc::new(match mode.as_str() {
        "static" => Mode::Static(load_static()),
        "db" => Mode::Db(Db {
            pool: make_pool(),
            detail_by_id: DETAIL_SQL.replace("{key}", "id"),
            detail_by_slug: DETAIL_SQL.replace("{key}", "slug"),
        }),
        m => panic!("LIMIT_MODE must be static or db, not {m}"),
    });
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route(LIST_PATH, get(public_list))
        .route("/api/v1/events/{key}/", get(detail))
        .with_state(state);
    let port = env("PORT", "8080");
    let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}"))
        .await
        .expect("bind");
    eprintln!(
        "limit-server: mode {mode}, port {port}, tokio workers {}",
        tokio::runtime::Handle::current().metrics().num_workers()
    );
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await.expect("serve");
}
