//! `/api/v1/events/`: the public catalogue (`public_list`) and an event's page.

use axum::{body::Bytes, extract::Path, response::Response};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::Santiago;
use loco_rs::prelude::*;

use super::Table;
use serde_json::json;

use super::{
    cached_json, json_bytes, organizers::MaybeMember, page_number, parse_page, Api, ApiError,
    Detail, FieldErrors, Page, PageRequest, RequestUrl, PAGE_SIZE,
};
use crate::{
    models::events::{Model as Event, PublicFilters},
    views::events::{EventDetailResponse, PublicEventResponse},
};

/// `?start_date=` / `?end_date=`: an ISO date or datetime; without an offset it
/// is Santiago time (Django's `TIME_ZONE`).
///
/// # Errors
/// 400 naming the parameter.
pub fn parse_when(name: &'static str, value: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    let invalid = || ApiError::Field(name, format!("Invalid date or datetime: '{value}'."));
    let v = value.trim();
    let normalized = v.replacen(' ', "T", 1).replace('z', "Z");
    if let Ok(at) = DateTime::parse_from_rfc3339(&normalized) {
        return Ok(at);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(at) = DateTime::parse_from_str(&normalized, fmt) {
            return Ok(at);
        }
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(&normalized, fmt).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .ok_or_else(invalid)?;
    let local = Santiago.from_local_datetime(&naive);
    local
        .earliest()
        .or_else(|| local.latest())
        .map(|at| at.fixed_offset())
        .ok_or_else(invalid)
}

fn filters(url: &RequestUrl) -> Result<PublicFilters, ApiError> {
    let non_empty = |name: &'static str| url.get(name).filter(|v| !v.is_empty());
    Ok(PublicFilters {
        types: url
            .all("type")
            .into_iter()
            .filter(|v| !v.is_empty())
            .collect(),
        categories: url
            .all("category")
            .into_iter()
            .filter(|v| !v.is_empty())
            .collect(),
        start_from: non_empty("start_date")
            .map(|v| parse_when("start_date", v))
            .transpose()?,
        start_until: non_empty("end_date")
            .map(|v| parse_when("end_date", v))
            .transpose()?,
        location: non_empty("location").map(str::to_string),
    })
}

/// The public catalogue: published, public, not deleted events; featured first,
/// then the latest start date first.
#[utoipa::path(
    get,
    path = "/api/v1/events/public_list/",
    tag = "events",
    params(
        ("type" = Option<Vec<String>>, Query, description = "Event type; repeat for several"),
        ("category" = Option<Vec<String>>, Query, description = "Category slug; repeat for several"),
        ("start_date" = Option<String>, Query, description = "Starts at or after this ISO date or datetime (Santiago time without an offset)"),
        ("end_date" = Option<String>, Query, description = "Starts at or before this ISO date or datetime"),
        ("location" = Option<String>, Query, description = "Venue name or city contains (case-insensitive)"),
        ("page" = Option<String>, Query, description = "1-based page number, or `last`; 20 per page"),
        ("no_pagination" = Option<bool>, Query, description = "`true`: the first 100 matches as `{\"results\": […]}`"),
    ),
    responses(
        (status = 200, description = "One page of event cards", body = Page<PublicEventResponse>),
        (status = 400, description = "A malformed date, named by its parameter", body = FieldErrors,
            example = json!({"start_date": ["Invalid date or datetime: 'mañana'."]})),
        (status = 404, description = "A page beyond the last", body = Detail,
            example = json!({"detail": "Página inválida."})),
        (status = 503, description = "The database is not answering", body = Detail),
    )
)]
pub async fn public_list(api: Api, url: RequestUrl) -> Result<Response, ApiError> {
    let url = url.canonical();
    cached_json(&api, &url, || render_public_list(&api, &url)).await
}

/// The most events `no_pagination=true` answers with (the first ones in the
/// catalogue's order): enough for a home page or a map, bounded so that one
/// request cannot ask for the whole table.
pub const NO_PAGINATION_MAX: u64 = 100;

async fn render_public_list(api: &Api, url: &RequestUrl) -> Result<Bytes, ApiError> {
    let settings = &api.settings;
    let filters = filters(url)?;
    let now = Utc::now().fixed_offset();
    let media = url.media_base(settings);
    let card = |row: &_| PublicEventResponse::new(row, now, &media);

    if url
        .get("no_pagination")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        let rows = Event::public_page(&api.db, &filters, Some((0, NO_PAGINATION_MAX))).await?;
        let results: Vec<_> = rows.iter().map(card).collect();
        return json_bytes(&json!({ "results": results }));
    }
    // A malformed page number needs no query to be refused; a numbered page
    // comes with the total in one statement, the last page needs the total first.
    let (count, page, rows) = match parse_page(url.get("page"))? {
        PageRequest::Number(n) => {
            let (count, rows) =
                Event::public_page_counted(&api.db, &filters, (n - 1) * PAGE_SIZE, PAGE_SIZE)
                    .await?;
            (count, page_number(url.get("page"), count)?, rows)
        }
        PageRequest::Last => {
            let count = Event::public_count(&api.db, &filters).await?;
            let page = page_number(url.get("page"), count)?;
            let offset_limit = Some(((page - 1) * PAGE_SIZE, PAGE_SIZE));
            (
                count,
                page,
                Event::public_page(&api.db, &filters, offset_limit).await?,
            )
        }
    };
    let results = rows.iter().map(card).collect();
    json_bytes(&Page::new(url, count, page, results))
}

/// An event's page as backtuki's `EventDetailSerializer`: venue, category,
/// organizer, images and public tiers with live availability.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/",
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    responses(
        (status = 200, description = "The event", body = EventDetailResponse),
        (status = 404, description = "Unknown, deleted, or a draft or private event of another organizer", body = Detail,
            example = json!({"detail": "No encontrado."})),
        (status = 503, description = "The database is not answering", body = Detail),
    )
)]
pub async fn detail(
    api: Api,
    Path(key): Path<String>,
    url: RequestUrl,
    MaybeMember(member): MaybeMember,
) -> Result<Response, ApiError> {
    // One spelling of an id (and so one cache entry) per event: the
    // canonical one the API gives out.
    if uuid::Uuid::parse_str(&key).is_ok_and(|id| id.to_string() != key) {
        return Err(ApiError::NotFound("No encontrado."));
    }
    // An organizer's member sees their own events in any state (the editor
    // loads drafts here), uncached and private.
    if let Some(member) = member {
        if let Some(event) = Event::find_own(&api.db, &key, member.organizer.id).await? {
            let settings = &api.settings;
            return Ok(super::private_json(EventDetailResponse::new(
                &event,
                Utc::now().fixed_offset(),
                &url.media_base(settings),
                &settings.limits,
            )));
        }
    }
    cached_json(&api, &url, || async {
        let settings = &api.settings;
        let event = Event::find_public(&api.db, &key)
            .await?
            .ok_or(ApiError::NotFound("No encontrado."))?;
        let now = Utc::now().fixed_offset();
        json_bytes(&EventDetailResponse::new(
            &event,
            now,
            &url.media_base(settings),
            &settings.limits,
        ))
    })
    .await
}

/// The same page under backtuki's `public/` prefix.
#[utoipa::path(
    get,
    path = "/api/v1/public/events/{id}/",
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    responses(
        (status = 200, description = "The event", body = EventDetailResponse),
        (status = 404, description = "Unknown, draft, private or deleted", body = Detail,
            example = json!({"detail": "No encontrado."})),
        (status = 503, description = "The database is not answering", body = Detail),
    )
)]
pub async fn public_detail(
    api: Api,
    key: Path<String>,
    url: RequestUrl,
) -> Result<Response, ApiError> {
    detail(api, key, url, MaybeMember(None)).await
}

/// The storage key of an image URL that this server gave out: one under the
/// media base (this host's `/media/` or the bucket's public address), with
/// no query, no fragment and no step outside it.
fn media_key(url: &str, bases: &[&str]) -> Option<String> {
    let url = url.trim();
    let url = url.split(['?', '#']).next()?;
    let rest = bases.iter().find_map(|b| url.strip_prefix(b))?;
    let key = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .ok()?
        .into_owned();
    let safe = !key.is_empty()
        && !key.starts_with('/')
        && !key.contains('\\')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    safe.then_some(key)
}

/// An event image by its public URL, with open CORS headers (backtuki's image
/// proxy, which the ticket PDF's canvas needs). Only images this server
/// stored are served, read from the store itself: no other address is ever
/// fetched.
#[utoipa::path(
    get,
    path = "/api/v1/events/images/proxy/",
    tag = "events",
    params(("url" = Option<String>, Query, description = "An image URL this server gave out")),
    responses(
        (status = 200, description = "The image", content(("image/jpeg"), ("image/png"), ("image/gif"), ("image/webp"))),
        (status = 400, description = "No `url`, or not one of this server's images", body = Object,
            example = json!({"error": "Invalid image URL domain"})),
        (status = 404, description = "No such image", body = Object,
            example = json!({"error": "Image not found"})),
        (status = 502, description = "The store did not answer", body = Object,
            example = json!({"error": "Failed to fetch image"})),
    )
)]
pub async fn image_proxy(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
) -> Result<Response, ApiError> {
    use crate::platform::storage::ImageKind;
    use axum::http::{header, StatusCode};
    let refuse = |status: StatusCode, error: &str| {
        Ok((status, axum::Json(json!({ "error": error }))).into_response())
    };
    let Some(raw) = url.get("url").filter(|u| !u.trim().is_empty()) else {
        return refuse(StatusCode::BAD_REQUEST, "Missing url parameter");
    };
    let here = url.media_base(&api.settings);
    let mut bases = vec![here.0.as_str()];
    if let Some(public) = api.settings.media.public_base.as_deref() {
        bases.push(public);
    }
    let Some(key) = media_key(raw, &bases) else {
        return refuse(StatusCode::BAD_REQUEST, "Invalid image URL domain");
    };
    let bytes: Vec<u8> = match ctx.storage.download(std::path::Path::new(&key)).await {
        Ok(bytes) => bytes,
        Err(loco_rs::storage::StorageError::Store(e))
            if e.kind() == opendal::ErrorKind::NotFound =>
        {
            return refuse(StatusCode::NOT_FOUND, "Image not found");
        }
        Err(e) => {
            tracing::warn!(error = %e, "image proxy: the store did not answer");
            return refuse(StatusCode::BAD_GATEWAY, "Failed to fetch image");
        }
    };
    let Some(kind) = ImageKind::sniff(&bytes) else {
        return refuse(StatusCode::NOT_FOUND, "Image not found");
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                crate::platform::storage::content_type_for(&format!("x.{}", kind.extension())),
            ),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}

/// One tier's seats, as backtuki's `availability` lists them.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TierSeats {
    pub id: uuid::Uuid,
    /// Seats left (capacity minus sold and held); 9999999 when unlimited.
    pub available: i32,
    /// The capacity; `null` when unlimited.
    pub total: Option<i32>,
}

/// `{ticketTiers: [...]}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Availability {
    #[serde(rename = "ticketTiers")]
    pub ticket_tiers: Vec<TierSeats>,
}

/// Seats left per tier of an event on sale (by id or slug), read live.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/availability/",
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    responses(
        (status = 200, description = "Every public tier's seats", body = Availability),
        (status = 404, description = "Unknown, draft, private or deleted", body = Detail),
    )
)]
pub async fn availability(api: Api, Path(key): Path<String>) -> Result<Response, ApiError> {
    use crate::models::{events, ticket_tiers};
    let by_key = match uuid::Uuid::parse_str(&key) {
        Ok(id) => events::Column::Id.eq(id),
        Err(_) => events::Column::Slug.eq(key.as_str()),
    };
    let Some(event) = events::Entity::find()
        .filter(by_key)
        .filter(events::Column::Status.eq(events::STATUS_PUBLISHED))
        .filter(events::Column::Visibility.eq(events::VISIBILITY_PUBLIC))
        .filter(events::Column::DeletedAt.is_null())
        .one(&api.db)
        .await?
    else {
        return Err(ApiError::NotFound("No encontrado."));
    };
    let tiers = ticket_tiers::Entity::find()
        .filter(ticket_tiers::Column::EventId.eq(event.id))
        .filter(ticket_tiers::Column::IsPublic.eq(true))
        .order_by_asc(ticket_tiers::Column::DisplayOrder)
        .order_by_asc(ticket_tiers::Column::Price)
        .order_by_asc(ticket_tiers::Column::Id)
        .all(&api.db)
        .await?;
    let body = Availability {
        ticket_tiers: tiers
            .iter()
            .map(|t| TierSeats {
                id: t.id,
                available: crate::views::events::seats_left(t.capacity, t.sold, t.reserved),
                total: t.capacity,
            })
            .collect(),
    };
    Ok(axum::Json(body).into_response())
}

/// `track_view`'s answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ViewTracked {
    /// Always `null`: views are counted, not stored one by one.
    pub view_id: Option<uuid::Uuid>,
    pub event_id: uuid::Uuid,
    /// `false` when this buyer's view of the event was already counted in
    /// the last 15 minutes.
    pub tracked: bool,
}

/// The counter that makes one buyer's views of one event in 15 minutes one.
const VIEW_LIMIT_KEY: &str = "event-view";

/// Counts a signed-in buyer's view of an event on sale (backtuki's
/// `track_view`): at most one per buyer and event in 15 minutes, one atomic
/// increment of the event's `views_count`.
#[utoipa::path(
    post,
    path = "/api/v1/events/track_view/",
    tag = "events",
    security(("bearer" = [])),
    request_body(content = super::bodies::TrackView, description = "`{event_id}`: the event's id"),
    responses(
        (status = 200, description = "Counted, or already counted lately", body = ViewTracked),
        (status = 400, description = "No `event_id` (`{detail}`), or a body that is not JSON (its fields' errors)", body = Object,
            example = json!({"detail": "event_id is required"})),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 404, description = "No such event on sale", body = Detail,
            example = json!({"detail": "Event not found"})),
        (status = 503, description = "The database is not answering", body = Detail),
    )
)]
pub async fn track_view(
    State(ctx): State<AppContext>,
    api: Api,
    super::auth::SignedIn(user): super::auth::SignedIn,
    super::drf::Body(body): super::drf::Body,
) -> Result<Response, ApiError> {
    use crate::models::events;
    use sea_orm::sea_query::{Expr, ExprTrait};

    let raw = body.get("event_id").filter(|v| !v.is_null() && *v != "");
    let Some(raw) = raw else {
        return Err(ApiError::BadRequest("event_id is required".into()));
    };
    let Some(event_id) = raw
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok())
    else {
        return Err(ApiError::NotFound("Event not found"));
    };
    let Some(event) = events::sellable(&api.db, event_id).await? else {
        return Err(ApiError::NotFound("Event not found"));
    };
    let first = crate::platform::context::throttle(&ctx)?
        .limit(&format!("{VIEW_LIMIT_KEY}:{}:{}", user.id, event.id), 1)
        .await
        .is_ok();
    if first {
        events::Entity::update_many()
            .col_expr(
                events::Column::ViewsCount,
                Expr::col(events::Column::ViewsCount).add(1),
            )
            .filter(events::Column::Id.eq(event.id))
            .exec(&api.db)
            .await?;
    }
    Ok(axum::Json(ViewTracked {
        view_id: None,
        event_id: event.id,
        tracked: first,
    })
    .into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_public_list, public_list)
        .doc(__path_track_view, track_view)
        .doc(__path_image_proxy, image_proxy)
        .doc(__path_detail, detail)
        .doc(__path_public_detail, public_detail)
        .doc(__path_availability, availability)
}

pub fn routes() -> Routes {
    table().routes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_datetimes_parse_naive_as_santiago() {
        assert_eq!(
            parse_when("start_date", "2026-11-25").unwrap().to_rfc3339(),
            "2026-11-25T00:00:00-03:00"
        );
        assert_eq!(
            parse_when("start_date", "2026-11-25T19:30")
                .unwrap()
                .to_rfc3339(),
            "2026-11-25T19:30:00-03:00"
        );
        assert_eq!(
            parse_when("start_date", "2026-11-25 19:30:15")
                .unwrap()
                .to_rfc3339(),
            "2026-11-25T19:30:15-03:00"
        );
        assert_eq!(
            parse_when("end_date", "2026-11-25T19:30:00Z")
                .unwrap()
                .to_utc()
                .to_rfc3339(),
            "2026-11-25T19:30:00+00:00"
        );
        assert_eq!(
            parse_when("end_date", "2026-07-01T10:00:00-04:00")
                .unwrap()
                .to_rfc3339(),
            "2026-07-01T10:00:00-04:00"
        );
    }

    #[test]
    fn malformed_dates_name_the_parameter() {
        for bad in [
            "tomorrow",
            "2026-13-01",
            "2026-11-31",
            "25/11/2026",
            "2026-11-25T25:00",
        ] {
            match parse_when("start_date", bad) {
                Err(ApiError::Field(name, msg)) => {
                    assert_eq!(name, "start_date");
                    assert!(msg.contains(bad));
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
