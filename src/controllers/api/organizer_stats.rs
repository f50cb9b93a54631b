//! The organizer dashboard's home figures, on backtuki's path and shape:
//! `organizers/dashboard-stats/?days=N` — tickets, revenue and orders of the
//! last N days against the N before, and one bar per day. Every figure is a
//! SQL aggregate over the organizer's paid orders (by when they were paid);
//! no order is loaded.

use chrono::{DateTime, Duration, Utc};
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func},
    QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use super::{organizers::Member, Api, ApiError, Detail, RequestUrl, Table};
use crate::{
    models::{
        _entities::events,
        sales::{self, Scope},
    },
    views::tickets::iso_utc,
};

/// The most days one answer covers.
const MAX_DAYS: i64 = 366;

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
    member.require_reports()?;
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
    let scope = Scope {
        organizer: org,
        event: None,
    };
    let now = Utc::now();
    // The period starts on the hour (the figures are summed by the hour):
    // the last `days` × 24 hours and the current one, against as many
    // before. One statement reads both, and the bars.
    let start = sales::floor_hour(now - Duration::days(days));
    let before = start - Duration::days(days);
    let hours = sales::hourly(&api.db, scope, before).await?;
    let current = sales::sum(&hours, start, DateTime::<Utc>::MAX_UTC);
    let previous = sales::sum(&hours, before, start);
    // Bars: the Santiago days ending today.
    let (first, today) = sales::last_days(now, days);
    #[allow(clippy::cast_precision_loss)]
    let daily = sales::by_day(&hours, first, today)
        .into_iter()
        .map(|(day, sums)| StatsDay {
            date: day.format("%d %b").to_string(),
            tickets: sums.tickets,
            revenue: sums.net() as f64,
        })
        .collect();
    let views = organizer_views(&api, org).await?;
    #[allow(clippy::cast_precision_loss)]
    let summary = StatsSummary {
        total_tickets_sold: current.tickets,
        tickets_trend: trend(current.tickets, previous.tickets),
        total_revenue: current.net() as f64,
        revenue_trend: trend(current.net(), previous.net()),
        total_views: views,
        total_orders: current.orders,
    };
    Ok(super::private_json(DashboardStats {
        period: StatsPeriod {
            days,
            start_date: iso_utc(start.fixed_offset()),
            end_date: iso_utc(now.fixed_offset()),
        },
        summary,
        daily_data: daily,
    }))
}

/// `days` for the analytics: 1 to 366, or 0 for "since the first sale".
fn analytics_days(url: &RequestUrl) -> Result<i64, ApiError> {
    match url.get("days") {
        None => Ok(30),
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (0..=MAX_DAYS).contains(d))
            .ok_or_else(|| {
                ApiError::Field(
                    "days",
                    format!("Un número entero de 0 (desde la primera venta) a {MAX_DAYS}."),
                )
            }),
    }
}

/// The organizer's event named by `?event_id=` (deleted ones included:
/// their sales stay theirs), or none asked.
async fn analytics_event(
    api: &Api,
    member: &Member,
    url: &RequestUrl,
) -> Result<Option<events::Model>, ApiError> {
    const NOT_FOUND: &str = "Evento no encontrado";
    let Some(raw) = url.get("event_id").filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let id = Uuid::parse_str(raw.trim()).map_err(|_| ApiError::NotFound(NOT_FOUND))?;
    events::Entity::find_by_id(id)
        .filter(events::Column::OrganizerId.eq(member.organizer.id))
        .one(&api.db)
        .await?
        .map(Some)
        .ok_or(ApiError::NotFound(NOT_FOUND))
}

/// A stable colour per chart slice.
const PALETTE: [&str; 8] = [
    "#8884d8", "#83a6ed", "#8dd1e1", "#82ca9d", "#a4de6c", "#d0ed57", "#ffc658", "#ff8042",
];

/// Two decimals.
fn two(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `part / whole`, two decimals; 0 when there is no whole.
#[allow(clippy::cast_precision_loss)]
fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        two(part as f64 / whole as f64)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsKpis {
    /// Tickets of the paid orders.
    pub total_sales: i64,
    /// What buyers paid, fees included.
    pub total_revenue: f64,
    /// The tickets' price less discounts (the organizer's share).
    pub gross_revenue: f64,
    pub total_service_fees: f64,
    pub total_discounts: f64,
    /// Given back to buyers.
    pub total_refunds: f64,
    /// `totalRevenue` − `totalRefunds`.
    pub net_revenue: f64,
    /// `grossRevenue / totalSales`.
    pub average_ticket_price: f64,
    pub total_orders: i64,
    /// Paid orders per 100 counted page views (the event's, or all the
    /// organizer's; views are counted since the event was published).
    pub conversion_rate: f64,
    pub average_order_value: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalyticsDay {
    /// `DD/MM/YYYY`, the day in Santiago.
    pub date: String,
    pub sales: i64,
    pub revenue: f64,
    pub gross_revenue: f64,
    pub orders: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalyticsTier {
    /// The tier's name.
    pub name: String,
    /// Tickets sold.
    pub value: i64,
    /// Their price as sold.
    pub effective_revenue: f64,
    /// Their lines' share of the service fees.
    pub service_fees: f64,
    /// The tier's price now.
    pub base_price: f64,
    pub fill: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalyticsRange {
    pub start: String,
    pub end: String,
    pub days: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalyticsCapacity {
    /// Σ capacity of the limited tiers; `null` when a tier is unlimited.
    pub total: Option<i64>,
    /// Tickets issued (paid orders, not cancelled).
    pub sold: i64,
    /// Seats left in the limited tiers; `null` when a tier is unlimited.
    pub remaining: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalyticsCheckIn {
    pub checked_in: i64,
    pub total_tickets: i64,
    /// Checked in per 100 tickets, two decimals.
    pub check_in_rate: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalyticsMetadata {
    pub calculation_method: &'static str,
    pub includes_discounts: bool,
    pub includes_service_fees: bool,
    pub only_paid_orders: bool,
    pub event_id_filter: Option<Uuid>,
    pub filtered_orders_count: i64,
}

/// A slice of a breakdown chart.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalyticsSlice {
    pub name: String,
    pub value: i64,
    pub fill: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    pub kpis: AnalyticsKpis,
    /// One entry per Santiago day of the period, oldest first, today last.
    pub chart_data: Vec<AnalyticsDay>,
    /// Tiers with sales in the period.
    pub category_data: Vec<AnalyticsTier>,
    /// Always empty: devices are not tracked (backtuki made these up).
    pub device_data: Vec<AnalyticsSlice>,
    /// Always empty: channels are not tracked.
    pub channel_data: Vec<AnalyticsSlice>,
    pub date_range: AnalyticsRange,
    /// With `event_id`: the event's capacity now (not only the period's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<AnalyticsCapacity>,
    /// With `event_id`: the door so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_in: Option<AnalyticsCheckIn>,
    pub metadata: AnalyticsMetadata,
}

/// Sales analytics of the organizer, or of one of its events: revenue
/// (gross, fees, refunds, net), tickets per tier and per day, capacity
/// left, check-in rate and conversion. Admins and report readers.
#[utoipa::path(
    get,
    path = "/api/v1/events/analytics/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(
        ("days" = Option<String>, Query, description = "1 to 366 Santiago days ending today (default 30); 0: since the first sale"),
        ("event_id" = Option<String>, Query, description = "One of the organizer's events; without it, all of them"),
    ),
    responses(
        (status = 200, description = "The figures", body = Analytics),
        (status = 400, description = "`days` not a whole number from 0 to 366", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin or report reader of an organizer", body = Detail),
        (status = 404, description = "`event_id` not one of the organizer's events", body = Detail),
    )
)]
pub async fn analytics(api: Api, url: RequestUrl, member: Member) -> Result<Response, ApiError> {
    member.require_reports()?;
    let mut days = analytics_days(&url)?;
    let event = analytics_event(&api, &member, &url).await?;
    let scope = Scope {
        organizer: member.organizer.id,
        event: event.as_ref().map(|e| e.id),
    };
    let now = Utc::now();
    let today = sales::santiago_day(now);
    if days == 0 {
        days = match sales::first_paid(&api.db, scope).await? {
            Some(first) => (today - sales::santiago_day(first)).num_days() + 1,
            None => 30,
        };
    }
    let (first, _) = sales::last_days(now, days);
    let start =
        sales::midnight(first).unwrap_or_else(|| (now - Duration::days(days)).fixed_offset());
    let end = now.fixed_offset();
    // Santiago's midnight is on the hour: the days are read whole.
    let from = start.with_timezone(&Utc);
    let hours = sales::hourly(&api.db, scope, from).await?;
    let sums = sales::sum(&hours, from, DateTime::<Utc>::MAX_UTC);
    let tiers = sales::by_tier(&api.db, scope, from).await?;
    let views = match &event {
        Some(e) => i64::from(e.views_count),
        None => organizer_views(&api, member.organizer.id).await?,
    };
    let (capacity, check_in) = match &event {
        Some(e) => {
            let door = sales::door(&api.db, e.id).await?;
            let limited = door.unlimited_tiers == 0;
            (
                Some(AnalyticsCapacity {
                    total: limited.then_some(door.capacity),
                    sold: door.issued,
                    remaining: limited.then_some(Ord::max(door.capacity - door.sold_limited, 0)),
                }),
                Some(AnalyticsCheckIn {
                    checked_in: door.checked_in,
                    total_tickets: door.issued,
                    check_in_rate: two(ratio(door.checked_in * 10_000, door.issued) / 100.0),
                }),
            )
        }
        None => (None, None),
    };
    #[allow(clippy::cast_precision_loss)]
    let money = |pesos: i64| pesos as f64;
    let chart_data = sales::by_day(&hours, first, today)
        .into_iter()
        .map(|(day, s)| AnalyticsDay {
            date: day.format("%d/%m/%Y").to_string(),
            sales: s.tickets,
            revenue: money(s.total),
            gross_revenue: money(s.subtotal),
            orders: s.orders,
        })
        .collect();
    let category_data = tiers
        .into_iter()
        .enumerate()
        .map(|(i, t)| AnalyticsTier {
            name: t.name,
            value: t.tickets,
            effective_revenue: money(t.revenue),
            service_fees: money(t.service_fees),
            base_price: money(t.price),
            fill: PALETTE[i % PALETTE.len()],
        })
        .collect();
    let body = Analytics {
        kpis: AnalyticsKpis {
            total_sales: sums.tickets,
            total_revenue: money(sums.total),
            gross_revenue: money(sums.subtotal),
            total_service_fees: money(sums.service_fee),
            total_discounts: money(sums.discount),
            total_refunds: money(sums.refunded),
            net_revenue: money(sums.net()),
            average_ticket_price: ratio(sums.subtotal, sums.tickets),
            total_orders: sums.orders,
            conversion_rate: two(ratio(sums.orders * 10_000, views) / 100.0),
            average_order_value: ratio(sums.total, sums.orders),
        },
        chart_data,
        category_data,
        device_data: Vec::new(),
        channel_data: Vec::new(),
        date_range: AnalyticsRange {
            start: iso_utc(start),
            end: iso_utc(end),
            days,
        },
        capacity,
        check_in,
        metadata: AnalyticsMetadata {
            calculation_method: "effective_revenue",
            includes_discounts: true,
            includes_service_fees: true,
            only_paid_orders: true,
            event_id_filter: event.as_ref().map(|e| e.id),
            filtered_orders_count: sums.orders,
        },
    };
    Ok(super::private_json(body))
}

/// Counted page views of all the organizer's events.
async fn organizer_views(api: &Api, organizer: Uuid) -> Result<i64, ApiError> {
    let views: Option<i64> = events::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(Func::sum(Expr::col(events::Column::ViewsCount))).cast_as("BIGINT"),
            "views",
        )
        .filter(events::Column::OrganizerId.eq(organizer))
        .into_tuple()
        .one(&api.db)
        .await?
        .flatten();
    Ok(views.unwrap_or(0))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FunnelStage {
    /// `1_views`, `2_reservations`, `3_orders`, `4_paid`.
    pub stage: &'static str,
    pub count: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ViewMetrics {
    /// Counted views (one per buyer per event per 15 minutes), since
    /// publication.
    pub total_views: i64,
    /// The same count: views are not stored one by one.
    pub unique_views: i64,
    /// Paid orders of the period.
    pub converted_views: i64,
    /// `converted_views` per 100 views, two decimals.
    pub conversion_rate: f64,
    /// Always 0: time on page is not measured.
    pub avg_time_on_page: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversionRange {
    pub start: String,
    pub end: String,
    pub days: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversionMetrics {
    pub event_id: Uuid,
    pub event_title: String,
    pub date_range: ConversionRange,
    pub funnel_stages: Vec<FunnelStage>,
    pub view_metrics: ViewMetrics,
    /// Always empty: sources are not tracked.
    pub traffic_sources: Vec<AnalyticsSlice>,
    /// Always empty: devices are not tracked.
    pub device_breakdown: Vec<AnalyticsSlice>,
}

/// Holds and orders of an event made in a window.
#[derive(Debug, Default, sea_orm::FromQueryResult)]
struct Funnel {
    reservations: i64,
    orders: i64,
}

/// An event's sales funnel over the last `days` (default 30): views,
/// holds, orders booked and paid. Admins and report readers.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/conversion_metrics/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "One of the organizer's events"),
        ("days" = Option<String>, Query, description = "1 to 366 (default 30)"),
    ),
    responses(
        (status = 200, description = "The funnel", body = ConversionMetrics),
        (status = 400, description = "`days` not a whole number from 1 to 366", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin or report reader of an organizer", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn conversion_metrics(
    api: Api,
    url: RequestUrl,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    use sea_orm::FromQueryResult;
    member.require_reports()?;
    let days = match url.get("days") {
        None => 30,
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or_else(|| {
                ApiError::Field("days", format!("Un número entero de 1 a {MAX_DAYS}."))
            })?,
    };
    let id = Uuid::parse_str(id.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
    let event = super::organizer_events::own_event_by_id(&api, &member, id).await?;
    let now = Utc::now();
    let start = sales::floor_hour(now - Duration::days(days)).fixed_offset();
    let utc = |t: chrono::DateTime<chrono::FixedOffset>| {
        sea_orm::Value::from(t.with_timezone(&Utc).fixed_offset())
    };
    let backend = api.db.get_database_backend();
    let sql = "SELECT \
        (SELECT COUNT(*) FROM reservations r WHERE r.event_id = $1 AND r.created_at >= $2) AS reservations, \
        (SELECT COUNT(*) FROM orders o WHERE o.event_id = $1 AND o.created_at >= $2) AS orders";
    let funnel = Funnel::find_by_statement(crate::models::sql::statement(
        backend,
        sql,
        [event.id.into(), utc(start)],
    ))
    .one(&api.db)
    .await?
    .unwrap_or_default();
    let from = start.with_timezone(&Utc);
    let hours = sales::hourly(
        &api.db,
        Scope {
            organizer: member.organizer.id,
            event: Some(event.id),
        },
        from,
    )
    .await?;
    let paid = sales::sum(&hours, from, DateTime::<Utc>::MAX_UTC);
    let views = i64::from(event.views_count);
    Ok(super::private_json(ConversionMetrics {
        event_id: event.id,
        event_title: event.title,
        date_range: ConversionRange {
            start: iso_utc(start),
            end: iso_utc(now.fixed_offset()),
            days,
        },
        funnel_stages: vec![
            FunnelStage {
                stage: "1_views",
                count: views,
            },
            FunnelStage {
                stage: "2_reservations",
                count: funnel.reservations,
            },
            FunnelStage {
                stage: "3_orders",
                count: funnel.orders,
            },
            FunnelStage {
                stage: "4_paid",
                count: paid.orders,
            },
        ],
        view_metrics: ViewMetrics {
            total_views: views,
            unique_views: views,
            converted_views: paid.orders,
            conversion_rate: two(ratio(paid.orders * 10_000, views) / 100.0),
            avg_time_on_page: 0.0,
        },
        traffic_sources: Vec::new(),
        device_breakdown: Vec::new(),
    }))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_dashboard_stats, dashboard_stats)
        .doc(__path_analytics, analytics)
        .doc(__path_conversion_metrics, conversion_metrics)
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
