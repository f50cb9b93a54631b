//! An organizer's ticket categories on backtuki's paths
//! (`ticket-categories/`, `events/{event_id}/ticket-categories/`,
//! `ticket-categories/{id}/`) and its `TicketCategorySerializer` shape, and
//! a tier put into (or taken out of) a category
//! (`ticket-tiers/{id}/category_link/`).
//!
//! Every query is scoped by the [`Member`]'s organizer through its events;
//! changes need a member who manages events. Unlike backtuki, a category
//! created without `capacity` is unlimited (backtuki's 0 made it sold out),
//! PATCH is partial, and the windows and limits are checked.

use axum::{extract::Path, http::StatusCode, response::Response, Json};
use chrono::{NaiveDate, NaiveTime};
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func, Query},
    ActiveValue::Set,
    PaginatorTrait, QueryOrder, QuerySelect,
};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    drf::{Body, Input},
    organizer_events::own_event_by_id,
    organizer_tiers::own_tier,
    organizers::Member,
    page_number, Api, ApiError, Detail, Page, RequestUrl, Table,
};
use crate::{
    models::{
        _entities::ticket_tiers,
        events::{self, PublicTicketCategory},
        ticket_categories::{self, STATUSES, VISIBILITIES},
    },
    views::events::TicketCategoryResponse,
};

fn not_found() -> ApiError {
    ApiError::NotFound("No encontrado.")
}

/// What each category's tiers sold.
async fn sold_by(
    api: &Api,
    ids: Vec<Uuid>,
) -> Result<std::collections::HashMap<Uuid, i64>, ApiError> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(Option<Uuid>, Option<i64>)> = ticket_tiers::Entity::find()
        .select_only()
        .column(ticket_tiers::Column::CategoryId)
        .column_as(
            Expr::expr(Func::sum(Expr::col(ticket_tiers::Column::Sold))).cast_as("BIGINT"),
            "sold",
        )
        .filter(ticket_tiers::Column::CategoryId.is_in(ids))
        .group_by(ticket_tiers::Column::CategoryId)
        .into_tuple()
        .all(&api.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, sold)| id.map(|id| (id, sold.unwrap_or(0))))
        .collect())
}

fn shown(c: &ticket_categories::Model, sold: i64) -> TicketCategoryResponse {
    TicketCategoryResponse::from(&PublicTicketCategory {
        id: c.id,
        name: c.name.clone(),
        description: c.description.clone(),
        capacity: c.capacity,
        sold,
        status: c.status.clone(),
        visibility: c.visibility.clone(),
        color: c.color.clone(),
        order: c.display_order,
        max_per_purchase: c.max_per_purchase,
        min_per_purchase: c.min_per_purchase,
        sale_start_date: c.sale_start_date.clone(),
        sale_end_date: c.sale_end_date.clone(),
        sale_start_time: c.sale_start_time.clone(),
        sale_end_time: c.sale_end_time.clone(),
        access_start_date: c.access_start_date.clone(),
        access_end_date: c.access_end_date.clone(),
        access_start_time: c.access_start_time.clone(),
        access_end_time: c.access_end_time.clone(),
        requires_approval: c.requires_approval,
    })
}

async fn shown_one(
    api: &Api,
    c: &ticket_categories::Model,
) -> Result<TicketCategoryResponse, ApiError> {
    let sold = sold_by(api, vec![c.id]).await?;
    Ok(shown(c, sold.get(&c.id).copied().unwrap_or(0)))
}

/// The organizer's events that are not deleted, as a subquery.
fn own_events(member: &Member) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(events::Column::Id)
        .from(events::Entity)
        .and_where(events::Column::OrganizerId.eq(member.organizer.id))
        .and_where(events::Column::DeletedAt.is_null())
        .to_owned()
}

/// One of the organizer's categories, or 404.
async fn own_category(
    api: &Api,
    member: &Member,
    id: &str,
) -> Result<ticket_categories::Model, ApiError> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    ticket_categories::Entity::find_by_id(id)
        .filter(ticket_categories::Column::EventId.in_subquery(own_events(member)))
        .one(&api.db)
        .await?
        .ok_or_else(not_found)
}

async fn list_for(
    api: &Api,
    url: &RequestUrl,
    member: &Member,
    event: Option<Uuid>,
) -> Result<Response, ApiError> {
    let mut query = ticket_categories::Entity::find()
        .filter(ticket_categories::Column::EventId.in_subquery(own_events(member)));
    if let Some(event) = event {
        query = query.filter(ticket_categories::Column::EventId.eq(event));
    }
    for (key, column, allowed) in [
        ("status", ticket_categories::Column::Status, &STATUSES),
        (
            "visibility",
            ticket_categories::Column::Visibility,
            &VISIBILITIES,
        ),
    ] {
        if let Some(v) = url.get(key).filter(|v| !v.is_empty()) {
            if !allowed.contains(&v) {
                return Err(ApiError::Field(
                    key,
                    format!("Escoja una opción válida. {v} no es una de las opciones disponibles."),
                ));
            }
            query = query.filter(column.eq(v));
        }
    }
    query = match url.get("ordering").unwrap_or("order") {
        "-order" => query.order_by_desc(ticket_categories::Column::DisplayOrder),
        "name" => query.order_by_asc(ticket_categories::Column::Name),
        "-name" => query.order_by_desc(ticket_categories::Column::Name),
        _ => query.order_by_asc(ticket_categories::Column::DisplayOrder),
    }
    .order_by_asc(ticket_categories::Column::Id);
    let count = query.clone().count(&api.db).await?;
    let page = page_number(url.get("page"), count)?;
    let rows = query
        .paginate(&api.db, super::PAGE_SIZE)
        .fetch_page(page - 1)
        .await?;
    let sold = sold_by(api, rows.iter().map(|c| c.id).collect()).await?;
    let results: Vec<TicketCategoryResponse> = rows
        .iter()
        .map(|c| shown(c, sold.get(&c.id).copied().unwrap_or(0)))
        .collect();
    Ok(super::private_json(Page::new(url, count, page, results)))
}

/// The organizer's ticket categories (`?event=` narrows to one event;
/// `?status=`, `?visibility=`, `?ordering=order|-order|name|-name`).
#[utoipa::path(
    get,
    path = "/api/v1/ticket-categories/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(
        ("event" = Option<String>, Query, description = "One of the organizer's events"),
        ("status" = Option<String>, Query, description = "`active`, `hidden` or `sold_out`"),
        ("visibility" = Option<String>, Query, description = "`public`, `private` or `password`"),
        ("ordering" = Option<String>, Query, description = "`order` (default), `-order`, `name`, `-name`"),
        ("page" = Option<String>, Query, description = "1-based page number, or `last`"),
    ),
    responses(
        (status = 200, description = "One page of categories", body = Page<TicketCategoryResponse>),
        (status = 400, description = "A bad filter", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an organizer's member", body = Detail),
        (status = 404, description = "Not one of the organizer's events, or a page beyond the last", body = Detail),
    )
)]
pub async fn list(api: Api, url: RequestUrl, member: Member) -> Result<Response, ApiError> {
    let event = match url.get("event").filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => {
            let id = Uuid::parse_str(e.trim()).map_err(|_| not_found())?;
            Some(own_event_by_id(&api, &member, id).await?.id)
        }
    };
    list_for(&api, &url, &member, event).await
}

/// One event's ticket categories.
#[utoipa::path(
    get,
    path = "/api/v1/events/{event_id}/ticket-categories/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "One of the organizer's events")),
    responses(
        (status = 200, description = "One page of categories", body = Page<TicketCategoryResponse>),
        (status = 400, description = "A bad filter", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an organizer's member", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn list_of_event(
    api: Api,
    url: RequestUrl,
    member: Member,
    Path(event_id): Path<String>,
) -> Result<Response, ApiError> {
    let id = Uuid::parse_str(event_id.trim()).map_err(|_| not_found())?;
    let event = own_event_by_id(&api, &member, id).await?;
    list_for(&api, &url, &member, Some(event.id)).await
}

/// A `YYYY-MM-DD` date or an `hh:mm[:ss]` time (as `HH:MM:SS`), or null.
fn when(input: &mut Input, key: &str, time: bool) -> Option<Option<String>> {
    match input.raw(key).cloned() {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.trim().is_empty() => Some(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            let parsed = if time {
                NaiveTime::parse_from_str(s, "%H:%M:%S")
                    .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
                    .ok()
                    .map(|t| t.format("%H:%M:%S").to_string())
            } else {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .map(|d| d.format("%Y-%m-%d").to_string())
            };
            if parsed.is_none() {
                input.error(key, bad_when(time));
            }
            parsed.map(Some)
        }
        Some(_) => {
            input.error(key, bad_when(time));
            None
        }
    }
}

const fn bad_when(time: bool) -> &'static str {
    if time {
        "Hora con formato erróneo. Use uno de los siguientes formatos en su lugar: hh:mm[:ss[.uuuuuu]]."
    } else {
        "Fecha con formato erróneo. Use uno de los siguientes formatos en su lugar: YYYY-MM-DD."
    }
}

const WINDOW_KEYS: [&str; 8] = [
    "sale_start_date",
    "sale_end_date",
    "sale_start_time",
    "sale_end_time",
    "access_start_date",
    "access_end_date",
    "access_start_time",
    "access_end_time",
];

/// Reads a category's fields onto `row` (`creating`/PUT: `name` required).
fn read_category(
    body: Value,
    full: bool,
    row: &mut ticket_categories::ActiveModel,
    current: Option<&ticket_categories::Model>,
) -> Result<(), ApiError> {
    let mut input = Input::new(body);
    if let Some(name) = input.text("name", full, false, 100) {
        row.name = Set(name);
    }
    if let Some(d) = input.text("description", false, true, 2000) {
        row.description = Set(d);
    }
    if let Some(color) = input.text("color", false, true, 20) {
        row.color = Set(color);
    }
    for (key, allowed) in [("status", &STATUSES), ("visibility", &VISIBILITIES)] {
        if let Some(v) = input.text(key, false, false, 20) {
            if allowed.contains(&v.as_str()) {
                if key == "status" {
                    row.status = Set(v);
                } else {
                    row.visibility = Set(v);
                }
            } else {
                input.error(key, format!("\"{v}\" no es una elección válida."));
            }
        }
    }
    if let Some(capacity) = input.integer("capacity", 0, 10_000_000) {
        row.capacity = Set(capacity);
    }
    if let Some(order) = input.integer("order", 0, 10_000) {
        row.display_order = Set(order.unwrap_or(0));
    }
    let min = input
        .integer("min_per_purchase", 1, 1000)
        .map(|m| m.unwrap_or(1));
    let max = input
        .integer("max_per_purchase", 1, 1000)
        .map(|m| m.unwrap_or(10));
    if input.boolean("requires_approval", false) {
        input.error(
            "requires_approval",
            "No disponible: aquí las compras no esperan aprobación.",
        );
    }
    let mut windows: [Option<Option<String>>; 8] = Default::default();
    for (slot, key) in windows.iter_mut().zip(WINDOW_KEYS) {
        *slot = when(&mut input, key, key.ends_with("_time"));
    }
    input.finish_fields()?;
    let min = min.unwrap_or_else(|| current.map_or(1, |c| c.min_per_purchase));
    let max = max.unwrap_or_else(|| current.map_or(10, |c| c.max_per_purchase));
    if min > max {
        return Err(ApiError::Field(
            "min_per_purchase",
            "El mínimo por compra no puede ser mayor que el máximo.".into(),
        ));
    }
    row.min_per_purchase = Set(min);
    row.max_per_purchase = Set(max);
    let old = |i: usize| {
        current.and_then(|c| {
            [
                &c.sale_start_date,
                &c.sale_end_date,
                &c.sale_start_time,
                &c.sale_end_time,
                &c.access_start_date,
                &c.access_end_date,
                &c.access_start_time,
                &c.access_end_time,
            ][i]
                .clone()
        })
    };
    let after: Vec<Option<String>> = windows
        .iter()
        .enumerate()
        .map(|(i, w)| w.clone().unwrap_or_else(|| old(i)))
        .collect();
    // A window's end is not before its start (same-format text compares as
    // dates and times do).
    for (start, end, key) in [(0, 1, "sale_end_date"), (4, 5, "access_end_date")] {
        if let (Some(s), Some(e)) = (&after[start], &after[end]) {
            let same_day = s == e;
            let times_backwards = matches!(
                (&after[start + 2], &after[end + 2]),
                (Some(st), Some(et)) if et <= st
            );
            if e < s || (same_day && times_backwards) {
                return Err(ApiError::Field(
                    key,
                    "El fin no puede ser anterior al inicio.".into(),
                ));
            }
        }
    }
    row.sale_start_date = Set(after[0].clone());
    row.sale_end_date = Set(after[1].clone());
    row.sale_start_time = Set(after[2].clone());
    row.sale_end_time = Set(after[3].clone());
    row.access_start_date = Set(after[4].clone());
    row.access_end_date = Set(after[5].clone());
    row.access_start_time = Set(after[6].clone());
    row.access_end_time = Set(after[7].clone());
    Ok(())
}

async fn create_in(
    api: &Api,
    member: &Member,
    event_id: Uuid,
    body: Value,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let event = own_event_by_id(api, member, event_id).await?;
    let now = chrono::Utc::now().fixed_offset();
    let mut row = ticket_categories::ActiveModel {
        id: Set(Uuid::new_v4()),
        event_id: Set(event.id),
        name: Set(String::new()),
        description: Set(String::new()),
        capacity: Set(None),
        status: Set("active".into()),
        visibility: Set("public".into()),
        color: Set("#3b82f6".into()),
        display_order: Set(0),
        requires_approval: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    read_category(body, true, &mut row, None)?;
    let saved = row.insert(&api.db).await?;
    api.cache.invalidate();
    Ok((StatusCode::CREATED, Json(shown(&saved, 0))).into_response())
}

/// A new category for one of the organizer's events (`event` in the body).
#[utoipa::path(
    post,
    path = "/api/v1/ticket-categories/",
    tag = "organizer events",
    security(("bearer" = [])),
    request_body(content = super::bodies::CategoryWrite, description = "`event` and the category's fields"),
    responses(
        (status = 201, description = "The category", body = TicketCategoryResponse),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn create(api: Api, member: Member, Body(body): Body) -> Result<Response, ApiError> {
    let event = super::organizer_events::event_in_body(&body)?;
    create_in(&api, &member, event, body).await
}

/// A new category for this event.
#[utoipa::path(
    post,
    path = "/api/v1/events/{event_id}/ticket-categories/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "One of the organizer's events")),
    request_body(content = super::bodies::CategoryWrite, description = "The category's fields"),
    responses(
        (status = 201, description = "The category", body = TicketCategoryResponse),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn create_for_event(
    api: Api,
    member: Member,
    Path(event_id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let id = Uuid::parse_str(event_id.trim()).map_err(|_| not_found())?;
    create_in(&api, &member, id, body).await
}

/// One of the organizer's categories.
#[utoipa::path(
    get,
    path = "/api/v1/ticket-categories/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The category's id")),
    responses(
        (status = 200, description = "The category", body = TicketCategoryResponse),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an organizer's member", body = Detail),
        (status = 404, description = "Not one of the organizer's categories", body = Detail),
    )
)]
pub async fn read(api: Api, member: Member, Path(id): Path<String>) -> Result<Response, ApiError> {
    let c = own_category(&api, &member, &id).await?;
    Ok(super::private_json(shown_one(&api, &c).await?))
}

async fn update(
    api: &Api,
    member: &Member,
    id: &str,
    body: Value,
    full: bool,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let current = own_category(api, member, id).await?;
    let mut row: ticket_categories::ActiveModel = current.clone().into();
    read_category(body, full, &mut row, Some(&current))?;
    let saved = row.update(&api.db).await?;
    api.cache.invalidate();
    Ok(super::private_json(shown_one(api, &saved).await?))
}

/// Replaces a category's fields (`name` required).
#[utoipa::path(
    put,
    path = "/api/v1/ticket-categories/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The category's id")),
    request_body(content = super::bodies::CategoryWrite, description = "The category's fields"),
    responses(
        (status = 200, description = "The category as saved", body = TicketCategoryResponse),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's categories", body = Detail),
    )
)]
pub async fn replace(
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    update(&api, &member, &id, body, true).await
}

/// Changes some of a category's fields (reorder with `order`, hide with
/// `status: hidden`).
#[utoipa::path(
    patch,
    path = "/api/v1/ticket-categories/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The category's id")),
    request_body(content = super::bodies::CategoryWrite, description = "Any of the category's fields"),
    responses(
        (status = 200, description = "The category as saved", body = TicketCategoryResponse),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's categories", body = Detail),
    )
)]
pub async fn amend(
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    update(&api, &member, &id, body, false).await
}

/// Deletes a category; its tiers stay, outside any category.
#[utoipa::path(
    delete,
    path = "/api/v1/ticket-categories/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The category's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's categories", body = Detail),
    )
)]
pub async fn destroy(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let c = own_category(&api, &member, &id).await?;
    ticket_tiers::Entity::update_many()
        .col_expr(
            ticket_tiers::Column::CategoryId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(ticket_tiers::Column::CategoryId.eq(c.id))
        .exec(&api.db)
        .await?;
    ticket_categories::Entity::delete_by_id(c.id)
        .exec(&api.db)
        .await?;
    api.cache.invalidate();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Puts a tier into one of its event's categories (`category_id`), or takes
/// it out (`category_id: null`).
#[utoipa::path(
    post,
    path = "/api/v1/ticket-tiers/{id}/category_link/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The tier's id")),
    request_body(content = super::bodies::CategoryLink, description = "`{category_id}`"),
    responses(
        (status = 200, description = "Linked (`category_id`/`category_name` null when taken out)", body = Object,
            example = json!({"id": "…", "name": "General", "category_id": "…", "category_name": "Platea"})),
        (status = 400, description = "`category_id` missing or a category of another event (`{detail}`), or a body that is not JSON (its errors)", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's tiers or categories", body = Detail),
    )
)]
pub async fn category_link(
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let (tier, _) = own_tier(&api, &member, &id).await?;
    let category = match body.get("category_id") {
        None => return Err(ApiError::BadRequest("Category ID is required".into())),
        Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let c = own_category(&api, &member, s)
                .await
                .map_err(|_| ApiError::NotFound("Category not found"))?;
            if c.event_id != tier.event_id {
                return Err(ApiError::BadRequest(
                    "Category must belong to the same event as the ticket tier".into(),
                ));
            }
            Some(c)
        }
        Some(_) => return Err(ApiError::NotFound("Category not found")),
    };
    ticket_tiers::Entity::update_many()
        .col_expr(
            ticket_tiers::Column::CategoryId,
            Expr::value(category.as_ref().map(|c| c.id)),
        )
        .col_expr(
            ticket_tiers::Column::UpdatedAt,
            Expr::value(chrono::Utc::now().fixed_offset()),
        )
        .filter(ticket_tiers::Column::Id.eq(tier.id))
        .exec(&api.db)
        .await?;
    api.cache.invalidate();
    Ok(super::private_json(json!({
        "id": tier.id,
        "name": tier.name,
        "category_id": category.as_ref().map(|c| c.id),
        "category_name": category.as_ref().map(|c| c.name.clone()),
    })))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_list, list)
        .doc(__path_create, create)
        .doc(__path_list_of_event, list_of_event)
        .doc(__path_create_for_event, create_for_event)
        .doc(__path_read, read)
        .doc(__path_replace, replace)
        .doc(__path_amend, amend)
        .doc(__path_destroy, destroy)
        .doc(__path_category_link, category_link)
}

pub fn routes() -> Routes {
    table().routes()
}
