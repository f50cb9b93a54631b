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

/// A venue as backtuki's `LocationSerializer` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventLocation {
    pub id: Uuid,
    pub name: String,
    /// A street address, or the meeting's URL for an online event.
    pub address: String,
    pub is_virtual: bool,
}

/// Whether an address is an online meeting rather than a place.
#[must_use]
pub fn is_virtual(address: &str) -> bool {
    let lower = address.to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || ["zoom.us", "meet.google.com", "teams.microsoft.com"]
            .iter()
            .any(|host| lower.contains(host))
}

/// An event's category on its page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventCategoryDetail {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    /// Always `null`: categories have no icon here.
    pub icon: Option<String>,
}

/// One image of the event's page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventImageResponse {
    pub id: Uuid,
    pub url: String,
    /// `image`, `banner`, `thumbnail` or `gallery`.
    pub r#type: String,
    /// The image's alt text, else the event's title.
    pub alt: String,
}

/// A tier's price as backtuki's frontend reads it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceResponse {
    pub base_price: f64,
    pub currency: &'static str,
    /// The service fee per ticket in whole pesos; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_fee: Option<f64>,
}

/// A tier's display flags (`isHighlighted` only when true).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierMetadata {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_highlighted: bool,
    /// The tier's ticket category (these four only when it has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_description: Option<String>,
}

/// A ticket category as backtuki's `TicketCategorySerializer` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(clippy::struct_excessive_bools)]
pub struct TicketCategoryResponse {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// `null`: unlimited.
    pub capacity: Option<i32>,
    /// Sold by its tiers.
    pub sold: i64,
    /// Capacity minus sold; 9999999: unlimited.
    pub available: i64,
    /// `active`, `hidden` or `sold_out`.
    pub status: String,
    /// `public`, `private` or `password`.
    pub visibility: String,
    pub color: String,
    pub order: i32,
    pub max_per_purchase: i32,
    pub min_per_purchase: i32,
    /// `YYYY-MM-DD`.
    pub sale_start_date: Option<String>,
    pub sale_end_date: Option<String>,
    /// `HH:MM:SS`.
    pub sale_start_time: Option<String>,
    pub sale_end_time: Option<String>,
    pub access_start_date: Option<String>,
    pub access_end_date: Option<String>,
    pub access_start_time: Option<String>,
    pub access_end_time: Option<String>,
    pub is_sold_out: bool,
    pub has_capacity_limit: bool,
    pub requires_approval: bool,
}

impl From<&crate::models::events::PublicTicketCategory> for TicketCategoryResponse {
    fn from(c: &crate::models::events::PublicTicketCategory) -> Self {
        let available = c
            .capacity
            .map_or(i64::from(UNLIMITED), |cap| (i64::from(cap) - c.sold).max(0));
        Self {
            id: c.id,
            name: c.name.clone(),
            description: c.description.clone(),
            capacity: c.capacity,
            sold: c.sold,
            available,
            status: c.status.clone(),
            visibility: c.visibility.clone(),
            color: c.color.clone(),
            order: c.order,
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
            is_sold_out: c.status == "sold_out" || (c.capacity.is_some() && available == 0),
            has_capacity_limit: c.capacity.is_some(),
            requires_approval: c.requires_approval,
        }
    }
}

/// A tier's counts together.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AvailabilitySummary {
    pub total_capacity: Option<i32>,
    pub available: i32,
    pub sold: i32,
    pub on_hold: i32,
    pub real_available: i32,
    /// Sold over capacity, in percent with 2 decimals; 0 when unlimited.
    pub utilization_rate: f64,
}

/// Seats left of an unlimited tier, as backtuki writes it.
pub const UNLIMITED: i32 = 9_999_999;

/// Seats for sale: capacity minus sold and held, or [`UNLIMITED`].
#[must_use]
pub fn seats_left(capacity: Option<i32>, sold: i32, reserved: i32) -> i32 {
    capacity.map_or(UNLIMITED, |c| (c - sold - reserved).max(0))
}

/// A public tier as backtuki's `TicketTierSerializer` shows it, with its live
/// counts. Pay-what-you-want, raffles, approvals and per-tier fee rates do
/// not exist here: their keys answer `false`/`null`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(non_snake_case, clippy::struct_excessive_bools)]
pub struct TierResponse {
    pub id: Uuid,
    pub name: String,
    /// Free text (`General`, `VIP`…).
    pub r#type: String,
    pub description: String,
    pub price: PriceResponse,
    /// `null`: unlimited.
    pub capacity: Option<i32>,
    /// Seats for sale now (capacity minus sold and held); 9999999: unlimited.
    pub available: i32,
    pub is_public: bool,
    pub max_per_order: i32,
    pub min_per_order: i32,
    pub benefits: Vec<String>,
    pub metadata: TierMetadata,
    pub requires_approval: bool,
    pub is_pay_what_you_want: bool,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub suggested_price: Option<String>,
    pub is_raffle: bool,
    pub tickets_sold: i32,
    pub tickets_on_hold: i32,
    /// The same as `available` (holds are counted once).
    pub real_available: i32,
    pub availability_summary: AvailabilitySummary,
    pub service_fee_rate: Option<String>,
    pub isPayWhatYouWant: bool,
    pub isRaffle: bool,
    pub maxPerOrder: i32,
    pub minPerOrder: i32,
    pub isPublic: bool,
    pub requiresApproval: bool,
    /// Inside the tier's own sale window, the event's sales are active and
    /// seats are left.
    pub on_sale: bool,
}

/// Comma-separated text as a list of its trimmed, non-empty items.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl TierResponse {
    /// `ceiling` is the most tickets one order may have.
    #[must_use]
    pub fn new(
        t: &PublicTier,
        fee_bps: i32,
        ceiling: i32,
        event_sales_active: bool,
        now: DateTime<FixedOffset>,
    ) -> Self {
        // Seats held by live reservations are not for sale either.
        let available = seats_left(t.capacity, t.sold, t.reserved);
        let in_window = ticket_tiers::in_window(t.sale_start, t.sale_end, now);
        let fee = crate::payments::checkout::service_fee(t.price, fee_bps);
        let max_per_order = t.max_per_order.map_or(ceiling, |m| m.min(ceiling));
        let utilization_rate = match t.capacity {
            Some(c) if c > 0 => (f64::from(t.sold) * 10_000.0 / f64::from(c)).round() / 100.0,
            _ => 0.0,
        };
        #[allow(clippy::cast_precision_loss)]
        let price = PriceResponse {
            base_price: t.price as f64,
            currency: CURRENCY,
            service_fee: (fee != 0).then_some(fee as f64),
        };
        Self {
            id: t.id,
            name: t.name.clone(),
            r#type: t.tier_type.clone(),
            description: t.description.clone(),
            price,
            capacity: t.capacity,
            available,
            is_public: true,
            max_per_order,
            min_per_order: t.min_per_order,
            benefits: comma_list(&t.benefits),
            metadata: TierMetadata {
                is_highlighted: t.is_highlighted,
                category: t.category.as_ref().map(|c| c.id),
                category_id: t.category.as_ref().map(|c| c.id),
                category_name: t.category.as_ref().map(|c| c.name.clone()),
                category_description: t.category.as_ref().map(|c| c.description.clone()),
            },
            requires_approval: false,
            is_pay_what_you_want: false,
            min_price: None,
            max_price: None,
            suggested_price: None,
            is_raffle: false,
            tickets_sold: t.sold,
            tickets_on_hold: t.reserved,
            real_available: available,
            availability_summary: AvailabilitySummary {
                total_capacity: t.capacity,
                available,
                sold: t.sold,
                on_hold: t.reserved,
                real_available: available,
                utilization_rate,
            },
            service_fee_rate: None,
            isPayWhatYouWant: false,
            isRaffle: false,
            maxPerOrder: max_per_order,
            minPerOrder: t.min_per_order,
            isPublic: true,
            requiresApproval: false,
            on_sale: event_sales_active && in_window && available > 0,
        }
    }
}

/// `GET /api/v1/events/{id or slug}/`, as backtuki's `EventDetailSerializer`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(clippy::struct_excessive_bools)]
pub struct EventDetailResponse {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    pub description: String,
    pub short_description: String,
    pub status: String,
    pub visibility: String,
    pub r#type: String,
    /// Always `standard`: one date, general admission.
    pub template: &'static str,
    /// `null`: an organizer's draft whose dates are not set yet.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub location: Option<EventLocation>,
    pub category: Option<EventCategoryDetail>,
    pub featured: bool,
    /// Comma-separated.
    pub tags: String,
    pub tags_list: Vec<String>,
    pub organizer_name: String,
    pub organizer_logo: Option<String>,
    pub organizer_description: String,
    pub age_restriction: String,
    pub dresscode: String,
    pub accessibility: String,
    pub parking: String,
    /// The most tickets one order may have.
    pub max_tickets_per_purchase: i32,
    pub ticket_sales_start: Option<String>,
    pub ticket_sales_end: Option<String>,
    pub images: Vec<EventImageResponse>,
    /// Public tiers, in their display order, then cheapest first.
    pub ticket_tiers: Vec<TierResponse>,
    /// The ticket categories buyers see (not hidden, public).
    pub ticket_categories: Vec<TicketCategoryResponse>,
    /// `25 Noviembre 2026`, in Santiago.
    pub date: String,
    /// `19:30`, in Santiago.
    pub time: String,
    pub is_past: bool,
    pub is_upcoming: bool,
    pub is_ongoing: bool,
    pub views_count: i32,
    /// Orders booked, in any state.
    pub cart_adds_count: i64,
    /// Orders paid.
    pub conversion_count: i64,
    /// Published, inside the sales window and not over.
    pub is_sales_active: bool,
}

impl EventDetailResponse {
    /// `ceiling` is the platform's most tickets per order.
    #[must_use]
    pub fn new(
        e: &PublicEvent,
        now: DateTime<FixedOffset>,
        media: &MediaBase,
        limits: &crate::platform::settings::Limits,
    ) -> Self {
        let sales_active = sales_active_at(
            &e.status,
            e.ticket_sales_start,
            e.ticket_sales_end,
            e.end_date,
            now,
        );
        let ceiling = i32::try_from(crate::payments::checkout::order_ceiling(
            e.max_tickets_per_purchase,
            limits,
        ))
        .unwrap_or(i32::MAX);
        let ticket_tiers = e
            .tiers
            .iter()
            .map(|t| TierResponse::new(t, e.service_fee_bps, ceiling, sales_active, now))
            .collect();
        let images = e
            .images
            .iter()
            .map(|i| EventImageResponse {
                id: i.id,
                url: media.url(&i.path),
                r#type: i.kind.clone(),
                alt: if i.alt.is_empty() {
                    e.title.clone()
                } else {
                    i.alt.clone()
                },
            })
            .collect();
        let organizer = e.organizer.as_ref();
        Self {
            id: e.id,
            title: e.title.clone(),
            slug: e.slug.clone(),
            description: e.description.clone(),
            short_description: e.short_description.clone(),
            status: e.status.clone(),
            visibility: e.visibility.clone(),
            r#type: e.r#type.clone(),
            template: "standard",
            start_date: (!e.dates_pending).then(|| iso_santiago(e.start_date)),
            end_date: (!e.dates_pending).then(|| iso_santiago(e.end_date)),
            location: e.venue.as_ref().map(|l| EventLocation {
                id: l.id,
                name: l.name.clone(),
                address: l.address.clone(),
                is_virtual: is_virtual(&l.address),
            }),
            category: e.category.as_ref().map(|c| EventCategoryDetail {
                id: c.id,
                name: c.name.clone(),
                slug: c.slug.clone(),
                description: c.description.clone(),
                icon: None,
            }),
            featured: e.featured,
            tags: e.tags.clone(),
            tags_list: comma_list(&e.tags),
            organizer_name: organizer.map(|o| o.name.clone()).unwrap_or_default(),
            organizer_logo: organizer
                .map(|o| o.logo.as_str())
                .filter(|p| !p.is_empty())
                .map(|p| media.url(p)),
            organizer_description: organizer.map(|o| o.description.clone()).unwrap_or_default(),
            age_restriction: e.age_restriction.clone(),
            dresscode: e.dresscode.clone(),
            accessibility: e.accessibility.clone(),
            parking: e.parking.clone(),
            max_tickets_per_purchase: ceiling,
            ticket_sales_start: e.ticket_sales_start.map(iso_santiago),
            ticket_sales_end: e.ticket_sales_end.map(iso_santiago),
            images,
            ticket_tiers,
            ticket_categories: e.ticket_categories.iter().map(Into::into).collect(),
            date: if e.dates_pending {
                String::new()
            } else {
                date_es(e.start_date)
            },
            time: if e.dates_pending {
                String::new()
            } else {
                time_hm(e.start_date)
            },
            is_past: !e.dates_pending && e.end_date < now,
            is_upcoming: !e.dates_pending && e.start_date > now && sales_active,
            is_ongoing: e.start_date <= now && now <= e.end_date && e.status == STATUS_PUBLISHED,
            views_count: e.views_count,
            cart_adds_count: e.cart_adds_count,
            conversion_count: e.conversion_count,
            is_sales_active: sales_active,
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
