//! Reserve and book in backtuki's dialect — the bodies Tuki's frontends send
//! (`{tickets: [{tierId, quantity, customPrice}], reservationId,
//! holdMinutes}`, `{customerInfo, ticketHolders, couponCode, reservationId}`)
//! and the answers they read — over this project's checkout: holds taken
//! and counted by the database, limits per order and per client, one order
//! per reservation.
//!
//! Where backtuki went wrong the contract stays and the behaviour is right:
//! a refused reserve holds nothing, `holdMinutes` is bounded by the server,
//! quantities keep their limits, a malformed id is a 400 (not a 500), a paid
//! order's answer carries its number and access token too.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::ApiError;
use crate::{
    models::{reservation_items, reservations, status::ReservationStatus},
    payments::checkout::{self, Client, Customer, Line},
};

/// Whether a reserve or book body is backtuki's.
#[must_use]
pub fn is_backtuki(body: &Value) -> bool {
    body.get("tickets").is_some()
        || body.get("customerInfo").is_some()
        || body.get("reservationId").is_some()
}

fn detail(message: &str) -> ApiError {
    ApiError::BadRequest(message.to_string())
}

fn field(key: &str, message: impl Into<String>) -> ApiError {
    let mut errors = BTreeMap::new();
    errors.insert(key.to_string(), vec![message.into()]);
    ApiError::Fields(errors)
}

/// Our field names in refusals, as backtuki names them.
#[must_use]
pub fn renamed(err: ApiError) -> ApiError {
    match err {
        ApiError::Fields(errors) => ApiError::Fields(
            errors
                .into_iter()
                .map(|(k, v)| {
                    let k = match k.as_str() {
                        "tiers" => "tickets".to_string(),
                        k if k.starts_with("customer.") => "customerInfo".to_string(),
                        "reservation_id" => "reservationId".to_string(),
                        _ => k,
                    };
                    (k, v)
                })
                .fold(
                    BTreeMap::new(),
                    |mut acc: BTreeMap<String, Vec<String>>, (k, v)| {
                        acc.entry(k).or_default().extend(v);
                        acc
                    },
                ),
        ),
        other => other,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn uuid_of(v: Option<&Value>) -> Option<Uuid> {
    v.and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
}

/// The wanted quantities of a reserve: `(tier, total wanted)`.
///
/// # Errors
/// 400 naming what is wrong.
pub fn wanted(body: &Value) -> Result<Vec<(Uuid, i32)>, ApiError> {
    let Some(items) = body
        .get("tickets")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return Err(detail("Tickets payload is required."));
    };
    let mut out: Vec<(Uuid, i32)> = Vec::new();
    for item in items {
        let Some(tier) = uuid_of(item.get("tierId")) else {
            return Err(field("tickets", "Cada entrada necesita un tierId válido."));
        };
        let quantity = match item.get("quantity") {
            None | Some(Value::Null) => 0,
            Some(v) => int(v)
                .filter(|q| (0..=i64::from(i32::MAX)).contains(q))
                .ok_or_else(|| {
                    field("tickets", "La cantidad debe ser un número entero positivo.")
                })?,
        };
        if item.get("customPrice").is_some_and(|p| !p.is_null()) {
            return Err(field(
                "tickets",
                "customPrice is not allowed for regular ticket (no pay-what-you-want tiers here)",
            ));
        }
        let quantity = i32::try_from(quantity).unwrap_or(i32::MAX);
        match out.iter_mut().find(|(t, _)| *t == tier) {
            Some(line) => line.1 = quantity,
            None => out.push((tier, quantity)),
        }
    }
    Ok(out)
}

/// `holdMinutes`, bounded by the server's own hold (`RESERVATION_MINUTES`).
///
/// # Errors
/// 400 when it is not a whole number.
pub fn hold_minutes(body: &Value, max: u32) -> Result<i64, ApiError> {
    let max = i64::from(max.max(1));
    match body.get("holdMinutes") {
        None | Some(Value::Null) => Ok(max),
        Some(v) => int(v)
            .map(|m| m.clamp(1, max))
            .ok_or_else(|| field("holdMinutes", "Debe ser un número entero de minutos.")),
    }
}

/// The client's live reservation of this event named by `reservationId`,
/// with its lines.
async fn previous(
    db: &DatabaseConnection,
    body: &Value,
    event: Uuid,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, Vec<(Uuid, i32)>)>, ApiError> {
    let Some(id) = uuid_of(body.get("reservationId")) else {
        return Ok(None);
    };
    let Some(r) = reservations::Entity::find_by_id(id)
        .filter(reservations::Column::EventId.eq(event))
        .filter(reservations::Column::Status.eq(ReservationStatus::Active))
        .filter(reservations::Column::ClientKey.eq(client.key.clone()))
        .filter(reservations::Column::ExpiresAt.gt(now.fixed_offset()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let lines = reservation_items::Entity::find()
        .filter(reservation_items::Column::ReservationId.eq(r.id))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.tier_id, i.quantity))
        .collect();
    Ok(Some((r.id, lines)))
}

/// backtuki's reserve answer.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub reservation_id: Uuid,
    /// UTC, ISO 8601 with `+00:00`.
    pub expires_at: String,
    pub items: Vec<ReservedItem>,
    pub hold_minutes: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservedItem {
    pub tier_id: Uuid,
    pub quantity: i32,
}

fn iso_plus(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// Reserve in backtuki's dialect: the wanted totals per tier (a
/// `reservationId` of the same client is replaced: its other tiers are
/// kept, a quantity of 0 gives a tier back).
///
/// # Errors
/// 400/404/409/429 as the checkout refuses; nothing is held then.
pub async fn reserve(
    db: &DatabaseConnection,
    event: Uuid,
    client: &Client,
    limits: &crate::platform::settings::Limits,
    body: &Value,
    max_minutes: u32,
    now: DateTime<Utc>,
) -> Result<Reservation, ApiError> {
    let mut lines = wanted(body)?;
    let minutes = hold_minutes(body, max_minutes)?;
    let asked: Vec<ReservedItem> = lines
        .iter()
        .map(|(t, q)| ReservedItem {
            tier_id: *t,
            quantity: *q,
        })
        .collect();
    if let Some((old, kept)) = previous(db, body, event, client, now).await? {
        for (tier, quantity) in kept {
            if !lines.iter().any(|(t, _)| *t == tier) {
                lines.push((tier, quantity));
            }
        }
        reservations::end(db, old, ReservationStatus::Released, now).await?;
    }
    let lines: Vec<Line> = lines
        .into_iter()
        .filter(|(_, q)| *q > 0)
        .map(|(tier_id, quantity)| Line { tier_id, quantity })
        .collect();
    if lines.is_empty() {
        return Ok(Reservation {
            reservation_id: uuid_of(body.get("reservationId")).unwrap_or_else(Uuid::nil),
            expires_at: iso_plus(now),
            items: asked,
            hold_minutes: minutes,
        });
    }
    let held = checkout::reserve(
        db,
        event,
        client,
        limits,
        &lines,
        Duration::minutes(minutes),
        now,
    )
    .await
    .map_err(|e| renamed(e.into()))?;
    Ok(Reservation {
        reservation_id: held.reservation.id,
        expires_at: iso_plus(held.reservation.expires_at.with_timezone(&Utc)),
        items: asked,
        hold_minutes: minutes,
    })
}

/// A booking body in backtuki's dialect, checked.
pub struct Booking {
    pub customer: Customer,
    pub reservation: Option<Uuid>,
    pub holders: Value,
    /// `couponCode`, when not blank.
    pub coupon: Option<String>,
}

/// Reads `{customerInfo, ticketHolders, couponCode, reservationId}`.
///
/// # Errors
/// 400 in DRF's shape naming the field.
pub fn booking(body: &Value) -> Result<Booking, ApiError> {
    let info = body.get("customerInfo");
    let Some(info) = info.and_then(Value::as_object) else {
        return Err(field(
            "customerInfo",
            if info.is_none() {
                "Este campo es requerido."
            } else {
                "Debe ser un objeto."
            },
        ));
    };
    let text = |k: &str| {
        info.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let name = text("name");
    let name = if name.is_empty() {
        format!("{} {}", text("firstName"), text("lastName"))
            .trim()
            .to_string()
    } else {
        name
    };
    if name.is_empty() {
        return Err(field("customerInfo", "Customer name is required"));
    }
    let email = text("email");
    if email.is_empty() {
        return Err(field("customerInfo", "Customer email is required"));
    }
    let coupon = match body.get("couponCode") {
        None | Some(Value::Null) => None,
        Some(Value::String(code)) if code.trim().is_empty() => None,
        Some(Value::String(code)) if code.trim().chars().count() <= 50 => Some(code.clone()),
        Some(_) => return Err(field("couponCode", "Cupón no encontrado")),
    };
    let reservation = match body.get("reservationId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => Some(
            uuid_of(Some(v)).ok_or_else(|| field("reservationId", "Debe ser un UUID válido."))?,
        ),
    };
    Ok(Booking {
        customer: Customer {
            name,
            email,
            phone: text("phone"),
        },
        reservation,
        holders: body
            .get("ticketHolders")
            .cloned()
            .unwrap_or_else(|| json!([])),
        coupon,
    })
}

/// backtuki's book answer (with the order's number and access token for a
/// paid order too, which backtuki left out).
#[must_use]
pub fn booked(order: &crate::models::orders::Model, access_token: &str) -> Value {
    #[allow(clippy::cast_precision_loss)]
    let total = order.total as f64;
    // The fee is on the tickets' listed price; the code takes its
    // discount off the total.
    #[allow(clippy::cast_precision_loss)]
    let original = (order.total + order.discount) as f64;
    #[allow(clippy::cast_precision_loss)]
    let discount = order.discount as f64;
    let paid = order.total == 0;
    let mut body = json!({
        "bookingId": order.id,
        "orderNumber": order.order_number,
        "accessToken": access_token,
        "status": order.status,
        "totalAmount": total,
        "originalAmount": original,
        "discount": discount,
        "coupon_applied": if order.coupon_code.is_empty() { Value::Null } else { json!(order.coupon_code) },
        "payment_required": !paid,
        "message": if paid { "Reserva confirmada exitosamente" } else { "Orden creada exitosamente. Proceder al pago." },
    });
    if !paid {
        body["next_step"] = json!("payment");
    }
    body
}

/// The tiers of a reservation's lines (for a booking without one: the
/// lines are held first).
#[must_use]
pub fn lines_of(body: &Value) -> Option<Vec<Line>> {
    let lines: Vec<Line> = wanted(body)
        .ok()?
        .into_iter()
        .filter(|(_, q)| *q > 0)
        .map(|(tier_id, quantity)| Line { tier_id, quantity })
        .collect();
    (!lines.is_empty()).then_some(lines)
}
