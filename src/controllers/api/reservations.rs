//! "Mis reservas" as backtuki's frontend reads it (`/api/v1/user/…`): the
//! signed-in buyer's paid orders — theirs, or bought under their email —
//! and one of them; and a guest's by email, which here needs the six-digit
//! `ticket_access` code mailed to that address (backtuki left that check
//! unwritten). Dates are Santiago's (backtuki formatted UTC).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use chrono_tz::America::Santiago;
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func},
    Condition,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    auth::{ClientIp, SignedIn},
    drf::{Body, Input},
    Api, ApiError, Table,
};
use crate::models::{
    _entities::{event_images, locations, order_items, tickets},
    events, one_time_codes, orders,
    status::OrderStatus,
    ticket_tiers, users,
};

fn of_email(email: &str) -> Condition {
    Condition::all().add(
        Expr::expr(Func::lower(Expr::col(orders::Column::CustomerEmail)))
            .eq(email.trim().to_lowercase()),
    )
}

fn mine(user: &users::Model) -> Condition {
    Condition::any()
        .add(orders::Column::UserId.eq(user.id))
        .add(of_email(&user.email))
}

#[allow(clippy::cast_precision_loss)]
const fn pesos(amount: i64) -> f64 {
    amount as f64
}

/// One paid event order as a reservation card.
async fn card(api: &Api, order: &orders::Model) -> Result<Option<Value>, ApiError> {
    let Some(event) = events::Entity::find_by_id(order.event_id)
        .one(&api.db)
        .await?
    else {
        return Ok(None);
    };
    let location = match event.location_id {
        Some(id) => locations::Entity::find_by_id(id)
            .one(&api.db)
            .await?
            .map(|l| l.name),
        None => None,
    };
    let base = api
        .settings
        .media
        .public_base
        .clone()
        .unwrap_or_else(|| "/media/".to_string());
    let image = event_images::Entity::find()
        .filter(event_images::Column::EventId.eq(event.id))
        .order_by_asc(event_images::Column::Position)
        .one(&api.db)
        .await?
        .map(|i| format!("{base}{}", i.path));
    let items = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(order.id))
        .order_by_asc(order_items::Column::CreatedAt)
        .all(&api.db)
        .await?;
    let issued = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .find_also_related(ticket_tiers::Entity)
        .order_by_asc(tickets::Column::CreatedAt)
        .all(&api.db)
        .await?;
    let local = event.start_date.with_timezone(&Santiago);
    let count: i32 = items.iter().map(|i| i.quantity).sum();
    Ok(Some(json!({
        "id": order.id,
        "orderId": order.order_number,
        "eventId": event.id,
        "eventTitle": event.title,
        "eventImage": image,
        "eventDate": local.format("%d %B %Y").to_string(),
        "eventTime": local.format("%H:%M").to_string(),
        "date": event.start_date.to_rfc3339(),
        "location": location.unwrap_or_else(|| "Ubicación no especificada".to_string()),
        "status": "confirmed",
        "totalAmount": pesos(order.total),
        "subtotal": pesos(order.subtotal + order.discount),
        "serviceFee": pesos(order.service_fee),
        "discount": pesos(order.discount),
        "currency": "CLP",
        "ticketCount": count,
        "tickets": items.iter().map(|i| json!({
            "id": i.id,
            "tierName": if i.tier_name.is_empty() { "General" } else { i.tier_name.as_str() },
            "quantity": i.quantity,
            "unitPrice": pesos(i.unit_price),
            "subtotal": pesos(i.unit_price * i64::from(i.quantity)),
            "status": "Válido",
        })).collect::<Vec<_>>(),
        "attendees": issued.iter().map(|(t, tier)| json!({
            "name": t.attendee_name,
            "email": order.customer_email,
            "ticketType": tier.as_ref().map_or("General", |x| x.name.as_str()),
            "checkIn": if t.used_at.is_some() { "checked_in" } else { "pending" },
            "ticketNumber": t.code,
        })).collect::<Vec<_>>(),
        "purchaseDate": order.created_at.to_rfc3339(),
        "type": "event",
        "paymentInfo": {"method": "Webpay Plus", "provider": "Transbank", "status": "Pagado"},
        "customerInfo": {"name": order.customer_name, "email": order.customer_email, "phone": order.customer_phone},
    })))
}

async fn cards(api: &Api, condition: Condition) -> Result<Vec<Value>, ApiError> {
    let list = orders::Entity::find()
        .filter(condition)
        .filter(orders::Column::Status.is_in(OrderStatus::PAID))
        .order_by_desc(orders::Column::CreatedAt)
        .limit(200)
        .all(&api.db)
        .await?;
    let mut out = Vec::new();
    for order in &list {
        if let Some(c) = card(api, order).await? {
            out.push(c);
        }
    }
    Ok(out)
}

/// The signed-in buyer's paid orders, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/user/reservations/",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{success, results, count}`", body = Object),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn list(api: Api, SignedIn(user): SignedIn) -> Result<Response, ApiError> {
    let results = cards(&api, mine(&user)).await?;
    Ok(Json(json!({"success": true, "count": results.len(), "results": results})).into_response())
}

/// One of the signed-in buyer's orders (any other id: 404).
#[utoipa::path(
    get,
    path = "/api/v1/user/reservations/{id}/",
    tag = "auth",
    params(("id" = String, Path, description = "The order's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{success, reservation}`", body = Object),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 404, description = "Not one of the buyer's orders", body = Object),
    )
)]
pub async fn detail(
    api: Api,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let missing = || {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"success": false, "message": "Reserva no encontrada"})),
        )
            .into_response()
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return Ok(missing());
    };
    let order = orders::Entity::find_by_id(id)
        .filter(mine(&user))
        .one(&api.db)
        .await?;
    let Some(order) = order else {
        return Ok(missing());
    };
    match card(&api, &order).await? {
        Some(mut c) => {
            c["status"] = json!(if OrderStatus::is_paid(&order.status) {
                "confirmed".to_string()
            } else {
                order.status.clone()
            });
            Ok(Json(json!({"success": true, "reservation": c})).into_response())
        }
        None => Ok(missing()),
    }
}

/// A guest's paid orders by email, with the `ticket_access` code mailed to
/// it (`otp/ticket-access/`) as `otp_token`.
#[utoipa::path(
    post,
    path = "/api/v1/user/reservations/by-email/",
    tag = "auth",
    request_body(content = super::bodies::ReservationsByEmail, description = "`{email, otp_token}`: the six digits mailed by `otp/ticket-access/`"),
    responses(
        (status = 200, description = "`{success, results, count}`", body = Object),
        (status = 400, description = "Missing fields, or a wrong, used or expired code", body = super::accounts::Refusal),
        (status = 429, description = "Too many codes tried from this client", body = super::Detail),
    )
)]
pub async fn by_email(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let code = input.code("otp_token");
    if input.has_errors() {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "Email y token OTP requeridos",
        ));
    }
    let (Some(email), Some(code)) = (email, code) else {
        return Err(ApiError::Internal);
    };
    super::otp::require_code(
        &ctx,
        &ip,
        &email,
        one_time_codes::Purpose::TicketAccess,
        &code,
    )
    .await?;
    let results = cards(&api, of_email(&email)).await?;
    Ok(Json(json!({"success": true, "count": results.len(), "results": results})).into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_list, list)
        .doc(__path_by_email, by_email)
        .doc(__path_detail, detail)
}
