//! Events and the public catalogue queries.
//!
//! A numbered page of the listing is one statement whatever its size: the
//! total (`COUNT(*)`, an index-only scan of the partial index) joined to the
//! page's ids, then only those rows get their venue, first image and public-tier
//! aggregates. `?page=last` needs the total first (two statements). (Carrying
//! the total with `COUNT(*) OVER ()` instead read every listed row's page
//! columns: 1.15 against 0.99 ms of PostgreSQL per request.) An event's page is
//! one statement too. Timestamps are written in UTC, so SQLite's text
//! comparison orders them as PostgreSQL does.

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Order, Query, SelectStatement},
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    Statement,
};
use uuid::Uuid;

pub use super::_entities::events::{self, ActiveModel, Column, Entity, Model};
use super::_entities::{event_categories, locations};

crate::touch_updated_at!(ActiveModel);

pub const STATUS_PUBLISHED: &str = "published";
pub const VISIBILITY_PUBLIC: &str = "public";
// `LISTED` below spells these two out; keep them in step.

/// The public listing's filters, already parsed.
#[derive(Debug, Clone, Default)]
pub struct PublicFilters {
    /// `type`, repeatable: any of these.
    pub types: Vec<String>,
    /// `category` names, repeatable: any of these.
    pub categories: Vec<String>,
    /// Events starting at or after.
    pub start_from: Option<DateTime<FixedOffset>>,
    /// Events starting at or before.
    pub start_until: Option<DateTime<FixedOffset>>,
    /// Case-insensitive substring of the venue's name, city or country.
    pub location: Option<String>,
}

/// One card of the public listing, with its public-tier aggregates.
#[derive(Debug, Clone, FromQueryResult)]
pub struct PublicListRow {
    pub id: Uuid,
    pub title: String,
    /// The short description, or the long one when there is none (only one
    /// of them crosses the wire).
    pub description: String,
    pub status: String,
    pub visibility: String,
    pub start_date: DateTime<FixedOffset>,
    pub end_date: DateTime<FixedOffset>,
    pub ticket_sales_start: Option<DateTime<FixedOffset>>,
    pub ticket_sales_end: Option<DateTime<FixedOffset>>,
    pub location_name: Option<String>,
    pub location_city: Option<String>,
    pub image: Option<String>,
    /// Lowest public price; NULL without public tiers.
    pub min_price: Option<i64>,
    pub tickets_sold: Option<i64>,
    /// -1 when a public tier is unlimited, else capacity − sold − held summed.
    pub tickets_available: Option<i64>,
}

/// `%`, `_` and `\` match themselves in the location filter.
fn like_contains(text: &str) -> LikeExpr {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// Published, public and not deleted — written as constants, not parameters,
/// so PostgreSQL matches it to the partial index `events_public_listed` in
/// every plan, generic ones included.
const LISTED: &str =
    "events.status = 'published' AND events.visibility = 'public' AND events.deleted_at IS NULL";

/// Published, public, not deleted, and the filters.
fn public_condition(filters: &PublicFilters) -> Condition {
    let mut cond = Condition::all().add(Expr::cust(LISTED));
    if !filters.types.is_empty() {
        cond = cond.add(Column::Type.is_in(filters.types.clone()));
    }
    if !filters.categories.is_empty() {
        cond = cond.add(
            Column::CategoryId.in_subquery(
                Query::select()
                    .column(event_categories::Column::Id)
                    .from(event_categories::Entity)
                    .and_where(event_categories::Column::Name.is_in(filters.categories.clone()))
                    .to_owned(),
            ),
        );
    }
    if let Some(from) = filters.start_from {
        cond = cond.add(Column::StartDate.gte(from.to_utc().fixed_offset()));
    }
    if let Some(until) = filters.start_until {
        cond = cond.add(Column::StartDate.lte(until.to_utc().fixed_offset()));
    }
    if let Some(place) = filters.location.as_deref().filter(|p| !p.is_empty()) {
        let lower = |col: locations::Column| Expr::expr(Func::lower(Expr::col(col)));
        cond = cond.add(
            Column::LocationId.in_subquery(
                Query::select()
                    .column(locations::Column::Id)
                    .from(locations::Entity)
                    .cond_where(
                        Condition::any()
                            .add(lower(locations::Column::Name).like(like_contains(place)))
                            .add(lower(locations::Column::City).like(like_contains(place)))
                            .add(lower(locations::Column::Country).like(like_contains(place))),
                    )
                    .to_owned(),
            ),
        );
    }
    cond
}

/// The listed ids in the listing's order (the filters bound as parameters).
fn listed_ids(filters: &PublicFilters) -> SelectStatement {
    Query::select()
        .columns([
            (events::Entity, Column::Id),
            (events::Entity, Column::Featured),
            (events::Entity, Column::StartDate),
        ])
        .from(events::Entity)
        .cond_where(public_condition(filters))
        .order_by((events::Entity, Column::Featured), Order::Desc)
        .order_by((events::Entity, Column::StartDate), Order::Desc)
        .order_by((events::Entity, Column::Id), Order::Asc)
        .to_owned()
}

/// How many events are listed (the filters bound as parameters, in the same
/// order as [`listed_ids`]).
fn listed_count(filters: &PublicFilters) -> SelectStatement {
    Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("total"))
        .from(events::Entity)
        .cond_where(public_condition(filters))
        .to_owned()
}

/// The page's rows: the ids are chosen first (`page`, read in order from the
/// partial index), then only those rows get their venue, first image and
/// public-tier aggregates (index lookups per row), so a deep page costs what
/// page 1 costs. `{extra}` is the counted page's total column, `{tiers}` and
/// `{tiers_join}` the tier aggregates of the backend.
const PAGE_SQL: &str = "
SELECT {extra}e.id, e.title,
       CASE WHEN e.short_description <> '' THEN e.short_description
            ELSE e.description END AS description, e.status, e.visibility,
       e.start_date, e.end_date, e.ticket_sales_start, e.ticket_sales_end,
       l.name AS location_name, l.city AS location_city,
       (SELECT i.path FROM event_images i WHERE i.event_id = e.id
         ORDER BY i.position, i.id LIMIT 1) AS image,
       {tiers}
FROM page p
LEFT JOIN events e ON e.id = p.id
LEFT JOIN locations l ON l.id = e.location_id{tiers_join}
ORDER BY p.featured DESC, p.start_date DESC, p.id";

/// The tier aggregates as three subqueries (SQLite).
const TIERS_PORTABLE: &str = "(SELECT MIN(t.price) FROM ticket_tiers t
         WHERE t.event_id = e.id AND t.is_public = TRUE) AS min_price,
       (SELECT SUM(t.sold) FROM ticket_tiers t
         WHERE t.event_id = e.id AND t.is_public = TRUE) AS tickets_sold,
       (SELECT CASE WHEN COUNT(*) > COUNT(t.capacity) THEN -1
                    ELSE SUM(t.capacity - t.sold - t.reserved) END
          FROM ticket_tiers t
         WHERE t.event_id = e.id AND t.is_public = TRUE) AS tickets_available";

/// PostgreSQL reads each event's public tiers once (one `LATERAL` aggregate
/// instead of three subqueries over the same rows, most of the statement's cost).
const TIERS_PG: &str = "agg.min_price, agg.tickets_sold, agg.tickets_available";
const TIERS_JOIN_PG: &str = "
LEFT JOIN LATERAL (
  SELECT MIN(t.price) AS min_price,
         SUM(t.sold) AS tickets_sold,
         CASE WHEN COUNT(*) > COUNT(t.capacity) THEN -1
              ELSE SUM(t.capacity - t.sold - t.reserved) END AS tickets_available
    FROM ticket_tiers t
   WHERE t.event_id = e.id AND t.is_public = TRUE
) agg ON TRUE";

/// [`PAGE_SQL`] for a backend, with or without the total, written out once.
fn page_sql(postgres: bool, counted: bool) -> &'static str {
    use std::sync::LazyLock;
    fn write(postgres: bool, counted: bool) -> String {
        let (tiers, join) = if postgres {
            (TIERS_PG, TIERS_JOIN_PG)
        } else {
            (TIERS_PORTABLE, "")
        };
        PAGE_SQL
            .replace("{extra}", if counted { "p.total, " } else { "" })
            .replace("{tiers}", tiers)
            .replace("{tiers_join}", join)
    }
    static PG: LazyLock<String> = LazyLock::new(|| write(true, false));
    static PG_COUNTED: LazyLock<String> = LazyLock::new(|| write(true, true));
    static SQLITE: LazyLock<String> = LazyLock::new(|| write(false, false));
    static SQLITE_COUNTED: LazyLock<String> = LazyLock::new(|| write(false, true));
    match (postgres, counted) {
        (true, false) => &PG,
        (true, true) => &PG_COUNTED,
        (false, false) => &SQLITE,
        (false, true) => &SQLITE_COUNTED,
    }
}

/// Which rows of the listing a statement reads.
#[derive(Debug, Clone, Copy)]
enum Rows {
    All,
    Page {
        offset: u64,
        limit: u64,
    },
    /// A page, and the total on every row (one row without a card past the end).
    CountedPage {
        offset: u64,
        limit: u64,
    },
}

/// `WITH page AS (ids) <page SQL>` for the backend. `LIMIT` and `OFFSET` are
/// written as numbers, not parameters: PostgreSQL can only choose a generic
/// plan for the statement when the page size is known, and re-planned it on
/// every request otherwise (twice the statement's cost).
fn listing_statement<C: ConnectionTrait>(db: &C, filters: &PublicFilters, rows: Rows) -> Statement {
    let backend = db.get_database_backend();
    let postgres = backend == sea_orm::DbBackend::Postgres;
    let ids = backend.build(&listed_ids(filters));
    let mut values = ids.values.unwrap_or(sea_orm::Values(Vec::new()));
    let (page, counted) = match rows {
        Rows::All => (ids.sql, false),
        Rows::Page { offset, limit } => {
            (format!("{} LIMIT {limit} OFFSET {offset}", ids.sql), false)
        }
        Rows::CountedPage { offset, limit } => {
            // The count binds the same values in the same order: PostgreSQL
            // reads `$n` twice; SQLite's `?` wants them twice.
            let count = backend.build(&listed_count(filters));
            if !postgres {
                values.0.extend(values.0.clone());
            }
            let page = format!(
                "SELECT n.total, p.id, p.featured, p.start_date FROM ({}) n \
                 LEFT JOIN ({} LIMIT {limit} OFFSET {offset}) p ON TRUE",
                count.sql, ids.sql
            );
            (page, true)
        }
    };
    let sql = format!("WITH page AS ({page}) {}", page_sql(postgres, counted));
    Statement::from_sql_and_values(backend, sql, values)
}

/// A row of the counted page: the total, and the card unless the page is
/// past the end.
struct CountedRow {
    total: i64,
    row: Option<PublicListRow>,
}

impl FromQueryResult for CountedRow {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, DbErr> {
        let id: Option<Uuid> = res.try_get(pre, "id")?;
        Ok(Self {
            total: res.try_get(pre, "total")?,
            row: id
                .map(|_| PublicListRow::from_query_result(res, pre))
                .transpose()?,
        })
    }
}

impl Model {
    /// How many events the public listing has with these filters.
    ///
    /// # Errors
    /// Database errors.
    pub async fn public_count<C: ConnectionTrait>(
        db: &C,
        filters: &PublicFilters,
    ) -> Result<u64, DbErr> {
        let row = db.query_one(&listed_count(filters)).await?;
        let n: i64 = row.map_or(Ok(0), |r| r.try_get("", "total"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// A page of the public listing (`None`: all of it), ordered featured first,
    /// then newest start, then id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn public_page<C: ConnectionTrait>(
        db: &C,
        filters: &PublicFilters,
        offset_limit: Option<(u64, u64)>,
    ) -> Result<Vec<PublicListRow>, DbErr> {
        let rows = offset_limit.map_or(Rows::All, |(offset, limit)| Rows::Page { offset, limit });
        PublicListRow::find_by_statement(listing_statement(db, filters, rows))
            .all(db)
            .await
    }

    /// The listing's total and one page of it, in one statement.
    ///
    /// # Errors
    /// Database errors.
    pub async fn public_page_counted<C: ConnectionTrait>(
        db: &C,
        filters: &PublicFilters,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<PublicListRow>), DbErr> {
        let stmt = listing_statement(db, filters, Rows::CountedPage { offset, limit });
        let rows = CountedRow::find_by_statement(stmt).all(db).await?;
        let total = rows.first().map_or(0, |r| r.total);
        let page = rows.into_iter().filter_map(|r| r.row).collect();
        Ok((u64::try_from(total).unwrap_or(0), page))
    }

    /// A public event by id or slug, with what its page shows: one statement
    /// (one row per public tier, the event's columns on each; its image paths
    /// as one JSON array).
    ///
    /// # Errors
    /// Database errors.
    pub async fn find_public<C: ConnectionTrait>(
        db: &C,
        key: &str,
    ) -> Result<Option<PublicEvent>, DbErr> {
        Self::find_detail(db, key, None).await
    }

    /// One of an organizer's events (any status, not deleted) by id or slug,
    /// as its page shows it: what the organizer previews and edits.
    ///
    /// # Errors
    /// Database errors.
    pub async fn find_own<C: ConnectionTrait>(
        db: &C,
        key: &str,
        organizer_id: Uuid,
    ) -> Result<Option<PublicEvent>, DbErr> {
        Self::find_detail(db, key, Some(organizer_id)).await
    }

    async fn find_detail<C: ConnectionTrait>(
        db: &C,
        key: &str,
        organizer: Option<Uuid>,
    ) -> Result<Option<PublicEvent>, DbErr> {
        let backend = db.get_database_backend();
        let (by, value): (DetailKey, sea_orm::Value) = match Uuid::parse_str(key) {
            Ok(id) => (DetailKey::Id, id.into()),
            Err(_) => (DetailKey::Slug, key.into()),
        };
        let sql = detail_sql(backend, by, organizer.is_some());
        // SQLite's `?` are positional: the scope's comes first in the text.
        let values: Vec<sea_orm::Value> = match organizer {
            None => vec![value],
            Some(o) if backend == sea_orm::DbBackend::Postgres => vec![value, o.into()],
            Some(o) => vec![o.into(), value],
        };
        let stmt = Statement::from_sql_and_values(backend, sql, values);
        let rows = DetailRow::find_by_statement(stmt).all(db).await?;
        PublicEvent::from_rows(rows)
    }
}

#[derive(Clone, Copy)]
enum DetailKey {
    Id,
    Slug,
}

/// The event page's statement; `{images}` is the backend's JSON array of the
/// images (`id`, `path`, `alt`, `kind`) in order, `{categories}` the one of
/// the ticket categories buyers see, `{scope}` which events (the public ones,
/// or one organizer's), `{key}` the column the key matches. Tiers come in
/// backtuki's order: its `order`, then price.
const DETAIL_SQL: &str = "
SELECT e.id, e.title, e.slug, e.short_description, e.description, e.type, e.status,
       e.visibility, e.featured, e.start_date, e.end_date, e.ticket_sales_start,
       e.ticket_sales_end, e.max_tickets_per_purchase, e.service_fee_bps, e.tags,
       e.age_restriction, e.dresscode, e.accessibility, e.parking, e.views_count,
       e.dates_pending,
       (SELECT COUNT(*) FROM orders a WHERE a.event_id = e.id) AS cart_adds_count,
       (SELECT COUNT(*) FROM orders p WHERE p.event_id = e.id
            AND p.status IN ('paid', 'partially_refunded')) AS conversion_count,
       o.name AS organizer_name, o.description AS organizer_description,
       o.logo AS organizer_logo,
       c.id AS category_id, c.name AS category_name, c.slug AS category_slug,
       c.description AS category_description,
       l.id AS venue_id, l.name AS venue_name, l.city AS venue_city,
       l.country AS venue_country, l.address AS venue_address,
       {images} AS images,
       {categories} AS ticket_categories,
       t.id AS tier_id, t.name AS tier_name, t.description AS tier_description,
       t.tier_type, t.benefits AS tier_benefits, t.is_highlighted AS tier_highlighted,
       t.price AS tier_price, t.capacity AS tier_capacity, t.sold AS tier_sold,
       t.reserved AS tier_reserved, t.min_per_order AS tier_min_per_order,
       t.max_per_order AS tier_max_per_order, t.sale_start AS tier_sale_start,
       t.sale_end AS tier_sale_end, tc.id AS tier_category_id,
       tc.name AS tier_category_name, tc.description AS tier_category_description
FROM events e
LEFT JOIN organizers o ON o.id = e.organizer_id
LEFT JOIN event_categories c ON c.id = e.category_id
LEFT JOIN locations l ON l.id = e.location_id
LEFT JOIN ticket_tiers t ON t.event_id = e.id AND t.is_public = TRUE
     AND NOT EXISTS (SELECT 1 FROM ticket_categories h WHERE h.id = t.category_id
                     AND (h.status = 'hidden' OR h.visibility <> 'public'))
LEFT JOIN ticket_categories tc ON tc.id = t.category_id
WHERE {scope} AND e.{key} = $1
ORDER BY t.display_order, t.price, t.id";

const IMAGES_PG: &str = "(SELECT json_agg(json_build_object('id', i.id, 'path', i.path, \
     'alt', i.alt, 'kind', i.kind) ORDER BY i.position, i.id)::text \
     FROM event_images i WHERE i.event_id = e.id)";
const IMAGES_SQLITE: &str = "(SELECT json_group_array(json_object('id', lower(hex(i.id)), \
     'path', i.path, 'alt', i.alt, 'kind', i.kind) ORDER BY i.position, i.id) \
     FROM event_images i WHERE i.event_id = e.id)";

/// The columns of a category on the page, `{build}` being the backend's JSON
/// object function, `{id}` and `{approval}` its spellings of the id and of a
/// boolean; sold is what its tiers sold.
const CATEGORY_FIELDS: &str = "{build}('id', {id}, 'name', k.name, 'description', k.description, \
     'capacity', k.capacity, 'sold', (SELECT COALESCE(SUM(s.sold), 0) FROM ticket_tiers s \
     WHERE s.category_id = k.id), 'status', k.status, 'visibility', k.visibility, \
     'color', k.color, 'order', k.display_order, 'max_per_purchase', k.max_per_purchase, \
     'min_per_purchase', k.min_per_purchase, 'sale_start_date', k.sale_start_date, \
     'sale_end_date', k.sale_end_date, 'sale_start_time', k.sale_start_time, \
     'sale_end_time', k.sale_end_time, 'access_start_date', k.access_start_date, \
     'access_end_date', k.access_end_date, 'access_start_time', k.access_start_time, \
     'access_end_time', k.access_end_time, 'requires_approval', {approval})";
const CATEGORIES_WHERE: &str = "FROM ticket_categories k WHERE k.event_id = e.id \
     AND k.status <> 'hidden' AND k.visibility = 'public'";

/// [`DETAIL_SQL`] for a backend, key and scope, written out once.
fn detail_sql(backend: sea_orm::DbBackend, key: DetailKey, own: bool) -> &'static str {
    use std::sync::LazyLock;
    fn write(pg: bool, key: &str, own: bool) -> String {
        let (images, fields, aggregate) = if pg {
            (
                IMAGES_PG,
                CATEGORY_FIELDS
                    .replace("{build}", "json_build_object")
                    .replace("{id}", "k.id")
                    .replace("{approval}", "k.requires_approval"),
                "json_agg",
            )
        } else {
            (
                IMAGES_SQLITE,
                CATEGORY_FIELDS
                    .replace("{build}", "json_object")
                    .replace("{id}", "lower(hex(k.id))")
                    .replace(
                        "{approval}",
                        "json(CASE WHEN k.requires_approval THEN 'true' ELSE 'false' END)",
                    ),
                "json_group_array",
            )
        };
        let cast = if pg { "::text" } else { "" };
        let categories = format!(
            "(SELECT {aggregate}({fields} ORDER BY k.display_order, k.id){cast} {CATEGORIES_WHERE})"
        );
        let scope = if own {
            "e.deleted_at IS NULL AND e.organizer_id = $2".to_string()
        } else {
            LISTED.replace("events.", "e.")
        };
        let sql = DETAIL_SQL
            .replace("{images}", images)
            .replace("{categories}", &categories)
            .replace("{scope}", &scope)
            .replace("{key}", key);
        if pg {
            sql
        } else {
            sql.replace("$1", "?").replace("$2", "?")
        }
    }
    static STATEMENTS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut all = Vec::new();
        for pg in [true, false] {
            for key in ["id", "slug"] {
                for own in [false, true] {
                    all.push(write(pg, key, own));
                }
            }
        }
        all
    });
    let pg = backend == sea_orm::DbBackend::Postgres;
    let index =
        usize::from(!pg) * 4 + usize::from(matches!(key, DetailKey::Slug)) * 2 + usize::from(own);
    &STATEMENTS[index]
}

/// One row of [`DETAIL_SQL`].
#[derive(Debug, FromQueryResult)]
struct DetailRow {
    id: Uuid,
    title: String,
    slug: String,
    short_description: String,
    description: String,
    r#type: String,
    status: String,
    visibility: String,
    featured: bool,
    start_date: DateTime<FixedOffset>,
    end_date: DateTime<FixedOffset>,
    ticket_sales_start: Option<DateTime<FixedOffset>>,
    ticket_sales_end: Option<DateTime<FixedOffset>>,
    max_tickets_per_purchase: Option<i32>,
    service_fee_bps: i32,
    tags: String,
    age_restriction: String,
    dresscode: String,
    accessibility: String,
    parking: String,
    views_count: i32,
    dates_pending: bool,
    cart_adds_count: i64,
    conversion_count: i64,
    organizer_name: Option<String>,
    organizer_description: Option<String>,
    organizer_logo: Option<String>,
    category_id: Option<Uuid>,
    category_name: Option<String>,
    category_slug: Option<String>,
    category_description: Option<String>,
    venue_id: Option<Uuid>,
    venue_name: Option<String>,
    venue_city: Option<String>,
    venue_country: Option<String>,
    venue_address: Option<String>,
    images: Option<String>,
    tier_id: Option<Uuid>,
    tier_name: Option<String>,
    tier_description: Option<String>,
    tier_type: Option<String>,
    tier_benefits: Option<String>,
    tier_highlighted: Option<bool>,
    tier_price: Option<i64>,
    tier_capacity: Option<i32>,
    tier_sold: Option<i32>,
    tier_reserved: Option<i32>,
    tier_min_per_order: Option<i32>,
    tier_max_per_order: Option<i32>,
    tier_sale_start: Option<DateTime<FixedOffset>>,
    tier_sale_end: Option<DateTime<FixedOffset>>,
    ticket_categories: Option<String>,
    tier_category_id: Option<Uuid>,
    tier_category_name: Option<String>,
    tier_category_description: Option<String>,
}

/// An event with everything its public page shows.
#[derive(Debug, Clone)]
pub struct PublicEvent {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    pub short_description: String,
    pub description: String,
    pub r#type: String,
    pub status: String,
    pub visibility: String,
    pub featured: bool,
    pub start_date: DateTime<FixedOffset>,
    pub end_date: DateTime<FixedOffset>,
    pub ticket_sales_start: Option<DateTime<FixedOffset>>,
    pub ticket_sales_end: Option<DateTime<FixedOffset>>,
    pub max_tickets_per_purchase: Option<i32>,
    pub service_fee_bps: i32,
    /// Comma-separated.
    pub tags: String,
    pub age_restriction: String,
    pub dresscode: String,
    pub accessibility: String,
    pub parking: String,
    pub views_count: i32,
    /// A draft's dates are placeholders (not set yet).
    pub dates_pending: bool,
    /// Orders booked for the event, in any state.
    pub cart_adds_count: i64,
    /// Orders paid (wholly or partly kept).
    pub conversion_count: i64,
    pub organizer: Option<PublicOrganizer>,
    pub category: Option<PublicCategory>,
    pub venue: Option<Venue>,
    /// In the page's order.
    pub images: Vec<PublicImage>,
    /// Public tiers, in their display order, then cheapest first.
    pub tiers: Vec<PublicTier>,
    /// The ticket categories buyers see (not hidden, public), in order.
    pub ticket_categories: Vec<PublicTicketCategory>,
}

#[derive(Debug, Clone)]
pub struct PublicOrganizer {
    pub name: String,
    pub description: String,
    /// Storage path; empty: none.
    pub logo: String,
}

#[derive(Debug, Clone)]
pub struct PublicCategory {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Venue {
    pub id: Uuid,
    pub name: String,
    pub city: String,
    pub country: String,
    pub address: String,
}

/// One image of an event's page.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PublicImage {
    pub id: Uuid,
    /// Storage path.
    pub path: String,
    pub alt: String,
    /// `image`, `banner`, `thumbnail` or `gallery`.
    pub kind: String,
}

/// A public tier and its live counts.
#[derive(Debug, Clone)]
pub struct PublicTier {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// Free text (`General`, `VIP`…).
    pub tier_type: String,
    /// Comma-separated.
    pub benefits: String,
    pub is_highlighted: bool,
    pub price: i64,
    pub capacity: Option<i32>,
    pub sold: i32,
    pub reserved: i32,
    pub min_per_order: i32,
    pub max_per_order: Option<i32>,
    pub sale_start: Option<DateTime<FixedOffset>>,
    pub sale_end: Option<DateTime<FixedOffset>>,
    /// The ticket category the tier is in.
    pub category: Option<TierCategory>,
}

/// A tier's ticket category, as the tier shows it.
#[derive(Debug, Clone)]
pub struct TierCategory {
    pub id: Uuid,
    pub name: String,
    pub description: String,
}

/// A ticket category as the event page lists it (what its tiers sold
/// included).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PublicTicketCategory {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub capacity: Option<i32>,
    pub sold: i64,
    pub status: String,
    pub visibility: String,
    pub color: String,
    pub order: i32,
    pub max_per_purchase: i32,
    pub min_per_purchase: i32,
    pub sale_start_date: Option<String>,
    pub sale_end_date: Option<String>,
    pub sale_start_time: Option<String>,
    pub sale_end_time: Option<String>,
    pub access_start_date: Option<String>,
    pub access_end_date: Option<String>,
    pub access_start_time: Option<String>,
    pub access_end_time: Option<String>,
    pub requires_approval: bool,
}

impl From<&super::_entities::ticket_tiers::Model> for PublicTier {
    fn from(t: &super::_entities::ticket_tiers::Model) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            description: t.description.clone(),
            tier_type: t.tier_type.clone(),
            benefits: t.benefits.clone(),
            is_highlighted: t.is_highlighted,
            price: t.price,
            capacity: t.capacity,
            sold: t.sold,
            reserved: t.reserved,
            min_per_order: t.min_per_order,
            max_per_order: t.max_per_order,
            sale_start: t.sale_start,
            sale_end: t.sale_end,
            category: None,
        }
    }
}

impl PublicEvent {
    fn from_rows(rows: Vec<DetailRow>) -> Result<Option<Self>, DbErr> {
        let mut rows = rows.into_iter();
        let Some(first) = rows.next() else {
            return Ok(None);
        };
        let images = match first.images.as_deref() {
            None => Vec::new(),
            Some(json) => {
                serde_json::from_str(json).map_err(|e| DbErr::Type(format!("event images: {e}")))?
            }
        };
        let ticket_categories = match first.ticket_categories.as_deref() {
            None => Vec::new(),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| DbErr::Type(format!("ticket categories: {e}")))?,
        };
        let tier = |r: &mut DetailRow| {
            Some(PublicTier {
                id: r.tier_id?,
                name: r.tier_name.take().unwrap_or_default(),
                description: r.tier_description.take().unwrap_or_default(),
                tier_type: r.tier_type.take().unwrap_or_default(),
                benefits: r.tier_benefits.take().unwrap_or_default(),
                is_highlighted: r.tier_highlighted.unwrap_or_default(),
                price: r.tier_price.unwrap_or_default(),
                capacity: r.tier_capacity,
                sold: r.tier_sold.unwrap_or_default(),
                reserved: r.tier_reserved.unwrap_or_default(),
                min_per_order: r.tier_min_per_order.unwrap_or(1),
                max_per_order: r.tier_max_per_order,
                sale_start: r.tier_sale_start,
                sale_end: r.tier_sale_end,
                category: r.tier_category_id.map(|id| TierCategory {
                    id,
                    name: r.tier_category_name.take().unwrap_or_default(),
                    description: r.tier_category_description.take().unwrap_or_default(),
                }),
            })
        };
        let mut first = first;
        let mut tiers: Vec<PublicTier> = tier(&mut first).into_iter().collect();
        tiers.extend(rows.filter_map(|mut r| tier(&mut r)));
        let r = first;
        Ok(Some(Self {
            id: r.id,
            title: r.title,
            slug: r.slug,
            short_description: r.short_description,
            description: r.description,
            r#type: r.r#type,
            status: r.status,
            visibility: r.visibility,
            featured: r.featured,
            start_date: r.start_date,
            end_date: r.end_date,
            ticket_sales_start: r.ticket_sales_start,
            ticket_sales_end: r.ticket_sales_end,
            max_tickets_per_purchase: r.max_tickets_per_purchase,
            service_fee_bps: r.service_fee_bps,
            tags: r.tags,
            age_restriction: r.age_restriction,
            dresscode: r.dresscode,
            accessibility: r.accessibility,
            parking: r.parking,
            views_count: r.views_count,
            dates_pending: r.dates_pending,
            cart_adds_count: r.cart_adds_count,
            conversion_count: r.conversion_count,
            organizer: r.organizer_name.map(|name| PublicOrganizer {
                name,
                description: r.organizer_description.unwrap_or_default(),
                logo: r.organizer_logo.unwrap_or_default(),
            }),
            category: match (r.category_id, r.category_name, r.category_slug) {
                (Some(id), Some(name), Some(slug)) => Some(PublicCategory {
                    id,
                    name,
                    slug,
                    description: r.category_description.unwrap_or_default(),
                }),
                _ => None,
            },
            venue: r.venue_id.map(|id| Venue {
                id,
                name: r.venue_name.unwrap_or_default(),
                city: r.venue_city.unwrap_or_default(),
                country: r.venue_country.unwrap_or_default(),
                address: r.venue_address.unwrap_or_default(),
            }),
            images,
            tiers,
            ticket_categories,
        }))
    }
}

/// Tuki's `is_sales_active`: published, inside the sales window (each bound
/// optional) and not over.
#[must_use]
pub fn sales_active_at(
    status: &str,
    sales_start: Option<DateTime<FixedOffset>>,
    sales_end: Option<DateTime<FixedOffset>>,
    end_date: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> bool {
    status == STATUS_PUBLISHED
        && super::ticket_tiers::in_window(sales_start, sales_end, now)
        && end_date >= now
}

/// An event that may be sold: published, public, not deleted.
///
/// # Errors
/// The database error.
pub async fn sellable<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<events::Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(events::Column::Status.eq(STATUS_PUBLISHED))
        .filter(events::Column::Visibility.eq(VISIBILITY_PUBLIC))
        .filter(events::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// An event as a ticket or an order shows it: the event, its venue and its
/// first image's storage path.
#[derive(Debug, Clone)]
pub struct EventCard {
    pub event: events::Model,
    pub venue: Option<locations::Model>,
    pub image: Option<String>,
}

impl EventCard {
    /// The event `id` (in any state: tickets outlive a sale) with its venue
    /// and first image.
    ///
    /// # Errors
    /// The database error.
    pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Self>, DbErr> {
        use sea_orm::{QueryOrder, QuerySelect};
        let Some((event, venue)) = Entity::find_by_id(id)
            .find_also_related(locations::Entity)
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let image: Option<String> = super::_entities::event_images::Entity::find()
            .select_only()
            .column(super::_entities::event_images::Column::Path)
            .filter(super::_entities::event_images::Column::EventId.eq(id))
            .order_by_asc(super::_entities::event_images::Column::Position)
            .order_by_asc(super::_entities::event_images::Column::Id)
            .limit(1)
            .into_tuple()
            .one(db)
            .await?;
        Ok(Some(Self {
            event,
            venue,
            image,
        }))
    }
}
