//! What an organizer sold, as SQL aggregates: the dashboard's and the
//! analytics page's figures. No order is ever loaded.
//!
//! The figures are read from a rollup kept beside the orders
//! (`sales_hourly`, `sales_tier_hourly`): each event's paid orders summed by
//! the UTC hour they were paid in, and their lines per tier. An order counts
//! once it is paid (partly refunded orders included; a wholly refunded one
//! is taken out again), in the hour it was paid: [`count_paid`],
//! [`count_refund`] and [`uncount_paid`] move it in the same transaction
//! that changes the order, and [`rebuild`] sums them again from the orders.
//! A period is read from whole hours; days are Santiago days, whose
//! offsets are whole hours, so [`by_day`] folds hours into days exactly.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::America::Santiago;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use super::{
    _entities::{order_items, orders},
    sql::statement,
};

/// Whose sales: an organizer's, or one of its events'.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub organizer: Uuid,
    pub event: Option<Uuid>,
}

impl Scope {
    /// The rollup rows' condition (alias `h`), its parameters starting at
    /// `$1`.
    fn condition(self) -> (String, Vec<Value>) {
        let mine = "h.event_id IN (SELECT e.id FROM events e WHERE e.organizer_id = $1)";
        match self.event {
            // The event is checked to be the organizer's as well: a scope
            // never reaches another organizer's sales.
            Some(event) => (
                format!("{mine} AND h.event_id = $2"),
                vec![self.organizer.into(), event.into()],
            ),
            None => (mine.to_string(), vec![self.organizer.into()]),
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

/// The rollup's key: whole hours since 1970, UTC.
#[must_use]
pub fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600)
}

/// The instant an hour of the rollup starts.
#[must_use]
pub fn hour_start(hour: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(hour.saturating_mul(3600), 0).unwrap_or_default()
}

/// `at` rounded down to its hour.
#[must_use]
pub fn floor_hour(at: DateTime<Utc>) -> DateTime<Utc> {
    hour_start(hour_of(at))
}

/// The rollup's hours of `scope` from the hour `from` falls in on (only
/// hours with sales), oldest first.
///
/// # Errors
/// When the database fails.
pub async fn hourly<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    from: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, Totals)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        paid_hour: i64,
        orders: i64,
        tickets: i64,
        total: i64,
        subtotal: i64,
        service_fee: i64,
        discount: i64,
        refunded: i64,
    }
    let (condition, mut values) = scope.condition();
    values.push(hour_of(from).into());
    let sql = format!(
        "SELECT h.paid_hour AS paid_hour, \
           CAST(SUM(h.orders) AS BIGINT) AS orders, CAST(SUM(h.tickets) AS BIGINT) AS tickets, \
           CAST(SUM(h.total) AS BIGINT) AS total, CAST(SUM(h.subtotal) AS BIGINT) AS subtotal, \
           CAST(SUM(h.service_fee) AS BIGINT) AS service_fee, \
           CAST(SUM(h.discount) AS BIGINT) AS discount, CAST(SUM(h.refunded) AS BIGINT) AS refunded \
         FROM sales_hourly h WHERE {condition} AND h.paid_hour >= ${} \
         GROUP BY h.paid_hour ORDER BY h.paid_hour",
        values.len()
    );
    let rows = Row::find_by_statement(statement(db.get_database_backend(), &sql, values))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                hour_start(r.paid_hour),
                Totals {
                    orders: r.orders,
                    tickets: r.tickets,
                    total: r.total,
                    subtotal: r.subtotal,
                    service_fee: r.service_fee,
                    discount: r.discount,
                    refunded: r.refunded,
                },
            )
        })
        .collect())
}

/// The sums of the hours starting in `[from, to)`.
#[must_use]
pub fn sum(hours: &[(DateTime<Utc>, Totals)], from: DateTime<Utc>, to: DateTime<Utc>) -> Totals {
    let mut sums = Totals::default();
    for (at, t) in hours {
        if *at >= from && *at < to {
            sums.add(t);
        }
    }
    sums
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

/// Tickets and revenue per tier of the orders of `scope` paid from the
/// hour `from` falls in on; tiers with sales only, in the event page's
/// order.
///
/// # Errors
/// When the database fails.
pub async fn by_tier<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    from: DateTime<Utc>,
) -> Result<Vec<TierSales>, DbErr> {
    let (condition, mut values) = scope.condition();
    values.push(hour_of(from).into());
    let sql = format!(
        "SELECT t.id AS tier_id, t.name AS name, t.price AS price, \
           CAST(SUM(h.tickets) AS BIGINT) AS tickets, CAST(SUM(h.revenue) AS BIGINT) AS revenue, \
           CAST(SUM(h.service_fees) AS BIGINT) AS service_fees \
         FROM sales_tier_hourly h JOIN ticket_tiers t ON t.id = h.tier_id \
         WHERE {condition} AND h.paid_hour >= ${} \
         GROUP BY t.id, t.name, t.price, t.display_order HAVING SUM(h.tickets) > 0 \
         ORDER BY t.display_order, t.price, t.name",
        values.len()
    );
    TierSales::find_by_statement(statement(db.get_database_backend(), &sql, values))
        .all(db)
        .await
}

/// When the first order of `scope` still counted was paid (to the hour).
///
/// # Errors
/// When the database fails.
pub async fn first_paid<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    #[derive(FromQueryResult)]
    struct First {
        first: Option<i64>,
    }
    let (condition, values) = scope.condition();
    let sql = format!(
        "SELECT MIN(h.paid_hour) AS first FROM sales_hourly h WHERE {condition} AND h.orders > 0"
    );
    Ok(
        First::find_by_statement(statement(db.get_database_backend(), &sql, values))
            .one(db)
            .await?
            .and_then(|f| f.first)
            .map(hour_start),
    )
}

/// Adds (`sign` 1) or takes out (−1) a paid order and its lines in the
/// rollup, as `order` reads.
async fn shift<C: ConnectionTrait>(
    db: &C,
    order: &orders::Model,
    items: &[order_items::Model],
    sign: i64,
) -> Result<(), DbErr> {
    let Some(paid_at) = order.paid_at else {
        return Ok(());
    };
    let hour = hour_of(paid_at.with_timezone(&Utc));
    let tickets: i64 = items.iter().map(|i| i64::from(i.quantity)).sum();
    let backend = db.get_database_backend();
    db.execute_raw(statement(
        backend,
        "INSERT INTO sales_hourly \
           (event_id, paid_hour, orders, tickets, total, subtotal, service_fee, discount, refunded) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (event_id, paid_hour) DO UPDATE SET \
           orders = sales_hourly.orders + excluded.orders, \
           tickets = sales_hourly.tickets + excluded.tickets, \
           total = sales_hourly.total + excluded.total, \
           subtotal = sales_hourly.subtotal + excluded.subtotal, \
           service_fee = sales_hourly.service_fee + excluded.service_fee, \
           discount = sales_hourly.discount + excluded.discount, \
           refunded = sales_hourly.refunded + excluded.refunded",
        vec![
            order.event_id.into(),
            hour.into(),
            sign.into(),
            (sign * tickets).into(),
            (sign * order.total).into(),
            (sign * order.subtotal).into(),
            (sign * order.service_fee).into(),
            (sign * order.discount).into(),
            (sign * order.refunded_amount).into(),
        ],
    ))
    .await?;
    // Lines in the order tiers are locked in (by id).
    let mut lines: Vec<&order_items::Model> = items.iter().collect();
    lines.sort_by_key(|i| i.tier_id);
    let listed = order.subtotal + order.discount;
    for i in lines {
        let gross = i64::from(i.quantity) * i.unit_price;
        // The line's share of the order's fee, rounded down.
        let fee = if listed > 0 {
            order.service_fee * gross / listed
        } else {
            0
        };
        db.execute_raw(statement(
            backend,
            "INSERT INTO sales_tier_hourly \
               (event_id, paid_hour, tier_id, tickets, revenue, service_fees) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (event_id, paid_hour, tier_id) DO UPDATE SET \
               tickets = sales_tier_hourly.tickets + excluded.tickets, \
               revenue = sales_tier_hourly.revenue + excluded.revenue, \
               service_fees = sales_tier_hourly.service_fees + excluded.service_fees",
            vec![
                order.event_id.into(),
                hour.into(),
                i.tier_id.into(),
                (sign * i64::from(i.quantity)).into(),
                (sign * (gross - i.discount)).into(),
                (sign * fee).into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// Counts an order just paid (inside the transaction that paid it, after
/// its seats: the rollup's rows are always locked last).
///
/// # Errors
/// When the database fails.
pub async fn count_paid<C: ConnectionTrait>(
    db: &C,
    order: &orders::Model,
    items: &[order_items::Model],
) -> Result<(), DbErr> {
    shift(db, order, items, 1).await
}

/// Takes out an order that stops counting (wholly refunded), as it was
/// counted: `order` as it read before the change.
///
/// # Errors
/// When the database fails.
pub async fn uncount_paid<C: ConnectionTrait>(
    db: &C,
    order: &orders::Model,
    items: &[order_items::Model],
) -> Result<(), DbErr> {
    shift(db, order, items, -1).await
}

/// Counts `amount` given back on a paid order that still counts, in the
/// hour the order was paid.
///
/// # Errors
/// When the database fails.
pub async fn count_refund<C: ConnectionTrait>(
    db: &C,
    order: &orders::Model,
    amount: i64,
) -> Result<(), DbErr> {
    let Some(paid_at) = order.paid_at else {
        return Ok(());
    };
    db.execute_raw(statement(
        db.get_database_backend(),
        "INSERT INTO sales_hourly (event_id, paid_hour, refunded) VALUES ($1, $2, $3) \
         ON CONFLICT (event_id, paid_hour) DO UPDATE SET refunded = sales_hourly.refunded + excluded.refunded",
        vec![
            order.event_id.into(),
            hour_of(paid_at.with_timezone(&Utc)).into(),
            amount.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Sums the rollup again from the orders (after orders were written by
/// other means, such as an import): in one transaction, so readers see the
/// old sums or the new.
///
/// # Errors
/// When the database fails.
pub async fn rebuild(db: &sea_orm::DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        // Payments wait for the rebuild (their rollup rows are locked last,
        // after their seats): no deadlock, and none slips between the
        // delete and the sums.
        txn.execute_unprepared("LOCK TABLE sales_hourly, sales_tier_hourly IN EXCLUSIVE MODE")
            .await?;
    }
    let hour = if backend == DbBackend::Postgres {
        "CAST(floor(extract(epoch FROM o.paid_at) / 3600) AS BIGINT)"
    } else {
        "CAST(strftime('%s', o.paid_at) AS INTEGER) / 3600"
    };
    let paid = "o.status IN ('paid', 'partially_refunded') AND o.paid_at IS NOT NULL";
    for sql in [
        "DELETE FROM sales_tier_hourly".to_string(),
        "DELETE FROM sales_hourly".to_string(),
        format!(
            "INSERT INTO sales_hourly \
               (event_id, paid_hour, orders, tickets, total, subtotal, service_fee, discount, refunded) \
             SELECT o.event_id, {hour}, COUNT(*), \
               COALESCE(SUM((SELECT SUM(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0), \
               SUM(o.total), SUM(o.subtotal), SUM(o.service_fee), SUM(o.discount), SUM(o.refunded_amount) \
             FROM orders o WHERE {paid} GROUP BY o.event_id, {hour}"
        ),
        format!(
            "INSERT INTO sales_tier_hourly \
               (event_id, paid_hour, tier_id, tickets, revenue, service_fees) \
             SELECT o.event_id, {hour}, i.tier_id, SUM(i.quantity), \
               SUM(i.quantity * i.unit_price - i.discount), \
               SUM(CASE WHEN o.subtotal + o.discount > 0 \
                 THEN o.service_fee * i.quantity * i.unit_price / (o.subtotal + o.discount) ELSE 0 END) \
             FROM order_items i JOIN orders o ON o.id = i.order_id \
             WHERE {paid} GROUP BY o.event_id, {hour}, i.tier_id"
        ),
    ] {
        txn.execute_unprepared(&sql).await?;
    }
    txn.commit().await
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
