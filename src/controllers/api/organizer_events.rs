//! An organizer's own events on the dashboard, on backtuki's paths and
//! shapes: the list (`GET events/`), a draft (`POST events/`), changes
//! (`PUT`/`PATCH events/{id}/`), soft deletion, `complete_draft`, `publish`
//! (and `unpublish`), and `events/organizer/` with sales figures.
//!
//! Every query is scoped by the [`Member`]'s organizer: another organizer's
//! event is a 404 and nothing of it changes.

use std::collections::HashMap;

use axum::{extract::Path, http::StatusCode, response::Response, Json};
use chrono::{DateTime, FixedOffset, Utc};
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    PaginatorTrait, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    drf::{Body, Input},
    events::parse_when,
    organizers::{Member, NOT_ALLOWED},
    page_number, Api, ApiError, Detail, Page, RequestUrl, Table,
};
use crate::{
    admin::audit::Change,
    models::{
        _entities::{event_categories, event_images, locations, orders, ticket_tiers},
        events::{self, STATUS_PUBLISHED, VISIBILITY_PUBLIC},
        status::OrderStatus,
    },
    views::events::{is_virtual, iso_santiago, EventImageResponse, EventLocation, MediaBase},
};

/// Event types the dashboard offers.
const TYPES: [&str; 9] = [
    "conference",
    "concert",
    "sports",
    "theater",
    "workshop",
    "festival",
    "party",
    "rifa",
    "other",
];
/// A draft whose required fields are all there, as the dashboard is told
/// (stored as a draft: completeness is read off the event itself).
pub const STATUS_DRAFT_COMPLETE: &str = "draft_complete";
const STATUS_DRAFT: &str = "draft";
const STATUS_CANCELLED: &str = "cancelled";
/// backtuki's platform service fee when neither the tier nor the event sets
/// one (15 %); staff change an event's in the admin.
pub const DEFAULT_SERVICE_FEE_BPS: i32 = 1500;
/// The most events `events/organizer/` lists.
const ORGANIZER_LIST_MAX: u64 = 500;

impl Member {
    /// Whether this member may create and change the organizer's events.
    #[must_use]
    pub const fn manages_events(&self) -> bool {
        self.role.is_admin || self.role.can_manage_events
    }

    /// 403 unless this member may change the organizer's events (and their
    /// tiers, categories and orders).
    pub(super) fn require_events(&self) -> Result<(), ApiError> {
        if self.manages_events() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(NOT_ALLOWED))
        }
    }

    /// 403 unless this member may read the organizer's sales figures and
    /// exports (admins and report readers).
    pub(super) fn require_reports(&self) -> Result<(), ApiError> {
        if self.role.is_admin || self.role.can_view_reports {
            Ok(())
        } else {
            Err(ApiError::Forbidden(NOT_ALLOWED))
        }
    }
}

/// A new event's slug: its title's, cut, and a random suffix (unique
/// without a lookup).
fn new_slug(title: &str) -> String {
    let base: String = slug::slugify(title).chars().take(60).collect();
    format!(
        "{}-{}",
        if base.is_empty() { "evento" } else { &base },
        &Uuid::new_v4().simple().to_string()[..8]
    )
}

/// The event a new tier or category is for: `event` in the body (an id).
///
/// # Errors
/// 400 naming `event` when it is missing or not an id.
pub(super) fn event_in_body(body: &Value) -> Result<Uuid, ApiError> {
    body.get("event")
        .and_then(Value::as_str)
        .and_then(|e| Uuid::parse_str(e.trim()).ok())
        .ok_or_else(|| ApiError::Field("event", super::drf::REQUIRED.into()))
}

/// One of the member's organizer's events (not deleted), by the id in a
/// path, or 404.
async fn own_event(api: &Api, member: &Member, id: &str) -> Result<events::Model, ApiError> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
    own_event_by_id(api, member, id).await
}

/// One of the member's organizer's events (not deleted), or 404: the one
/// query every organizer endpoint reaches an event through.
pub(super) async fn own_event_by_id(
    api: &Api,
    member: &Member,
    id: Uuid,
) -> Result<events::Model, ApiError> {
    events::Entity::find_by_id(id)
        .filter(events::Column::OrganizerId.eq(member.organizer.id))
        .filter(events::Column::DeletedAt.is_null())
        .one(&api.db)
        .await?
        .ok_or(ApiError::NotFound("No encontrado."))
}

/// An event as the dashboard's list shows it (`EventListSerializer`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventCard {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    pub short_description: String,
    pub status: String,
    pub visibility: String,
    pub r#type: String,
    pub template: &'static str,
    /// `null`: a draft whose dates are not set yet.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub location: Option<EventLocation>,
    /// Absent when the event has no category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_name: Option<String>,
    pub organizer_name: String,
    pub featured: bool,
    pub tags_list: Vec<String>,
    /// Always 0: tiers are not grouped in categories here.
    pub ticket_categories_count: u64,
    pub ticket_tiers_count: u64,
    /// The first three.
    pub images: Vec<EventImageResponse>,
}

fn location_view(l: &locations::Model) -> EventLocation {
    EventLocation {
        id: l.id,
        name: l.name.clone(),
        address: l.address.clone(),
        is_virtual: is_virtual(&l.address),
    }
}

fn image_view(i: &event_images::Model, title: &str, media: &MediaBase) -> EventImageResponse {
    EventImageResponse {
        id: i.id,
        url: media.url(&i.path),
        r#type: i.kind.clone(),
        alt: if i.alt.is_empty() {
            title.to_string()
        } else {
            i.alt.clone()
        },
    }
}

fn tags_of(tags: &str) -> Vec<String> {
    tags.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// What the list needs beside the events: their venues, categories, tier
/// counts and images, each in one query.
struct Extras {
    venues: HashMap<Uuid, locations::Model>,
    categories: HashMap<Uuid, String>,
    tiers: HashMap<Uuid, Vec<ticket_tiers::Model>>,
    images: HashMap<Uuid, Vec<event_images::Model>>,
}

impl Extras {
    async fn load(api: &Api, rows: &[events::Model]) -> Result<Self, ApiError> {
        let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
        let venue_ids: Vec<Uuid> = rows.iter().filter_map(|e| e.location_id).collect();
        let category_ids: Vec<Uuid> = rows.iter().filter_map(|e| e.category_id).collect();
        let venues = locations::Entity::find()
            .filter(locations::Column::Id.is_in(venue_ids))
            .all(&api.db)
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
        let categories = event_categories::Entity::find()
            .filter(event_categories::Column::Id.is_in(category_ids))
            .all(&api.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let mut tiers: HashMap<Uuid, Vec<ticket_tiers::Model>> = HashMap::new();
        for t in ticket_tiers::Entity::find()
            .filter(ticket_tiers::Column::EventId.is_in(ids.clone()))
            .order_by_asc(ticket_tiers::Column::DisplayOrder)
            .order_by_asc(ticket_tiers::Column::Price)
            .all(&api.db)
            .await?
        {
            tiers.entry(t.event_id).or_default().push(t);
        }
        let mut images: HashMap<Uuid, Vec<event_images::Model>> = HashMap::new();
        for i in event_images::Entity::find()
            .filter(event_images::Column::EventId.is_in(ids))
            .order_by_asc(event_images::Column::Position)
            .order_by_asc(event_images::Column::Id)
            .all(&api.db)
            .await?
        {
            images.entry(i.event_id).or_default().push(i);
        }
        Ok(Self {
            venues,
            categories,
            tiers,
            images,
        })
    }

    fn card(&self, e: &events::Model, organizer: &str, media: &MediaBase) -> EventCard {
        EventCard {
            id: e.id,
            title: e.title.clone(),
            slug: e.slug.clone(),
            short_description: e.short_description.clone(),
            status: shown_status(e),
            visibility: e.visibility.clone(),
            r#type: e.r#type.clone(),
            template: "standard",
            start_date: dates_of(e).map(|(s, _)| s),
            end_date: dates_of(e).map(|(_, e)| e),
            location: e
                .location_id
                .and_then(|id| self.venues.get(&id))
                .map(location_view),
            category_name: e
                .category_id
                .and_then(|id| self.categories.get(&id))
                .cloned(),
            organizer_name: organizer.to_string(),
            featured: e.featured,
            tags_list: tags_of(&e.tags),
            ticket_categories_count: 0,
            ticket_tiers_count: self.tiers.get(&e.id).map_or(0, |t| t.len() as u64),
            images: self
                .images
                .get(&e.id)
                .into_iter()
                .flatten()
                .take(3)
                .map(|i| image_view(i, &e.title, media))
                .collect(),
        }
    }
}

/// The organizer's events (any status, not deleted), the latest start first,
/// in pages of 20.
#[utoipa::path(
    get,
    path = "/api/v1/events/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(
        ("type" = Option<Vec<String>>, Query, description = "Event type; repeat for several"),
        ("category" = Option<Vec<String>>, Query, description = "Category name; repeat for several"),
        ("start_date" = Option<String>, Query, description = "Starting at or after (ISO date or datetime)"),
        ("end_date" = Option<String>, Query, description = "Starting at or before"),
        ("page" = Option<String>, Query, description = "1-based page number, or `last`"),
    ),
    responses(
        (status = 200, description = "One page of the organizer's events", body = Page<EventCard>),
        (status = 400, description = "A malformed date, or a parameter with a NUL character", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an organizer's member", body = Detail),
        (status = 404, description = "A page beyond the last", body = Detail),
    )
)]
pub async fn list(api: Api, url: RequestUrl, member: Member) -> Result<Response, ApiError> {
    let mut query = events::Entity::find()
        .filter(events::Column::OrganizerId.eq(member.organizer.id))
        .filter(events::Column::DeletedAt.is_null());
    let types: Vec<String> = url
        .all("type")
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    if !types.is_empty() {
        query = query.filter(events::Column::Type.is_in(types));
    }
    let categories: Vec<String> = url
        .all("category")
        .into_iter()
        .filter(|c| !c.is_empty())
        .collect();
    if !categories.is_empty() {
        query = query.filter(
            events::Column::CategoryId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(event_categories::Column::Id)
                    .from(event_categories::Entity)
                    .and_where(event_categories::Column::Name.is_in(categories))
                    .to_owned(),
            ),
        );
    }
    if let Some(v) = url.get("start_date").filter(|v| !v.is_empty()) {
        query = query
            .filter(events::Column::StartDate.gte(parse_when("start_date", v)?))
            .filter(events::Column::DatesPending.eq(false));
    }
    if let Some(v) = url.get("end_date").filter(|v| !v.is_empty()) {
        query = query
            .filter(events::Column::StartDate.lte(parse_when("end_date", v)?))
            .filter(events::Column::DatesPending.eq(false));
    }
    let query = query
        .order_by_desc(events::Column::StartDate)
        .order_by_asc(events::Column::Id);
    let count = query.clone().count(&api.db).await?;
    let page = page_number(url.get("page"), count)?;
    let rows = query
        .paginate(&api.db, super::PAGE_SIZE)
        .fetch_page(page - 1)
        .await?;
    let extras = Extras::load(&api, &rows).await?;
    let media = url.media_base(&api.settings);
    let results: Vec<EventCard> = rows
        .iter()
        .map(|e| extras.card(e, &member.organizer.name, &media))
        .collect();
    Ok(super::private_json(Page::new(&url, count, page, results)))
}

/// A venue as the dashboard sends it.
struct Venue {
    name: String,
    address: String,
}

/// What a draft made without dates stores until they are set (shown as
/// `null`; far ahead, so it sorts where backtuki's null dates did).
static PENDING_DATE: std::sync::LazyLock<DateTime<Utc>> = std::sync::LazyLock::new(|| {
    DateTime::parse_from_rfc3339("2100-01-01T00:00:00Z")
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now())
});

/// An event's dates as the dashboard shows them; `None` while pending.
fn dates_of(e: &events::Model) -> Option<(String, String)> {
    (!e.dates_pending).then(|| (iso_santiago(e.start_date), iso_santiago(e.end_date)))
}

/// What a create or an update carries; `None`: not sent.
#[derive(Default)]
struct EventInput {
    title: Option<String>,
    description: Option<String>,
    short_description: Option<String>,
    r#type: Option<String>,
    start: Option<DateTime<FixedOffset>>,
    end: Option<DateTime<FixedOffset>>,
    venue: Option<Venue>,
    tags: Option<String>,
    status: Option<String>,
    age_restriction: Option<String>,
    dresscode: Option<String>,
    accessibility: Option<String>,
    parking: Option<String>,
}

/// backtuki's camelCase spellings the dashboard may send.
fn snake_case_keys(body: Value) -> Value {
    let Value::Object(mut map) = body else {
        return body;
    };
    for (camel, snake) in [
        ("shortDescription", "short_description"),
        ("startDate", "start_date"),
        ("endDate", "end_date"),
    ] {
        if let Some(v) = map.remove(camel) {
            map.entry(snake.to_string()).or_insert(v);
        }
    }
    Value::Object(map)
}

fn datetime(input: &mut Input, key: &'static str, required: bool) -> Option<DateTime<FixedOffset>> {
    let text = input.text(key, required, false, 64)?;
    match parse_when(key, &text) {
        Ok(at) => Some(at),
        Err(_) => {
            input.error(
                key,
                "Fecha/hora con formato erróneo. Use uno de los siguientes formatos en su lugar: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
            );
            None
        }
    }
}

/// Reads an event's fields (`creating`: the title required, and both dates
/// or neither; `full` (PUT): title and both dates).
fn read_event(body: Value, creating: bool, full: bool) -> Result<EventInput, ApiError> {
    let mut input = Input::new(snake_case_keys(body));
    let required = creating || full;
    // A new draft may come without dates (both or neither).
    let dates_required = full || (creating && (input.has("start_date") || input.has("end_date")));
    let mut out = EventInput {
        title: input.text("title", required, false, 200),
        description: input.text("description", false, true, 20_000),
        short_description: input.text("short_description", false, true, 255),
        start: datetime(&mut input, "start_date", dates_required),
        end: datetime(&mut input, "end_date", dates_required),
        ..EventInput::default()
    };
    if let Some(t) = input.text("type", false, false, 20) {
        if TYPES.contains(&t.as_str()) {
            out.r#type = Some(t);
        } else {
            input.error("type", format!("\"{t}\" no es una elección válida."));
        }
    }
    if let Some(s) = input.text("status", false, false, 20) {
        out.status = Some(s);
    }
    match input.raw("location").cloned() {
        None => {}
        Some(Value::Null) => input.error("location", super::drf::NULL),
        Some(Value::Object(map)) => {
            let mut inner = Input::new(Value::Object(map));
            let name = inner.text("name", true, false, 200);
            let address = inner.text("address", true, false, 255);
            if let (Some(name), Some(address)) = (name, address) {
                out.venue = Some(Venue { name, address });
            } else {
                input.error(
                    "location",
                    "Indica el nombre y la dirección del lugar (o «por confirmar»).",
                );
            }
        }
        Some(_) => input.error("location", "Debe ser un objeto {name, address}."),
    }
    match input.raw("tags").cloned() {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let mut tags = Vec::new();
            for item in items {
                match item.as_str().map(str::trim) {
                    Some(t) if t.chars().count() <= 50 && !t.contains(',') => {
                        if !t.is_empty() {
                            tags.push(t.to_string());
                        }
                    }
                    _ => input.error(
                        "tags",
                        "Cada etiqueta es un texto de hasta 50 caracteres, sin comas.",
                    ),
                }
            }
            out.tags = Some(tags.join(","));
        }
        Some(Value::String(s)) => out.tags = Some(tags_of(&s).join(",")),
        Some(_) => input.error("tags", "Debe ser una lista de textos."),
    }
    if let Some(Value::Object(info)) = input.raw("additionalInfo").cloned() {
        let text = |v: &Value, max: usize| -> Option<String> {
            match v {
                Value::String(s) => Some(s.trim().chars().take(max).collect()),
                Value::Array(items) => Some(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::trim)
                        .collect::<Vec<_>>()
                        .join(",")
                        .chars()
                        .take(max)
                        .collect(),
                ),
                _ => None,
            }
        };
        out.age_restriction = info.get("ageRestriction").and_then(|v| text(v, 50));
        out.dresscode = info.get("dresscode").and_then(|v| text(v, 100));
        out.accessibility = info.get("accessibility").and_then(|v| text(v, 255));
        out.parking = info.get("parking").and_then(|v| text(v, 255));
    }
    if let (Some(start), Some(end)) = (out.start, out.end) {
        if end < start {
            input.error("end_date", "End date must be after start date");
        }
    }
    input.finish_fields()?;
    Ok(out)
}

/// The event as a create or an update answers it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventSaved {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub short_description: String,
    pub r#type: String,
    /// `null`: not set yet.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub location: Option<EventLocation>,
    #[schema(value_type = Vec<Object>)]
    pub ticket_tiers: Vec<Value>,
    pub featured: bool,
    pub tags: Vec<String>,
    pub status: String,
}

async fn saved(api: &Api, e: &events::Model) -> Result<EventSaved, ApiError> {
    let venue = match e.location_id {
        Some(id) => locations::Entity::find_by_id(id).one(&api.db).await?,
        None => None,
    };
    Ok(EventSaved {
        id: e.id,
        title: e.title.clone(),
        description: e.description.clone(),
        short_description: e.short_description.clone(),
        r#type: e.r#type.clone(),
        start_date: dates_of(e).map(|(s, _)| s),
        end_date: dates_of(e).map(|(_, e)| e),
        location: venue.as_ref().map(location_view),
        ticket_tiers: Vec::new(),
        featured: e.featured,
        tags: tags_of(&e.tags),
        status: shown_status(e),
    })
}

/// A venue row of this event's own: a new one, or its current one when no
/// other event shares it (venues made by staff are shared; they are never
/// changed from here).
async fn venue_for<C: sea_orm::ConnectionTrait>(
    db: &C,
    event: Option<&events::Model>,
    venue: Venue,
) -> Result<Uuid, ApiError> {
    let now = Utc::now().fixed_offset();
    if let Some(current) = event.and_then(|e| e.location_id) {
        let others = events::Entity::find()
            .filter(events::Column::LocationId.eq(current))
            .filter(events::Column::Id.ne(event.map(|e| e.id)))
            .count(db)
            .await?;
        if others == 0 {
            locations::Entity::update_many()
                .col_expr(locations::Column::Name, Expr::value(venue.name))
                .col_expr(locations::Column::Address, Expr::value(venue.address))
                .col_expr(locations::Column::UpdatedAt, Expr::value(now))
                .filter(locations::Column::Id.eq(current))
                .exec(db)
                .await?;
            return Ok(current);
        }
    }
    let row = locations::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(venue.name),
        address: Set(venue.address),
        city: Set(String::new()),
        country: Set("Chile".into()),
        latitude: Set(None),
        longitude: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// Creates a draft of the organizer's (title and dates required; the rest
/// may come later with `PATCH`).
#[utoipa::path(
    post,
    path = "/api/v1/events/",
    tag = "organizer events",
    security(("bearer" = [])),
    request_body(content = super::bodies::EventWrite, description = "The draft's fields"),
    responses(
        (status = 201, description = "The draft", body = EventSaved),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
    )
)]
pub async fn create(api: Api, member: Member, Body(body): Body) -> Result<Response, ApiError> {
    member.require_events()?;
    let input = read_event(body, true, false)?;
    let Some(title) = input.title.clone() else {
        return Err(ApiError::Internal);
    };
    // Without dates, the stored ones are placeholders (shown as null).
    let (start, end, dates_pending) = match (input.start, input.end) {
        (Some(start), Some(end)) => (start, end, false),
        _ => (
            PENDING_DATE.fixed_offset(),
            PENDING_DATE.fixed_offset(),
            true,
        ),
    };
    let now = Utc::now().fixed_offset();
    let txn = api.db.begin().await?;
    let location_id = match input.venue {
        Some(v) => Some(venue_for(&txn, None, v).await?),
        None => None,
    };
    let slug = new_slug(&title);
    let row = events::ActiveModel {
        id: Set(Uuid::new_v4()),
        title: Set(title),
        slug: Set(slug),
        short_description: Set(input.short_description.unwrap_or_default()),
        description: Set(input.description.unwrap_or_default()),
        r#type: Set(input.r#type.unwrap_or_else(|| "other".into())),
        status: Set(STATUS_DRAFT.into()),
        visibility: Set(VISIBILITY_PUBLIC.into()),
        featured: Set(false),
        start_date: Set(start),
        end_date: Set(end),
        ticket_sales_start: Set(None),
        ticket_sales_end: Set(None),
        max_tickets_per_purchase: Set(None),
        service_fee_bps: Set(DEFAULT_SERVICE_FEE_BPS),
        organizer_id: Set(member.organizer.id),
        category_id: Set(None),
        location_id: Set(location_id),
        deleted_at: Set(None),
        tags: Set(input.tags.unwrap_or_default()),
        age_restriction: Set(input.age_restriction.unwrap_or_default()),
        dresscode: Set(input.dresscode.unwrap_or_default()),
        accessibility: Set(input.accessibility.unwrap_or_default()),
        parking: Set(input.parking.unwrap_or_default()),
        views_count: Set(0),
        dates_pending: Set(dates_pending),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    member
        .log(
            &api,
            "event",
            row.id,
            &row.title,
            Change::Added,
            "Creado como borrador.",
        )
        .await;
    Ok((StatusCode::CREATED, Json(saved(&api, &row).await?)).into_response())
}

/// The columns an update changed, by name, for the admin's history.
fn changed_fields(before: &events::Model, after: &events::Model) -> Vec<&'static str> {
    [
        ("title", before.title != after.title),
        ("description", before.description != after.description),
        (
            "short_description",
            before.short_description != after.short_description,
        ),
        ("type", before.r#type != after.r#type),
        ("start_date", before.start_date != after.start_date),
        ("end_date", before.end_date != after.end_date),
        ("location", before.location_id != after.location_id),
        ("tags", before.tags != after.tags),
        ("status", before.status != after.status),
        (
            "age_restriction",
            before.age_restriction != after.age_restriction,
        ),
        ("dresscode", before.dresscode != after.dresscode),
        ("accessibility", before.accessibility != after.accessibility),
        ("parking", before.parking != after.parking),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

/// What a buyer needs before an event is published; the first thing
/// missing, in backtuki's words.
async fn publish_problem(
    api: &Api,
    member: &Member,
    e: &events::Model,
) -> Result<Option<&'static str>, ApiError> {
    if member.organizer.status != "active" {
        return Ok(Some(
            "Tu organización no está activa: no puede publicar eventos",
        ));
    }
    if e.title.trim().is_empty() {
        return Ok(Some("El evento necesita un título"));
    }
    if e.dates_pending {
        return Ok(Some("El evento necesita fechas de inicio y término"));
    }
    if e.end_date <= e.start_date {
        return Ok(Some("La fecha de término debe ser posterior al inicio"));
    }
    if e.location_id.is_none() {
        return Ok(Some(
            "El evento necesita un lugar (puede ser «Por confirmar»)",
        ));
    }
    let public_tiers = ticket_tiers::Entity::find()
        .filter(ticket_tiers::Column::EventId.eq(e.id))
        .filter(ticket_tiers::Column::IsPublic.eq(true))
        .count(&api.db)
        .await?;
    if public_tiers == 0 {
        return Ok(Some("El evento debe tener al menos un tipo de ticket"));
    }
    Ok(None)
}

async fn update(
    api: &Api,
    member: Member,
    id: &str,
    body: Value,
    full: bool,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let event = own_event(api, &member, id).await?;
    let input = read_event(body, false, full)?;
    // A draft without dates gets both at once; otherwise dates are checked
    // against the stored ones when only one is sent.
    let dates_pending = event.dates_pending && (input.start.is_none() || input.end.is_none());
    if event.dates_pending && (input.start.is_some() != input.end.is_some()) {
        let missing = if input.start.is_none() {
            "start_date"
        } else {
            "end_date"
        };
        return Err(ApiError::Field(missing, "Este campo es requerido.".into()));
    }
    let start = input.start.unwrap_or(event.start_date);
    let end = input.end.unwrap_or(event.end_date);
    if end < start {
        return Err(ApiError::Field(
            "end_date",
            "End date must be after start date".into(),
        ));
    }
    let status = match input.status.as_deref() {
        None => None,
        Some(s) if s == shown_status(&event) => None,
        Some(STATUS_DRAFT | STATUS_DRAFT_COMPLETE) => Some(STATUS_DRAFT.to_string()),
        Some(STATUS_CANCELLED) => Some(STATUS_CANCELLED.to_string()),
        Some(STATUS_PUBLISHED) => {
            let mut probe = event.clone();
            probe.start_date = start;
            probe.end_date = end;
            probe.dates_pending = dates_pending;
            if let Some(problem) = publish_problem(api, &member, &probe).await? {
                return Err(ApiError::Field("status", problem.into()));
            }
            Some(STATUS_PUBLISHED.to_string())
        }
        Some(other) => {
            return Err(ApiError::Field(
                "status",
                format!("\"{other}\" no es una elección válida."),
            ))
        }
    };
    let txn = api.db.begin().await?;
    let mut row: events::ActiveModel = event.clone().into();
    if let Some(v) = input.venue {
        row.location_id = Set(Some(venue_for(&txn, Some(&event), v).await?));
    }
    if let Some(v) = input.title {
        row.title = Set(v);
    }
    if let Some(v) = input.description {
        row.description = Set(v);
    }
    if let Some(v) = input.short_description {
        row.short_description = Set(v);
    }
    if let Some(v) = input.r#type {
        row.r#type = Set(v);
    }
    row.start_date = Set(start);
    row.end_date = Set(end);
    row.dates_pending = Set(dates_pending);
    if let Some(v) = input.tags {
        row.tags = Set(v);
    }
    if let Some(v) = status {
        row.status = Set(v);
    }
    for (value, column) in [
        (input.age_restriction, events::Column::AgeRestriction),
        (input.dresscode, events::Column::Dresscode),
        (input.accessibility, events::Column::Accessibility),
        (input.parking, events::Column::Parking),
    ] {
        if let Some(v) = value {
            row.set(column, v.into());
        }
    }
    let saved_row = row.update(&txn).await?;
    txn.commit().await?;
    api.cache.invalidate();
    let changed = changed_fields(&event, &saved_row);
    let message = if changed.is_empty() {
        "No ha cambiado ningún campo.".to_string()
    } else {
        format!("Modificado {}.", changed.join(", "))
    };
    member
        .log(
            api,
            "event",
            saved_row.id,
            &saved_row.title,
            Change::Changed,
            &message,
        )
        .await;
    Ok(super::private_json(saved(api, &saved_row).await?))
}

/// Replaces an event's fields (title and dates required).
#[utoipa::path(
    put,
    path = "/api/v1/events/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The event's id")),
    request_body(content = super::bodies::EventWrite, description = "The event's fields"),
    responses(
        (status = 200, description = "The event as saved", body = EventSaved),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn replace(
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    update(&api, member, &id, body, true).await
}

/// Changes some of an event's fields; `status` may go back to a draft, be
/// cancelled, or be published (with `publish`'s checks).
#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The event's id")),
    request_body(content = super::bodies::EventWrite, description = "Any of the event's fields"),
    responses(
        (status = 200, description = "The event as saved", body = EventSaved),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn amend(
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    update(&api, member, &id, body, false).await
}

/// Deletes (hides) an event that has taken no money.
#[utoipa::path(
    delete,
    path = "/api/v1/events/{id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "Deleted", body = Detail,
            example = json!({"detail": "Evento eliminado correctamente"})),
        (status = 400, description = "It has paid orders", body = Detail,
            example = json!({"detail": "No se puede eliminar un evento que tiene ingresos"})),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn destroy(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let event = own_event(&api, &member, &id).await?;
    let paid = orders::Entity::find()
        .filter(orders::Column::EventId.eq(event.id))
        .filter(orders::Column::Status.is_in(OrderStatus::PAID))
        .count(&api.db)
        .await?;
    if paid > 0 {
        return Err(ApiError::BadRequest(
            "No se puede eliminar un evento que tiene ingresos".into(),
        ));
    }
    // Guarded: a payment settling meanwhile keeps the event.
    events::Entity::update_many()
        .col_expr(
            events::Column::DeletedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(events::Column::Id.eq(event.id))
        .filter(events::Column::DeletedAt.is_null())
        .exec(&api.db)
        .await?;
    api.cache.invalidate();
    member
        .log(
            &api,
            "event",
            event.id,
            &event.title,
            Change::Changed,
            "Eliminado (queda en el historial).",
        )
        .await;
    Ok(Json(Detail {
        detail: "Evento eliminado correctamente".into(),
    })
    .into_response())
}

/// The fields a complete draft has and this one lacks, in backtuki's order.
fn missing_fields(e: &events::Model) -> Vec<&'static str> {
    [
        ("title", e.title.trim().is_empty()),
        ("description", e.description.trim().is_empty()),
        ("short_description", e.short_description.trim().is_empty()),
        ("start_date", e.dates_pending),
        ("end_date", e.dates_pending),
        ("location", e.location_id.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, blank)| blank.then_some(name))
    .collect()
}

/// The status the dashboard sees: a draft with everything is
/// `draft_complete`.
fn shown_status(e: &events::Model) -> String {
    if e.status == STATUS_DRAFT && missing_fields(e).is_empty() {
        STATUS_DRAFT_COMPLETE.to_string()
    } else {
        e.status.clone()
    }
}

/// A status change's answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusChanged {
    pub status: &'static str,
    pub message: &'static str,
}

fn refusal(error: &str) -> ApiError {
    ApiError::Conflict(json!({ "error": error }))
}

/// Marks a draft complete (title, descriptions, dates and venue there).
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/complete_draft/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "Complete", body = StatusChanged),
        (status = 400, description = "What is missing", body = Object,
            example = json!({"error": "El evento no está completo", "missing_fields": ["description"]})),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
        (status = 409, description = "Already published", body = Object),
    )
)]
pub async fn complete_draft(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let event = own_event(&api, &member, &id).await?;
    if event.status == STATUS_PUBLISHED {
        return Err(refusal("El evento ya está publicado"));
    }
    let missing = missing_fields(&event);
    if !missing.is_empty() {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "El evento no está completo", "missing_fields": missing})),
        )
            .into_response());
    }
    if event.status != STATUS_DRAFT {
        set_status(&api, &member, &event, STATUS_DRAFT).await?;
    }
    Ok(Json(StatusChanged {
        status: STATUS_DRAFT_COMPLETE,
        message:
            "El evento ha sido marcado como completo y está listo para añadir tickets y categorías",
    })
    .into_response())
}

async fn set_status(
    api: &Api,
    member: &Member,
    event: &events::Model,
    status: &str,
) -> Result<(), ApiError> {
    events::Entity::update_many()
        .col_expr(events::Column::Status, Expr::value(status))
        .col_expr(
            events::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(events::Column::Id.eq(event.id))
        .exec(&api.db)
        .await?;
    api.cache.invalidate();
    let message = match status {
        STATUS_PUBLISHED => "Publicado.".to_string(),
        STATUS_DRAFT if event.status == STATUS_PUBLISHED => {
            "Despublicado (vuelve a borrador).".to_string()
        }
        STATUS_DRAFT => "Borrador completado.".to_string(),
        other => format!("Estado: {other}."),
    };
    member
        .log(
            api,
            "event",
            event.id,
            &event.title,
            Change::Changed,
            &message,
        )
        .await;
    Ok(())
}

/// Publishes a draft once a buyer has what they need: a title, an end after
/// the start, at least one public tier, and an active organizer. It shows in
/// the catalogue at once here, within `CATALOGUE_CACHE_SECONDS` elsewhere.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/publish/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "Published", body = StatusChanged),
        (status = 400, description = "What a buyer would miss", body = Object,
            example = json!({"error": "El evento debe tener al menos un tipo de ticket"})),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
        (status = 409, description = "Not a draft", body = Object),
    )
)]
pub async fn publish(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let event = own_event(&api, &member, &id).await?;
    if event.status != STATUS_DRAFT {
        return Err(refusal(
            "Solo los eventos en borrador pueden ser publicados",
        ));
    }
    if let Some(problem) = publish_problem(&api, &member, &event).await? {
        return Ok((StatusCode::BAD_REQUEST, Json(json!({ "error": problem }))).into_response());
    }
    set_status(&api, &member, &event, STATUS_PUBLISHED).await?;
    Ok(Json(StatusChanged {
        status: STATUS_PUBLISHED,
        message: "Evento publicado exitosamente",
    })
    .into_response())
}

/// Takes a published event off sale (back to a complete draft): it leaves
/// the catalogue; orders already paid stay paid.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/unpublish/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "Unpublished", body = StatusChanged),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
        (status = 409, description = "Not published", body = Object),
    )
)]
pub async fn unpublish(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let event = own_event(&api, &member, &id).await?;
    if event.status != STATUS_PUBLISHED {
        return Err(refusal("El evento no está publicado"));
    }
    set_status(&api, &member, &event, STATUS_DRAFT).await?;
    Ok(Json(StatusChanged {
        status: if missing_fields(&event).is_empty() {
            STATUS_DRAFT_COMPLETE
        } else {
            STATUS_DRAFT
        },
        message: "Evento despublicado",
    })
    .into_response())
}

/// A tier in `events/organizer/`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TierFigures {
    pub id: Uuid,
    pub name: String,
    pub price: f64,
    pub quantity: Option<i32>,
    pub sold_quantity: i32,
    pub capacity: Option<i32>,
    pub is_unlimited: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlaceText {
    pub name: String,
    pub address: String,
    pub is_virtual: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImageLink {
    pub id: Uuid,
    pub url: String,
}

/// An event with its sales in `events/organizer/`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventFigures {
    pub id: Uuid,
    pub title: String,
    /// UTC.
    pub start_date: String,
    pub end_date: String,
    pub status: String,
    pub location: PlaceText,
    pub ticket_tiers: Vec<TierFigures>,
    /// What buyers paid (net of refunds).
    pub total_revenue: f64,
    /// The tickets' part of it.
    pub gross_revenue: f64,
    /// The service fees' part of it.
    pub service_fees: f64,
    /// Σ capacity (unlimited tiers count 0).
    pub total_tickets: i64,
    pub sold_tickets: i64,
    pub has_unlimited_capacity: bool,
    pub images: Vec<ImageLink>,
}

/// `SUM(column)` as a `bigint` on both databases (PostgreSQL sums
/// `bigint`s into `numeric`).
fn sum_of(column: orders::Column) -> sea_orm::sea_query::SimpleExpr {
    Expr::col(column)
        .sum()
        .cast_as(sea_orm::sea_query::Alias::new("bigint"))
}

#[derive(sea_orm::FromQueryResult)]
struct Sums {
    event_id: Uuid,
    total: Option<i64>,
    subtotal: Option<i64>,
    fees: Option<i64>,
    refunded: Option<i64>,
}

/// The organizer's events with their sales (not paginated: the first 500,
/// latest start first); `status` (repeatable), `start_date`, `end_date` and
/// `search` (title or venue) narrow them.
#[utoipa::path(
    get,
    path = "/api/v1/events/organizer/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(
        ("status" = Option<Vec<String>>, Query, description = "Event status; repeat for several"),
        ("start_date" = Option<String>, Query, description = "Starting at or after"),
        ("end_date" = Option<String>, Query, description = "Starting at or before"),
        ("search" = Option<String>, Query, description = "In the title (case-insensitive)"),
    ),
    responses(
        (status = 200, description = "The events with their figures", body = Vec<EventFigures>),
        (status = 400, description = "A malformed date, or a parameter with a NUL character", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an organizer's member who manages events or reads reports", body = Detail),
    )
)]
pub async fn with_figures(api: Api, url: RequestUrl, member: Member) -> Result<Response, ApiError> {
    // Sales figures: not for door-only members.
    if !(member.manages_events() || member.role.can_view_reports) {
        return Err(ApiError::Forbidden(NOT_ALLOWED));
    }
    let mut query = events::Entity::find()
        .filter(events::Column::OrganizerId.eq(member.organizer.id))
        .filter(events::Column::DeletedAt.is_null())
        // As backtuki: drafts without dates are not in this table.
        .filter(events::Column::DatesPending.eq(false));
    let statuses: Vec<String> = url
        .all("status")
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s == STATUS_DRAFT_COMPLETE {
                STATUS_DRAFT.into()
            } else {
                s
            }
        })
        .collect();
    if !statuses.is_empty() {
        query = query.filter(events::Column::Status.is_in(statuses));
    }
    if let Some(v) = url.get("start_date").filter(|v| !v.is_empty()) {
        query = query
            .filter(events::Column::StartDate.gte(parse_when("start_date", v)?))
            .filter(events::Column::DatesPending.eq(false));
    }
    if let Some(v) = url.get("end_date").filter(|v| !v.is_empty()) {
        query = query
            .filter(events::Column::StartDate.lte(parse_when("end_date", v)?))
            .filter(events::Column::DatesPending.eq(false));
    }
    if let Some(v) = url.get("search").map(str::trim).filter(|v| !v.is_empty()) {
        let pattern = format!("%{}%", v.to_lowercase().replace(['%', '_'], ""));
        query = query.filter(
            Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                events::Column::Title,
            )))
            .like(pattern),
        );
    }
    let rows = query
        .order_by_desc(events::Column::StartDate)
        .order_by_asc(events::Column::Id)
        .limit(ORGANIZER_LIST_MAX)
        .all(&api.db)
        .await?;
    let extras = Extras::load(&api, &rows).await?;
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let sums: HashMap<Uuid, Sums> = orders::Entity::find()
        .select_only()
        .column(orders::Column::EventId)
        .column_as(sum_of(orders::Column::Total), "total")
        .column_as(sum_of(orders::Column::Subtotal), "subtotal")
        .column_as(sum_of(orders::Column::ServiceFee), "fees")
        .column_as(sum_of(orders::Column::RefundedAmount), "refunded")
        .filter(orders::Column::EventId.is_in(ids))
        .filter(orders::Column::Status.is_in(OrderStatus::PAID))
        .group_by(orders::Column::EventId)
        .into_model::<Sums>()
        .all(&api.db)
        .await?
        .into_iter()
        .map(|s| (s.event_id, s))
        .collect();
    let media = url.media_base(&api.settings);
    #[allow(clippy::cast_precision_loss)]
    let out: Vec<EventFigures> = rows
        .iter()
        .map(|e| {
            let tiers = extras
                .tiers
                .get(&e.id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let sums = sums.get(&e.id);
            let total = sums.and_then(|s| s.total).unwrap_or(0);
            let refunded = sums.and_then(|s| s.refunded).unwrap_or(0);
            let subtotal = sums.and_then(|s| s.subtotal).unwrap_or(0);
            let fees = sums.and_then(|s| s.fees).unwrap_or(0);
            let venue = e.location_id.and_then(|id| extras.venues.get(&id));
            EventFigures {
                id: e.id,
                title: e.title.clone(),
                start_date: crate::views::tickets::iso_utc(e.start_date),
                end_date: crate::views::tickets::iso_utc(e.end_date),
                status: shown_status(e),
                location: PlaceText {
                    name: venue.map(|v| v.name.clone()).unwrap_or_default(),
                    address: venue.map(|v| v.address.clone()).unwrap_or_default(),
                    is_virtual: venue.is_some_and(|v| is_virtual(&v.address)),
                },
                ticket_tiers: tiers
                    .iter()
                    .map(|t| TierFigures {
                        id: t.id,
                        name: t.name.clone(),
                        price: t.price as f64,
                        quantity: t.capacity,
                        sold_quantity: t.sold,
                        capacity: t.capacity,
                        is_unlimited: t.capacity.is_none(),
                    })
                    .collect(),
                total_revenue: (total - refunded) as f64,
                gross_revenue: subtotal as f64,
                service_fees: fees as f64,
                total_tickets: tiers.iter().filter_map(|t| t.capacity).map(i64::from).sum(),
                sold_tickets: tiers.iter().map(|t| i64::from(t.sold)).sum(),
                has_unlimited_capacity: tiers.iter().any(|t| t.capacity.is_none()),
                images: extras
                    .images
                    .get(&e.id)
                    .into_iter()
                    .flatten()
                    .map(|i| ImageLink {
                        id: i.id,
                        url: media.url(&i.path),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(super::private_json(out))
}

/// `events/upload/`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImageUploaded {
    pub url: String,
    pub event_image_id: Uuid,
    pub message: &'static str,
}

/// Image kinds an event shows.
const IMAGE_KINDS: [&str; 4] = ["image", "banner", "thumbnail", "gallery"];

/// An image for one of the organizer's events (multipart: `file`,
/// `event_id`, `replace_main` — default true: it becomes the first image and
/// the old first one is removed —, `alt`, `type`). JPEG, PNG, GIF or WebP,
/// at most 5 MB, recognised by their bytes; nothing is stored otherwise.
#[utoipa::path(
    post,
    path = "/api/v1/events/upload/",
    tag = "organizer events",
    security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "`file`, `event_id`, `replace_main`, `alt`, `type`"),
    responses(
        (status = 201, description = "Stored and shown on the event", body = ImageUploaded),
        (status = 400, description = "No file or event, not an image, or too big", body = Detail),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
        (status = 415, description = "Not a multipart form", body = Detail),
    )
)]
pub async fn upload_image(
    axum::extract::State(ctx): axum::extract::State<AppContext>,
    api: Api,
    url: RequestUrl,
    member: Member,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    use crate::models::event_images::{self as images, ImageError};
    use axum::extract::{FromRequest, Multipart};
    member.require_events()?;
    let mut form = Multipart::from_request(req, &ctx)
        .await
        .map_err(|_| ApiError::UnsupportedMedia)?;
    let malformed = |e: axum::extract::multipart::MultipartError| {
        ApiError::BadRequest(format!("Malformed form: {}", e.body_text()))
    };
    let (mut file, mut event_id, mut replace_main, mut alt, mut kind) =
        (None, None, true, String::new(), "image".to_string());
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        match field.name().unwrap_or_default() {
            "file" => {
                if alt.is_empty() {
                    alt = field
                        .file_name()
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect();
                }
                file = Some(field.bytes().await.map_err(malformed)?);
            }
            "event_id" => event_id = Some(field.text().await.map_err(malformed)?),
            "replace_main" => {
                replace_main = field
                    .text()
                    .await
                    .map_err(malformed)?
                    .trim()
                    .eq_ignore_ascii_case("true");
            }
            "alt" => {
                alt = field
                    .text()
                    .await
                    .map_err(malformed)?
                    .chars()
                    .take(200)
                    .collect()
            }
            "type" => kind = field.text().await.map_err(malformed)?.trim().to_string(),
            _ => {}
        }
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return Err(ApiError::BadRequest("No file found".into()));
    };
    let Some(event_id) = event_id.filter(|e| !e.trim().is_empty()) else {
        return Err(ApiError::BadRequest("event_id es requerido".into()));
    };
    if !IMAGE_KINDS.contains(&kind.as_str()) {
        return Err(ApiError::Field(
            "type",
            format!("\"{kind}\" no es una elección válida."),
        ));
    }
    let event = own_event(&api, &member, &event_id).await?;
    let main = if replace_main {
        event_images::Entity::find()
            .filter(event_images::Column::EventId.eq(event.id))
            .order_by_asc(event_images::Column::Position)
            .order_by_asc(event_images::Column::Id)
            .one(&api.db)
            .await?
    } else {
        None
    };
    let image = match images::add(&ctx, event.id, file, &alt).await {
        Ok(image) => image,
        Err(ImageError::NotAnImage | ImageError::TooLarge | ImageError::NoSuchEvent) => {
            return Err(ApiError::BadRequest(
                "El archivo debe ser una imagen JPEG, PNG, GIF o WebP de hasta 5 MB.".into(),
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "an event image could not be stored");
            return Err(ApiError::Internal);
        }
    };
    let position = main.as_ref().map_or(image.position, |m| m.position);
    event_images::Entity::update_many()
        .col_expr(event_images::Column::Position, Expr::value(position))
        .col_expr(event_images::Column::Kind, Expr::value(kind))
        .filter(event_images::Column::Id.eq(image.id))
        .exec(&api.db)
        .await?;
    if let Some(main) = main {
        images::remove(&ctx, main.id).await.map_err(|e| {
            tracing::error!(error = %e, "the replaced image could not be removed");
            ApiError::Internal
        })?;
    }
    api.cache.invalidate();
    member
        .log(
            &api,
            "event",
            event.id,
            &event.title,
            Change::Changed,
            "Añadida una imagen.",
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(ImageUploaded {
            url: url.media_base(&api.settings).url(&image.path),
            event_image_id: image.id,
            message: "Image uploaded and associated with event successfully",
        }),
    )
        .into_response())
}

/// Removes one of an event's images (the file too).
#[utoipa::path(
    delete,
    path = "/api/v1/events/{id}/images/{image_id}/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The event's id"),
        ("image_id" = String, Path, description = "The image's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events, or not its image", body = Detail),
    )
)]
pub async fn delete_image(
    axum::extract::State(ctx): axum::extract::State<AppContext>,
    api: Api,
    member: Member,
    Path((id, image_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let event = own_event(&api, &member, &id).await?;
    let not_found = ApiError::NotFound("No encontrado.");
    let image_id = Uuid::parse_str(image_id.trim()).map_err(|_| not_found.clone())?;
    let image = event_images::Entity::find_by_id(image_id)
        .filter(event_images::Column::EventId.eq(event.id))
        .one(&api.db)
        .await?
        .ok_or(not_found)?;
    crate::models::event_images::remove(&ctx, image.id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "an event image could not be removed");
            ApiError::Internal
        })?;
    member
        .log(
            &api,
            "event",
            event.id,
            &event.title,
            Change::Changed,
            "Eliminada una imagen.",
        )
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Puts an event's images in a new order: `order` lists every image id of
/// the event once; the first is the cover.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/images/reorder/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The event's id")),
    request_body(content = super::bodies::ImageOrder, description = "`{order: [image ids]}`"),
    responses(
        (status = 200, description = "The images in their new order", body = Vec<EventImageResponse>),
        (status = 400, description = "Not exactly the event's images, each once", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn reorder_images(
    api: Api,
    url: RequestUrl,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let event = own_event(&api, &member, &id).await?;
    let wrong = || {
        ApiError::Field(
            "order",
            "Envía cada imagen del evento una vez, en el orden deseado.".into(),
        )
    };
    let order: Vec<Uuid> = body
        .get("order")
        .and_then(Value::as_array)
        .ok_or_else(wrong)?
        .iter()
        .map(|v| v.as_str().and_then(|s| Uuid::parse_str(s.trim()).ok()))
        .collect::<Option<Vec<Uuid>>>()
        .ok_or_else(wrong)?;
    let txn = api.db.begin().await?;
    let images = event_images::Entity::find()
        .filter(event_images::Column::EventId.eq(event.id))
        .all(&txn)
        .await?;
    let mut have: Vec<Uuid> = images.iter().map(|i| i.id).collect();
    let mut want = order.clone();
    have.sort_unstable();
    want.sort_unstable();
    if have != want {
        return Err(wrong());
    }
    for (position, image) in order.iter().enumerate() {
        event_images::Entity::update_many()
            .col_expr(
                event_images::Column::Position,
                Expr::value(i32::try_from(position).unwrap_or(i32::MAX)),
            )
            .col_expr(
                event_images::Column::UpdatedAt,
                Expr::value(Utc::now().fixed_offset()),
            )
            .filter(event_images::Column::Id.eq(*image))
            .filter(event_images::Column::EventId.eq(event.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    api.cache.invalidate();
    member
        .log(
            &api,
            "event",
            event.id,
            &event.title,
            Change::Changed,
            "Reordenadas las imágenes.",
        )
        .await;
    let media = url.media_base(&api.settings);
    let by_id: std::collections::HashMap<Uuid, event_images::Model> =
        images.into_iter().map(|i| (i.id, i)).collect();
    let out: Vec<EventImageResponse> = order
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(|i| EventImageResponse {
            id: i.id,
            url: media.url(&i.path),
            r#type: i.kind.clone(),
            alt: if i.alt.is_empty() {
                event.title.clone()
            } else {
                i.alt.clone()
            },
        })
        .collect();
    Ok(super::private_json(out))
}

/// Copies one of the organizer's events as a new draft: its texts, dates,
/// venue, ticket categories and tiers (nothing sold or held) and images
/// (files copied, so each event's images are its own).
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/clone/",
    tag = "organizer events",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The event's id")),
    request_body(content = super::bodies::CloneEvent, description = "`{title?}`"),
    responses(
        (status = 201, description = "The new draft", body = EventSaved),
        (status = 400, description = "A bad title", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member who manages events", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn clone_event(
    axum::extract::State(ctx): axum::extract::State<AppContext>,
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    use crate::models::_entities::ticket_categories;
    member.require_events()?;
    let source = own_event(&api, &member, &id).await?;
    let mut input = Input::new(if Value::is_null(&body) {
        json!({})
    } else {
        body
    });
    let title = input.text("title", false, false, 200).unwrap_or_else(|| {
        let copy = format!("{} (copia)", source.title);
        copy.chars().take(200).collect()
    });
    input.finish_fields()?;
    let now = Utc::now().fixed_offset();
    let slug = new_slug(&title);
    let txn = api.db.begin().await?;
    let mut row: events::ActiveModel = source.clone().into();
    row.id = Set(Uuid::new_v4());
    row.title = Set(title);
    row.slug = Set(slug);
    row.status = Set(STATUS_DRAFT.into());
    row.featured = Set(false);
    row.deleted_at = Set(None);
    row.views_count = Set(0);
    row.created_at = Set(now);
    row.updated_at = Set(now);
    let copy = row.insert(&txn).await?;
    let mut categories = std::collections::HashMap::new();
    for c in ticket_categories::Entity::find()
        .filter(ticket_categories::Column::EventId.eq(source.id))
        .all(&txn)
        .await?
    {
        let old = c.id;
        let mut new: ticket_categories::ActiveModel = c.into();
        let id = Uuid::new_v4();
        new.id = Set(id);
        new.event_id = Set(copy.id);
        new.created_at = Set(now);
        new.updated_at = Set(now);
        new.insert(&txn).await?;
        categories.insert(old, id);
    }
    for t in ticket_tiers::Entity::find()
        .filter(ticket_tiers::Column::EventId.eq(source.id))
        .all(&txn)
        .await?
    {
        let category = t.category_id.and_then(|c| categories.get(&c).copied());
        let mut new: ticket_tiers::ActiveModel = t.into();
        new.id = Set(Uuid::new_v4());
        new.event_id = Set(copy.id);
        new.sold = Set(0);
        new.reserved = Set(0);
        new.category_id = Set(category);
        new.created_at = Set(now);
        new.updated_at = Set(now);
        new.insert(&txn).await?;
    }
    txn.commit().await?;
    // Images after the rows: each file is copied under the new event.
    let images = event_images::Entity::find()
        .filter(event_images::Column::EventId.eq(source.id))
        .order_by_asc(event_images::Column::Position)
        .all(&api.db)
        .await?;
    for image in images {
        let bytes: Vec<u8> = match ctx
            .storage
            .download(std::path::Path::new(&image.path))
            .await
        {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(key = image.path, error = %e, "an image to copy could not be read");
                continue;
            }
        };
        if let Err(e) =
            crate::models::event_images::add(&ctx, copy.id, bytes.into(), &image.alt).await
        {
            tracing::warn!(key = image.path, error = %e, "an image could not be copied");
        }
    }
    member
        .log(
            &api,
            "event",
            copy.id,
            &copy.title,
            Change::Added,
            &format!("Copiado de «{}».", source.title),
        )
        .await;
    Ok((StatusCode::CREATED, Json(saved(&api, &copy).await?)).into_response())
}

/// The names of the event categories (what a new event may be filed under).
#[utoipa::path(
    get,
    path = "/api/v1/events/categories/",
    tag = "organizer events",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every category's name, alphabetically", body = Vec<String>),
        (status = 401, description = "Not signed in", body = Detail),
    )
)]
pub async fn category_names(api: Api, _user: super::auth::SignedIn) -> Result<Response, ApiError> {
    let names: Vec<String> = event_categories::Entity::find()
        .select_only()
        .column(event_categories::Column::Name)
        .order_by_asc(event_categories::Column::Name)
        .limit(500)
        .into_tuple()
        .all(&api.db)
        .await?;
    Ok(super::private_json(names))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_category_names, category_names)
        .doc(__path_with_figures, with_figures)
        .doc(__path_list, list)
        .doc(__path_create, create)
        .doc(__path_replace, replace)
        .doc(__path_amend, amend)
        .doc(__path_destroy, destroy)
        .doc(__path_complete_draft, complete_draft)
        .doc(__path_publish, publish)
        .doc(__path_unpublish, unpublish)
        .doc(__path_upload_image, upload_image)
        .doc(__path_delete_image, delete_image)
        .doc(__path_reorder_images, reorder_images)
        .doc(__path_clone_event, clone_event)
}

pub fn routes() -> Routes {
    table().routes()
}
