//! The demo and benchmark data set: the same distribution as the Django
//! reference's `seed_bench` (`../shared/bench`): 20 organizers, 10 categories,
//! 50 locations, 2,000 events (1,000 published in the next 365 days, 500
//! drafts, 500 published in the past) with 3 tiers each.
//!
//! Deterministic: every value, the UUIDs included, comes from one seeded RNG;
//! only dates are relative to `base` (default today + 2 days, UTC). Idempotent:
//! a rerun replaces the demo rows (found by their fixed ids) and touches nothing
//! else.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use super::_entities::{
    event_categories, event_images, events, locations, organizers, ticket_tiers,
};

const CATEGORIES: [(&str, &str); 10] = [
    ("Música", "concert"),
    ("Teatro", "theater"),
    ("Deportes", "sports"),
    ("Stand-up", "theater"),
    ("Festivales", "festival"),
    ("Familia", "other"),
    ("Conferencias", "conference"),
    ("Fiestas", "party"),
    ("Cine", "other"),
    ("Gastronomía", "workshop"),
];
/// The demo's images: one poster per category, written to media storage by
/// `task seed_demo` (see [`posters`]).
fn poster_path(category: usize) -> String {
    format!("demo/{}.svg", slug::slugify(CATEGORIES[category].0))
}

/// Each category's poster as `(storage key, SVG)`: a colour band and the name.
#[must_use]
pub fn posters() -> Vec<(String, String)> {
    const COLOURS: [(&str, &str); 10] = [
        ("#7c3aed", "#db2777"),
        ("#b91c1c", "#f59e0b"),
        ("#047857", "#10b981"),
        ("#1d4ed8", "#06b6d4"),
        ("#c2410c", "#facc15"),
        ("#0f766e", "#84cc16"),
        ("#334155", "#0ea5e9"),
        ("#9d174d", "#8b5cf6"),
        ("#111827", "#6b7280"),
        ("#92400e", "#ef4444"),
    ];
    CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let (from, to) = COLOURS[i];
            let svg = format!(
                r##"<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" viewBox="0 0 1200 630"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{from}"/><stop offset="1" stop-color="{to}"/></linearGradient></defs><rect width="1200" height="630" fill="url(#g)"/><text x="80" y="560" font-family="sans-serif" font-size="96" font-weight="700" fill="#ffffff">{name}</text><text x="80" y="120" font-family="sans-serif" font-size="40" fill="#ffffff" opacity="0.8">Tuki</text></svg>"##
            );
            (poster_path(i), svg)
        })
        .collect()
}

const CITIES: [&str; 10] = [
    "Santiago",
    "Valparaíso",
    "Viña del Mar",
    "Concepción",
    "La Serena",
    "Antofagasta",
    "Temuco",
    "Puerto Montt",
    "Rancagua",
    "Talca",
];
const VENUE_KINDS: [&str; 8] = [
    "Teatro",
    "Estadio",
    "Centro Cultural",
    "Arena",
    "Club",
    "Parque",
    "Sala",
    "Espacio",
];
const VENUE_NAMES: [&str; 8] = [
    "Municipal",
    "Central",
    "del Puerto",
    "Nacional",
    "Andes",
    "Pacífico",
    "Sur",
    "Norte",
];
const STREETS: [&str; 8] = [
    "Av. Libertador Bernardo O'Higgins",
    "Calle Merced",
    "Av. Providencia",
    "Calle Prat",
    "Av. Colón",
    "Calle Condell",
    "Av. España",
    "Calle Lautaro",
];
const ORG_PREFIX: [&str; 5] = [
    "Producciones",
    "Eventos",
    "Fundación",
    "Colectivo",
    "Agencia",
];
const ORG_NAMES: [&str; 10] = [
    "Cordillera",
    "Austral",
    "Mar Azul",
    "Luna Llena",
    "Tierra Viva",
    "Copihue",
    "Pudú",
    "Atacama",
    "Lago Sur",
    "Quillay",
];
const TITLE_A: [&str; 6] = [
    "Noche de",
    "Festival de",
    "Gran Show de",
    "Encuentro de",
    "Temporada de",
    "Gira de",
];
const TITLE_B: [&str; 14] = [
    "Jazz",
    "Rock",
    "Cumbia",
    "Teatro Clásico",
    "Comedia",
    "Tango",
    "Folclor",
    "Electrónica",
    "Ópera",
    "Trap",
    "Cine Chileno",
    "Cocina",
    "Danza",
    "Blues",
];
const WORDS: &str = "una experiencia única con artistas nacionales e internacionales en un \
    ambiente familiar seguro y lleno de sorpresas para todo público entradas limitadas venta \
    oficial acceso preferente estacionamiento disponible show en vivo";
const TIERS: [(&str, u32); 3] = [("General", 10), ("Preferencial", 16), ("VIP", 25)];

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub organizers: usize,
    pub categories: usize,
    pub locations: usize,
    pub events: usize,
    pub tiers: usize,
}

/// The default base date: today + 2 days (UTC), so the 1,000 future events stay
/// in the future for at least a day.
#[must_use]
pub fn default_base() -> NaiveDate {
    (Utc::now() + Duration::days(2)).date_naive()
}

fn round_500(x: u64) -> i64 {
    // Python's round-half-even of x / 500, times 500.
    let q = x / 500;
    let r = x % 500;
    let q = if r > 250 || (r == 250 && q % 2 == 1) {
        q + 1
    } else {
        q
    };
    i64::try_from(q * 500).unwrap_or(i64::MAX)
}

struct Gen(ChaCha8Rng);

impl Gen {
    fn id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.0.random()).into_uuid()
    }
    fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.0.random::<f64>() < p
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn sentence(&mut self, lo: usize, hi: usize) -> String {
        let words: Vec<&str> = WORDS.split_whitespace().collect();
        let n = self.0.random_range(lo..hi);
        let mut s = (0..n)
            .map(|_| self.pick(&words))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(first) = s.get(0..1) {
            s = first.to_uppercase() + &s[1..];
        }
        s + "."
    }
}

fn utc(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

/// Writes the demo data set.
///
/// # Errors
/// Database errors (the transaction is rolled back: nothing half-written).
#[allow(clippy::too_many_lines)]
pub async fn seed(
    db: &DatabaseConnection,
    seed: u64,
    base_day: NaiveDate,
) -> Result<Seeded, DbErr> {
    let mut g = Gen(ChaCha8Rng::seed_from_u64(seed));
    let base = Utc.from_utc_datetime(&base_day.and_hms_opt(0, 0, 0).unwrap_or_default());
    let today = base - Duration::days(2);
    let now = utc(Utc::now());

    let organizers: Vec<organizers::ActiveModel> = (0..20)
        .map(|i| {
            let name = format!(
                "{} {}{}",
                ORG_PREFIX[i % 5],
                ORG_NAMES[i % 10],
                if i < 10 { "" } else { " SpA" }
            );
            organizers::ActiveModel {
                id: Set(g.id()),
                slug: Set(format!("demo-{}", slug::slugify(&name))),
                name: Set(name),
                contact_email: Set(String::new()),
                contact_phone: Set(String::new()),
                status: Set(super::status::ReservationStatus::Active.into()),
                description: Set(String::new()),
                logo: Set(String::new()),
                onboarding_completed: Set(true),
                email_validated: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    let categories: Vec<event_categories::ActiveModel> = CATEGORIES
        .iter()
        .map(|(name, _)| event_categories::ActiveModel {
            id: Set(g.id()),
            name: Set((*name).into()),
            slug: Set(slug::slugify(name)),
            description: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    let locations: Vec<locations::ActiveModel> = (0..50)
        .map(|i| {
            let city = CITIES[i % 10];
            let street = g.pick(&STREETS);
            let number = g.0.random_range(100..9999);
            locations::ActiveModel {
                id: Set(g.id()),
                name: Set(format!(
                    "{} {} {}",
                    VENUE_KINDS[i % 8],
                    VENUE_NAMES[(i / 8) % 8],
                    i + 1
                )),
                address: Set(format!("{street} {number}, {city}")),
                city: Set(city.into()),
                country: Set("Chile".into()),
                latitude: Set(None),
                longitude: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
        })
        .collect();

    let mut kinds: Vec<&str> = [
        ["future"; 1000].as_slice(),
        ["draft"; 500].as_slice(),
        ["past"; 500].as_slice(),
    ]
    .concat();
    kinds.shuffle(&mut g.0);
    let half_hours_per_year: i64 = 365 * 48;
    let mut events = Vec::with_capacity(kinds.len());
    let mut images = Vec::new();
    let mut tiers = Vec::with_capacity(kinds.len() * 3);
    for (i, kind) in kinds.iter().enumerate() {
        let half_hours =
            |g: &mut Gen, lo: i64, hi: i64| Duration::minutes(30 * g.0.random_range(lo..hi));
        let start = match *kind {
            "future" => base + half_hours(&mut g, 0, half_hours_per_year),
            "past" => today - half_hours(&mut g, 48, half_hours_per_year),
            _ => today + half_hours(&mut g, -180 * 48, half_hours_per_year),
        };
        let title = format!(
            "{} {} {} {:04}",
            g.pick(&TITLE_A),
            g.pick(&TITLE_B),
            g.pick(&CITIES),
            i + 1
        );
        let slug = slug::slugify(&title);
        let r: f64 = g.0.random();
        let (description, short) = if r < 0.98 {
            let n = g.0.random_range(3..7);
            let desc = (0..n)
                .map(|_| g.sentence(8, 16))
                .collect::<Vec<_>>()
                .join(" ");
            let short = if r < 0.60 {
                g.sentence(6, 12)
            } else {
                String::new()
            };
            (desc, short)
        } else {
            (String::new(), String::new())
        };
        let r: f64 = g.0.random();
        let (sales_start, sales_end) = if *kind == "past" {
            (Some(start - Duration::days(60)), Some(start))
        } else if r < 0.2 {
            (None, None)
        } else if r < 0.9 {
            (
                Some(today - Duration::days(g.0.random_range(1..90))),
                Some(start),
            )
        } else {
            let opens =
                (today + Duration::days(g.0.random_range(3..30))).min(start - Duration::days(1));
            (Some(opens), Some(start))
        };
        let category = g.below(CATEGORIES.len());
        let id = g.id();
        let private = *kind == "draft" && g.chance(0.1);
        let featured = g.chance(0.03);
        let hours = [2, 3, 4, 6, 8, 30][g.below(6)];
        let location = g.below(locations.len());
        let organizer = g.below(organizers.len());
        if g.chance(1.0 / 3.0) {
            images.push(event_images::ActiveModel {
                id: Set(g.id()),
                event_id: Set(id),
                path: Set(poster_path(category)),
                alt: Set(title.clone()),
                position: Set(0),
                kind: Set("image".into()),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
        let deleted = *kind == "draft" && g.chance(0.05);
        events.push(events::ActiveModel {
            id: Set(id),
            title: Set(title),
            slug: Set(slug),
            short_description: Set(short),
            description: Set(description),
            r#type: Set(CATEGORIES[category].1.into()),
            status: Set(if *kind == "draft" {
                "draft"
            } else {
                "published"
            }
            .into()),
            visibility: Set(if private { "private" } else { "public" }.into()),
            featured: Set(featured),
            start_date: Set(utc(start)),
            end_date: Set(utc(start + Duration::hours(hours))),
            ticket_sales_start: Set(sales_start.map(utc)),
            ticket_sales_end: Set(sales_end.map(utc)),
            max_tickets_per_purchase: Set(Some(10)),
            service_fee_bps: Set(1000),
            organizer_id: Set(organizers[organizer].id.clone().unwrap()),
            category_id: Set(Some(categories[category].id.clone().unwrap())),
            location_id: Set(Some(locations[location].id.clone().unwrap())),
            deleted_at: Set(deleted.then(|| utc(today - Duration::days(1)))),
            tags: Set(CATEGORIES[category].0.to_lowercase()),
            age_restriction: Set(if g.chance(0.2) { "18+" } else { "" }.into()),
            dresscode: Set(String::new()),
            accessibility: Set(String::new()),
            parking: Set(String::new()),
            views_count: Set(0),
            dates_pending: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        });

        let base_price: u64 = if g.chance(0.05) {
            0
        } else {
            500 * g.0.random_range(10..=80)
        };
        let sold_out = g.chance(0.1);
        let unlimited_general = g.chance(0.15);
        let r: f64 = g.0.random();
        let public = if r >= 0.02 {
            [true, true, r >= 0.10]
        } else {
            [false; 3]
        };
        for (n, (name, factor)) in TIERS.iter().enumerate() {
            let (capacity, sold) = if n == 0 && unlimited_general {
                (None, g.0.random_range(0..3000))
            } else {
                let capacity = 10 * g.0.random_range(5..=200);
                let sold = if sold_out || g.chance(0.2) {
                    capacity
                } else {
                    g.0.random_range(0..capacity)
                };
                (Some(capacity), sold)
            };
            tiers.push(ticket_tiers::ActiveModel {
                id: Set(g.id()),
                event_id: Set(id),
                name: Set((*name).into()),
                description: Set(String::new()),
                price: Set(round_500(base_price * u64::from(*factor) / 10)),
                capacity: Set(capacity),
                sold: Set(sold),
                reserved: Set(0),
                min_per_order: Set(1),
                max_per_order: Set(Some(10)),
                sale_start: Set(None),
                sale_end: Set(None),
                is_public: Set(public[n]),
                display_order: Set(i32::try_from(n).unwrap_or(0)),
                tier_type: Set((*name).into()),
                benefits: Set(String::new()),
                is_highlighted: Set(false),
                category_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }

    let seeded = Seeded {
        organizers: organizers.len(),
        categories: categories.len(),
        locations: locations.len(),
        events: events.len(),
        tiers: tiers.len(),
    };
    let organizer_ids: Vec<Uuid> = organizers
        .iter()
        .filter_map(|o| o.id.clone().take())
        .collect();

    let txn = db.begin().await?;
    // The demo organizers' events, tiers and images go with them (cascade).
    organizers::Entity::delete_many()
        .filter(organizers::Column::Id.is_in(organizer_ids))
        .exec(&txn)
        .await?;
    organizers::Entity::insert_many(organizers)
        .exec(&txn)
        .await?;
    // Categories and locations may be used by events made in the admin: kept.
    event_categories::Entity::insert_many(categories)
        .on_conflict_do_nothing_on([event_categories::Column::Id])
        .exec(&txn)
        .await?;
    locations::Entity::insert_many(locations)
        .on_conflict_do_nothing_on([locations::Column::Id])
        .exec(&txn)
        .await?;
    for chunk in events.chunks(200) {
        events::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for chunk in tiers.chunks(500) {
        ticket_tiers::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for chunk in images.chunks(500) {
        event_images::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    use super::round_500;

    #[test]
    fn prices_round_to_500_half_even() {
        assert_eq!(round_500(0), 0);
        assert_eq!(round_500(8000), 8000);
        assert_eq!(round_500(12_800), 13_000);
        assert_eq!(round_500(750), 1000);
        assert_eq!(round_500(1250), 1000);
    }
}
