//! Tickets: the buyer's list, each ticket's QR code, and check-in at the door.

use crate::models::status::{OrderStatus, TicketStatus};
use axum::{
    extract::Path,
    http::{header, StatusCode},
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
use crate::views::{
    orders::MyTicket,
    tickets::{
        iso_utc, ticket_status, OrderInfo, OrderTickets, TicketDetail, TicketEvent, TicketInfo,
        TicketLine, TicketQr, TicketWithOrder,
    },
};
use crate::{
    mailers::order_confirmation,
    models::{
        _entities::{events, orders, ticket_tiers, tickets},
        events::EventCard,
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
    params(
        ("event_id" = Option<String>, Query, description = "One of the organizer's events: its attendees instead"),
        ("status" = Option<String>, Query, description = "With `event_id`: `active`, `used` or `cancelled`"),
        ("checked_in" = Option<String>, Query, description = "With `event_id`: `true` or `false`"),
        ("search" = Option<String>, Query, description = "With `event_id`: words in the ticket number, name or email"),
        ("ordering" = Option<String>, Query, description = "With `event_id`: `first_name`, `last_name`, `check_in_time` (`-` descending)"),
        ("no_pagination" = Option<String>, Query, description = "With `event_id`: `true` for every attendee (2000 at most) with statistics"),
        ("page" = Option<String>, Query, description = "With `event_id`: 1-based page number"),
    ),
    responses(
        (status = 200, description = "The buyer's tickets; with `event_id`, a page of attendees (backtuki's `TicketSerializer`)", body = Vec<MyTicket>),
        (status = 400, description = "With `event_id`: a bad status, or a parameter with a NUL character", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 403, description = "With `event_id`: not a member who manages events", body = super::Detail),
        (status = 404, description = "With `event_id`: not one of the organizer's events, or a page beyond the last", body = super::Detail),
    )
)]
pub async fn my_tickets(
    api: Api,
    url: super::RequestUrl,
    SignedIn(user): SignedIn,
    super::organizers::MaybeMember(member): super::organizers::MaybeMember,
) -> Result<Response, ApiError> {
    // With `event_id`: the attendees of one of the organizer's events.
    if let Some(event_id) = url.get("event_id").filter(|e| !e.is_empty()) {
        let member = member.ok_or(ApiError::Forbidden(super::organizers::NOT_ALLOWED))?;
        return super::organizer_orders::attendees(&api, &url, &member, event_id).await;
    }
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

/// A ticket's QR code. By its ticket number (what the QR holds), as
/// backtuki's frontend asks: JSON with the code as a PNG data URL, its
/// security hash and what the ticket is for — the number is the ticket's
/// secret, so it is all it takes. By the ticket's id (the links of this
/// server's mails): the image itself (PNG, or SVG with `?format=svg`), for the
/// order's signed-in owner, whoever holds its access token, or a mailed
/// link's signature.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/qr/",
    tag = "tickets",
    params(
        ("id" = String, Path, description = "The ticket number, or the ticket's id"),
        ("token" = Option<String>, Query, description = "By id: the order's access token"),
        ("sig" = Option<String>, Query, description = "By id: the mailed link's signature (with `exp`)"),
        ("exp" = Option<i64>, Query, description = "By id: until when `sig` works (unix seconds)"),
        ("format" = Option<String>, Query, description = "By id: `png` (default) or `svg`"),
    ),
    responses(
        (status = 200, description = "By number: the QR as JSON; by id: the image",
            content((TicketQr = "application/json"), ("image/png"), ("image/svg+xml"))),
        (status = 400, description = "By number: the ticket's order is not paid", body = Object,
            example = json!({"success": false, "error": "TICKET_NOT_PAID", "message": "Ticket order is not paid"})),
        (status = 404, description = "No such ticket (or inactive), or not yours", body = Object,
            example = json!({"success": false, "error": "TICKET_NOT_FOUND", "message": "Ticket not found or inactive"})),
    )
)]
pub async fn qr(
    api: Api,
    Buyer(user): Buyer,
    Path(id): Path<String>,
    url: super::RequestUrl,
) -> Result<Response, ApiError> {
    let not_found = ApiError::NotFound("No encontrado.");
    let Ok(id) = Uuid::parse_str(&id) else {
        return qr_by_number(&api, &id).await;
    };
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
    let live = url
        .get("exp")
        .and_then(|e| e.trim().parse::<i64>().ok())
        .filter(|exp| *exp >= chrono::Utc::now().timestamp());
    let signed = url.get("sig").zip(live).is_some_and(|(sig, exp)| {
        let expected = order_confirmation::qr_signature(&api.settings.secret_key, ticket.id, exp);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            sig.as_bytes(),
            expected.as_bytes(),
        ))
    });
    if !signed {
        may_read(&order, user.as_ref(), url.get("token"))?;
    }
    let code = qrcode::QrCode::new(ticket.code.as_bytes()).map_err(|_| ApiError::Internal)?;
    let private = (header::CACHE_CONTROL, "private, no-store");
    if url.get("format") == Some("svg") {
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
    /// What the QR code holds: the ticket number, or a URL ending in
    /// `/tickets/<ticket number>`.
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
    Ok(organizer_members::has_role(&api.db, user.id, event_id, Role::Door).await?)
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
    // The QR holds the ticket number, or (backtuki's QR) the frontend's
    // page of the ticket, `…/tickets/<number>`.
    let code = req.code.trim();
    let code = code
        .rsplit_once("/tickets/")
        .map_or(code, |(_, number)| number.trim_end_matches('/'));
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

/// backtuki's refusals of the ticket endpoints:
/// `{"success": false, "error": CODE, "message": …}`.
fn refusal(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"success": false, "error": error, "message": message})),
    )
        .into_response()
}

/// What a ticket's QR code holds: the frontend's page of the ticket.
fn ticket_url(api: &Api, number: &str) -> String {
    format!(
        "{}/tickets/{number}",
        api.settings.frontend_url.trim_end_matches('/')
    )
}

/// The 16 hex characters that prove a ticket number came from this server
/// (an HMAC with `SECRET_KEY`; backtuki's plain hash could be forged).
fn security_hash(api: &Api, number: &str) -> String {
    let mut mac =
        crate::platform::tokens::hmac_sha256_hex(&api.settings.secret_key, &format!("qr:{number}"));
    mac.truncate(16);
    mac
}

/// A ticket by its number with its order and event card.
async fn ticket_by_number(
    api: &Api,
    number: &str,
) -> Result<Option<(tickets::Model, orders::Model)>, ApiError> {
    let number = number.trim();
    if number.is_empty() || number.len() > 64 {
        return Ok(None);
    }
    Ok(tickets::Entity::find()
        .filter(tickets::Column::Code.eq(number))
        .find_also_related(orders::Entity)
        .one(&api.db)
        .await?
        .and_then(|(t, o)| o.map(|o| (t, o))))
}

async fn qr_by_number(api: &Api, number: &str) -> Result<Response, ApiError> {
    let found = ticket_by_number(api, number).await?;
    let Some((ticket, order)) = found.filter(|(t, _)| TicketStatus::Valid.is(&t.status)) else {
        return Ok(refusal(
            StatusCode::NOT_FOUND,
            "TICKET_NOT_FOUND",
            "Ticket not found or inactive",
        ));
    };
    if !OrderStatus::is_paid(&order.status) {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "TICKET_NOT_PAID",
            "Ticket order is not paid",
        ));
    }
    let event = events::Entity::find_by_id(ticket.event_id)
        .one(&api.db)
        .await?;
    let tier = ticket_tiers::Entity::find_by_id(ticket.tier_id)
        .one(&api.db)
        .await?;
    let target = ticket_url(api, &ticket.code);
    let code = qrcode::QrCode::with_error_correction_level(target.as_bytes(), qrcode::EcLevel::H)
        .map_err(|_| ApiError::Internal)?;
    let png = qr_png(&code).ok_or(ApiError::Internal)?;
    use base64::Engine as _;
    let body = TicketQr {
        success: true,
        qr_code: format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        ),
        ticket_number: ticket.code.clone(),
        ticket_url: target,
        expires_at: iso_utc((Utc::now() + chrono::Duration::days(30)).fixed_offset()),
        security_hash: security_hash(api, &ticket.code),
        ticket_info: TicketInfo {
            event_title: event.as_ref().map(|e| e.title.clone()).unwrap_or_default(),
            event_date: event
                .as_ref()
                .map(|e| iso_utc(e.start_date))
                .unwrap_or_default(),
            attendee_name: ticket.attendee_name.clone(),
            ticket_type: tier.map_or_else(|| "General".into(), |t| t.name),
            order_number: order.order_number.clone(),
        },
    };
    let private = (header::CACHE_CONTROL, "private, no-store");
    Ok(([private], Json(body)).into_response())
}

/// A ticket checked by its number and security hash (backtuki's
/// `validate_ticket_qr`): whether it would be let in now. Nothing changes —
/// checking in is `tickets/validate/`.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/validate-qr/",
    tag = "tickets",
    request_body(content = super::bodies::QrCheck, description = "`{ticket_number, security_hash}`"),
    responses(
        (status = 200, description = "`valid`: true with the ticket, or false with why (`TICKET_INACTIVE`, `ORDER_NOT_PAID`, `EVENT_PASSED`)", body = Object,
            example = json!({"valid": false, "error": "TICKET_INACTIVE", "message": "Ticket status: used", "ticket_number": "…"})),
        (status = 400, description = "A missing field (`MISSING_DATA`) or a wrong hash (`INVALID_HASH`)", body = Object,
            example = json!({"valid": false, "error": "INVALID_HASH", "message": "Invalid security hash"})),
        (status = 404, description = "No such ticket", body = Object,
            example = json!({"valid": false, "error": "TICKET_NOT_FOUND", "message": "Ticket not found"})),
    )
)]
pub async fn validate_qr(
    api: Api,
    super::drf::Body(body): super::drf::Body,
) -> Result<Response, ApiError> {
    let answer = |status: StatusCode, body: serde_json::Value| (status, Json(body)).into_response();
    let text = |key: &str| {
        body.get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (Some(number), Some(hash)) = (text("ticket_number"), text("security_hash")) else {
        return Ok(answer(
            StatusCode::BAD_REQUEST,
            json!({"valid": false, "error": "MISSING_DATA", "message": "Ticket number and security hash required"}),
        ));
    };
    // The hash is checked before anything is looked up: without it, nobody
    // learns whether a ticket number exists.
    let expected = security_hash(&api, &number);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        hash.as_bytes(),
        expected.as_bytes(),
    )) {
        return Ok(answer(
            StatusCode::BAD_REQUEST,
            json!({"valid": false, "error": "INVALID_HASH", "message": "Invalid security hash"}),
        ));
    }
    let not_found = || {
        answer(
            StatusCode::NOT_FOUND,
            json!({"valid": false, "error": "TICKET_NOT_FOUND", "message": "Ticket not found"}),
        )
    };
    let Some((ticket, order)) = ticket_by_number(&api, &number).await? else {
        return Ok(not_found());
    };
    let status = ticket_status(&ticket.status);
    if status != "active" {
        return Ok(answer(
            StatusCode::OK,
            json!({"valid": false, "error": "TICKET_INACTIVE", "message": format!("Ticket status: {status}"), "ticket_number": ticket.code}),
        ));
    }
    if !OrderStatus::is_paid(&order.status) {
        return Ok(answer(
            StatusCode::OK,
            json!({"valid": false, "error": "ORDER_NOT_PAID", "message": "Order is not paid", "ticket_number": ticket.code}),
        ));
    }
    let Some(event) = events::Entity::find_by_id(ticket.event_id)
        .one(&api.db)
        .await?
    else {
        return Ok(not_found());
    };
    let event_date = iso_utc(event.start_date);
    if event.start_date < (Utc::now() - chrono::Duration::hours(2)).fixed_offset() {
        return Ok(answer(
            StatusCode::OK,
            json!({"valid": false, "error": "EVENT_PASSED", "message": "Event has already passed", "ticket_number": ticket.code, "event_date": event_date}),
        ));
    }
    let tier = ticket_tiers::Entity::find_by_id(ticket.tier_id)
        .one(&api.db)
        .await?;
    Ok(answer(
        StatusCode::OK,
        json!({
            "valid": true,
            "ticket_number": ticket.code,
            "event_title": event.title,
            "attendee_name": ticket.attendee_name,
            "ticket_type": tier.map_or_else(|| "General".into(), |t| t.name),
            "status": "valid",
            "validation_timestamp": iso_utc(Utc::now().fixed_offset()),
            "event_date": event_date,
            "order_number": order.order_number,
        }),
    ))
}

/// Whether a signed-in user may read an order's tickets: its owner, staff,
/// or a member of the event's organizer who reads orders.
async fn may_read_tickets(
    api: &Api,
    user: &users::Model,
    order: &orders::Model,
) -> Result<bool, ApiError> {
    if order.user_id == Some(user.id) || user.is_staff || user.is_superuser {
        return Ok(true);
    }
    Ok(organizer_members::has_role(&api.db, user.id, order.event_id, Role::ManageEvents).await?)
}

/// One ticket as the confirmation page's PDF needs it (backtuki's
/// `pdf-data`), for its buyer, staff, or the event's organizer.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/pdf-data/",
    tag = "tickets",
    params(("id" = String, Path, description = "The ticket's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket with its order and event", body = OrderTickets),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 404, description = "No such ticket, or not yours", body = Object,
            example = json!({"success": false, "error": "TICKET_NOT_FOUND", "message": "Ticket not found"})),
    )
)]
pub async fn pdf_data(
    api: Api,
    url: super::RequestUrl,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || {
        refusal(
            StatusCode::NOT_FOUND,
            "TICKET_NOT_FOUND",
            "Ticket not found",
        )
    };
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return Ok(not_found());
    };
    let Some((ticket, Some(order))) = tickets::Entity::find_by_id(id)
        .find_also_related(orders::Entity)
        .one(&api.db)
        .await?
    else {
        return Ok(not_found());
    };
    if !may_read_tickets(&api, &user, &order).await? {
        return Ok(not_found());
    }
    let card = EventCard::find(&api.db, ticket.event_id).await?;
    let tier = ticket_tiers::Entity::find_by_id(ticket.tier_id)
        .one(&api.db)
        .await?;
    let media = url.media_base(&api.settings);
    Ok(super::private_json(OrderTickets {
        success: true,
        order_number: order.order_number.clone(),
        order_created_at: iso_utc(order.created_at),
        status: order.status.clone(),
        event: card.as_ref().map(|c| TicketEvent::new(c, &media)),
        tickets: vec![TicketLine::new(
            &ticket,
            &order,
            tier.as_ref().map(|t| t.name.as_str()),
        )],
        ticket_count: 1,
    }))
}

/// A ticket looked up at the door by its id (backtuki's `by_uuid`): the
/// ticket, its order and the order's other tickets, for staff and the
/// members of the event's organizer.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/by_uuid/",
    tag = "tickets",
    params(("uuid" = Option<String>, Query, description = "The ticket's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket, its order and the order's tickets", body = TicketWithOrder),
        (status = 400, description = "No `uuid` (`{detail}`), or a parameter with a NUL character (its errors)", body = Object,
            example = json!({"detail": "UUID parameter is required."})),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 403, description = "Neither staff nor a member of an organizer", body = super::Detail,
            example = json!({"detail": "Unauthorized."})),
        (status = 404, description = "No such ticket at this organizer's events", body = super::Detail,
            example = json!({"detail": "Ticket not found."})),
    )
)]
pub async fn by_uuid(
    api: Api,
    SignedIn(user): SignedIn,
    url: super::RequestUrl,
) -> Result<Response, ApiError> {
    let Some(raw) = url.get("uuid").map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(ApiError::BadRequest("UUID parameter is required.".into()));
    };
    let staff = user.is_staff || user.is_superuser;
    if !staff && !organizer_members::is_member(&api.db, user.id, false).await? {
        return Err(ApiError::Forbidden("Unauthorized."));
    }
    let not_found = ApiError::NotFound("Ticket not found.");
    let id = Uuid::parse_str(raw).map_err(|_| not_found.clone())?;
    let Some((ticket, Some(order))) = tickets::Entity::find_by_id(id)
        .find_also_related(orders::Entity)
        .one(&api.db)
        .await?
    else {
        return Err(not_found);
    };
    if !staff
        && !organizer_members::has_role(&api.db, user.id, order.event_id, Role::ManageEvents)
            .await?
    {
        return Err(not_found);
    }
    let mut siblings = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .order_by_asc(tickets::Column::CreatedAt)
        .order_by_asc(tickets::Column::Id)
        .all(&api.db)
        .await?
        .iter()
        .map(|t| TicketDetail::new(t, &order))
        .collect::<Vec<_>>();
    siblings.sort_by(|a, b| (&a.first_name, &a.last_name).cmp(&(&b.first_name, &b.last_name)));
    Ok(super::private_json(TicketWithOrder {
        ticket: TicketDetail::new(&ticket, &order),
        order_info: OrderInfo::new(&order),
        order_tickets: siblings,
    }))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_my_tickets, my_tickets)
        .doc(__path_validate, validate)
        .doc(__path_qr, qr)
        .doc(__path_validate_qr, validate_qr)
        .doc(__path_pdf_data, pdf_data)
        .doc(__path_by_uuid, by_uuid)
}

pub fn routes() -> Routes {
    table().routes()
}
