//! What an organizer sold, as SQL aggregates: the dashboard's and the
//! analytics page's figures. No order is ever loaded; each function is one
//! statement whose answer is a handful of numbers or one row per hour, tier
//! or day.
//!
//! An order counts once it is paid (wholly or partly refunded orders
//! included), on the instant it was paid. Days are Santiago days: the
//! statements group by UTC hour (Santiago's offsets are whole hours) and
//! [`by_day`] folds the hours into days, so the same statement serves
//! PostgreSQL and SQLite.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::America::Santiago;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement, Value};
use uuid::Uuid;

/// Whose sales: an organizer's, or one of its events'.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub organizer: Uuid,
    pub event: Option<Uuid>,
}

impl Scope {
    /// The orders' condition (alias `o`), its parameters starting at `$1`.
    fn condition(self) -> (String, Vec<Value>) {
        let paid = "o.status IN ('paid', 'partially_refunded')";
        match self.event {
            // The event is checked to be the organizer's as well: a scope
            // never reaches another organizer's orders.
            Some(event) => (
                format!(
                    "{paid} AND o.event_id = $1 AND o.event_id IN \
                     (SELECT e.id FROM events e WHERE e.organizer_id = $2)"
                ),
                vec![event.into(), self.organizer.into()],
            ),
            None => (
                format!(
                    "{paid} AND o.event_id IN (SELECT e.id FROM events e WHERE e.organizer_id = $1)"
                ),
                vec![self.organizer.into()],
            ),
        }
    }
}

/// Sums over a set of paid orders, in whole pesos.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, FromQueryResult)]
pub struct Totals {
    pub orders: i64,
    pub tickets: i64,
    /// What buyers paid (fees included).
    pub total: i64,
    /// The tickets' price, discounts taken off.
    pub subtotal: i64,
    pub service_fee: i64,
    /// Taken off by discount codes.
    pub discount: i64,
    pub refunded: i64,
}

impl Totals {
    /// What buyers paid and kept paid.
    #[must_use]
    pub const fn net(&self) -> i64 {
        self.total - self.refunded
    }

    fn add(&mut self, other: &Self) {
        self.orders += other.orders;
        self.tickets += other.tickets;
        self.total += other.total;
        self.subtotal += other.subtotal;
        self.service_fee += other.service_fee;
        self.discount += other.discount;
        self.refunded += other.refunded;
    }
}

const SUMS: &str = "COUNT(*) AS orders, \
     CAST(COALESCE(SUM((SELECT SUM(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0) AS BIGINT) AS tickets, \
     CAST(COALESCE(SUM(o.total), 0) AS BIGINT) AS total, \
     CAST(COALESCE(SUM(o.subtotal), 0) AS BIGINT) AS subtotal, \
     CAST(COALESCE(SUM(o.service_fee), 0) AS BIGINT) AS service_fee, \
     CAST(COALESCE(SUM(o.discount), 0) AS BIGINT) AS discount, \
     CAST(COALESCE(SUM(o.refunded_amount), 0) AS BIGINT) AS refunded";

/// A statement in PostgreSQL's `$n` parameters, renumbered for SQLite.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_string()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Stored instants are UTC, and SQLite compares their text: bounds are
/// written in UTC too.
fn utc(t: DateTime<FixedOffset>) -> Value {
    t.with_timezone(&Utc).fixed_offset().into()
}

/// The orders of `scope` paid in `[from, to)`.
///
/// # Errors
/// When the database fails.
pub async fn totals<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Totals, DbErr> {
    let (condition, mut values) = scope.condition();
    let n = values.len();
    values.extend([utc(from), utc(to)]);
    let sql = format!(
        "SELECT {SUMS} FROM orders o WHERE {condition} AND o.paid_at >= ${} AND o.paid_at < ${}",
        n + 1,
        n + 2
    );
    let backend = db.get_database_backend();
    Ok(Totals::find_by_statement(statement(backend, &sql, values))
        .one(db)
        .await?
        .unwrap_or_default())
}

#[derive(Debug, FromQueryResult)]
struct HourRow {
    hour: String,
    orders: i64,
    tickets: i64,
    total: i64,
    subtotal: i64,
    service_fee: i64,
    discount: i64,
    refunded: i64,
}

/// The orders of `scope` paid in `[from, to)`, summed per UTC hour (only
/// hours with sales), oldest first.
///
/// # Errors
/// When the database fails.
pub async fn hourly<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Vec<(DateTime<Utc>, Totals)>, DbErr> {
    let backend = db.get_database_backend();
    let hour = if backend == DbBackend::Postgres {
        "to_char(o.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
    } else {
        "substr(o.paid_at, 1, 13)"
    };
    let (condition, mut values) = scope.condition();
    let n = values.len();
    values.extend([utc(from), utc(to)]);
    let sql = format!(
        "SELECT {hour} AS hour, {SUMS} FROM orders o \
         WHERE {condition} AND o.paid_at >= ${} AND o.paid_at < ${} GROUP BY 1 ORDER BY 1",
        n + 1,
        n + 2
    );
    let rows = HourRow::find_by_statement(statement(backend, &sql, values))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            // `2026-12-02 19` (PostgreSQL) or `2026-12-02T19` (SQLite).
            let text = format!("{}:00", row.hour.replace('T', " "));
            let at = NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M").ok()?;
            Some((
                at.and_utc(),
                Totals {
                    orders: row.orders,
                    tickets: row.tickets,
                    total: row.total,
                    subtotal: row.subtotal,
                    service_fee: row.service_fee,
                    discount: row.discount,
                    refunded: row.refunded,
                },
            ))
        })
        .collect())
}

/// Santiago's midnight starting `day`.
#[must_use]
pub fn midnight(day: NaiveDate) -> Option<DateTime<FixedOffset>> {
    Santiago
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.fixed_offset())
}

/// The Santiago day an instant falls in.
#[must_use]
pub fn santiago_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Santiago).date_naive()
}

/// `hours` folded into the Santiago days `first..=last`, every day present.
#[must_use]
pub fn by_day(
    hours: &[(DateTime<Utc>, Totals)],
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<(NaiveDate, Totals)> {
    let mut days: Vec<(NaiveDate, Totals)> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| (d, Totals::default()))
        .collect();
    for (at, sums) in hours {
        let day = santiago_day(*at);
        if let Ok(i) = days.binary_search_by_key(&day, |(d, _)| *d) {
            days[i].1.add(sums);
        }
    }
    days
}

/// One tier's sales.
#[derive(Debug, FromQueryResult)]
pub struct TierSales {
    pub tier_id: Uuid,
    pub name: String,
    /// Its price now.
    pub price: i64,
    pub tickets: i64,
    /// The tickets' price as sold, discounts taken off.
    pub revenue: i64,
    /// Its lines' share of their orders' service fees.
    pub service_fees: i64,
}

/// Tickets and revenue per tier of the orders of `scope` paid in
/// `[from, to)`; tiers with sales only, in the event page's order.
///
/// # Errors
/// When the database fails.
pub async fn by_tier<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Vec<TierSales>, DbErr> {
    let (condition, mut values) = scope.condition();
    let n = values.len();
    values.extend([utc(from), utc(to)]);
    // A line's share of its order's fee: the fee × the line's part of the
    // subtotal (rounded down per line).
    let sql = format!(
        "SELECT t.id AS tier_id, t.name AS name, t.price AS price, \
           CAST(SUM(i.quantity) AS BIGINT) AS tickets, \
           CAST(SUM(i.quantity * i.unit_price - i.discount) AS BIGINT) AS revenue, \
           CAST(SUM(CASE WHEN o.subtotal + o.discount > 0 \
             THEN o.service_fee * i.quantity * i.unit_price / (o.subtotal + o.discount) ELSE 0 END) AS BIGINT) AS service_fees \
         FROM order_items i JOIN orders o ON o.id = i.order_id JOIN ticket_tiers t ON t.id = i.tier_id \
         WHERE {condition} AND o.paid_at >= ${} AND o.paid_at < ${} \
         GROUP BY t.id, t.name, t.price, t.display_order \
         ORDER BY t.display_order, t.price, t.name",
        n + 1,
        n + 2
    );
    let backend = db.get_database_backend();
    TierSales::find_by_statement(statement(backend, &sql, values))
        .all(db)
        .await
}

/// When the first order of `scope` was paid.
///
/// # Errors
/// When the database fails.
pub async fn first_paid<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    #[derive(FromQueryResult)]
    struct First {
        first: Option<DateTime<FixedOffset>>,
    }
    let (condition, values) = scope.condition();
    let sql = format!("SELECT MIN(o.paid_at) AS first FROM orders o WHERE {condition}");
    let backend = db.get_database_backend();
    Ok(First::find_by_statement(statement(backend, &sql, values))
        .one(db)
        .await?
        .and_then(|f| f.first)
        .map(|t| t.with_timezone(&Utc)))
}

/// An event's capacity and door figures.
#[derive(Debug, Default, FromQueryResult)]
pub struct Door {
    /// Tickets of paid orders, cancelled ones excluded.
    pub issued: i64,
    pub checked_in: i64,
    /// Σ capacity of limited tiers.
    pub capacity: i64,
    /// Tiers without a capacity.
    pub unlimited_tiers: i64,
    /// Σ sold of limited tiers.
    pub sold_limited: i64,
}

/// Tickets issued and checked in, and the capacity of an event's tiers.
///
/// # Errors
/// When the database fails.
pub async fn door<C: ConnectionTrait>(db: &C, event: Uuid) -> Result<Door, DbErr> {
    let sql = "SELECT \
      (SELECT COUNT(*) FROM tickets k WHERE k.event_id = $1 AND k.status IN ('valid', 'used')) AS issued, \
      (SELECT COUNT(*) FROM tickets k WHERE k.event_id = $1 AND k.status = 'used') AS checked_in, \
      (SELECT CAST(COALESCE(SUM(t.capacity), 0) AS BIGINT) FROM ticket_tiers t WHERE t.event_id = $1 AND t.capacity IS NOT NULL) AS capacity, \
      (SELECT COUNT(*) FROM ticket_tiers t WHERE t.event_id = $1 AND t.capacity IS NULL) AS unlimited_tiers, \
      (SELECT CAST(COALESCE(SUM(t.sold), 0) AS BIGINT) FROM ticket_tiers t WHERE t.event_id = $1 AND t.capacity IS NOT NULL) AS sold_limited";
    let backend = db.get_database_backend();
    Ok(
        Door::find_by_statement(statement(backend, sql, vec![event.into()]))
            .one(db)
            .await?
            .unwrap_or_default(),
    )
}

/// The `days` Santiago days ending today: the first day's midnight and
/// the days.
#[must_use]
pub fn last_days(now: DateTime<Utc>, days: i64) -> (NaiveDate, NaiveDate) {
    let today = santiago_day(now);
    (today - Duration::days(days - 1), today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_fold_into_santiago_days() {
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let one = Totals {
            orders: 1,
            tickets: 2,
            total: 100,
            ..Totals::default()
        };
        // 02:00 UTC on the 2nd is 23:00 on the 1st in Santiago (−03:00).
        let hours = [
            (
                NaiveDate::from_ymd_opt(2026, 12, 2)
                    .unwrap()
                    .and_hms_opt(2, 0, 0)
                    .unwrap()
                    .and_utc(),
                one,
            ),
            (
                NaiveDate::from_ymd_opt(2026, 12, 2)
                    .unwrap()
                    .and_hms_opt(3, 0, 0)
                    .unwrap()
                    .and_utc(),
                one,
            ),
            // Outside the days asked: left out.
            (
                NaiveDate::from_ymd_opt(2026, 11, 20)
                    .unwrap()
                    .and_hms_opt(12, 0, 0)
                    .unwrap()
                    .and_utc(),
                one,
            ),
        ];
        let days = by_day(&hours, first, last);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0], (first, one));
        assert_eq!(days[1], (last, one));
    }
}
