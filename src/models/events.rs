//! Events and the public catalogue queries.
//!
//! A page of the listing is two statements whatever its size: `COUNT(*)` (an
//! index-only scan of the partial index), then the page, which picks the
//! page's ids and aggregates the public tiers of those rows only. (Carrying the
//! total on the page rows with `COUNT(*) OVER ()` made it one statement but
//! cost PostgreSQL more: 1.15 against 0.99 ms per request.) Timestamps are written in
//! UTC, so SQLite's text comparison orders them as PostgreSQL does.

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Order, Query, SelectStatement},
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, Statement,
};
use uuid::Uuid;

pub use super::_entities::events::{self, ActiveModel, Column, Entity, Model};
use super::_entities::{event_categories, event_images, locations, organizers, ticket_tiers};

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
    pub short_description: String,
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

/// The ids of one page, in the listing's order (the filters bound as
/// parameters).
fn page_ids(filters: &PublicFilters, offset_limit: Option<(u64, u64)>) -> SelectStatement {
    let mut q = Query::select();
    q.columns([
        (events::Entity, Column::Id),
        (events::Entity, Column::Featured),
        (events::Entity, Column::StartDate),
    ])
    .from(events::Entity)
    .cond_where(public_condition(filters))
    .order_by((events::Entity, Column::Featured), Order::Desc)
    .order_by((events::Entity, Column::StartDate), Order::Desc)
    .order_by((events::Entity, Column::Id), Order::Asc);
    if let Some((offset, limit)) = offset_limit {
        q.offset(offset).limit(limit);
    }
    q
}

/// The page's rows: the ids are chosen first (`page`, read in order from the
/// partial index), then only those rows get their venue, first image and
/// public-tier aggregates (index lookups per row), so a deep page costs what
/// page 1 costs. Plain SQL both PostgreSQL and SQLite run.
const PAGE_SQL: &str = "
SELECT e.id, e.title, e.short_description, e.description, e.status, e.visibility,
       e.start_date, e.end_date, e.ticket_sales_start, e.ticket_sales_end,
       l.name AS location_name, l.city AS location_city,
       (SELECT i.path FROM event_images i WHERE i.event_id = e.id
         ORDER BY i.position, i.id LIMIT 1) AS image,
       (SELECT MIN(t.price) FROM ticket_tiers t
         WHERE t.event_id = e.id AND t.is_public = TRUE) AS min_price,
       (SELECT SUM(t.sold) FROM ticket_tiers t
         WHERE t.event_id = e.id AND t.is_public = TRUE) AS tickets_sold,
       (SELECT CASE WHEN COUNT(*) > COUNT(t.capacity) THEN -1
                    ELSE SUM(t.capacity - t.sold - t.reserved) END
          FROM ticket_tiers t
         WHERE t.event_id = e.id AND t.is_public = TRUE) AS tickets_available
FROM page p
JOIN events e ON e.id = p.id
LEFT JOIN locations l ON l.id = e.location_id
ORDER BY p.featured DESC, p.start_date DESC, p.id";

/// [`PAGE_SQL`] for PostgreSQL: the page's public tiers are read once per
/// event (one `LATERAL` aggregate instead of three subqueries over the same
/// rows), which is most of the statement's cost.
const PAGE_SQL_PG: &str = "
SELECT e.id, e.title, e.short_description, e.description, e.status, e.visibility,
       e.start_date, e.end_date, e.ticket_sales_start, e.ticket_sales_end,
       l.name AS location_name, l.city AS location_city,
       (SELECT i.path FROM event_images i WHERE i.event_id = e.id
         ORDER BY i.position, i.id LIMIT 1) AS image,
       agg.min_price, agg.tickets_sold, agg.tickets_available
FROM page p
JOIN events e ON e.id = p.id
LEFT JOIN locations l ON l.id = e.location_id
LEFT JOIN LATERAL (
  SELECT MIN(t.price) AS min_price,
         SUM(t.sold) AS tickets_sold,
         CASE WHEN COUNT(*) > COUNT(t.capacity) THEN -1
              ELSE SUM(t.capacity - t.sold - t.reserved) END AS tickets_available
    FROM ticket_tiers t
   WHERE t.event_id = e.id AND t.is_public = TRUE
) agg ON TRUE
ORDER BY p.featured DESC, p.start_date DESC, p.id";

impl Model {
    /// How many events the public listing has with these filters.
    ///
    /// # Errors
    /// Database errors.
    pub async fn public_count<C: ConnectionTrait>(
        db: &C,
        filters: &PublicFilters,
    ) -> Result<u64, DbErr> {
        let stmt = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from(events::Entity)
            .cond_where(public_condition(filters))
            .to_owned();
        let row = db.query_one(&stmt).await?;
        let n: i64 = row.map_or(Ok(0), |r| r.try_get("", "n"))?;
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
        let backend = db.get_database_backend();
        let ids = backend.build(&page_ids(filters, offset_limit));
        let body = if backend == sea_orm::DbBackend::Postgres {
            PAGE_SQL_PG
        } else {
            PAGE_SQL
        };
        let sql = format!("WITH page AS ({}) {body}", ids.sql);
        let stmt = Statement::from_sql_and_values(
            backend,
            sql,
            ids.values.unwrap_or(sea_orm::Values(Vec::new())),
        );
        PublicListRow::find_by_statement(stmt).all(db).await
    }

    /// A public event by id or slug, with what its page shows.
    ///
    /// # Errors
    /// Database errors.
    pub async fn find_public<C: ConnectionTrait>(
        db: &C,
        key: &str,
    ) -> Result<Option<PublicEvent>, DbErr> {
        let by_key = match Uuid::parse_str(key) {
            Ok(id) => Column::Id.eq(id),
            Err(_) => Column::Slug.eq(key),
        };
        // One statement for the event and what it points at, one each for its
        // images and public tiers.
        let found = Entity::find()
            .filter(public_condition(&PublicFilters::default()))
            .filter(by_key)
            .find_also_related(organizers::Entity)
            .find_also_related(event_categories::Entity)
            .find_also(Entity, locations::Entity)
            .one(db)
            .await?;
        let Some((event, organizer, category, location)) = found else {
            return Ok(None);
        };
        let images = event_images::Entity::find()
            .filter(event_images::Column::EventId.eq(event.id))
            .order_by_asc(event_images::Column::Position)
            .order_by_asc(event_images::Column::Id)
            .all(db)
            .await?;
        let tiers = ticket_tiers::Entity::find()
            .filter(ticket_tiers::Column::EventId.eq(event.id))
            .filter(ticket_tiers::Column::IsPublic.eq(true))
            .order_by_asc(ticket_tiers::Column::Price)
            .order_by_asc(ticket_tiers::Column::DisplayOrder)
            .order_by_asc(ticket_tiers::Column::Id)
            .all(db)
            .await?;
        Ok(Some(PublicEvent {
            event,
            organizer,
            category,
            location,
            images,
            tiers,
        }))
    }
}

/// An event with everything its public page shows.
#[derive(Debug, Clone)]
pub struct PublicEvent {
    pub event: Model,
    pub organizer: Option<organizers::Model>,
    pub category: Option<event_categories::Model>,
    pub location: Option<locations::Model>,
    pub images: Vec<event_images::Model>,
    /// Public tiers, cheapest first.
    pub tiers: Vec<ticket_tiers::Model>,
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
        && sales_start.is_none_or(|s| now >= s)
        && sales_end.is_none_or(|e| now <= e)
        && end_date >= now
}
