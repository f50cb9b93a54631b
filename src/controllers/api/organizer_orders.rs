//! The organizer's orders on backtuki's paths: the event's order list with
//! its statistics (`orders/?event_id=`), and an order's `cancel/`,
//! `resend_email/` and `timeline/`.
//!
//! Who may do what is resolved once by [`Member`]; every order is reached
//! through one of the member's organizer's events ([`own_order`]), and
//! another organizer's order answers 404 (backtuki said 403). Admins and
//! event managers act on orders; report readers list them and read their
//! timelines (no tickets: ticket numbers let people in).

use std::collections::HashMap;

use axum::{
    extract::{Path, State},
    response::Response,
    Json,
};
use chrono::{DateTime, FixedOffset, Utc};
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func},
    Condition, FromQueryResult, PaginatorTrait, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    drf::Body,
    organizer_events::own_event_by_id,
    organizers::{Member, NOT_ALLOWED},
    page_number, Api, ApiError, Detail, RequestUrl, Table,
};
use crate::{
    admin::audit::Change,
    models::{
        _entities::{events, order_items, orders, payments, tickets},
        status::OrderStatus,
    },
    views::tickets::{iso_utc, OrderDetail},
};

/// Orders in one `no_pagination=true` answer at most.
const UNPAGED_MAX: u64 = 2000;

impl Member {
    /// Whether this member may read the organizer's orders (not tickets).
    const fn reads_orders(&self) -> bool {
        self.role.is_admin || self.role.can_manage_events || self.role.can_view_reports
    }
}

/// One of the member's organizer's orders (by id or number) with its
/// event, or 404.
async fn own_order(
    api: &Api,
    member: &Member,
    key: &str,
) -> Result<(orders::Model, events::Model), ApiError> {
    let key = key.trim();
    let by = Uuid::parse_str(key).map_or_else(
        |_| orders::Column::OrderNumber.eq(key),
        |id| orders::Column::Id.eq(id),
    );
    let (order, event) = orders::Entity::find()
        .filter(by)
        .find_also_related(events::Entity)
        .filter(events::Column::OrganizerId.eq(member.organizer.id))
        .one(&api.db)
        .await?
        .and_then(|(o, e)| e.map(|e| (o, e)))
        .ok_or(ApiError::NotFound("No encontrado."))?;
    Ok((order, event))
}

/// Orders as backtuki's `OrderSerializer` lists them (lines and their
/// attendees; no tickets), in the given order: four statements whatever
/// their number.
async fn shown(
    api: &Api,
    event: &events::Model,
    rows: &[orders::Model],
) -> Result<Vec<OrderDetail>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|o| o.id).collect();
    let mut items: HashMap<Uuid, Vec<order_items::Model>> = HashMap::new();
    for i in order_items::Entity::find()
        .filter(order_items::Column::OrderId.is_in(ids.clone()))
        .order_by_asc(order_items::Column::Id)
        .all(&api.db)
        .await?
    {
        items.entry(i.order_id).or_default().push(i);
    }
    let mut issued: HashMap<Uuid, Vec<tickets::Model>> = HashMap::new();
    for t in tickets::Entity::find()
        .filter(tickets::Column::OrderId.is_in(ids.clone()))
        .order_by_asc(tickets::Column::CreatedAt)
        .order_by_asc(tickets::Column::Id)
        .all(&api.db)
        .await?
    {
        issued.entry(t.order_id).or_default().push(t);
    }
    let mut latest: HashMap<Uuid, payments::Model> = HashMap::new();
    for p in payments::Entity::find()
        .filter(payments::Column::OrderId.is_in(ids))
        .order_by_asc(payments::Column::CreatedAt)
        .order_by_asc(payments::Column::Id)
        .all(&api.db)
        .await?
    {
        latest.insert(p.order_id, p);
    }
    Ok(rows
        .iter()
        .map(|o| {
            let mut d = OrderDetail::new(
                o,
                &event.title,
                event.service_fee_bps,
                items.get(&o.id).map_or(&[][..], Vec::as_slice),
                issued.get(&o.id).map_or(&[][..], Vec::as_slice),
                latest.get(&o.id),
            );
            d.tickets = None;
            d
        })
        .collect())
}

/// backtuki's `search`: commas are spaces, and every word (ten at most)
/// must be in one of `columns`, whatever its case.
pub(super) fn every_word_in(search: &str, columns: &[Expr]) -> Condition {
    let mut all = Condition::all();
    for word in search
        .replace(',', " ")
        .split_whitespace()
        .take(10)
        .map(str::to_lowercase)
    {
        let like = format!(
            "%{}%",
            word.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut any = Condition::any();
        for column in columns {
            any = any.add(
                Expr::expr(Func::lower(column.clone()))
                    .like(sea_orm::sea_query::LikeExpr::new(like.clone()).escape('\\')),
            );
        }
        all = all.add(any);
    }
    all
}

/// The list's figures: paid orders (wholly or partly kept) among those
/// filtered, their totals and fees.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderStatistics {
    pub total_orders: i64,
    pub total_revenue: f64,
    pub total_service_fees: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_page_count: Option<usize>,
}

#[derive(FromQueryResult)]
struct Sums {
    orders: i64,
    revenue: Option<i64>,
    fees: Option<i64>,
}

/// backtuki's paged answer: the page under `results.results`, with the
/// statistics beside it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderPage {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: OrderPageResults,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderPageResults {
    pub results: Vec<OrderDetail>,
    pub statistics: OrderStatistics,
}

/// The organizer's orders of one event (`GET orders/?event_id=`), filtered
/// by `status`, `search` (every word in the number, name or email) and
/// sorted by `ordering` (`created_at`, `updated_at`, `total`, `-` for
/// descending; default newest first).
///
/// # Errors
/// 403 for a member who reads no orders, 404 for another organizer's event,
/// 400 for a bad status.
pub async fn list_for_event(
    api: &Api,
    url: &RequestUrl,
    member: &Member,
    event_id: &str,
) -> Result<Response, ApiError> {
    if !member.reads_orders() {
        return Err(ApiError::Forbidden(NOT_ALLOWED));
    }
    let id = Uuid::parse_str(event_id.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
    let event = own_event_by_id(api, member, id).await?;
    let mut filter = Condition::all().add(orders::Column::EventId.eq(event.id));
    if let Some(status) = url.get("status").filter(|s| !s.is_empty()) {
        if OrderStatus::parse(status).is_none() {
            return Err(ApiError::Field(
                "status",
                format!(
                    "Escoja una opción válida. {status} no es una de las opciones disponibles."
                ),
            ));
        }
        filter = filter.add(orders::Column::Status.eq(status));
    }
    if let Some(search) = url.get("search") {
        filter = filter.add(every_word_in(
            search,
            &[
                Expr::col((orders::Entity, orders::Column::OrderNumber)),
                Expr::col((orders::Entity, orders::Column::CustomerName)),
                Expr::col((orders::Entity, orders::Column::CustomerEmail)),
            ],
        ));
    }
    let mut query = orders::Entity::find().filter(filter.clone());
    let ordering = url.get("ordering").unwrap_or("");
    let mut sorted = false;
    for term in ordering.split(',').map(str::trim) {
        let (desc, name) = term
            .strip_prefix('-')
            .map_or((false, term), |rest| (true, rest));
        let column = match name {
            "created_at" => orders::Column::CreatedAt,
            "updated_at" => orders::Column::UpdatedAt,
            "total" => orders::Column::Total,
            _ => continue,
        };
        query = if desc {
            query.order_by_desc(column)
        } else {
            query.order_by_asc(column)
        };
        sorted = true;
    }
    if !sorted {
        query = query.order_by_desc(orders::Column::CreatedAt);
    }
    let query = query.order_by_desc(orders::Column::Id);
    let sums = orders::Entity::find()
        .select_only()
        .column_as(Expr::col(orders::Column::Id).count(), "orders")
        .column_as(
            Expr::expr(Func::sum(Expr::col(orders::Column::Total))).cast_as("BIGINT"),
            "revenue",
        )
        .column_as(
            Expr::expr(Func::sum(Expr::col(orders::Column::ServiceFee))).cast_as("BIGINT"),
            "fees",
        )
        .filter(filter)
        .filter(orders::Column::Status.is_in(OrderStatus::PAID))
        .into_model::<Sums>()
        .one(&api.db)
        .await?;
    #[allow(clippy::cast_precision_loss)]
    let mut statistics = sums.map_or(
        OrderStatistics {
            total_orders: 0,
            total_revenue: 0.0,
            total_service_fees: 0.0,
            current_page_count: None,
        },
        |s| OrderStatistics {
            total_orders: s.orders,
            total_revenue: s.revenue.unwrap_or(0) as f64,
            total_service_fees: s.fees.unwrap_or(0) as f64,
            current_page_count: None,
        },
    );
    if url.get("no_pagination") == Some("true") {
        let rows = query.limit(UNPAGED_MAX).all(&api.db).await?;
        let count = rows.len();
        let results = shown(api, &event, &rows).await?;
        return Ok(super::private_json(json!({
            "results": results,
            "count": count,
            "statistics": statistics,
        })));
    }
    let count = query.clone().count(&api.db).await?;
    let page = page_number(url.get("page"), count)?;
    let rows = query
        .paginate(&api.db, super::PAGE_SIZE)
        .fetch_page(page - 1)
        .await?;
    let results = shown(api, &event, &rows).await?;
    statistics.current_page_count = Some(results.len());
    let paged = super::Page::<()>::new(url, count, page, Vec::new());
    Ok(super::private_json(OrderPage {
        count,
        next: paged.next,
        previous: paged.previous,
        results: OrderPageResults {
            results,
            statistics,
        },
    }))
}

/// Cancels an unpaid order of the organizer's (its held seats go back on
/// sale). A paid order is refunded instead (`orders/{id}/refund/`).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{order_number}/cancel/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("order_number" = String, Path, description = "The order's id or number")),
    request_body(content = super::bodies::Reason, description = "`{reason?}`"),
    responses(
        (status = 200, description = "Cancelled", body = Detail,
            example = json!({"detail": "Order cancelled successfully."})),
        (status = 400, description = "Not pending (a paid order is refunded instead): `{detail}`; or a body that is not JSON (its errors)", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's orders", body = Detail),
    )
)]
pub async fn cancel(
    api: Api,
    member: Member,
    Path(key): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let (order, _) = own_order(&api, &member, &key).await?;
    let reason: String = body
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .chars()
        .take(500)
        .collect();
    if !OrderStatus::Pending.is(&order.status) {
        return Err(ApiError::BadRequest(
            "Solo los pedidos pendientes se cancelan; un pedido pagado se reembolsa.".into(),
        ));
    }
    if !order
        .end_unpaid(&api.db, OrderStatus::Cancelled, Utc::now())
        .await?
    {
        return Err(ApiError::BadRequest(
            "El pedido ya no está pendiente.".into(),
        ));
    }
    api.cache.invalidate();
    let message = if reason.is_empty() {
        "Cancelado.".to_string()
    } else {
        format!("Cancelado: {reason}")
    };
    member
        .log(
            &api,
            "order",
            order.id,
            &order.order_number,
            Change::Changed,
            &message,
        )
        .await;
    Ok(Json(Detail {
        detail: "Order cancelled successfully.".into(),
    })
    .into_response())
}

/// Sends a paid order's confirmation (with its tickets) again, to the
/// buyer's address only (backtuki sent it to any address a member typed).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{order_number}/resend_email/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("order_number" = String, Path, description = "The order's id or number")),
    request_body(content = super::bodies::EmailOnly, description = "`{email?}`: the buyer's address, if given"),
    responses(
        (status = 200, description = "Sent", body = Object,
            example = json!({"detail": "Email queued for sending.", "email": "ana@example.cl"})),
        (status = 400, description = "Not paid, or an address other than the buyer's: `{detail}`; or a body that is not JSON (its errors)", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's orders", body = Detail),
        (status = 503, description = "The mail could not be sent", body = Detail),
    )
)]
pub async fn resend_email(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    member: Member,
    Path(key): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let (order, _) = own_order(&api, &member, &key).await?;
    match body.get("email") {
        None => {}
        Some(Value::String(e)) if e.trim().eq_ignore_ascii_case(&order.customer_email) => {}
        Some(Value::String(e)) if e.trim().is_empty() => {
            return Err(ApiError::BadRequest("Email address is required.".into()));
        }
        Some(_) => {
            return Err(ApiError::BadRequest(
                "Las entradas solo se envían al correo del comprador.".into(),
            ));
        }
    }
    if !OrderStatus::is_paid(&order.status) {
        return Err(ApiError::BadRequest(
            "Solo se reenvían pedidos pagados.".into(),
        ));
    }
    let base = format!("{}://{}", url.scheme, url.host);
    // Sent again whether or not it was sent before (that is what a resend is).
    if let Err(err) = crate::mailers::order_confirmation::resend(&ctx, order.id, &base).await {
        tracing::warn!(order = %order.id, error = %err, "confirmation not resent");
        return Err(ApiError::Unavailable);
    }
    member
        .log(
            &api,
            "order",
            order.id,
            &order.order_number,
            Change::Changed,
            "Reenviado el correo de confirmación.",
        )
        .await;
    Ok(super::private_json(json!({
        "detail": "Email queued for sending.",
        "email": order.customer_email,
    })))
}

/// One step of an order's history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub r#type: &'static str,
    pub title: &'static str,
    pub description: String,
    /// UTC.
    pub timestamp: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
}

/// An order's history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub order_id: Uuid,
    pub order_number: String,
    pub timeline: Vec<TimelineEntry>,
}

/// An order's history: made, paid, confirmation mailed, refunded, ended
/// unpaid — each with its time (UTC), oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{order_number}/timeline/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("order_number" = String, Path, description = "The order's id or number")),
    responses(
        (status = 200, description = "The history", body = Timeline),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who reads orders", body = Detail),
        (status = 404, description = "Not one of the organizer's orders", body = Detail),
    )
)]
pub async fn timeline(
    api: Api,
    member: Member,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    if !member.reads_orders() {
        return Err(ApiError::Forbidden(NOT_ALLOWED));
    }
    let (order, _) = own_order(&api, &member, &key).await?;
    let refunds = payments::Entity::find()
        .filter(payments::Column::OrderId.eq(order.id))
        .filter(payments::Column::RefundedAmount.gt(0))
        .all(&api.db)
        .await?;
    let mut entries: Vec<(DateTime<FixedOffset>, TimelineEntry)> = vec![(
        order.created_at,
        TimelineEntry {
            r#type: "order_created",
            title: "Pedido generado",
            description: format!("Pedido {} creado", order.order_number),
            timestamp: iso_utc(order.created_at),
            status: "pending",
            amount: None,
        },
    )];
    if let Some(paid) = order.paid_at {
        entries.push((
            paid,
            TimelineEntry {
                r#type: "status_changed",
                title: "Pedido confirmado",
                description: "El pedido cambió a estado confirmado".into(),
                timestamp: iso_utc(paid),
                status: "confirmed",
                amount: None,
            },
        ));
        if order.confirmation_sent {
            entries.push((
                paid,
                TimelineEntry {
                    r#type: "email_sent",
                    title: "Email enviado",
                    description: format!(
                        "Email de confirmación enviado a {}",
                        order.customer_email
                    ),
                    timestamp: iso_utc(paid),
                    status: "sent",
                    amount: None,
                },
            ));
        }
    }
    for p in refunds {
        entries.push((
            p.updated_at,
            TimelineEntry {
                r#type: "refunded",
                title: "Pedido reembolsado",
                description: format!("Reembolso de {}.00 CLP", p.refunded_amount),
                timestamp: iso_utc(p.updated_at),
                status: "refunded",
                amount: Some(format!("{}.00", p.refunded_amount)),
            },
        ));
    }
    let ended = match OrderStatus::parse(&order.status) {
        Some(OrderStatus::Cancelled) => Some(("cancelled", "Pedido cancelado")),
        Some(OrderStatus::Expired) => Some(("expired", "Pedido expirado")),
        Some(OrderStatus::Failed) => Some(("failed", "Pago fallido")),
        _ => None,
    };
    if let Some((status, title)) = ended {
        entries.push((
            order.updated_at,
            TimelineEntry {
                r#type: "status_changed",
                title,
                description: format!("El pedido terminó sin pago ({status})"),
                timestamp: iso_utc(order.updated_at),
                status,
                amount: None,
            },
        ));
    }
    entries.sort_by_key(|(at, _)| *at);
    Ok(super::private_json(Timeline {
        order_id: order.id,
        order_number: order.order_number,
        timeline: entries.into_iter().map(|(_, e)| e).collect(),
    }))
}

/// The attendees' answer without pages: their statistics beside them.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AttendeeStatistics {
    pub total_tickets: u64,
    pub checked_in_count: u64,
    pub pending_checkin: u64,
}

/// The attendees of one of the organizer's events (`GET tickets/?event_id=`):
/// every ticket of its paid orders in backtuki's `TicketSerializer` shape,
/// filtered by `status` (`active`, `used`, `cancelled`), `checked_in`,
/// `search` (every word in the ticket number, name or email) and sorted by
/// `ordering` (`first_name`, `last_name`, `check_in_time`; default by
/// name). Members who manage events or administer (ticket numbers let
/// people in).
///
/// # Errors
/// 403 for other members, 404 for another organizer's event, 400 for a bad
/// status.
pub async fn attendees(
    api: &Api,
    url: &RequestUrl,
    member: &Member,
    event_id: &str,
) -> Result<Response, ApiError> {
    use crate::models::status::TicketStatus;
    member.require_events()?;
    let id = Uuid::parse_str(event_id.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
    let event = own_event_by_id(api, member, id).await?;
    let mut filter = Condition::all()
        .add(tickets::Column::EventId.eq(event.id))
        .add(orders::Column::Status.is_in(OrderStatus::PAID));
    if let Some(status) = url.get("status").filter(|s| !s.is_empty()) {
        let stored = match status {
            "active" => TicketStatus::Valid,
            "used" => TicketStatus::Used,
            "cancelled" | "refunded" => TicketStatus::Cancelled,
            other => {
                return Err(ApiError::Field(
                    "status",
                    format!(
                        "Escoja una opción válida. {other} no es una de las opciones disponibles."
                    ),
                ))
            }
        };
        filter = filter.add(tickets::Column::Status.eq(stored));
    }
    match url.get("checked_in").map(str::to_lowercase).as_deref() {
        Some("true" | "1") => filter = filter.add(tickets::Column::Status.eq(TicketStatus::Used)),
        Some("false" | "0") => filter = filter.add(tickets::Column::Status.ne(TicketStatus::Used)),
        _ => {}
    }
    if let Some(search) = url.get("search") {
        filter = filter.add(every_word_in(
            search,
            &[
                Expr::col((tickets::Entity, tickets::Column::Code)),
                Expr::col((tickets::Entity, tickets::Column::AttendeeName)),
                Expr::col((orders::Entity, orders::Column::CustomerEmail)),
            ],
        ));
    }
    let mut query = tickets::Entity::find()
        .find_also_related(orders::Entity)
        .filter(filter.clone());
    query = match url.get("ordering").unwrap_or("") {
        "check_in_time" => query.order_by_asc(tickets::Column::UsedAt),
        "-check_in_time" => query.order_by_desc(tickets::Column::UsedAt),
        "-first_name" | "-last_name" => query.order_by_desc(tickets::Column::AttendeeName),
        _ => query.order_by_asc(tickets::Column::AttendeeName),
    }
    .order_by_asc(tickets::Column::Id);
    let shown = |rows: Vec<(tickets::Model, Option<orders::Model>)>| -> Vec<crate::views::tickets::TicketDetail> {
        rows.iter()
            .filter_map(|(t, o)| o.as_ref().map(|o| crate::views::tickets::TicketDetail::new(t, o)))
            .collect()
    };
    if url
        .get("no_pagination")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        let count = |extra: Option<bool>| {
            let mut q = tickets::Entity::find()
                .find_also_related(orders::Entity)
                .filter(filter.clone());
            if let Some(used) = extra {
                q = q.filter(if used {
                    tickets::Column::Status.eq(TicketStatus::Used)
                } else {
                    tickets::Column::Status.ne(TicketStatus::Used)
                });
            }
            q.count(&api.db)
        };
        let total = count(None).await?;
        let checked = count(Some(true)).await?;
        let rows = query.limit(UNPAGED_MAX).all(&api.db).await?;
        return Ok(super::private_json(json!({
            "results": shown(rows),
            "statistics": AttendeeStatistics {
                total_tickets: total,
                checked_in_count: checked,
                pending_checkin: total - checked,
            },
        })));
    }
    let count = query.clone().count(&api.db).await?;
    let page = page_number(url.get("page"), count)?;
    let rows = query
        .paginate(&api.db, super::PAGE_SIZE)
        .fetch_page(page - 1)
        .await?;
    Ok(super::private_json(super::Page::new(
        url,
        count,
        page,
        shown(rows),
    )))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_cancel, cancel)
        .doc(__path_resend_email, resend_email)
        .doc(__path_timeline, timeline)
}

pub fn routes() -> Routes {
    table().routes()
}
