//! The organizer dashboard's home figures, on backtuki's path and shape:
//! `organizers/dashboard-stats/?days=N` — tickets, revenue and orders of the
//! last N days against the N before, and one bar per day. Every figure is a
//! SQL aggregate over the organizer's paid orders (by when they were paid);
//! no order is loaded.

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};
use chrono_tz::America::Santiago;
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::ExprTrait, ConnectionTrait, DbBackend, FromQueryResult, QuerySelect, Statement,
};
use serde::Serialize;
use uuid::Uuid;

use super::{
    organizers::{Member, NOT_ALLOWED},
    Api, ApiError, Detail, RequestUrl, Table,
};
use crate::views::tickets::iso_utc;

/// The most days one answer covers.
const MAX_DAYS: i64 = 366;

/// Paid orders (wholly or partly kept) of one organizer paid in
/// `[$2, $3)`: how many, their tickets and what they brought in net of
/// refunds. One statement.
const WINDOW_SQL: &str = "
SELECT
  (SELECT COUNT(*) FROM orders o
    WHERE o.event_id IN (SELECT e.id FROM events e WHERE e.organizer_id = $1)
      AND o.status IN ('paid', 'partially_refunded') AND o.paid_at >= $2 AND o.paid_at < $3) AS orders,
  (SELECT CAST(COALESCE(SUM(o.total - o.refunded_amount), 0) AS BIGINT) FROM orders o
    WHERE o.event_id IN (SELECT e.id FROM events e WHERE e.organizer_id = $1)
      AND o.status IN ('paid', 'partially_refunded') AND o.paid_at >= $2 AND o.paid_at < $3) AS revenue,
  (SELECT CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT) FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE o.event_id IN (SELECT e.id FROM events e WHERE e.organizer_id = $1)
      AND o.status IN ('paid', 'partially_refunded') AND o.paid_at >= $2 AND o.paid_at < $3) AS tickets";

#[derive(Debug, Default, FromQueryResult)]
struct Window {
    orders: i64,
    revenue: i64,
    tickets: i64,
}

async fn window<C: ConnectionTrait>(
    db: &C,
    organizer: Uuid,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Window, ApiError> {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        WINDOW_SQL.to_string()
    } else {
        // SQLite numbers its parameters `?1`, `?2`…
        WINDOW_SQL.replace('$', "?")
    };
    // Stored times are UTC; SQLite compares their text, so the bounds are
    // written in UTC too.
    let utc = |t: DateTime<FixedOffset>| t.with_timezone(&Utc).fixed_offset();
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [organizer.into(), utc(from).into(), utc(to).into()],
    );
    Ok(Window::find_by_statement(stmt)
        .one(db)
        .await?
        .unwrap_or_default())
}

/// `(current − previous) / previous` in percent, one decimal; 100 when
/// there was nothing before and something now.
#[allow(clippy::cast_precision_loss)]
fn trend(current: i64, previous: i64) -> f64 {
    if previous == 0 {
        return if current > 0 { 100.0 } else { 0.0 };
    }
    (((current - previous) as f64 / previous as f64) * 1000.0).round() / 10.0
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatsPeriod {
    pub days: i64,
    /// UTC.
    pub start_date: String,
    pub end_date: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatsSummary {
    pub total_tickets_sold: i64,
    pub tickets_trend: f64,
    /// Pesos paid, net of refunds.
    pub total_revenue: f64,
    pub revenue_trend: f64,
    /// Page views of the organizer's events (all time: views are counted,
    /// not dated).
    pub total_views: i64,
    pub total_orders: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatsDay {
    /// `17 Oct`: the day in Santiago.
    pub date: String,
    pub tickets: i64,
    pub revenue: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DashboardStats {
    pub period: StatsPeriod,
    pub summary: StatsSummary,
    /// One bar per Santiago day, oldest first, today last.
    pub daily_data: Vec<StatsDay>,
}

/// The dashboard's figures for the last `days` (default 14, at most 366):
/// admins and report readers.
#[utoipa::path(
    get,
    path = "/api/v1/organizers/dashboard-stats/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("days" = Option<String>, Query, description = "1 to 366 (default 14)")),
    responses(
        (status = 200, description = "The figures", body = DashboardStats),
        (status = 400, description = "`days` not a whole number from 1 to 366", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin or report reader of an organizer", body = Detail),
    )
)]
pub async fn dashboard_stats(
    api: Api,
    url: RequestUrl,
    member: Member,
) -> Result<Response, ApiError> {
    if !(member.role.is_admin || member.role.can_view_reports) {
        return Err(ApiError::Forbidden(NOT_ALLOWED));
    }
    let days = match url.get("days") {
        None => 14,
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| {
                ApiError::Field("days", format!("Un número entero de 1 a {MAX_DAYS}."))
            })?,
    };
    let org = member.organizer.id;
    let now = Utc::now().fixed_offset();
    let start = now - Duration::days(days);
    let current = window(&api.db, org, start, now).await?;
    let previous = window(&api.db, org, start - Duration::days(days), start).await?;
    // Bars: the Santiago days ending today.
    let today = now.with_timezone(&Santiago).date_naive();
    let mut daily = Vec::with_capacity(usize::try_from(days).unwrap_or(0));
    for back in (0..days).rev() {
        let day = today - Duration::days(back);
        let midnight = |d: chrono::NaiveDate| {
            Santiago
                .from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
                .map(|t| t.fixed_offset())
        };
        let (Some(from), Some(to)) = (midnight(day), midnight(day + Duration::days(1))) else {
            continue;
        };
        let w = window(&api.db, org, from, to).await?;
        #[allow(clippy::cast_precision_loss)]
        daily.push(StatsDay {
            date: day.format("%d %b").to_string(),
            tickets: w.tickets,
            revenue: w.revenue as f64,
        });
    }
    let views: Option<i64> = crate::models::_entities::events::Entity::find()
        .select_only()
        .column_as(
            sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::sum(
                sea_orm::sea_query::Expr::col(crate::models::_entities::events::Column::ViewsCount),
            ))
            .cast_as("BIGINT"),
            "views",
        )
        .filter(crate::models::_entities::events::Column::OrganizerId.eq(org))
        .into_tuple()
        .one(&api.db)
        .await?
        .flatten();
    #[allow(clippy::cast_precision_loss)]
    let summary = StatsSummary {
        total_tickets_sold: current.tickets,
        tickets_trend: trend(current.tickets, previous.tickets),
        total_revenue: current.revenue as f64,
        revenue_trend: trend(current.revenue, previous.revenue),
        total_views: views.unwrap_or(0),
        total_orders: current.orders,
    };
    Ok(super::private_json(DashboardStats {
        period: StatsPeriod {
            days,
            start_date: iso_utc(start),
            end_date: iso_utc(now),
        },
        summary,
        daily_data: daily,
    }))
}

pub fn table() -> Table {
    Table::new().doc(__path_dashboard_stats, dashboard_stats)
}

pub fn routes() -> Routes {
    table().routes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn trends_are_percent_changes_with_one_decimal() {
        assert!((super::trend(150, 100) - 50.0).abs() < f64::EPSILON);
        assert!((super::trend(1, 3) - (-66.7)).abs() < 1e-9);
        assert!((super::trend(5, 0) - 100.0).abs() < f64::EPSILON);
        assert!(super::trend(0, 0).abs() < f64::EPSILON);
    }
}
