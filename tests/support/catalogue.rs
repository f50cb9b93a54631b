//! Catalogue fixtures: a few events with known dates, tiers and places.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use tuki_backend::models::_entities::{
    event_categories, event_images, events, locations, organizers, ticket_tiers,
};
use uuid::Uuid;

pub fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

/// Shared rows every event points at.
pub struct Place {
    pub organizer: Uuid,
    pub music: Uuid,
    pub theater: Uuid,
    pub santiago: Uuid,
    pub valparaiso: Uuid,
}

pub async fn place(db: &DatabaseConnection) -> Place {
    let now = Utc::now().fixed_offset();
    let organizer = organizers::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set("Producciones Cordillera".into()),
        slug: Set("producciones-cordillera".into()),
        contact_email: Set(String::new()),
        contact_phone: Set(String::new()),
        status: Set("active".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let category = |name: &str, slug: &str| event_categories::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name.into()),
        slug: Set(slug.into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let music = category("Música", "musica").insert(db).await.unwrap();
    let theater = category("Teatro", "teatro").insert(db).await.unwrap();
    let location = |name: &str, city: &str| locations::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name.into()),
        address: Set(format!("Calle Prat 100, {city}")),
        city: Set(city.into()),
        country: Set("Chile".into()),
        latitude: Set(None),
        longitude: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let santiago = location("Teatro Municipal", "Santiago")
        .insert(db)
        .await
        .unwrap();
    let valparaiso = location("Sala Pacífico", "Valparaíso")
        .insert(db)
        .await
        .unwrap();
    Place {
        organizer: organizer.id,
        music: music.id,
        theater: theater.id,
        santiago: santiago.id,
        valparaiso: valparaiso.id,
    }
}

/// An event to insert; defaults: published, public, a concert in Santiago.
pub struct NewEvent {
    pub title: &'static str,
    pub slug: &'static str,
    pub status: &'static str,
    pub visibility: &'static str,
    pub r#type: &'static str,
    pub featured: bool,
    pub start: DateTime<FixedOffset>,
    pub hours: i64,
    pub sales: (Option<DateTime<FixedOffset>>, Option<DateTime<FixedOffset>>),
    pub deleted: bool,
    pub category: Option<Uuid>,
    pub location: Option<Uuid>,
    pub image: Option<&'static str>,
    /// (price, capacity, sold, public)
    pub tiers: Vec<(i64, Option<i32>, i32, bool)>,
}

impl NewEvent {
    pub fn new(p: &Place, title: &'static str, slug: &'static str, start: &str) -> Self {
        Self {
            title,
            slug,
            status: "published",
            visibility: "public",
            r#type: "concert",
            featured: false,
            start: at(start),
            hours: 3,
            sales: (None, None),
            deleted: false,
            category: Some(p.music),
            location: Some(p.santiago),
            image: None,
            tiers: vec![(10_000, Some(100), 40, true), (25_000, Some(20), 20, true)],
        }
    }

    pub async fn insert(self, db: &DatabaseConnection, p: &Place) -> Uuid {
        let now = Utc::now().fixed_offset();
        let id = Uuid::new_v4();
        events::ActiveModel {
            id: Set(id),
            title: Set(self.title.into()),
            slug: Set(self.slug.into()),
            short_description: Set(String::new()),
            description: Set(format!("Descripción de {}", self.title)),
            r#type: Set(self.r#type.into()),
            status: Set(self.status.into()),
            visibility: Set(self.visibility.into()),
            featured: Set(self.featured),
            start_date: Set(self.start.to_utc().fixed_offset()),
            end_date: Set((self.start + Duration::hours(self.hours))
                .to_utc()
                .fixed_offset()),
            ticket_sales_start: Set(self.sales.0.map(|d| d.to_utc().fixed_offset())),
            ticket_sales_end: Set(self.sales.1.map(|d| d.to_utc().fixed_offset())),
            max_tickets_per_purchase: Set(Some(10)),
            service_fee_bps: Set(1000),
            organizer_id: Set(p.organizer),
            category_id: Set(self.category),
            location_id: Set(self.location),
            deleted_at: Set(self.deleted.then_some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        for (n, (price, capacity, sold, public)) in self.tiers.into_iter().enumerate() {
            ticket_tiers::ActiveModel {
                id: Set(Uuid::new_v4()),
                event_id: Set(id),
                name: Set(format!("Tier {n}")),
                description: Set(String::new()),
                price: Set(price),
                capacity: Set(capacity),
                sold: Set(sold),
                reserved: Set(0),
                min_per_order: Set(1),
                max_per_order: Set(Some(10)),
                sale_start: Set(None),
                sale_end: Set(None),
                is_public: Set(public),
                display_order: Set(i32::try_from(n).unwrap()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
        if let Some(path) = self.image {
            event_images::ActiveModel {
                id: Set(Uuid::new_v4()),
                event_id: Set(id),
                path: Set(path.into()),
                alt: Set(String::new()),
                position: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
        id
    }
}
