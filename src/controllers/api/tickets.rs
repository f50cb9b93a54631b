//! Tickets: the buyer's list, each ticket's QR code, and check-in at the door.

use crate::models::status::{OrderStatus, TicketStatus};
use axum::{
    extract::{Path, Query},
    http::header,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use loco_rs::prelude::*;

use super::Table;
use sea_orm::{
    sea_query::Expr, ColumnTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    auth::{Buyer, SignedIn},
    checkout::may_read,
    Api, ApiError, JsonBody,
};
use crate::views::orders::MyTicket;
use crate::{
    mailers::order_confirmation,
    models::{
        _entities::{events, orders, ticket_tiers, tickets},
        organizer_members::{self, Role},
        users,
    },
};

/// The signed-in buyer's tickets (from paid orders), soonest event first.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/",
    tag = "tickets",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<MyTicket>),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn my_tickets(api: Api, SignedIn(user): SignedIn) -> Result<Response, ApiError> {
    let rows = tickets::Entity::find()
        .join(JoinType::InnerJoin, tickets::Relation::Orders.def())
        .filter(orders::Column::UserId.eq(user.id))
        .filter(orders::Column::Status.is_in(OrderStatus::PAID))
        .find_also_related(events::Entity)
        .order_by_asc(events::Column::StartDate)
        .order_by_asc(tickets::Column::Id)
        .all(&api.db)
        .await?;
    let tier_ids: Vec<Uuid> = rows.iter().map(|(t, _)| t.tier_id).collect();
    let tiers: std::collections::HashMap<Uuid, String> = ticket_tiers::Entity::find()
        .filter(ticket_tiers::Column::Id.is_in(tier_ids))
        .all(&api.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let order_ids: Vec<Uuid> = rows.iter().map(|(t, _)| t.order_id).collect();
    let numbers: std::collections::HashMap<Uuid, String> = orders::Entity::find()
        .filter(orders::Column::Id.is_in(order_ids))
        .all(&api.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.order_number))
        .collect();
    let out: Vec<MyTicket> = rows
        .into_iter()
        .map(|(t, e)| MyTicket {
            id: t.id,
            order_number: numbers.get(&t.order_id).cloned().unwrap_or_default(),
            event_id: t.event_id,
            event_title: e.as_ref().map(|e| e.title.clone()).unwrap_or_default(),
            event_start: e
                .as_ref()
                .map(|e| e.start_date.to_rfc3339())
                .unwrap_or_default(),
            tier_name: tiers.get(&t.tier_id).cloned().unwrap_or_default(),
            code: t.code,
            status: t.status,
            used_at: t.used_at.map(|x| x.to_rfc3339()),
        })
        .collect();
    Ok(Json(out).into_response())
}

#[derive(Deserialize)]
pub struct QrQuery {
    pub token: Option<String>,
    pub sig: Option<String>,
    /// Until when `sig` works (unix seconds; the mailed link carries both).
    pub exp: Option<i64>,
    pub format: Option<String>,
}

/// A QR code as a PNG: black modules, 8 px each, a 4-module quiet zone.
fn qr_png(code: &qrcode::QrCode) -> Option<Vec<u8>> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % width + QUIET, i / width + QUIET);
            for dy in 0..SCALE {
                let row = (y * SCALE + dy) * side;
                pixels[row + x * SCALE..row + (x + 1) * SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let side = u32::try_from(side).ok()?;
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().ok()?;
        writer.write_image_data(&pixels).ok()?;
    }
    Some(out)
}

/// A ticket's QR code (PNG, or SVG with `?format=svg`), for the order's
/// signed-in owner or whoever holds the order's access token.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/qr/",
    tag = "tickets",
    params(
        ("id" = Uuid, Path),
        ("token" = Option<String>, Query, description = "The order's access token"),
        ("sig" = Option<String>, Query, description = "The mailed link's signature (with `exp`)"),
        ("exp" = Option<i64>, Query, description = "Until when `sig` works (unix seconds)"),
        ("format" = Option<String>, Query, description = "`png` (default) or `svg`"),
    ),
    responses(
        (status = 200, description = "image/png or image/svg+xml"),
        (status = 404, description = "No such ticket, or not yours", body = super::Detail),
    )
)]
pub async fn qr(
    api: Api,
    Buyer(user): Buyer,
    Path(id): Path<String>,
    Query(q): Query<QrQuery>,
) -> Result<Response, ApiError> {
    let not_found = ApiError::NotFound("No encontrado.");
    let id = Uuid::parse_str(&id).map_err(|_| not_found.clone())?;
    let ticket = tickets::Entity::find_by_id(id)
        .one(&api.db)
        .await?
        .ok_or(not_found.clone())?;
    let order = orders::Entity::find_by_id(ticket.order_id)
        .one(&api.db)
        .await?
        .ok_or(not_found.clone())?;
    // The mailed link carries a signature for this ticket, good until a
    // while after the event; otherwise the order's owner or token holder.
    let live = q.exp.filter(|exp| *exp >= chrono::Utc::now().timestamp());
    let signed = q.sig.as_deref().zip(live).is_some_and(|(sig, exp)| {
        let expected = order_confirmation::qr_signature(&api.settings.secret_key, ticket.id, exp);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            sig.as_bytes(),
            expected.as_bytes(),
        ))
    });
    if !signed {
        may_read(&order, user.as_ref(), q.token.as_deref())?;
    }
    let code = qrcode::QrCode::new(ticket.code.as_bytes()).map_err(|_| ApiError::Internal)?;
    let private = (header::CACHE_CONTROL, "private, no-store");
    if q.format.as_deref() == Some("svg") {
        let svg = code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(256, 256)
            .build();
        return Ok(([(header::CONTENT_TYPE, "image/svg+xml"), private], svg).into_response());
    }
    let png = qr_png(&code).ok_or(ApiError::Internal)?;
    Ok(([(header::CONTENT_TYPE, "image/png"), private], png).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ValidateRequest {
    /// What the QR code holds.
    pub code: String,
    /// The event being checked in; a ticket for another event is not valid here.
    pub event_id: Option<Uuid>,
}

/// May `user` check tickets in at `event`? Staff and validators anywhere;
/// an organizer's members who manage events, at that organizer's events.
async fn may_validate(api: &Api, user: &users::Model, event_id: Uuid) -> Result<bool, ApiError> {
    if user.is_staff || user.is_superuser || user.is_validator {
        return Ok(true);
    }
    Ok(organizer_members::has_role(&api.db, user.id, event_id, Role::ManageEvents).await?)
}

/// Checks a ticket in: `valid` (now marked used), `already_used` (with when
/// and by whom), or `invalid` (unknown, cancelled, or for another event).
/// Two scans of the same ticket at once: exactly one is `valid`.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/validate/",
    tag = "tickets",
    request_body = ValidateRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`result`: valid, already_used or invalid"),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 403, description = "Not a validator or staff of this event's organizer", body = super::Detail),
    )
)]
pub async fn validate(
    api: Api,
    SignedIn(user): SignedIn,
    JsonBody(req): JsonBody<ValidateRequest>,
) -> Result<Response, ApiError> {
    let code = req.code.trim();
    let invalid =
        |reason: &str| Json(json!({"result": "invalid", "detail": reason})).into_response();
    let Some(ticket) = tickets::Entity::find()
        .filter(tickets::Column::Code.eq(code))
        .one(&api.db)
        .await?
    else {
        if !(user.is_staff || user.is_validator || user.is_superuser) && req.event_id.is_none() {
            return Err(ApiError::Forbidden(
                "No tienes permiso para validar entradas.",
            ));
        }
        return Ok(invalid("Entrada no encontrada."));
    };
    let event_id = req.event_id.unwrap_or(ticket.event_id);
    if !may_validate(&api, &user, event_id).await? {
        return Err(ApiError::Forbidden(
            "No tienes permiso para validar entradas de este evento.",
        ));
    }
    if ticket.event_id != event_id {
        return Ok(invalid("La entrada es de otro evento."));
    }
    let now = Utc::now().fixed_offset();
    let marked = tickets::Entity::update_many()
        .col_expr(tickets::Column::Status, Expr::value(TicketStatus::Used))
        .col_expr(tickets::Column::UsedAt, Expr::value(now))
        .col_expr(tickets::Column::UsedBy, Expr::value(user.id))
        .col_expr(tickets::Column::UpdatedAt, Expr::value(now))
        .filter(tickets::Column::Id.eq(ticket.id))
        .filter(tickets::Column::Status.eq(TicketStatus::Valid))
        .exec(&api.db)
        .await?;
    if marked.rows_affected == 1 {
        return Ok(Json(json!({
            "result": "valid",
            "ticket_id": ticket.id,
            "attendee_name": ticket.attendee_name,
            "used_at": now.to_rfc3339(),
        }))
        .into_response());
    }
    let current = tickets::Entity::find_by_id(ticket.id)
        .one(&api.db)
        .await?
        .unwrap_or(ticket);
    if TicketStatus::Used.is(&current.status) {
        let by = match current.used_by {
            Some(id) => users::Entity::find_by_id(id)
                .one(&api.db)
                .await?
                .map(|u| u.email),
            None => None,
        };
        return Ok(Json(json!({
            "result": "already_used",
            "ticket_id": current.id,
            "used_at": current.used_at.map(|t| t.to_rfc3339()),
            "used_by": by,
        }))
        .into_response());
    }
    Ok(invalid("La entrada fue anulada."))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_my_tickets, my_tickets)
        .doc(__path_validate, validate)
        .doc(__path_qr, qr)
}

pub fn routes() -> Routes {
    table().routes()
}
