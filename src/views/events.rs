//! JSON of the public catalogue, field for field as the Django deployment's
//! `PublicEventSerializer` (list) and the event page (detail).

use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Timelike};
use chrono_tz::America::Santiago;
use serde::Serialize;
use uuid::Uuid;

use crate::models::{
    _entities::{event_categories, locations},
    events::{
        sales_active_at, PublicEvent, PublicListRow, PublicTier, STATUS_PUBLISHED,
        VISIBILITY_PUBLIC,
    },
    ticket_tiers,
};

pub const CURRENCY: &str = "CLP";
const MONTHS_ES: [&str; 12] = [
    "Enero",
    "Febrero",
    "Marzo",
    "Abril",
    "Mayo",
    "Junio",
    "Julio",
    "Agosto",
    "Septiembre",
    "Octubre",
    "Noviembre",
    "Diciembre",
];

/// `25 Noviembre 2026`, in Santiago.
#[must_use]
pub fn date_es(at: DateTime<FixedOffset>) -> String {
    let local = at.with_timezone(&Santiago);
    format!(
        "{} {} {}",
        local.day(),
        MONTHS_ES[local.month0() as usize],
        local.year()
    )
}

/// `19:30`, in Santiago.
#[must_use]
pub fn time_hm(at: DateTime<FixedOffset>) -> String {
    let local = at.with_timezone(&Santiago);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// ISO 8601 in Santiago with its offset (`2026-11-27T08:00:00-03:00`), as DRF
/// renders an aware datetime in `America/Santiago`.
#[must_use]
pub fn iso_santiago(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&Santiago)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Characters escaped in one path segment of a media URL.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Where media files are served from: `https://storage.googleapis.com/BUCKET/`
/// or this server's `/media/`.
#[derive(Debug, Clone)]
pub struct MediaBase(pub String);

impl MediaBase {
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        let mut url = self.0.clone();
        for (i, segment) in path.trim_start_matches('/').split('/').enumerate() {
            if i > 0 {
                url.push('/');
            }
            url.extend(percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT));
        }
        url
    }
}

/// One card of `public_list`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(non_snake_case, clippy::struct_excessive_bools)]
pub struct PublicEventResponse {
    pub id: Uuid,
    pub title: String,
    pub image: Option<String>,
    pub description: Option<String>,
    pub price: i64,
    pub rating: i64,
    pub reviews: i64,
    pub location: String,
    pub date: String,
    pub time: String,
    pub ticketsAvailable: i64,
    pub ticketsSold: i64,
    pub is_sales_active: bool,
    pub is_available_for_purchase: bool,
    pub has_available_tickets: bool,
    pub is_upcoming: bool,
    pub is_ongoing: bool,
}

fn location_text(name: Option<&str>, city: Option<&str>) -> String {
    let parts: Vec<&str> = [name, city]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        "Ubicación por confirmar".to_string()
    } else {
        parts.join(", ")
    }
}

/// The card's description (the short one, else the long one — chosen by the
/// query), trimmed; `None` when blank.
fn description_text(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

impl PublicEventResponse {
    /// Every flag is evaluated against the same `now` for the whole response.
    #[must_use]
    pub fn new(row: &PublicListRow, now: DateTime<FixedOffset>, media: &MediaBase) -> Self {
        let sales_active = sales_active_at(
            &row.status,
            row.ticket_sales_start,
            row.ticket_sales_end,
            row.end_date,
            now,
        );
        let available = row.tickets_available.unwrap_or(0);
        Self {
            id: row.id,
            title: row.title.clone(),
            image: row
                .image
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| media.url(p)),
            description: description_text(&row.description),
            price: row.min_price.unwrap_or(0),
            rating: 0,
            reviews: 0,
            location: location_text(row.location_name.as_deref(), row.location_city.as_deref()),
            date: date_es(row.start_date),
            time: time_hm(row.start_date),
            ticketsAvailable: available,
            ticketsSold: row.tickets_sold.unwrap_or(0),
            is_sales_active: sales_active,
            is_available_for_purchase: sales_active
                && row.visibility == VISIBILITY_PUBLIC
                && available != 0,
            has_available_tickets: available != 0,
            is_upcoming: row.start_date > now && sales_active,
            is_ongoing: row.start_date <= now
                && now <= row.end_date
                && row.status == STATUS_PUBLISHED,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryResponse {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

impl CategoryResponse {
    #[must_use]
    pub fn new(c: &event_categories::Model) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            slug: c.slug.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationResponse {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl LocationResponse {
    #[must_use]
    pub fn new(l: &locations::Model) -> Self {
        Self {
            id: l.id,
            name: l.name.clone(),
            address: l.address.clone(),
            city: l.city.clone(),
            country: l.country.clone(),
            latitude: l.latitude,
            longitude: l.longitude,
        }
    }
}

/// The venue as the event page shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VenueResponse {
    pub name: String,
    pub city: String,
    pub country: String,
    pub address: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizerResponse {
    pub id: Uuid,
    pub name: String,
}

/// A public tier with its live availability.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TierResponse {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub price: i64,
    /// null: unlimited.
    pub capacity: Option<i32>,
    pub sold: i32,
    /// null: unlimited.
    pub remaining: Option<i32>,
    pub available: bool,
    pub min_per_order: i32,
    pub max_per_order: Option<i32>,
    /// Inside the tier's own sale window and the event's sales are active.
    pub on_sale: bool,
}

impl TierResponse {
    #[must_use]
    pub fn new(t: &PublicTier, event_sales_active: bool, now: DateTime<FixedOffset>) -> Self {
        // Seats held by live reservations are not for sale either.
        let remaining = t.capacity.map(|c| (c - t.sold - t.reserved).max(0));
        let available = remaining.is_none_or(|r| r > 0);
        let in_window = ticket_tiers::in_window(t.sale_start, t.sale_end, now);
        Self {
            id: t.id,
            name: t.name.clone(),
            description: t.description.clone(),
            price: t.price,
            capacity: t.capacity,
            sold: t.sold,
            remaining,
            available,
            min_per_order: t.min_per_order,
            max_per_order: t.max_per_order,
            on_sale: event_sales_active && in_window && available,
        }
    }
}

/// `GET /api/v1/events/{id or slug}/`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventDetailResponse {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    pub description: String,
    pub short_description: String,
    pub status: String,
    pub r#type: String,
    pub featured: bool,
    pub start_date: String,
    pub end_date: String,
    pub ticket_sales_start: Option<String>,
    pub ticket_sales_end: Option<String>,
    pub category: Option<CategoryResponse>,
    pub venue: Option<VenueResponse>,
    pub organizer: Option<OrganizerResponse>,
    pub image: Option<String>,
    pub images: Vec<String>,
    pub min_price: Option<i64>,
    pub currency: &'static str,
    pub available: bool,
    pub is_sales_active: bool,
    pub max_tickets_per_purchase: Option<i32>,
    pub tiers: Vec<TierResponse>,
}

impl EventDetailResponse {
    #[must_use]
    pub fn new(e: &PublicEvent, now: DateTime<FixedOffset>, media: &MediaBase) -> Self {
        let sales_active = sales_active_at(
            &e.status,
            e.ticket_sales_start,
            e.ticket_sales_end,
            e.end_date,
            now,
        );
        let tiers: Vec<TierResponse> = e
            .tiers
            .iter()
            .map(|t| TierResponse::new(t, sales_active, now))
            .collect();
        let images: Vec<String> = e.images.iter().map(|path| media.url(path)).collect();
        Self {
            id: e.id,
            title: e.title.clone(),
            slug: e.slug.clone(),
            description: e.description.clone(),
            short_description: e.short_description.clone(),
            status: e.status.clone(),
            r#type: e.r#type.clone(),
            featured: e.featured,
            start_date: iso_santiago(e.start_date),
            end_date: iso_santiago(e.end_date),
            ticket_sales_start: e.ticket_sales_start.map(iso_santiago),
            ticket_sales_end: e.ticket_sales_end.map(iso_santiago),
            category: e.category.as_ref().map(|c| CategoryResponse {
                id: c.id,
                name: c.name.clone(),
                slug: c.slug.clone(),
            }),
            venue: e.venue.as_ref().map(|l| VenueResponse {
                name: l.name.clone(),
                city: l.city.clone(),
                country: l.country.clone(),
                address: l.address.clone(),
            }),
            organizer: e.organizer.as_ref().map(|(id, name)| OrganizerResponse {
                id: *id,
                name: name.clone(),
            }),
            image: images.first().cloned(),
            images,
            min_price: e.tiers.iter().map(|t| t.price).min(),
            currency: CURRENCY,
            available: tiers.iter().any(|t| t.available),
            is_sales_active: sales_active,
            max_tickets_per_purchase: e.max_tickets_per_purchase,
            tiers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn dates_are_spanish_in_santiago() {
        // 2026-11-25 22:30 UTC is 19:30 in Santiago (summer time, UTC-3).
        let t = at("2026-11-25T22:30:00Z");
        assert_eq!(date_es(t), "25 Noviembre 2026");
        assert_eq!(time_hm(t), "19:30");
        assert_eq!(iso_santiago(t), "2026-11-25T19:30:00-03:00");
        // Winter time (UTC-4), and the day changes.
        let w = at("2026-07-01T02:00:00Z");
        assert_eq!(date_es(w), "30 Junio 2026");
        assert_eq!(iso_santiago(w), "2026-06-30T22:00:00-04:00");
    }

    #[test]
    fn location_and_description_fall_back_as_tuki_did() {
        assert_eq!(
            location_text(Some("Teatro"), Some("Talca")),
            "Teatro, Talca"
        );
        assert_eq!(location_text(None, None), "Ubicación por confirmar");
        assert_eq!(location_text(Some(""), Some("Talca")), "Talca");
        assert_eq!(description_text("  "), None);
        assert_eq!(description_text(" Largo\n"), Some("Largo".into()));
    }
}
