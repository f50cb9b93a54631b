//! An organizer's ticket tiers on the dashboard, on backtuki's paths
//! (`ticket-tiers/`, `events/{event_id}/ticket-tiers/`) and its tier shape,
//! with the rules a seller relies on: the capacity never below what is sold
//! and held (decided by the database, in the same statement as the change),
//! a price change on a tier with sales only when confirmed, and a tier with
//! sales hidden instead of deleted.

use std::collections::HashMap;

use axum::{extract::Path, http::StatusCode, response::Response, Json};
use chrono::{DateTime, FixedOffset, Utc};
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    PaginatorTrait, QueryOrder,
};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    drf::{Body, Input},
    organizer_events::own_event_by_id,
    organizers::Member,
    page_number, Api, ApiError, Detail, Page, RequestUrl, Table,
};
use crate::{
    admin::audit::Change,
    models::{
        _entities::{order_items, ticket_categories, ticket_tiers},
        events::{self, sales_active_at, PublicTier, TierCategory},
    },
    views::events::TierResponse,
};

/// A tier as the dashboard reads it: backtuki's `TicketTierSerializer`,
/// hidden tiers included.
/// The ticket categories of these tiers, by id.
async fn categories_of(
    api: &Api,
    tiers: &[&ticket_tiers::Model],
) -> Result<HashMap<Uuid, TierCategory>, ApiError> {
    let ids: Vec<Uuid> = tiers.iter().filter_map(|t| t.category_id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(ticket_categories::Entity::find()
        .filter(ticket_categories::Column::Id.is_in(ids))
        .all(&api.db)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id,
                TierCategory {
                    id: c.id,
                    name: c.name,
                    description: c.description,
                },
            )
        })
        .collect())
}

/// [`shown`] with the tier's category looked up.
async fn shown_one(
    api: &Api,
    event: &events::Model,
    t: &ticket_tiers::Model,
) -> Result<TierResponse, ApiError> {
    let categories = categories_of(api, &[t]).await?;
    Ok(shown(api, event, t, &categories))
}

fn shown(
    api: &Api,
    event: &events::Model,
    t: &ticket_tiers::Model,
    categories: &HashMap<Uuid, TierCategory>,
) -> TierResponse {
    let now = Utc::now().fixed_offset();
    let ceiling = i32::try_from(crate::payments::checkout::order_ceiling(
        event.max_tickets_per_purchase,
        &api.settings.limits,
    ))
    .unwrap_or(i32::MAX);
    let active = sales_active_at(
        &event.status,
        event.ticket_sales_start,
        event.ticket_sales_end,
        event.end_date,
        now,
    );
    let mut tier = PublicTier::from(t);
    tier.category = t.category_id.and_then(|c| categories.get(&c).cloned());
    let mut out = TierResponse::new(&tier, event.service_fee_bps, ceiling, active, now);
    out.is_public = t.is_public;
    out.isPublic = t.is_public;
    out.on_sale = out.on_sale && t.is_public;
    out
}

/// One of the member's organizer's tiers with its event, or 404.
pub(super) async fn own_tier(
    api: &Api,
    member: &Member,
    id: &str,
) -> Result<(ticket_tiers::Model, events::Model), ApiError> {
    let not_found = ApiError::NotFound("No encontrado.");
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found.clone())?;
    let tier = ticket_tiers::Entity::find_by_id(id)
        .one(&api.db)
        .await?
        .ok_or(not_found)?;
    let event = own_event_by_id(api, member, tier.event_id).await?;
    Ok((tier, event))
}

async fn list_for(
    api: &Api,
    url: &RequestUrl,
    member: &Member,
    event: Option<Uuid>,
) -> Result<Response, ApiError> {
    let mut query = ticket_tiers::Entity::find().filter(
        ticket_tiers::Column::EventId.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(events::Column::Id)
                .from(events::Entity)
                .and_where(events::Column::OrganizerId.eq(member.organizer.id))
                .and_where(events::Column::DeletedAt.is_null())
                .to_owned(),
        ),
    );
    if let Some(event) = event {
        query = query.filter(ticket_tiers::Column::EventId.eq(event));
    }
    let query = query
        .order_by_asc(ticket_tiers::Column::DisplayOrder)
        .order_by_asc(ticket_tiers::Column::Price)
        .order_by_asc(ticket_tiers::Column::Id);
    let count = query.clone().count(&api.db).await?;
    let page = page_number(url.get("page"), count)?;
    let rows = query
        .paginate(&api.db, super::PAGE_SIZE)
        .fetch_page(page - 1)
        .await?;
    let event_ids: Vec<Uuid> = rows.iter().map(|t| t.event_id).collect();
    let events: std::collections::HashMap<Uuid, events::Model> = events::Entity::find()
        .filter(events::Column::Id.is_in(event_ids))
        .all(&api.db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let categories = categories_of(api, &rows.iter().collect::<Vec<_>>()).await?;
    let results: Vec<TierResponse> = rows
        .iter()
        .filter_map(|t| {
            events
                .get(&t.event_id)
                .map(|e| shown(api, e, t, &categories))
        })
        .collect();
    Ok(super::private_json(Page::new(url, count, page, results)))
}

/// The organizer's tiers (`?event=` narrows to one event), in display order.
#[utoipa::path(
    get,
    path = "/api/v1/ticket-tiers/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(
        ("event" = Option<String>, Query, description = "One of the organizer's events"),
        ("page" = Option<String>, Query, description = "1-based page number, or `last`"),
    ),
    responses(
        (status = 200, description = "One page of tiers", body = Page<TierResponse>),
        (status = 400, description = "A parameter with a NUL character", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an organizer's member", body = Detail),
        (status = 404, description = "Not one of the organizer's events, or a page beyond the last", body = Detail),
    )
)]
pub async fn list(api: Api, url: RequestUrl, member: Member) -> Result<Response, ApiError> {
    let event = match url.get("event").filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => {
            let id = Uuid::parse_str(e.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
            Some(own_event_by_id(&api, &member, id).await?.id)
        }
    };
    list_for(&api, &url, &member, event).await
}

/// One event's tiers.
#[utoipa::path(
    get,
    path = "/api/v1/events/{event_id}/ticket-tiers/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "One of the organizer's events")),
    responses(
        (status = 200, description = "One page of tiers", body = Page<TierResponse>),
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
    let id = Uuid::parse_str(event_id.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
    let event = own_event_by_id(&api, &member, id).await?;
    list_for(&api, &url, &member, Some(event.id)).await
}

/// What a create or an update carries; `None`: not sent.
#[derive(Default)]
struct TierInput {
    name: Option<String>,
    tier_type: Option<String>,
    description: Option<String>,
    price: Option<i64>,
    /// `Some(None)`: unlimited.
    capacity: Option<Option<i32>>,
    is_public: Option<bool>,
    is_highlighted: Option<bool>,
    min_per_order: Option<i32>,
    max_per_order: Option<Option<i32>>,
    benefits: Option<String>,
    order: Option<i32>,
    sale_start: Option<Option<DateTime<FixedOffset>>>,
    sale_end: Option<Option<DateTime<FixedOffset>>>,
    confirm_price_change: bool,
}

/// backtuki's camelCase keys, and `price: {basePrice}`.
fn normalized(body: Value) -> Value {
    let Value::Object(mut map) = body else {
        return body;
    };
    for (camel, snake) in [
        ("maxPerOrder", "max_per_order"),
        ("minPerOrder", "min_per_order"),
        ("isPublic", "is_public"),
        ("isHighlighted", "is_highlighted"),
        ("confirmPriceChange", "confirm_price_change"),
    ] {
        if let Some(v) = map.remove(camel) {
            map.entry(snake.to_string()).or_insert(v);
        }
    }
    if let Some(Value::Object(price)) = map.get("price").cloned() {
        let base = price
            .get("basePrice")
            .or_else(|| price.get("base_price"))
            .cloned()
            .unwrap_or(json!(0));
        map.insert("price".into(), base);
    }
    Value::Object(map)
}

fn read_tier(body: Value, creating: bool) -> Result<TierInput, ApiError> {
    let mut input = Input::new(normalized(body));
    for refused in [
        "is_pay_what_you_want",
        "isPayWhatYouWant",
        "is_raffle",
        "requires_approval",
    ] {
        if input.raw(refused).is_some_and(|v| v == &json!(true)) {
            input.error(
                refused,
                "No disponible: aquí las entradas tienen precio fijo.",
            );
        }
    }
    let mut out = TierInput {
        name: input.text("name", creating, false, 100),
        tier_type: input.text("type", false, true, 50),
        description: input.text("description", false, true, 2000),
        benefits: input.text("benefits", false, true, 500),
        ..TierInput::default()
    };
    // Whole pesos; a price with cents is refused rather than rounded.
    if let Some(raw) = input.raw("price").cloned() {
        match raw {
            Value::Number(n) if n.as_i64().is_some_and(|p| (0..=100_000_000).contains(&p)) => {
                out.price = n.as_i64();
            }
            Value::Number(n)
                if n.as_f64()
                    .is_some_and(|p| p.fract() == 0.0 && (0.0..=1e8).contains(&p)) =>
            {
                #[allow(clippy::cast_possible_truncation)]
                let whole = n.as_f64().map(|p| p as i64);
                out.price = whole;
            }
            _ => input.error(
                "price",
                "El precio es un número entero de pesos, de 0 a 100.000.000.",
            ),
        }
    } else if creating {
        input.error("price", "Este campo es requerido.");
    }
    out.capacity = input.integer("capacity", 0, 10_000_000);
    out.min_per_order = input.integer("min_per_order", 1, 1000).flatten();
    out.max_per_order = input.integer("max_per_order", 1, 1000);
    out.order = input.integer("order", 0, 10_000).flatten();
    if input.has("is_public") {
        out.is_public = Some(input.boolean("is_public", true));
    }
    if input.has("is_highlighted") {
        out.is_highlighted = Some(input.boolean("is_highlighted", false));
    }
    out.confirm_price_change = input.boolean("confirm_price_change", false);
    for (key, slot) in [
        ("sale_start", &mut out.sale_start),
        ("sale_end", &mut out.sale_end),
    ] {
        match input.raw(key).cloned() {
            None => {}
            Some(Value::Null) => *slot = Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => *slot = Some(None),
            Some(Value::String(s)) => match super::events::parse_when("x", &s) {
                Ok(at) => *slot = Some(Some(at)),
                Err(_) => input.error(key, "Fecha/hora con formato erróneo."),
            },
            Some(_) => input.error(key, "Fecha/hora con formato erróneo."),
        }
    }
    input.finish_fields()?;
    Ok(out)
}

/// The per-order limits and the sale window, as they will be after the
/// change.
fn check_limits(t: &TierInput, current: Option<&ticket_tiers::Model>) -> Result<(), ApiError> {
    let min = t
        .min_per_order
        .or(current.map(|c| c.min_per_order))
        .unwrap_or(1);
    let max = t
        .max_per_order
        .unwrap_or_else(|| current.and_then(|c| c.max_per_order));
    if max.is_some_and(|max| min > max) {
        return Err(ApiError::Field(
            "min_per_order",
            "El mínimo por compra no puede ser mayor que el máximo.".into(),
        ));
    }
    let start = t
        .sale_start
        .unwrap_or_else(|| current.and_then(|c| c.sale_start));
    let end = t
        .sale_end
        .unwrap_or_else(|| current.and_then(|c| c.sale_end));
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            return Err(ApiError::Field(
                "sale_end",
                "El fin de la venta debe ser posterior a su inicio.".into(),
            ));
        }
    }
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
    let input = read_tier(body, true)?;
    check_limits(&input, None)?;
    let now = Utc::now().fixed_offset();
    let row = ticket_tiers::ActiveModel {
        id: Set(Uuid::new_v4()),
        event_id: Set(event.id),
        name: Set(input.name.unwrap_or_default()),
        description: Set(input.description.unwrap_or_default()),
        price: Set(input.price.unwrap_or(0)),
        capacity: Set(input.capacity.flatten()),
        sold: Set(0),
        reserved: Set(0),
        min_per_order: Set(input.min_per_order.unwrap_or(1)),
        max_per_order: Set(input.max_per_order.flatten()),
        sale_start: Set(input.sale_start.flatten()),
        sale_end: Set(input.sale_end.flatten()),
        is_public: Set(input.is_public.unwrap_or(true)),
        display_order: Set(input.order.unwrap_or(0)),
        tier_type: Set(input.tier_type.unwrap_or_default()),
        benefits: Set(input.benefits.unwrap_or_default()),
        is_highlighted: Set(input.is_highlighted.unwrap_or(false)),
        category_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&api.db)
    .await?;
    api.cache.invalidate();
    member
        .log(
            api,
            "tickettier",
            row.id,
            &row.name,
            Change::Added,
            "Creada.",
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(shown_one(api, &event, &row).await?),
    )
        .into_response())
}

/// A new tier for one of the organizer's events (`event` in the body).
#[utoipa::path(
    post,
    path = "/api/v1/ticket-tiers/",
    tag = "organizer events",
    security(("bearer" = [])),
    request_body(content = super::bodies::TierWrite, description = "`event` and the tier's fields"),
    responses(
        (status = 201, description = "The tier", body = TierResponse),
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

/// A new tier for this event.
#[utoipa::path(
    post,
    path = "/api/v1/events/{event_id}/ticket-tiers/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("event_id" = String, Path, description = "One of the organizer's events")),
    request_body(content = super::bodies::TierWrite, description = "The tier's fields"),
    responses(
        (status = 201, description = "The tier", body = TierResponse),
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
    let id = Uuid::parse_str(event_id.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
    create_in(&api, &member, id, body).await
}

/// One of the organizer's tiers.
#[utoipa::path(
    get,
    path = "/api/v1/ticket-tiers/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The tier's id")),
    responses(
        (status = 200, description = "The tier", body = TierResponse),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an organizer's member", body = Detail),
        (status = 404, description = "Not one of the organizer's tiers", body = Detail),
    )
)]
pub async fn read(api: Api, member: Member, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (tier, event) = own_tier(&api, &member, &id).await?;
    Ok(super::private_json(shown_one(&api, &event, &tier).await?))
}

async fn update(
    api: &Api,
    member: &Member,
    id: &str,
    body: Value,
    full: bool,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let (tier, event) = own_tier(api, member, id).await?;
    let input = read_tier(body, full)?;
    check_limits(&input, Some(&tier))?;
    let mut update = ticket_tiers::Entity::update_many()
        .col_expr(
            ticket_tiers::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(ticket_tiers::Column::Id.eq(tier.id));
    // The price of a tier that has sold or holds seats changes only when the
    // organizer confirms it; checked in the same statement as the change.
    let price_change = input.price.filter(|p| *p != tier.price);
    if let Some(price) = price_change {
        update = update.col_expr(ticket_tiers::Column::Price, Expr::value(price));
        if !input.confirm_price_change {
            update = update
                .filter(ticket_tiers::Column::Sold.eq(0))
                .filter(ticket_tiers::Column::Reserved.eq(0));
        }
    }
    // The capacity never goes below what is sold and held, whatever
    // reserves run meanwhile: the database compares in the same statement.
    if let Some(capacity) = input.capacity {
        update = update.col_expr(ticket_tiers::Column::Capacity, Expr::value(capacity));
        if let Some(c) = capacity {
            update = update.filter(
                Expr::col(ticket_tiers::Column::Sold)
                    .add(Expr::col(ticket_tiers::Column::Reserved))
                    .lte(c),
            );
        }
    }
    macro_rules! set {
        ($field:expr, $column:expr) => {
            if let Some(v) = $field {
                update = update.col_expr($column, Expr::value(v));
            }
        };
    }
    set!(input.name, ticket_tiers::Column::Name);
    set!(input.tier_type, ticket_tiers::Column::TierType);
    set!(input.description, ticket_tiers::Column::Description);
    set!(input.benefits, ticket_tiers::Column::Benefits);
    set!(input.is_public, ticket_tiers::Column::IsPublic);
    set!(input.is_highlighted, ticket_tiers::Column::IsHighlighted);
    set!(input.min_per_order, ticket_tiers::Column::MinPerOrder);
    set!(input.max_per_order, ticket_tiers::Column::MaxPerOrder);
    set!(input.order, ticket_tiers::Column::DisplayOrder);
    set!(input.sale_start, ticket_tiers::Column::SaleStart);
    set!(input.sale_end, ticket_tiers::Column::SaleEnd);
    let done = update.exec(&api.db).await?;
    if done.rows_affected == 0 {
        let now = ticket_tiers::Entity::find_by_id(tier.id)
            .one(&api.db)
            .await?
            .unwrap_or(tier);
        let taken = now.sold + now.reserved;
        if input.capacity.flatten().is_some_and(|c| c < taken) {
            return Err(ApiError::Field(
                "capacity",
                format!(
                    "La capacidad no puede ser menor que {taken} (entradas vendidas y reservadas)."
                ),
            ));
        }
        return Err(ApiError::Field(
            "price",
            "Esta entrada ya tiene ventas: confirma el cambio de precio (confirm_price_change)."
                .into(),
        ));
    }
    api.cache.invalidate();
    let saved = ticket_tiers::Entity::find_by_id(tier.id)
        .one(&api.db)
        .await?
        .ok_or(ApiError::NotFound("No encontrado."))?;
    let changed: Vec<&str> = [
        ("name", tier.name != saved.name),
        ("price", tier.price != saved.price),
        ("capacity", tier.capacity != saved.capacity),
        ("description", tier.description != saved.description),
        ("is_public", tier.is_public != saved.is_public),
        ("min_per_order", tier.min_per_order != saved.min_per_order),
        ("max_per_order", tier.max_per_order != saved.max_per_order),
        ("order", tier.display_order != saved.display_order),
        ("sale_start", tier.sale_start != saved.sale_start),
        ("sale_end", tier.sale_end != saved.sale_end),
    ]
    .into_iter()
    .filter_map(|(k, c)| c.then_some(k))
    .collect();
    let message = if changed.is_empty() {
        "No ha cambiado ningún campo.".to_string()
    } else {
        format!("Modificado {}.", changed.join(", "))
    };
    member
        .log(
            api,
            "tickettier",
            saved.id,
            &saved.name,
            Change::Changed,
            &message,
        )
        .await;
    Ok(super::private_json(shown_one(api, &event, &saved).await?))
}

/// Replaces a tier's fields (`name` and `price` required).
#[utoipa::path(
    put,
    path = "/api/v1/ticket-tiers/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The tier's id")),
    request_body(content = super::bodies::TierWrite, description = "The tier's fields"),
    responses(
        (status = 200, description = "The tier as saved", body = TierResponse),
        (status = 400, description = "Each wrong field with its messages (a capacity below what is sold and held; a price change on a tier with sales, unconfirmed)", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's tiers", body = Detail),
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

/// Changes some of a tier's fields.
#[utoipa::path(
    patch,
    path = "/api/v1/ticket-tiers/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The tier's id")),
    request_body(content = super::bodies::TierWrite, description = "Any of the tier's fields"),
    responses(
        (status = 200, description = "The tier as saved", body = TierResponse),
        (status = 400, description = "Each wrong field with its messages (a capacity below what is sold and held; a price change on a tier with sales, unconfirmed)", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's tiers", body = Detail),
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

/// `DELETE`'s answer when the tier is kept (hidden).
#[derive(Serialize, utoipa::ToSchema)]
pub struct TierArchived {
    pub detail: &'static str,
    pub archived: bool,
}

/// Deletes a tier nobody has bought or holds; one with orders or holds is
/// hidden from sale instead (its buyers keep their tickets).
#[utoipa::path(
    delete,
    path = "/api/v1/ticket-tiers/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The tier's id")),
    responses(
        (status = 200, description = "It had orders or holds: hidden instead", body = TierArchived),
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's tiers", body = Detail),
    )
)]
pub async fn destroy(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let (tier, _) = own_tier(&api, &member, &id).await?;
    let ordered = order_items::Entity::find()
        .filter(order_items::Column::TierId.eq(tier.id))
        .count(&api.db)
        .await?
        > 0;
    // Deleted only while nothing sold, held or ordered (the database checks
    // sold and held in the statement itself).
    let deleted = if ordered {
        0
    } else {
        ticket_tiers::Entity::delete_many()
            .filter(ticket_tiers::Column::Id.eq(tier.id))
            .filter(ticket_tiers::Column::Sold.eq(0))
            .filter(ticket_tiers::Column::Reserved.eq(0))
            .exec(&api.db)
            .await
            .map(|r| r.rows_affected)
            .unwrap_or(0)
    };
    api.cache.invalidate();
    if deleted == 1 {
        member
            .log(
                &api,
                "tickettier",
                tier.id,
                &tier.name,
                Change::Deleted,
                "Eliminada.",
            )
            .await;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    member
        .log(
            &api,
            "tickettier",
            tier.id,
            &tier.name,
            Change::Changed,
            "Ocultada (tiene órdenes o reservas).",
        )
        .await;
    ticket_tiers::Entity::update_many()
        .col_expr(ticket_tiers::Column::IsPublic, Expr::value(false))
        .col_expr(
            ticket_tiers::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(ticket_tiers::Column::Id.eq(tier.id))
        .exec(&api.db)
        .await?;
    Ok(Json(TierArchived {
        detail: "La entrada tiene órdenes o reservas: se ocultó en vez de eliminarse.",
        archived: true,
    })
    .into_response())
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
}

pub fn routes() -> Routes {
    table().routes()
}
