//! The confirmation page of backtuki's frontend: an order's tickets by its
//! access token (`orders/{n}/tickets/?token=…`) and the confirmation mail
//! (`orders/{n}/send-email/?access_token=…`), in backtuki's shapes.
//!
//! Only the order's key (or its signed-in owner) opens it — backtuki's
//! `?admin=true` bypass is not served — and the mail goes only to the
//! buyer's own address (a `to_email` is ignored), once per order.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use loco_rs::prelude::*;
use serde_json::json;

use super::{auth::Buyer, checkout::may_read, Api, ApiError, RequestUrl, Table};
use crate::{
    mailers::order_confirmation,
    models::{_entities::tickets, events::EventCard, orders, status::OrderStatus, ticket_tiers},
    views::tickets::{iso_utc, OrderTickets, TicketEvent, TicketLine},
};

fn refusal(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"success": false, "error": error, "message": message})),
    )
        .into_response()
}

/// An order's tickets, for the holder of its access token (or its owner).
#[utoipa::path(
    get,
    path = "/api/v1/orders/{order_number}/tickets/",
    tag = "checkout",
    params(
        ("order_number" = String, Path),
        ("token" = Option<String>, Query, description = "The order's access token"),
    ),
    responses(
        (status = 200, description = "The order's tickets (none while unpaid)", body = OrderTickets),
        (status = 401, description = "No token", body = Object),
        (status = 404, description = "No such order, or the token is not its own", body = Object),
    )
)]
pub async fn order_tickets(
    api: Api,
    url: RequestUrl,
    Buyer(user): Buyer,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let token = url.get("token").map(str::trim).filter(|t| !t.is_empty());
    if token.is_none() && user.is_none() {
        return Ok(refusal(
            StatusCode::UNAUTHORIZED,
            "TOKEN_REQUIRED",
            "Access token is required. Please use the link from your confirmation email.",
        ));
    }
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number.as_str()))
        .one(&api.db)
        .await?;
    let Some(order) = order.filter(|o| may_read(o, user.as_ref(), token).is_ok()) else {
        return Ok(refusal(
            StatusCode::NOT_FOUND,
            "INVALID_TOKEN_OR_ORDER",
            "Invalid access token or order not found",
        ));
    };
    let card = EventCard::find(&api.db, order.event_id).await?;
    let issued = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .find_also_related(ticket_tiers::Entity)
        .order_by_asc(tickets::Column::CreatedAt)
        .order_by_asc(tickets::Column::Id)
        .all(&api.db)
        .await?;
    let list: Vec<TicketLine> = issued
        .iter()
        .map(|(t, tier)| TicketLine::new(t, &order, tier.as_ref().map(|x| x.name.as_str())))
        .collect();
    let media = url.media_base(&api.settings);
    Ok(super::private_json(OrderTickets {
        success: true,
        order_number: order.order_number.clone(),
        order_created_at: iso_utc(order.created_at),
        status: order.status.clone(),
        event: card.as_ref().map(|c| TicketEvent::new(c, &media)),
        ticket_count: list.len(),
        tickets: list,
    }))
}

/// Sends the confirmation of a paid order to its buyer, once (the server
/// also sends it by itself when the order is paid).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{order_number}/send-email/",
    tag = "checkout",
    params(
        ("order_number" = String, Path),
        ("access_token" = Option<String>, Query, description = "The order's access token"),
    ),
    responses(
        (status = 200, description = "Sent, or already sent", body = Object),
        (status = 202, description = "Not sent now (the order is not paid yet, or the mail server did not answer): it goes when it can", body = Object),
        (status = 400, description = "No access token", body = Object),
        (status = 404, description = "No such order, or the token is not its own", body = Object),
    )
)]
pub async fn send_email(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let Some(token) = url
        .get("access_token")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "message": "Missing access_token"})),
        )
            .into_response());
    };
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number.as_str()))
        .one(&api.db)
        .await?;
    let Some(order) = order.filter(|o| may_read(o, None, Some(token)).is_ok()) else {
        return Ok((
            StatusCode::NOT_FOUND,
            Json(json!({"success": false, "message": "Order not found or invalid token"})),
        )
            .into_response());
    };
    if order.confirmation_sent {
        return Ok(Json(json!({"success": true, "message": "Email already sent", "already_sent": true, "emails_sent": 1})).into_response());
    }
    if OrderStatus::is_paid(&order.status) {
        let base = format!("{}://{}", url.scheme, url.host);
        if order_confirmation::send(&ctx, order.id, &base).await? {
            return Ok(Json(json!({"success": true, "message": "Email sent successfully", "emails_sent": 1, "fallback_to_celery": false})).into_response());
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"success": false, "message": "Email failed but enqueued in Celery for retry", "fallback_to_celery": true})),
    )
        .into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_order_tickets, order_tickets)
        .doc(__path_send_email, send_email)
}
