//! Courtesy tickets ("cortesías") on backtuki's paths: the organizer pastes
//! or uploads a list (`events/{id}/complimentary-tickets/preview/`), then
//! makes the invitations (`…/create-batch/`, one or many; `issue_now` makes
//! each a zero-priced order with tickets at once), lists and exports them
//! (`…/export-excel/`) and can cancel one not yet used (`…/{id}/cancel/`);
//! the invitee opens the secret link (`public/complimentary/{token}/`) and
//! redeems it (`…/redeem/`). Tickets take seats of the invitation's tier
//! (the event's hidden "Cortesía" tier unless another is chosen).
//!
//! Organizer routes: members who manage the organizer's events, scoped by
//! [`Member`]; another organizer's event or invitation is "not found".

use axum::{
    extract::{FromRequest, Multipart, Path},
    http::{header, StatusCode},
    response::Response,
    Json,
};
use chrono::Utc;
use loco_rs::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect, TransactionTrait};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    drf::Body, organizer_events::own_event_by_id, organizers::Member, Api, ApiError, Detail,
    RequestUrl, Table,
};
use crate::{
    models::{
        _entities::{events, orders, organizers, ticket_tiers, tickets, users},
        courtesy::{self, full_name, Attendee, Refusal, STATUSES},
        users::Email,
    },
    views::{events::iso_santiago, tickets::TicketDetail},
};

/// Most invitations one request makes.
const MAX_BATCH: usize = 1_000;
/// Most tickets one invitation gives.
const MAX_TICKETS: i32 = 10;

fn not_found() -> ApiError {
    ApiError::NotFound("No encontrado.")
}

async fn own_event(api: &Api, member: &Member, id: &str) -> Result<events::Model, ApiError> {
    member.require_events()?;
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    own_event_by_id(api, member, id).await
}

fn public_url(api: &Api, token: &str) -> String {
    format!(
        "{}/complimentary/{token}",
        api.settings.frontend_url.trim_end_matches('/')
    )
}

/// An invitation as backtuki's serializer shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InvitationResponse {
    pub id: Uuid,
    pub event: Uuid,
    pub event_title: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub full_name: String,
    pub has_email: bool,
    pub max_tickets: i32,
    pub tickets_per_invitation: i32,
    /// `pending`, `redeemed` or `cancelled`.
    pub status: String,
    /// The link's secret: whoever has it may redeem.
    pub public_token: String,
    pub public_url: String,
    pub ticket_tier: Uuid,
    pub redeemed_at: Option<String>,
    pub redeemed_by_email: Option<String>,
    pub order_number: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn shown(api: &Api, i: &courtesy::Model, title: &str, order: Option<&str>) -> InvitationResponse {
    InvitationResponse {
        id: i.id,
        event: i.event_id,
        event_title: title.into(),
        first_name: i.first_name.clone(),
        last_name: i.last_name.clone(),
        email: i.email.clone(),
        full_name: full_name(&i.first_name, &i.last_name),
        has_email: !i.email.is_empty(),
        max_tickets: i.max_tickets,
        tickets_per_invitation: i.max_tickets,
        status: i.status.clone(),
        public_token: i.public_token.clone(),
        public_url: public_url(api, &i.public_token),
        ticket_tier: i.tier_id,
        redeemed_at: i.redeemed_at.map(iso_santiago),
        redeemed_by_email: i.redeemed_by_email.clone(),
        order_number: order.map(str::to_string),
        created_at: iso_santiago(i.created_at),
        updated_at: iso_santiago(i.updated_at),
    }
}

/// A header's words, lower case, accents and separators folded.
fn fold(header: &str) -> String {
    header
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' => 'a',
            'é' | 'è' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            ' ' | '-' | '.' => '_',
            c => c,
        })
        .collect()
}

/// Which field a header names.
fn column_of(header: &str) -> Option<&'static str> {
    let h = fold(header);
    if h.is_empty() {
        return None;
    }
    const EMAIL: [&str; 5] = ["email", "correo", "e_mail", "mail", "correo_electronico"];
    const LAST: [&str; 5] = ["apellido", "apellidos", "last_name", "lastname", "surname"];
    const FIRST: [&str; 6] = [
        "nombre",
        "first_name",
        "firstname",
        "invitado",
        "name",
        "nombres",
    ];
    if EMAIL.iter().any(|c| h.contains(c)) {
        Some("email")
    } else if LAST.iter().any(|c| h.contains(c)) {
        Some("last_name")
    } else if FIRST.iter().any(|c| h.contains(c)) {
        Some("first_name")
    } else {
        None
    }
}

/// Splits one line on the delimiter, honouring CSV quotes.
fn cells(line: &str, delimiter: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => {
                out.push(std::mem::take(&mut cell).trim().to_string())
            }
            c => cell.push(c),
        }
    }
    out.push(cell.trim().to_string());
    out
}

/// Reads a pasted list or CSV: with a header row naming the columns
/// (nombre, apellido, email…), or without one (each line a name and an
/// email in any order). Rows with neither a name nor an email are left out.
fn parse_list(text: &str, delimiter: Option<char>) -> (Vec<Value>, Vec<String>) {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let Some(first) = lines.first() else {
        return (Vec::new(), vec!["La lista está vacía".into()]);
    };
    let delimiter = delimiter.unwrap_or_else(|| {
        ['\t', ';', ',']
            .into_iter()
            .find(|d| first.contains(*d))
            .unwrap_or(',')
    });
    let header: Vec<Option<&'static str>> = cells(first, delimiter)
        .iter()
        .map(|h| column_of(h))
        .collect();
    let has_header = header.iter().any(Option::is_some);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in lines.iter().enumerate().skip(usize::from(has_header)) {
        let values = cells(line, delimiter);
        let (mut first_name, mut last_name, mut email) =
            (String::new(), String::new(), String::new());
        if has_header {
            for (i, v) in values.iter().enumerate() {
                match header.get(i).copied().flatten() {
                    Some("first_name") if first_name.is_empty() => first_name.clone_from(v),
                    Some("last_name") if last_name.is_empty() => last_name.clone_from(v),
                    Some("email") if email.is_empty() => email.clone_from(v),
                    _ => {}
                }
            }
        } else {
            let mut words = Vec::new();
            for word in values.iter().flat_map(|v| v.split_whitespace()) {
                if word.contains('@') && email.is_empty() {
                    email = word.to_string();
                } else {
                    words.push(word.to_string());
                }
            }
            let name = words.join(" ");
            let mut parts = name.split_whitespace();
            first_name = parts.next().unwrap_or("").to_string();
            last_name = parts.collect::<Vec<_>>().join(" ");
        }
        let email = email.split(';').next().unwrap_or("").trim().to_lowercase();
        if !email.is_empty() && Email::parse(&email).is_err() {
            errors.push(format!("Fila {}: email inválido ({email})", n + 1));
        }
        if first_name.is_empty() && email.is_empty() {
            continue;
        }
        if rows.len() >= MAX_BATCH {
            errors.push(format!("Solo se leen las primeras {MAX_BATCH} filas."));
            break;
        }
        let clip = |s: String| s.chars().take(100).collect::<String>();
        rows.push(
            json!({"first_name": clip(first_name), "last_name": clip(last_name), "email": email}),
        );
    }
    (rows, errors)
}

/// Reads and checks a pasted list or CSV file; nothing is made.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/complimentary-tickets/preview/",
    tag = "courtesy",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "One of the organizer's events")),
    request_body(content_type = "multipart/form-data", description = "`text` (the pasted list) or `file` (a .csv), and `delimiter?`; JSON `{text, delimiter?}` too"),
    responses(
        (status = 200, description = "`{data: [{first_name, last_name, email}], suggested_mapping, errors}`", body = Object),
        (status = 400, description = "Neither `text` nor `file`, or an Excel file (save it as CSV)", body = Detail),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn preview(
    State(ctx): State<AppContext>,
    api: Api,
    member: Member,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    own_event(&api, &member, &id).await?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let (mut text, mut delimiter) = (None::<String>, None::<String>);
    if multipart {
        let mut form = Multipart::from_request(req, &ctx)
            .await
            .map_err(|_| ApiError::UnsupportedMedia)?;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::BadRequest(format!("Malformed form: {}", e.body_text())))?
        {
            let name = field.name().unwrap_or("").to_string();
            let file_name = field.file_name().map(str::to_lowercase);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::BadRequest(format!("Malformed form: {}", e.body_text())))?;
            match name.as_str() {
                "file" => {
                    if file_name
                        .as_deref()
                        .is_some_and(|n| n.ends_with(".xlsx") || n.ends_with(".xls"))
                    {
                        return Err(ApiError::BadRequest(
                            "Sube la lista como CSV o pégala (en Excel: Guardar como CSV).".into(),
                        ));
                    }
                    text = Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                "text" if text.is_none() => {
                    text = Some(String::from_utf8_lossy(&bytes).into_owned())
                }
                "delimiter" => delimiter = Some(String::from_utf8_lossy(&bytes).into_owned()),
                _ => {}
            }
        }
    } else {
        let Body(body) = Body::from_request(req, &ctx).await?;
        text = body.get("text").and_then(Value::as_str).map(str::to_string);
        delimiter = body
            .get("delimiter")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let Some(text) = text else {
        return Err(ApiError::BadRequest(
            "Either 'file' or 'text' field is required".into(),
        ));
    };
    if text.len() > 2_000_000 {
        return Err(ApiError::BadRequest(
            "La lista es demasiado grande (máximo 2 MB).".into(),
        ));
    }
    let delimiter = delimiter.and_then(|d| match d.as_str() {
        "\\t" | "tab" => Some('\t'),
        d => d.chars().next(),
    });
    let (data, errors) = parse_list(&text, delimiter);
    let mapping: serde_json::Map<String, Value> = ["first_name", "last_name", "email"]
        .iter()
        .filter(|k| {
            data.iter()
                .any(|r| r[**k].as_str().is_some_and(|v| !v.is_empty()))
        })
        .map(|k| ((*k).to_string(), json!(k)))
        .collect();
    Ok(super::private_json(json!({
        "data": data,
        "suggested_mapping": mapping,
        "errors": errors,
    })))
}

/// Makes invitations from checked entries (all or none); with `issue_now`
/// each becomes at once a zero-priced order with its tickets.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/complimentary-tickets/create-batch/",
    tag = "courtesy",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "One of the organizer's events")),
    request_body(content = Object, description = "`{entries: [{first_name?, last_name?, email?}], tickets_per_invitation? (1–10), ticket_tier? (one of the event's tiers), issue_now?}` (at most 1,000 entries)"),
    responses(
        (status = 201, description = "`{created, invitations}` (and `issued`: the orders made with `issue_now`)", body = Object),
        (status = 400, description = "The entries' errors (`{entries: [{field: [..]}, ..]}`), or a bad tier or quantity", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
        (status = 409, description = "With `issue_now`: the tier ran out of seats (`{detail, issued}`: the invitations are made, those not issued stay pending)", body = Object),
    )
)]
pub async fn create_batch(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    use sea_orm::ActiveModelTrait;
    let event = own_event(&api, &member, &id).await?;
    let Some(entries) = body.get("entries").and_then(Value::as_array) else {
        return Err(ApiError::Field(
            "entries",
            "Este campo es requerido.".into(),
        ));
    };
    if entries.len() > MAX_BATCH {
        return Err(ApiError::Field(
            "entries",
            format!("A lo más {MAX_BATCH} invitaciones por vez."),
        ));
    }
    let per = match body.get("tickets_per_invitation") {
        None | Some(Value::Null) => 1,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| (1..=i64::from(MAX_TICKETS)).contains(n))
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| {
                ApiError::Field(
                    "tickets_per_invitation",
                    format!("Un número entero de 1 a {MAX_TICKETS}."),
                )
            })?,
    };
    // Every entry checked first: one bad entry makes nothing.
    let mut checked = Vec::with_capacity(entries.len());
    let mut errors = Vec::with_capacity(entries.len());
    let mut any_error = false;
    for entry in entries {
        let mut input = super::drf::Input::new(entry.clone());
        let first = input
            .text("first_name", false, true, 100)
            .unwrap_or_default();
        let last = input
            .text("last_name", false, true, 100)
            .unwrap_or_default();
        let email = input
            .text("email", false, true, 254)
            .unwrap_or_default()
            .to_lowercase();
        if !email.is_empty() && Email::parse(&email).is_err() {
            input.error("email", super::drf::BAD_EMAIL);
        }
        match input.finish_fields() {
            Ok(()) => {
                errors.push(json!({}));
                checked.push((first, last, email));
            }
            Err(ApiError::Fields(f)) => {
                any_error = true;
                errors.push(json!(f));
            }
            Err(e) => return Err(e),
        }
    }
    if any_error {
        return Ok((StatusCode::BAD_REQUEST, Json(json!({"entries": errors}))).into_response());
    }
    let tier = match body.get("ticket_tier").and_then(Value::as_str) {
        Some(t) => {
            let t = Uuid::parse_str(t.trim()).ok();
            match t {
                Some(t) => {
                    ticket_tiers::Entity::find_by_id(t)
                        .filter(ticket_tiers::Column::EventId.eq(event.id))
                        .one(&api.db)
                        .await?
                }
                None => None,
            }
            .ok_or_else(|| {
                ApiError::Field("ticket_tier", "Elige una entrada de este evento.".into())
            })?
        }
        None => courtesy::courtesy_tier(&api.db, event.id).await?,
    };
    let now = Utc::now();
    let nowf = now.fixed_offset();
    let txn = api.db.begin().await?;
    let mut made = Vec::with_capacity(checked.len());
    for (first, last, email) in checked {
        made.push(
            courtesy::ActiveModel {
                id: Set(Uuid::new_v4()),
                event_id: Set(event.id),
                tier_id: Set(tier.id),
                first_name: Set(first),
                last_name: Set(last),
                email: Set(email),
                max_tickets: Set(per),
                status: Set("pending".into()),
                public_token: Set(crate::platform::tokens::random_urlsafe(48)),
                redeemed_at: Set(None),
                redeemed_by_email: Set(None),
                created_by: Set(Some(member.user.id)),
                order_id: Set(None),
                created_at: Set(nowf),
                updated_at: Set(nowf),
            }
            .insert(&txn)
            .await?,
        );
    }
    txn.commit().await?;
    let mut issued = Vec::new();
    if super::drf::Input::new(body.clone()).boolean("issue_now", false) {
        let fallback = organizer_email(&api, &member.organizer).await?;
        let base = format!("{}://{}", url.scheme, url.host);
        for (n, invitation) in made.iter().enumerate() {
            let attendee = Attendee {
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
            };
            match courtesy::redeem(&api.db, invitation, &attendee, per, &fallback, now).await? {
                Ok(order) => {
                    if !invitation.email.is_empty() {
                        crate::mailers::order_confirmation::send(&ctx, order.id, &base).await?;
                    }
                    issued.push(
                        json!({"invitation_id": invitation.id, "order_number": order.order_number}),
                    );
                }
                Err(Refusal::SoldOut) => {
                    // The rest stay invitations, redeemable when seats free up.
                    api.cache.invalidate();
                    return Ok((
                        StatusCode::CONFLICT,
                        Json(json!({
                            "detail": format!(
                                "No quedan entradas en «{}»: {n} de {} emitidas; las demás quedan como invitaciones pendientes.",
                                tier.name,
                                made.len()
                            ),
                            "issued": issued,
                        })),
                    )
                        .into_response());
                }
                Err(_) => {}
            }
        }
        api.cache.invalidate();
    }
    let made = Entity::find_many(&api, made.iter().map(|i| i.id).collect()).await?;
    let invitations: Vec<InvitationResponse> = made
        .iter()
        .map(|(i, order)| shown(&api, i, &event.title, order.as_deref()))
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({"created": invitations.len(), "invitations": invitations, "issued": issued})),
    )
        .into_response())
}

/// Reading invitations with their orders' numbers.
struct Entity;

impl Entity {
    async fn find_many(
        api: &Api,
        ids: Vec<Uuid>,
    ) -> Result<Vec<(courtesy::Model, Option<String>)>, ApiError> {
        let rows = courtesy::Entity::find()
            .filter(courtesy::Column::Id.is_in(ids.clone()))
            .all(&api.db)
            .await?;
        let mut rows = with_orders(api, rows).await?;
        rows.sort_by_key(|(i, _)| ids.iter().position(|x| *x == i.id));
        Ok(rows)
    }
}

async fn with_orders(
    api: &Api,
    rows: Vec<courtesy::Model>,
) -> Result<Vec<(courtesy::Model, Option<String>)>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().filter_map(|i| i.order_id).collect();
    let numbers: std::collections::HashMap<Uuid, String> = if ids.is_empty() {
        std::collections::HashMap::new()
    } else {
        orders::Entity::find()
            .filter(orders::Column::Id.is_in(ids))
            .all(&api.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.order_number))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|i| {
            let n = i.order_id.and_then(|o| numbers.get(&o).cloned());
            (i, n)
        })
        .collect())
}

/// The organizer's address for orders whose invitee gave none: its
/// contact email, else its first admin's.
async fn organizer_email(api: &Api, organizer: &organizers::Model) -> Result<String, ApiError> {
    if !organizer.contact_email.trim().is_empty() {
        return Ok(organizer.contact_email.trim().to_lowercase());
    }
    let member = crate::models::_entities::organizer_members::Entity::find()
        .filter(crate::models::_entities::organizer_members::Column::OrganizerId.eq(organizer.id))
        .filter(crate::models::_entities::organizer_members::Column::IsAdmin.eq(true))
        .filter(crate::models::_entities::organizer_members::Column::InvitationPending.eq(false))
        .order_by_asc(crate::models::_entities::organizer_members::Column::CreatedAt)
        .one(&api.db)
        .await?;
    Ok(match member {
        Some(m) => users::Entity::find_by_id(m.user_id)
            .one(&api.db)
            .await?
            .map(|u| u.email)
            .unwrap_or_default(),
        None => String::new(),
    })
}

/// The event's invitations, filtered (`status`, `search` in names and
/// email), newest first.
async fn listed(
    api: &Api,
    event: &events::Model,
    url: &RequestUrl,
) -> Result<Vec<(courtesy::Model, Option<String>)>, ApiError> {
    let mut q = courtesy::Entity::find().filter(courtesy::Column::EventId.eq(event.id));
    if let Some(status) = url.get("status").filter(|s| !s.is_empty()) {
        if !STATUSES.contains(&status) {
            return Err(ApiError::Field(
                "status",
                format!(
                    "Escoja una opción válida. {status} no es una de las opciones disponibles."
                ),
            ));
        }
        q = q.filter(courtesy::Column::Status.eq(status));
    }
    if let Some(search) = url.get("search").filter(|s| !s.trim().is_empty()) {
        q = q.filter(super::organizer_orders::every_word_in(
            search,
            &[
                sea_orm::sea_query::Expr::col(courtesy::Column::FirstName),
                sea_orm::sea_query::Expr::col(courtesy::Column::LastName),
                sea_orm::sea_query::Expr::col(courtesy::Column::Email),
            ],
        ));
    }
    let rows = q
        .order_by_desc(courtesy::Column::CreatedAt)
        .order_by_asc(courtesy::Column::Id)
        .limit(10_000)
        .all(&api.db)
        .await?;
    with_orders(api, rows).await
}

/// The event's invitations (at most 10,000, newest first).
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/complimentary-tickets/",
    tag = "courtesy",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "One of the organizer's events"),
        ("status" = Option<String>, Query, description = "pending, redeemed or cancelled"),
        ("search" = Option<String>, Query, description = "Every word in the names or the email"),
    ),
    responses(
        (status = 200, description = "The invitations", body = Vec<InvitationResponse>),
        (status = 400, description = "A bad status", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn list(
    api: Api,
    url: RequestUrl,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let event = own_event(&api, &member, &id).await?;
    let rows = listed(&api, &event, &url).await?;
    let out: Vec<InvitationResponse> = rows
        .iter()
        .map(|(i, n)| shown(&api, i, &event.title, n.as_deref()))
        .collect();
    Ok(super::private_json(out))
}

/// The event's invitations as an Excel workbook.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/complimentary-tickets/export-excel/",
    tag = "courtesy",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "One of the organizer's events"),
        ("status" = Option<String>, Query, description = "pending, redeemed or cancelled"),
        ("search" = Option<String>, Query, description = "Every word in the names or the email"),
    ),
    responses(
        (status = 200, description = "`cortesias_<slug>_<date>.xlsx`", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "A bad status", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn export_excel(
    api: Api,
    url: RequestUrl,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    use rust_xlsxwriter::{Format, Url, Workbook};
    let event = own_event(&api, &member, &id).await?;
    let rows = listed(&api, &event, &url).await?;
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("Cortesías")?;
        let bold = Format::new().set_bold();
        let headers = [
            ("Nombre", 20),
            ("Apellido", 20),
            ("Email", 30),
            ("Link Público", 50),
            ("Estado", 15),
            ("Fecha Canje", 20),
            ("Tickets Permitidos", 18),
            ("Número de Orden", 18),
        ];
        for (c, (h, w)) in headers.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(0);
            sheet.set_column_width(c, *w)?;
            sheet.write_string_with_format(0, c, *h, &bold)?;
        }
        for (r, (i, order)) in rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            sheet.write_string(r, 0, i.first_name.as_str())?;
            sheet.write_string(r, 1, i.last_name.as_str())?;
            sheet.write_string(r, 2, i.email.as_str())?;
            sheet.write_url(r, 3, Url::new(public_url(&api, &i.public_token)))?;
            sheet.write_string(
                r,
                4,
                match i.status.as_str() {
                    "redeemed" => "Canjeada",
                    "cancelled" => "Cancelada",
                    _ => "Pendiente",
                },
            )?;
            sheet.write_string(
                r,
                5,
                i.redeemed_at
                    .map(|t| {
                        t.with_timezone(&chrono_tz::America::Santiago)
                            .format("%d-%m-%Y %H:%M:%S")
                            .to_string()
                    })
                    .unwrap_or_default(),
            )?;
            sheet.write_number(r, 6, f64::from(i.max_tickets))?;
            sheet.write_string(r, 7, order.as_deref().unwrap_or(""))?;
        }
        book.save_to_buffer()
    };
    let bytes = build().map_err(|e| {
        tracing::error!(error = %e, "writing the courtesy workbook");
        ApiError::Internal
    })?;
    let name = format!(
        "cortesias_{}_{}.xlsx",
        event.slug,
        Utc::now().format("%Y%m%d")
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// Cancels an invitation not yet redeemed (its link stops working).
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/complimentary-tickets/{invitation_id}/cancel/",
    tag = "courtesy",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "One of the organizer's events"),
        ("invitation_id" = String, Path, description = "One of its invitations"),
    ),
    responses(
        (status = 200, description = "The invitation, cancelled", body = InvitationResponse),
        (status = 400, description = "Already redeemed or cancelled", body = Detail),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not an invitation of one of the organizer's events", body = Detail),
    )
)]
pub async fn cancel(
    api: Api,
    member: Member,
    Path((id, invitation_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    use sea_orm::sea_query::Expr;
    let event = own_event(&api, &member, &id).await?;
    let invitation_id = Uuid::parse_str(invitation_id.trim()).map_err(|_| not_found())?;
    let done = courtesy::Entity::update_many()
        .col_expr(courtesy::Column::Status, Expr::value("cancelled"))
        .col_expr(
            courtesy::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(courtesy::Column::Id.eq(invitation_id))
        .filter(courtesy::Column::EventId.eq(event.id))
        .filter(courtesy::Column::Status.eq("pending"))
        .exec(&api.db)
        .await?;
    let Some(invitation) = courtesy::Entity::find_by_id(invitation_id)
        .filter(courtesy::Column::EventId.eq(event.id))
        .one(&api.db)
        .await?
    else {
        return Err(not_found());
    };
    if done.rows_affected == 0 {
        return Err(ApiError::BadRequest(
            "Invitation already redeemed or cancelled".into(),
        ));
    }
    Ok(super::private_json(shown(
        &api,
        &invitation,
        &event.title,
        None,
    )))
}

/// The invitation behind a link, or 404.
async fn by_token(api: &Api, token: &str) -> Result<courtesy::Model, ApiError> {
    let token = token.trim();
    if token.is_empty() || token.len() > 64 {
        return Err(ApiError::NotFound("Invitation not found"));
    }
    courtesy::Entity::find()
        .filter(courtesy::Column::PublicToken.eq(token))
        .one(&api.db)
        .await?
        .ok_or(ApiError::NotFound("Invitation not found"))
}

async fn public_view(api: &Api, url: &RequestUrl, i: &courtesy::Model) -> Result<Value, ApiError> {
    let event = courtesy::event_of(&api.db, i).await?;
    let (issued, order_number) = match i.order_id {
        Some(order_id) if i.status == "redeemed" => {
            let order = orders::Entity::find_by_id(order_id).one(&api.db).await?;
            match order {
                Some(o) => {
                    let t = tickets::Entity::find()
                        .filter(tickets::Column::OrderId.eq(o.id))
                        .order_by_asc(tickets::Column::CreatedAt)
                        .order_by_asc(tickets::Column::Id)
                        .all(&api.db)
                        .await?
                        .iter()
                        .map(|t| {
                            let d = TicketDetail::new(t, &o);
                            // The link's holder sees the tickets, not the
                            // order's address nor who scanned them.
                            json!({
                                "id": d.id,
                                "ticket_number": d.ticket_number,
                                "first_name": d.first_name,
                                "last_name": d.last_name,
                                "attendee_name": d.attendee_name,
                                "status": d.status,
                                "check_in_status": d.check_in_status,
                                "order_number": d.order_number,
                                "qr_url": format!("{}/api/v1/tickets/{}/qr/", url.origin(), t.code),
                            })
                        })
                        .collect::<Vec<_>>();
                    (t, Some(o.order_number))
                }
                None => (Vec::new(), None),
            }
        }
        _ => (Vec::new(), None),
    };
    let image = match &event {
        Some(e) => crate::models::_entities::event_images::Entity::find()
            .filter(crate::models::_entities::event_images::Column::EventId.eq(e.id))
            .order_by_asc(crate::models::_entities::event_images::Column::Position)
            .one(&api.db)
            .await?
            .map(|im| url.media_base(&api.settings).url(&im.path)),
        None => None,
    };
    let location = match event.as_ref().and_then(|e| e.location_id) {
        Some(l) => crate::models::_entities::locations::Entity::find_by_id(l)
            .one(&api.db)
            .await?
            .map(|l| l.name),
        None => None,
    };
    Ok(json!({
        "id": i.id,
        "event": event.as_ref().map(|e| json!({
            "id": e.id,
            "title": e.title,
            "slug": e.slug,
            "start_date": (!e.dates_pending).then(|| crate::views::tickets::iso_utc(e.start_date)),
            "end_date": (!e.dates_pending).then(|| crate::views::tickets::iso_utc(e.end_date)),
            "location": location,
            "image_url": image,
        })),
        "first_name": i.first_name,
        "last_name": i.last_name,
        "full_name": full_name(&i.first_name, &i.last_name),
        "max_tickets": i.max_tickets,
        "public_url": public_url(api, &i.public_token),
        "status": i.status,
        "has_email": !i.email.is_empty(),
        "tickets": issued,
        "order_number": order_number,
    }))
}

/// An invitation as its link shows it (the invitee's email is not shown).
#[utoipa::path(
    get,
    path = "/api/v1/public/complimentary/{token}/",
    tag = "courtesy",
    params(("token" = String, Path, description = "The link's secret")),
    responses(
        (status = 200, description = "The invitation, its event, and once redeemed its tickets", body = Object),
        (status = 404, description = "No such invitation", body = Detail),
    )
)]
pub async fn public_invitation(
    api: Api,
    url: RequestUrl,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let i = by_token(&api, &token).await?;
    Ok(super::private_json(public_view(&api, &url, &i).await?))
}

/// Redeems an invitation: a zero-priced paid order with `ticket_quantity`
/// tickets (at most the invitation's), mailed to the invitee when an
/// address is known.
#[utoipa::path(
    post,
    path = "/api/v1/public/complimentary/{token}/redeem/",
    tag = "courtesy",
    params(("token" = String, Path, description = "The link's secret")),
    request_body(content = Object, description = "`{ticket_quantity, first_name?, last_name?, email?}`"),
    responses(
        (status = 201, description = "`{success, invitation_id, order_number, tickets, ticket_count, email_sent}`", body = Object),
        (status = 400, description = "Already redeemed or cancelled, the event is over, too many tickets, or the fields' errors", body = Object),
        (status = 404, description = "No such invitation", body = Detail),
        (status = 409, description = "No seats left in the tier", body = Detail),
        (status = 429, description = "Too many tries from this client", body = Detail),
    )
)]
pub async fn redeem(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    super::auth::ClientIp(ip): super::auth::ClientIp,
    Path(token): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    crate::platform::context::throttle(&ctx)?
        .limit(&format!("courtesy-redeem:ip:{ip}"), 30)
        .await
        .map_err(ApiError::TooManyRequests)?;
    let i = by_token(&api, &token).await?;
    if i.status != "pending" {
        return Err(ApiError::BadRequest(
            "Invitation already redeemed or cancelled".into(),
        ));
    }
    let mut input = super::drf::Input::new(body);
    let first = input
        .text("first_name", false, true, 100)
        .unwrap_or_default();
    let last = input
        .text("last_name", false, true, 100)
        .unwrap_or_default();
    let email = input
        .text("email", false, true, 254)
        .unwrap_or_default()
        .to_lowercase();
    if !email.is_empty() && Email::parse(&email).is_err() {
        input.error("email", super::drf::BAD_EMAIL);
    }
    let quantity = match input.integer("ticket_quantity", 1, MAX_TICKETS) {
        Some(Some(q)) => Some(q),
        Some(None) => {
            input.error("ticket_quantity", super::drf::NULL);
            None
        }
        None if !input.has("ticket_quantity") => {
            input.error("ticket_quantity", super::drf::REQUIRED);
            None
        }
        None => None,
    };
    input.finish_fields()?;
    let quantity = quantity.unwrap_or(1);
    let event = courtesy::event_of(&api.db, &i).await?;
    let Some(event) = event.filter(|e| e.deleted_at.is_none()) else {
        return Err(ApiError::NotFound("Invitation not found"));
    };
    if !event.dates_pending && event.end_date < Utc::now() {
        return Err(ApiError::BadRequest("El evento ya terminó.".into()));
    }
    let organizer = organizers::Entity::find_by_id(event.organizer_id)
        .one(&api.db)
        .await?
        .ok_or(ApiError::NotFound("Invitation not found"))?;
    let fallback = organizer_email(&api, &organizer).await?;
    let attendee = Attendee {
        first_name: first,
        last_name: last,
        email,
    };
    let order =
        match courtesy::redeem(&api.db, &i, &attendee, quantity, &fallback, Utc::now()).await? {
            Ok(order) => order,
            Err(Refusal::NotPending) => {
                return Err(ApiError::BadRequest(
                    "Invitation already redeemed or cancelled".into(),
                ))
            }
            Err(Refusal::TooMany(max)) => {
                return Err(ApiError::BadRequest(format!(
                    "Invalid ticket quantity: {quantity} (max: {max})"
                )))
            }
            Err(Refusal::SoldOut) => {
                return Err(ApiError::Conflict(
                    json!({"detail": "No quedan entradas para esta cortesía."}),
                ))
            }
        };
    api.cache.invalidate();
    let invitee_email = !attendee.email.trim().is_empty() || !i.email.is_empty();
    let email_sent = if invitee_email {
        let base = format!("{}://{}", url.scheme, url.host);
        crate::mailers::order_confirmation::send(&ctx, order.id, &base).await?
    } else {
        false
    };
    let i = courtesy::Entity::find_by_id(i.id)
        .one(&api.db)
        .await?
        .unwrap_or(i);
    let view = public_view(&api, &url, &i).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "invitation_id": i.id,
            "order_number": order.order_number,
            "tickets": view["tickets"],
            "ticket_count": quantity,
            "email_sent": email_sent,
        })),
    )
        .into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_preview, preview)
        .doc(__path_create_batch, create_batch)
        .doc(__path_list, list)
        .doc(__path_export_excel, export_excel)
        .doc(__path_cancel, cancel)
        .doc(__path_public_invitation, public_invitation)
        .doc(__path_redeem, redeem)
}

pub fn routes() -> Routes {
    table().routes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_read_with_or_without_a_header() {
        let (rows, errors) = parse_list(
            "Nombre\tApellido\tCorreo\nAna\tPérez\tana@x.cl\n\nLuis\t\t\n",
            None,
        );
        assert!(errors.is_empty());
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            json!({"first_name": "Ana", "last_name": "Pérez", "email": "ana@x.cl"})
        );
        let (rows, _) = parse_list("First Name,Last Name,E-mail\n\"Rojas, Ana\",R,A@X.CL", None);
        assert_eq!(rows[0]["first_name"], "Rojas, Ana");
        assert_eq!(rows[0]["email"], "a@x.cl");
        let (rows, errors) = parse_list("Ana María Soto ana@x.cl\nLuis luis@\n", None);
        assert_eq!(rows[0]["first_name"], "Ana");
        assert_eq!(rows[0]["last_name"], "María Soto");
        assert_eq!(errors.len(), 1, "{errors:?}");
    }
}
