//! The door on backtuki's paths: check-in and check-out by ticket id
//! (`tickets/check_in_by_uuid/`, `tickets/check_out_by_uuid/`,
//! `tickets/{id}/check_in/`), a read-only check by number
//! (`tickets/{id}/validate/`), the event's door figures and log
//! (`events/validation_stats/`, `events/validation_logs/`), and the
//! validator sessions (`validation/validator/…`, with UUIDs where backtuki's
//! routes wanted integers and so never matched).
//!
//! Who: the organizer's admins, event managers and door-only members
//! (`can_validate_tickets`); every ticket and event is looked up within the
//! [`Member`]'s organizer, so another organizer's ticket is "not found".
//! A ticket goes in once (see `models::door`): a second scan answers that
//! it is already in, with when and by whom.

use axum::{extract::Path, http::StatusCode, response::Response, Json};
use chrono::Utc;
use loco_rs::prelude::*;
use sea_orm::{sea_query::Query, PaginatorTrait, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    drf::Body,
    organizers::{Member, NOT_ALLOWED},
    Api, ApiError, Detail, RequestUrl, Table,
};
use crate::{
    models::{
        _entities::{
            events, orders, ticket_notes, ticket_tiers, tickets, users, validation_logs,
            validator_sessions,
        },
        door::{self, Entry, Outcome, Scanner},
        status::TicketStatus,
    },
    views::{
        events::iso_santiago,
        tickets::{OrderInfo, TicketDetail, TicketWithOrder},
    },
};

/// 403 unless this member works the door.
fn require_door(member: &Member) -> Result<(), ApiError> {
    let r = &member.role;
    if r.is_admin || r.can_manage_events || r.can_validate_tickets {
        Ok(())
    } else {
        Err(ApiError::Forbidden(NOT_ALLOWED))
    }
}

fn own_events(member: &Member) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(events::Column::Id)
        .from(events::Entity)
        .and_where(events::Column::OrganizerId.eq(member.organizer.id))
        .and_where(events::Column::DeletedAt.is_null())
        .to_owned()
}

/// 404 in backtuki's door shape.
fn no_ticket() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"success": false, "detail": "Ticket not found."})),
    )
        .into_response()
}

/// A ticket of the organizer's events with its order, by id or number.
async fn own_ticket(
    api: &Api,
    member: &Member,
    id: Option<Uuid>,
    number: Option<&str>,
) -> Result<Option<(tickets::Model, orders::Model)>, ApiError> {
    let mut q = tickets::Entity::find()
        .filter(tickets::Column::EventId.in_subquery(own_events(member)))
        .find_also_related(orders::Entity);
    if let Some(id) = id {
        q = q.filter(tickets::Column::Id.eq(id));
    } else if let Some(number) = number {
        q = q.filter(tickets::Column::Code.eq(number));
    } else {
        return Ok(None);
    }
    Ok(q.one(&api.db).await?.and_then(|(t, o)| o.map(|o| (t, o))))
}

/// One of the organizer's events, by `event_id` in the query.
async fn own_event(
    api: &Api,
    member: &Member,
    raw: Option<&str>,
) -> Result<events::Model, Response> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Err((
            StatusCode::BAD_REQUEST,
            Json(json!({"detail": "event_id parameter is required."})),
        )
            .into_response());
    };
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": "Event not found."})),
        )
            .into_response()
    };
    let Ok(id) = Uuid::parse_str(raw) else {
        return Err(not_found());
    };
    match events::Entity::find_by_id(id)
        .filter(events::Column::OrganizerId.eq(member.organizer.id))
        .filter(events::Column::DeletedAt.is_null())
        .one(&api.db)
        .await
    {
        Ok(Some(e)) => Ok(e),
        Ok(None) => Err(not_found()),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// The ticket as backtuki's door shows it: alone, or with its order and
/// the order's other tickets.
async fn shown(
    api: &Api,
    ticket: &tickets::Model,
    order: &orders::Model,
    full: bool,
) -> Result<Value, ApiError> {
    if !full {
        return Ok(serde_json::to_value(TicketDetail::new(ticket, order)).unwrap_or_default());
    }
    let mut siblings: Vec<TicketDetail> = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .order_by_asc(tickets::Column::CreatedAt)
        .order_by_asc(tickets::Column::Id)
        .all(&api.db)
        .await?
        .iter()
        .map(|t| TicketDetail::new(t, order))
        .collect();
    siblings.sort_by(|a, b| (&a.first_name, &a.last_name).cmp(&(&b.first_name, &b.last_name)));
    Ok(serde_json::to_value(TicketWithOrder {
        ticket: TicketDetail::new(ticket, order),
        order_info: OrderInfo::new(order),
        order_tickets: siblings,
    })
    .unwrap_or_default())
}

/// Who let an already-used ticket in, and when.
async fn used_by(api: &Api, ticket: &tickets::Model) -> Result<Value, ApiError> {
    let by = match ticket.used_by {
        Some(id) => users::Entity::find_by_id(id)
            .one(&api.db)
            .await?
            .map(|u| u.email),
        None => None,
    };
    Ok(json!({
        "checked_in_at": ticket.used_at.map(iso_santiago),
        "checked_in_by": by,
    }))
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.trim().to_lowercase().as_str(), "true" | "1" | "yes"),
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        Some(_) => true,
    }
}

fn uuid_in(body: &Value, key: &str) -> Option<Uuid> {
    body.get(key)
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
}

/// The scanner's session: the one named by `session_id` (theirs, open, at
/// this ticket's event), else their open one at the event, else a new one.
async fn session_for(
    api: &Api,
    member: &Member,
    body: &Value,
    event: Uuid,
) -> Result<Result<validator_sessions::Model, Response>, ApiError> {
    if let Some(id) = body.get("session_id").filter(|v| !v.is_null()) {
        let found = match id.as_str().and_then(|s| Uuid::parse_str(s.trim()).ok()) {
            Some(id) => {
                validator_sessions::Entity::find_by_id(id)
                    .filter(validator_sessions::Column::UserId.eq(member.user.id))
                    .filter(validator_sessions::Column::IsActive.eq(true))
                    .filter(validator_sessions::Column::EventId.eq(event))
                    .one(&api.db)
                    .await?
            }
            None => None,
        };
        return Ok(found.ok_or_else(|| {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({
                    "valid": false,
                    "success": false,
                    "error": "INVALID_SESSION",
                    "message": "Sesión de validador inválida o expirada",
                })),
            )
                .into_response()
        }));
    }
    Ok(Ok(door::session_of(
        &api.db,
        &member.user,
        member.organizer.id,
        event,
        Utc::now(),
    )
    .await?))
}

/// Checks a scanned ticket in (or, with `action_type: view_details`, only
/// shows it). Body `{ticket_uuid, action_type?, include_full_details?,
/// event_id?, session_id?}`: with `event_id`, a ticket of another event is
/// refused (the scanner runs one event's door).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/check_in_by_uuid/",
    tag = "door",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{ticket_uuid, action_type?: check_in|view_details, include_full_details?, event_id?, session_id?}`"),
    responses(
        (status = 200, description = "`{success, detail, ticket}`: checked in (or shown)", body = Object),
        (status = 400, description = "No `ticket_uuid`; already in (`{success: false, detail, ticket, checked_in_at, checked_in_by}`); cancelled; another event's", body = Object),
        (status = 401, description = "Not signed in, or a `session_id` not open and yours", body = Object),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "No such ticket among the organizer's", body = Object),
    )
)]
pub async fn check_in_by_uuid(
    api: Api,
    member: Member,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    scan_in(&api, &member, &body, "ticket_uuid").await
}

/// The organizer's ticket named by `key` in the body, with its order; or
/// the answer refusing it (400 without the key, 404 for no such ticket).
async fn scanned(
    api: &Api,
    member: &Member,
    body: &Value,
    key: &str,
) -> Result<Result<(tickets::Model, orders::Model), Response>, ApiError> {
    let Some(raw) = body.get(key).filter(|v| !v.is_null() && *v != "") else {
        return Ok(Err((
            StatusCode::BAD_REQUEST,
            Json(json!({"detail": format!("{key} is required.")})),
        )
            .into_response()));
    };
    let id = raw.as_str().and_then(|s| Uuid::parse_str(s.trim()).ok());
    Ok(own_ticket(api, member, id, None)
        .await?
        .ok_or_else(no_ticket))
}

async fn scan_in(
    api: &Api,
    member: &Member,
    body: &Value,
    key: &str,
) -> Result<Response, ApiError> {
    let (ticket, order) = match scanned(api, member, body, key).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let full = truthy(body.get("include_full_details"));
    if body.get("action_type").and_then(Value::as_str) == Some("view_details") {
        return Ok(super::private_json(json!({
            "success": true,
            "detail": "Ticket details retrieved successfully.",
            "ticket": shown(api, &ticket, &order, true).await?,
        })));
    }
    let event = match body.get("event_id").filter(|v| !v.is_null() && **v != "") {
        None => None,
        Some(v) => match v.as_str().and_then(|s| Uuid::parse_str(s.trim()).ok()) {
            Some(e) => Some(e),
            None => {
                return Ok((
                    StatusCode::BAD_REQUEST,
                    Json(json!({"success": false, "detail": "event_id debe ser un UUID."})),
                )
                    .into_response())
            }
        },
    };
    if let Some(event) = event {
        if event != ticket.event_id {
            return Ok((
                StatusCode::BAD_REQUEST,
                Json(json!({"success": false, "detail": "La entrada es de otro evento."})),
            )
                .into_response());
        }
    }
    let session = match session_for(api, member, body, ticket.event_id).await? {
        Ok(s) => s,
        Err(refused) => return Ok(refused),
    };
    let scanner = Scanner {
        user: &member.user,
        session: Some(&session),
    };
    let qr = body.get("qr_data").and_then(Value::as_str).unwrap_or("");
    match door::check_in(&api.db, &ticket, scanner, qr, Utc::now()).await? {
        Outcome::Done(t) => Ok(super::private_json(json!({
            "success": true,
            "detail": "Ticket checked in successfully.",
            "ticket": shown(api, &t, &order, full).await?,
        }))),
        Outcome::AlreadyIn(t) => {
            let mut out = json!({
                "success": false,
                "detail": "Ticket already checked in.",
                "ticket": shown(api, &t, &order, full).await?,
            });
            if let (Some(o), Value::Object(extra)) = (out.as_object_mut(), used_by(api, &t).await?) {
                o.extend(extra);
            }
            Ok((StatusCode::BAD_REQUEST, Json(out)).into_response())
        }
        Outcome::Cancelled(_) | Outcome::NotIn(_) => Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "detail": "Ticket is cancelled and cannot be checked in."})),
        )
            .into_response()),
    }
}

/// Lets a ticket that is in out again (it may go in again later).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/check_out_by_uuid/",
    tag = "door",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{ticket_uuid, session_id?}`"),
    responses(
        (status = 200, description = "`{success, detail, ticket}` with its order", body = Object),
        (status = 400, description = "No `ticket_uuid`, or the ticket is not in", body = Object),
        (status = 401, description = "Not signed in, or a `session_id` not open and yours", body = Object),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "No such ticket among the organizer's", body = Object),
    )
)]
pub async fn check_out_by_uuid(
    api: Api,
    member: Member,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let (ticket, order) = match scanned(&api, &member, &body, "ticket_uuid").await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let session = match session_for(&api, &member, &body, ticket.event_id).await? {
        Ok(s) => s,
        Err(refused) => return Ok(refused),
    };
    let scanner = Scanner {
        user: &member.user,
        session: Some(&session),
    };
    match door::check_out(&api.db, &ticket, scanner, Utc::now()).await? {
        Outcome::Done(t) => Ok(super::private_json(json!({
            "success": true,
            "detail": "Ticket checked out successfully.",
            "ticket": shown(&api, &t, &order, true).await?,
        }))),
        _ => Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "detail": "Ticket must be checked in to perform check-out."})),
        )
            .into_response()),
    }
}

/// Checks one of the event's tickets in by its id (`?event_id=` required,
/// as backtuki's attendee routes).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/check_in/",
    tag = "door",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The ticket's id"),
        ("event_id" = String, Query, description = "Its event (one of the organizer's)"),
    ),
    responses(
        (status = 200, description = "`{success, detail, ticket}`", body = Object),
        (status = 400, description = "Already in (with when and by whom), or cancelled", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "Not a ticket of that event of the organizer", body = Detail),
    )
)]
pub async fn check_in(
    api: Api,
    member: Member,
    url: RequestUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let not_found = ApiError::NotFound("No encontrado.");
    let event = url
        .get("event_id")
        .and_then(|e| Uuid::parse_str(e.trim()).ok())
        .ok_or(not_found.clone())?;
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found.clone())?;
    match own_ticket(&api, &member, Some(id), None).await? {
        Some((t, _)) if t.event_id == event => {}
        _ => return Err(not_found),
    }
    let body = json!({"ticket_uuid": id.to_string(), "event_id": event.to_string()});
    scan_in(&api, &member, &body, "ticket_uuid").await
}

/// Whether a ticket number may go in now (nothing changes).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/validate/",
    tag = "door",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Ignored (backtuki's detail route)")),
    request_body(content = Object, description = "`{ticket_number}`"),
    responses(
        (status = 200, description = "`{is_valid: true, ticket}` or `{is_valid: false, detail}`", body = Object),
        (status = 400, description = "No `ticket_number` (`{detail}`), or a body that is not JSON (its errors)", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
    )
)]
pub async fn validate_number(
    api: Api,
    member: Member,
    Path(_id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let Some(number) = body
        .get("ticket_number")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Err(ApiError::BadRequest("Ticket number is required.".into()));
    };
    let answer = match own_ticket(&api, &member, None, Some(number)).await? {
        None => json!({"is_valid": false, "detail": "Invalid ticket number"}),
        Some((t, o)) if TicketStatus::Valid.is(&t.status) => {
            json!({"is_valid": true, "ticket": TicketDetail::new(&t, &o)})
        }
        Some((t, _)) if TicketStatus::Used.is(&t.status) => json!({
            "is_valid": false,
            "detail": format!(
                "Ticket already checked in at {}",
                t.used_at.map(iso_santiago).unwrap_or_default()
            ),
        }),
        Some(_) => {
            json!({"is_valid": false, "detail": "Ticket is not active. Current status: Cancelled"})
        }
    };
    Ok(super::private_json(answer))
}

#[derive(Debug, Default, sea_orm::FromQueryResult)]
struct Counts {
    tier_name: String,
    total: i64,
    checked_in: i64,
    cancelled: i64,
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        #[allow(clippy::cast_precision_loss)]
        let r = part as f64 / whole as f64 * 100.0;
        (r * 100.0).round() / 100.0
    }
}

/// The door in figures: tickets issued, in, pending and cancelled, per
/// tier and overall (one grouped statement).
#[utoipa::path(
    get,
    path = "/api/v1/events/validation_stats/",
    tag = "door",
    security(("bearer" = [])),
    params(("event_id" = String, Query, description = "One of the organizer's events")),
    responses(
        (status = 200, description = "`{event, overall_stats, ticket_tier_stats}`", body = Object),
        (status = 400, description = "No `event_id` (`{detail}`), or a parameter with a NUL character (its errors)", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn validation_stats(
    api: Api,
    member: Member,
    url: RequestUrl,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let event = match own_event(&api, &member, url.get("event_id")).await {
        Ok(e) => e,
        Err(r) => return Ok(r),
    };
    Ok(super::private_json(stats_of(&api, &event).await?))
}

async fn stats_of(api: &Api, event: &events::Model) -> Result<Value, ApiError> {
    use sea_orm::FromQueryResult;
    let backend = api.db.get_database_backend();
    let sql = "SELECT t.name AS tier_name, COUNT(k.id) AS total, \
        COALESCE(SUM(CASE WHEN k.status = 'used' THEN 1 ELSE 0 END), 0) AS checked_in, \
        COALESCE(SUM(CASE WHEN k.status = 'cancelled' THEN 1 ELSE 0 END), 0) AS cancelled \
        FROM tickets k JOIN ticket_tiers t ON t.id = k.tier_id \
        WHERE k.event_id = $1 GROUP BY t.name ORDER BY t.name";
    let rows = Counts::find_by_statement(crate::models::sql::statement(
        backend,
        sql,
        [event.id.into()],
    ))
    .all(&api.db)
    .await?;
    let sum = |f: fn(&Counts) -> i64| rows.iter().map(f).sum::<i64>();
    let (total, checked_in, cancelled) = (
        sum(|c| c.total),
        sum(|c| c.checked_in),
        sum(|c| c.cancelled),
    );
    let live = total - cancelled;
    Ok(json!({
        "event": {
            "id": event.id,
            "title": event.title,
            "start_date": (!event.dates_pending).then(|| crate::views::tickets::iso_utc(event.start_date)),
            "end_date": (!event.dates_pending).then(|| crate::views::tickets::iso_utc(event.end_date)),
        },
        "overall_stats": {
            "total_tickets": total,
            "checked_in": checked_in,
            "pending": live - checked_in,
            "cancelled": cancelled,
            "refunded": 0,
            "check_in_rate": rate(checked_in, live),
        },
        "ticket_tier_stats": rows.iter().map(|c| json!({
            "tier_name": c.tier_name,
            "total": c.total,
            "checked_in": c.checked_in,
            "pending": c.total - c.cancelled - c.checked_in,
            "cancelled": c.cancelled,
            "refunded": 0,
            "check_in_rate": rate(c.checked_in, c.total - c.cancelled),
        })).collect::<Vec<_>>(),
    }))
}

/// Most log lines one answer holds (newest first; `total_logs` counts all).
const MAX_LOGS: u64 = 1_000;

/// The event's door log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/events/validation_logs/",
    tag = "door",
    security(("bearer" = [])),
    params(("event_id" = String, Query, description = "One of the organizer's events")),
    responses(
        (status = 200, description = "`{event, logs (at most 1,000, newest first), total_logs}`", body = Object),
        (status = 400, description = "No `event_id` (`{detail}`), or a parameter with a NUL character (its errors)", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn validation_logs(
    api: Api,
    member: Member,
    url: RequestUrl,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let event = match own_event(&api, &member, url.get("event_id")).await {
        Ok(e) => e,
        Err(r) => return Ok(r),
    };
    let q = validation_logs::Entity::find().filter(validation_logs::Column::EventId.eq(event.id));
    let total = q.clone().count(&api.db).await?;
    let rows = q
        .order_by_desc(validation_logs::Column::CreatedAt)
        .order_by_desc(validation_logs::Column::Id)
        .limit(MAX_LOGS)
        .all(&api.db)
        .await?;
    let logs = logs_shown(&api, &rows).await?;
    Ok(super::private_json(json!({
        "event": {"id": event.id, "title": event.title},
        "logs": logs,
        "total_logs": total,
    })))
}

async fn logs_shown(api: &Api, rows: &[validation_logs::Model]) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().filter_map(|l| l.ticket_id).collect();
    let tickets: std::collections::HashMap<Uuid, tickets::Model> = if ids.is_empty() {
        std::collections::HashMap::new()
    } else {
        tickets::Entity::find()
            .filter(tickets::Column::Id.is_in(ids))
            .all(&api.db)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect()
    };
    Ok(rows
        .iter()
        .map(|l| {
            let t = l.ticket_id.and_then(|id| tickets.get(&id));
            json!({
                "id": l.id,
                "ticket_id": l.ticket_id,
                "ticket_number": t.map_or("N/A".to_string(), |t| t.code.clone()),
                "attendee_name": t.map_or("N/A".to_string(), |t| t.attendee_name.clone()),
                "validator_name": l.validator_name,
                "action": l.action,
                "status": l.status,
                "message": l.message,
                "timestamp": crate::views::tickets::iso_utc(l.created_at),
                "from_status": l.from_status,
                "to_status": l.to_status,
                "session_id": l.session_id,
            })
        })
        .collect())
}

/// A validator session as backtuki's `ValidatorSessionSerializer`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    pub id: Uuid,
    pub validator_name: String,
    pub event: Uuid,
    pub event_title: String,
    pub organizer: Uuid,
    pub organizer_name: String,
    pub start_time: String,
    pub end_time: Option<String>,
    pub is_active: bool,
    pub total_scans: i32,
    pub successful_validations: i32,
    pub failed_validations: i32,
    pub tickets_checked_in: i32,
    pub duration_minutes: Option<f64>,
    pub success_rate: f64,
    pub throughput_per_hour: f64,
    #[schema(value_type = Object)]
    pub device_info: Value,
    #[schema(value_type = Object)]
    pub location: Value,
}

impl SessionResponse {
    fn new(s: &validator_sessions::Model, event_title: &str, organizer_name: &str) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let minutes = s
            .end_time
            .map(|end| ((end - s.start_time).num_seconds() as f64 / 6.0).round() / 10.0);
        let hours = minutes.map_or(0.0, |m| m / 60.0);
        Self {
            id: s.id,
            validator_name: s.validator_name.clone(),
            event: s.event_id,
            event_title: event_title.into(),
            organizer: s.organizer_id,
            organizer_name: organizer_name.into(),
            start_time: iso_santiago(s.start_time),
            end_time: s.end_time.map(iso_santiago),
            is_active: s.is_active,
            total_scans: s.total_scans,
            successful_validations: s.successful_validations,
            failed_validations: s.failed_validations,
            tickets_checked_in: s.tickets_checked_in,
            duration_minutes: minutes,
            success_rate: rate(
                i64::from(s.successful_validations),
                i64::from(s.total_scans),
            ),
            throughput_per_hour: if hours > 0.0 {
                (f64::from(s.total_scans) / hours * 10.0).round() / 10.0
            } else {
                0.0
            },
            device_info: serde_json::from_str(&s.device_info).unwrap_or_else(|_| json!({})),
            location: serde_json::from_str(&s.location).unwrap_or_else(|_| json!({})),
        }
    }
}

fn refusal(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"success": false, "message": message.into()})),
    )
        .into_response()
}

/// Opens a validator session at one of the organizer's events (closing
/// the caller's open ones there).
#[utoipa::path(
    post,
    path = "/api/v1/validation/validator/session/start/",
    tag = "door",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{event_id, validator_name?, device_info?, location?}`"),
    responses(
        (status = 200, description = "`{success, session_id, validator_name, event: {id, title, start_date, total_tickets, checked_in}, message}`", body = Object),
        (status = 400, description = "No such event of the organizer: `{success: false, message}`", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
    )
)]
pub async fn session_start(
    api: Api,
    member: Member,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let event = match uuid_in(&body, "event_id") {
        Some(id) => {
            events::Entity::find_by_id(id)
                .filter(events::Column::OrganizerId.eq(member.organizer.id))
                .filter(events::Column::DeletedAt.is_null())
                .one(&api.db)
                .await?
        }
        None => None,
    };
    let Some(event) = event else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "Error iniciando sesión: evento no encontrado",
        ));
    };
    let name = body
        .get("validator_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("Validador");
    let object = |k: &str| {
        body.get(k)
            .filter(|v| v.is_object())
            .map_or_else(|| "{}".to_string(), ToString::to_string)
    };
    let (device, location) = (object("device_info"), object("location"));
    if device.len() > 4_000 || location.len() > 4_000 {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "device_info o location demasiado grandes",
        ));
    }
    let session = door::start(
        &api.db,
        &member.user,
        member.organizer.id,
        event.id,
        name,
        &device,
        &location,
        Utc::now(),
    )
    .await?;
    let stats = stats_of(&api, &event).await?;
    Ok(super::private_json(json!({
        "success": true,
        "session_id": session.id,
        "validator_name": session.validator_name,
        "event": {
            "id": event.id,
            "title": event.title,
            "start_date": (!event.dates_pending).then(|| iso_santiago(event.start_date)),
            "total_tickets": stats["overall_stats"]["total_tickets"],
            "checked_in": stats["overall_stats"]["checked_in"],
        },
        "message": format!("Sesión iniciada para {}", session.validator_name),
    })))
}

/// One of the caller's sessions (any organizer member sees only their own).
async fn own_session(
    api: &Api,
    member: &Member,
    id: &str,
    open: bool,
) -> Result<Option<validator_sessions::Model>, ApiError> {
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return Ok(None);
    };
    let mut q = validator_sessions::Entity::find_by_id(id)
        .filter(validator_sessions::Column::UserId.eq(member.user.id))
        .filter(validator_sessions::Column::OrganizerId.eq(member.organizer.id));
    if open {
        q = q.filter(validator_sessions::Column::IsActive.eq(true));
    }
    Ok(q.one(&api.db).await?)
}

async fn session_shown(
    api: &Api,
    member: &Member,
    s: &validator_sessions::Model,
) -> Result<SessionResponse, ApiError> {
    let title = events::Entity::find_by_id(s.event_id)
        .one(&api.db)
        .await?
        .map(|e| e.title)
        .unwrap_or_default();
    Ok(SessionResponse::new(s, &title, &member.organizer.name))
}

/// Checks a ticket number at the session's event without letting it in
/// (logged and counted on the session).
#[utoipa::path(
    post,
    path = "/api/v1/validation/validator/ticket/validate/",
    tag = "door",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{ticket_number, session_id, qr_data?}`"),
    responses(
        (status = 200, description = "`{valid: true, message, ticket, event, validation_info}` or `{valid: false, error, message, ticket_info?}`", body = Object),
        (status = 400, description = "No number or session: `{valid: false, error: MISSING_DATA, message}`", body = Object),
        (status = 401, description = "Not an open session of yours", body = Object),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
    )
)]
pub async fn session_validate(
    api: Api,
    member: Member,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let number = body
        .get("ticket_number")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let session_id = body.get("session_id").and_then(Value::as_str);
    let (Some(number), Some(session_id)) = (number, session_id) else {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"valid": false, "error": "MISSING_DATA", "message": "ticket_number y session_id son requeridos"})),
        )
            .into_response());
    };
    let Some(session) = own_session(&api, &member, session_id, true).await? else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({"valid": false, "error": "INVALID_SESSION", "message": "Sesión de validador inválida o expirada"})),
        )
            .into_response());
    };
    // The QR may hold the ticket's page: `…/tickets/<number>`.
    let number = number
        .rsplit_once("/tickets/")
        .map_or(number, |(_, n)| n.trim_end_matches('/'));
    let scanner = Scanner {
        user: &member.user,
        session: Some(&session),
    };
    let qr = body.get("qr_data").and_then(Value::as_str).unwrap_or("");
    let found = own_ticket(&api, &member, None, Some(number))
        .await?
        .filter(|(t, _)| t.event_id == session.event_id);
    let now = Utc::now();
    let Some((ticket, order)) = found else {
        door::record(
            &api.db,
            scanner,
            Entry {
                event: session.event_id,
                ticket: None,
                action: "validate",
                status: "error",
                message: format!(
                    "Ticket no encontrado: {}",
                    number.chars().take(64).collect::<String>()
                ),
                from: "",
                to: "",
                qr_data: qr,
            },
            now,
        )
        .await?;
        return Ok(super::private_json(json!({
            "valid": false,
            "error": "TICKET_NOT_FOUND",
            "message": "Ticket no encontrado o no pertenece a este evento",
        })));
    };
    let problem = if TicketStatus::Used.is(&ticket.status) {
        Some(format!(
            "Ticket ya ingresado el {}",
            ticket.used_at.map(iso_santiago).unwrap_or_default()
        ))
    } else if TicketStatus::Cancelled.is(&ticket.status) {
        Some("Ticket no activo (estado: Cancelled)".to_string())
    } else {
        None
    };
    door::record(
        &api.db,
        scanner,
        Entry {
            event: session.event_id,
            ticket: Some(ticket.id),
            action: "validate",
            status: if problem.is_some() {
                "error"
            } else {
                "success"
            },
            message: problem.clone().unwrap_or_else(|| "Ticket válido".into()),
            from: "",
            to: "",
            qr_data: qr,
        },
        now,
    )
    .await?;
    let detail = TicketDetail::new(&ticket, &order);
    if let Some(message) = problem {
        return Ok(super::private_json(json!({
            "valid": false,
            "error": "VALIDATION_FAILED",
            "message": message,
            "ticket_info": {
                "ticket_number": detail.ticket_number,
                "attendee_name": detail.attendee_name,
                "status": detail.status,
                "check_in_status": detail.check_in_status,
            },
        })));
    }
    let tier = ticket_tiers::Entity::find_by_id(ticket.tier_id)
        .one(&api.db)
        .await?;
    let event = events::Entity::find_by_id(ticket.event_id)
        .one(&api.db)
        .await?;
    #[allow(clippy::cast_precision_loss)]
    Ok(super::private_json(json!({
        "valid": true,
        "message": "Ticket válido - Listo para check-in",
        "ticket": {
            "id": ticket.id,
            "ticket_number": ticket.code,
            "attendee_name": ticket.attendee_name,
            "email": order.customer_email,
            "status": detail.status,
            "check_in_status": detail.check_in_status,
            "tier_name": tier.as_ref().map(|t| t.name.clone()),
            "tier_price": tier.as_ref().map(|t| t.price as f64),
            "order_info": {
                "order_id": order.id,
                "purchase_date": iso_santiago(order.created_at),
                "total_amount": order.total as f64,
            },
        },
        "event": event.map(|e| json!({
            "id": e.id,
            "title": e.title,
            "start_date": iso_santiago(e.start_date),
        })),
        "validation_info": {
            "validator_name": session.validator_name,
            "validation_time": iso_santiago(now.fixed_offset()),
        },
    })))
}

/// Lets a ticket of the session's event in.
#[utoipa::path(
    post,
    path = "/api/v1/validation/validator/ticket/{ticket_id}/checkin/",
    tag = "door",
    security(("bearer" = [])),
    params(("ticket_id" = String, Path, description = "The ticket's id")),
    request_body(content = Object, description = "`{session_id, notes?}`"),
    responses(
        (status = 200, description = "`{success, message, ticket: {id, ticket_number, attendee_name, check_in_status, check_in_time, checked_in_by}}`", body = Object),
        (status = 400, description = "Already in (with when and by whom), cancelled, or no session", body = Object),
        (status = 401, description = "Not an open session of yours", body = Object),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "Not a ticket of the session's event", body = Object),
    )
)]
pub async fn session_checkin(
    api: Api,
    member: Member,
    Path(ticket_id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let Some(session_id) = body.get("session_id").and_then(Value::as_str) else {
        return Ok(refusal(StatusCode::BAD_REQUEST, "session_id es requerido"));
    };
    let Some(session) = own_session(&api, &member, session_id, true).await? else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({"success": false, "message": "Sesión de validador inválida o expirada"})),
        )
            .into_response());
    };
    let id = Uuid::parse_str(ticket_id.trim()).ok();
    let Some((ticket, _)) = own_ticket(&api, &member, id, None)
        .await?
        .filter(|(t, _)| t.event_id == session.event_id)
    else {
        return Ok(refusal(
            StatusCode::NOT_FOUND,
            "Ticket no encontrado en este evento",
        ));
    };
    let scanner = Scanner {
        user: &member.user,
        session: Some(&session),
    };
    let now = Utc::now();
    let outcome = door::check_in(&api.db, &ticket, scanner, "", now).await?;
    let notes = body
        .get("notes")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    match outcome {
        Outcome::Done(t) => {
            if !notes.is_empty() {
                add_note(
                    &api,
                    &member,
                    &t,
                    Some(&session),
                    "check_in",
                    "",
                    notes,
                    false,
                )
                .await?;
            }
            Ok(super::private_json(json!({
                "success": true,
                "message": "Check-in realizado exitosamente",
                "ticket": {
                    "id": t.id,
                    "ticket_number": t.code,
                    "attendee_name": t.attendee_name,
                    "check_in_status": "checked_in",
                    "check_in_time": t.used_at.map(iso_santiago),
                    "checked_in_by": session.validator_name,
                },
            })))
        }
        Outcome::AlreadyIn(t) => {
            let mut out = json!({
                "success": false,
                "message": format!(
                    "Ticket ya tiene check-in desde {}",
                    t.used_at.map(iso_santiago).unwrap_or_default()
                ),
            });
            if let (Some(o), Value::Object(extra)) = (out.as_object_mut(), used_by(&api, &t).await?)
            {
                o.extend(extra);
            }
            Ok((StatusCode::BAD_REQUEST, Json(out)).into_response())
        }
        Outcome::Cancelled(_) | Outcome::NotIn(_) => Ok(refusal(
            StatusCode::BAD_REQUEST,
            "Ticket anulado: no puede ingresar",
        )),
    }
}

#[allow(clippy::too_many_arguments)]
async fn add_note(
    api: &Api,
    member: &Member,
    ticket: &tickets::Model,
    session: Option<&validator_sessions::Model>,
    note_type: &str,
    title: &str,
    content: &str,
    important: bool,
) -> Result<ticket_notes::Model, ApiError> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = Utc::now();
    let note = ticket_notes::ActiveModel {
        id: Set(Uuid::new_v4()),
        ticket_id: Set(ticket.id),
        user_id: Set(member.user.id),
        session_id: Set(session.map(|s| s.id)),
        note_type: Set(note_type.into()),
        title: Set(title.chars().take(200).collect()),
        content: Set(content.chars().take(5_000).collect()),
        is_important: Set(important),
        created_at: Set(now.fixed_offset()),
    }
    .insert(&api.db)
    .await?;
    door::record(
        &api.db,
        Scanner {
            user: &member.user,
            session,
        },
        Entry {
            event: ticket.event_id,
            ticket: Some(ticket.id),
            action: "note_added",
            status: "info",
            message: format!("Nota agregada: {}", note.title),
            from: "",
            to: "",
            qr_data: "",
        },
        now,
    )
    .await?;
    Ok(note)
}

const NOTE_TYPES: [&str; 6] = [
    "general",
    "check_in",
    "issue",
    "resolution",
    "security",
    "vip",
];

/// A note on one of the organizer's tickets.
#[utoipa::path(
    post,
    path = "/api/v1/validation/validator/ticket/{ticket_id}/notes/",
    tag = "door",
    security(("bearer" = [])),
    params(("ticket_id" = String, Path, description = "The ticket's id")),
    request_body(content = Object, description = "`{content, title?, note_type?, is_important?, session_id?}`"),
    responses(
        (status = 200, description = "`{success, message, note}`", body = Object),
        (status = 400, description = "No content, or a bad note type", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "Not one of the organizer's tickets", body = Object),
    )
)]
pub async fn ticket_note(
    api: Api,
    member: Member,
    Path(ticket_id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let id = Uuid::parse_str(ticket_id.trim()).ok();
    let Some((ticket, _)) = own_ticket(&api, &member, id, None).await? else {
        return Ok(refusal(StatusCode::NOT_FOUND, "Ticket no encontrado"));
    };
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
            .to_string()
    };
    let content = text("content");
    if content.is_empty() {
        return Ok(refusal(StatusCode::BAD_REQUEST, "content es requerido"));
    }
    let kind = Some(text("note_type"))
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "general".into());
    if !NOTE_TYPES.contains(&kind.as_str()) {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            format!("note_type inválido: {kind}"),
        ));
    }
    let session = match body.get("session_id").and_then(Value::as_str) {
        Some(s) => match own_session(&api, &member, s, true).await? {
            Some(s) => Some(s),
            None => return Ok((
                StatusCode::UNAUTHORIZED,
                Json(
                    json!({"success": false, "message": "Sesión de validador inválida o expirada"}),
                ),
            )
                .into_response()),
        },
        None => None,
    };
    let note = add_note(
        &api,
        &member,
        &ticket,
        session.as_ref(),
        &kind,
        &text("title"),
        &content,
        truthy(body.get("is_important")),
    )
    .await?;
    Ok(super::private_json(json!({
        "success": true,
        "message": "Nota agregada exitosamente",
        "note": {
            "id": note.id,
            "ticket": ticket.id,
            "ticket_number": ticket.code,
            "user": member.user.id,
            "user_name": member.user.email,
            "validator_session": note.session_id,
            "note_type": note.note_type,
            "title": note.title,
            "content": note.content,
            "is_important": note.is_important,
            "is_resolved": false,
            "created_at": iso_santiago(note.created_at),
        },
    })))
}

/// Ends one of the caller's open sessions.
#[utoipa::path(
    post,
    path = "/api/v1/validation/validator/session/{session_id}/end/",
    tag = "door",
    security(("bearer" = [])),
    params(("session_id" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "`{success, message, session_report}`", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "Not an open session of yours", body = Object),
    )
)]
pub async fn session_end(
    api: Api,
    member: Member,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    use sea_orm::sea_query::Expr;
    require_door(&member)?;
    let Some(session) = own_session(&api, &member, &session_id, true).await? else {
        return Ok(refusal(
            StatusCode::NOT_FOUND,
            "Sesión no encontrada o ya finalizada",
        ));
    };
    validator_sessions::Entity::update_many()
        .col_expr(validator_sessions::Column::IsActive, Expr::value(false))
        .col_expr(
            validator_sessions::Column::EndTime,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(validator_sessions::Column::Id.eq(session.id))
        .filter(validator_sessions::Column::IsActive.eq(true))
        .exec(&api.db)
        .await?;
    let ended = own_session(&api, &member, &session_id, false)
        .await?
        .unwrap_or(session);
    Ok(super::private_json(json!({
        "success": true,
        "message": "Sesión finalizada exitosamente",
        "session_report": session_shown(&api, &member, &ended).await?,
    })))
}

/// One of the caller's sessions with its last 20 log lines.
#[utoipa::path(
    get,
    path = "/api/v1/validation/validator/session/{session_id}/stats/",
    tag = "door",
    security(("bearer" = [])),
    params(("session_id" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "`{success, session, recent_activity, performance_metrics}`", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "Not a session of yours", body = Object),
    )
)]
pub async fn session_stats(
    api: Api,
    member: Member,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let Some(session) = own_session(&api, &member, &session_id, false).await? else {
        return Ok(refusal(StatusCode::NOT_FOUND, "Sesión no encontrada"));
    };
    let recent = validation_logs::Entity::find()
        .filter(validation_logs::Column::SessionId.eq(session.id))
        .order_by_desc(validation_logs::Column::CreatedAt)
        .limit(20)
        .all(&api.db)
        .await?;
    let shown = session_shown(&api, &member, &session).await?;
    let failed = f64::from(session.failed_validations);
    let total = f64::from(session.total_scans.max(1));
    Ok(super::private_json(json!({
        "success": true,
        "performance_metrics": {
            "throughput_per_hour": shown.throughput_per_hour,
            "success_rate": shown.success_rate,
            "error_rate": (failed / total * 10_000.0).round() / 100.0,
        },
        "session": shown,
        "recent_activity": logs_shown(&api, &recent).await?,
    })))
}

/// The event's door figures (as `events/validation_stats/`).
#[utoipa::path(
    get,
    path = "/api/v1/validation/validator/event/{event_id}/stats/",
    tag = "door",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "One of the organizer's events")),
    responses(
        (status = 200, description = "`{success, event, overall_stats, ticket_tier_stats}`", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not on the organizer's door team", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn event_stats(
    api: Api,
    member: Member,
    Path(event_id): Path<String>,
) -> Result<Response, ApiError> {
    require_door(&member)?;
    let event = match own_event(&api, &member, Some(&event_id)).await {
        Ok(e) => e,
        Err(r) => return Ok(r),
    };
    let mut stats = stats_of(&api, &event).await?;
    stats["success"] = json!(true);
    Ok(super::private_json(stats))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_check_in_by_uuid, check_in_by_uuid)
        .doc(__path_check_out_by_uuid, check_out_by_uuid)
        .doc(__path_check_in, check_in)
        .doc(__path_validate_number, validate_number)
        .doc(__path_validation_stats, validation_stats)
        .doc(__path_validation_logs, validation_logs)
        .doc(__path_session_start, session_start)
        .doc(__path_session_validate, session_validate)
        .doc(__path_session_checkin, session_checkin)
        .doc(__path_ticket_note, ticket_note)
        .doc(__path_session_end, session_end)
        .doc(__path_session_stats, session_stats)
        .doc(__path_event_stats, event_stats)
}

pub fn routes() -> Routes {
    table().routes()
}
