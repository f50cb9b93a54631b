pub mod _entities;
pub mod cache_entries;
pub mod coupons;
pub mod courtesy;
pub mod demo;
pub mod door;
pub mod event_categories;
pub mod event_images;
pub mod events;
pub mod locations;
pub mod one_time_codes;
pub mod order_items;
pub mod orders;
pub mod organizer_members;
pub mod organizer_onboardings;
pub mod organizers;
pub mod payments;
pub mod refresh_tokens;
pub mod reservation_items;
pub mod reservations;
pub mod sales;
pub mod sql;
pub mod status;
pub mod ticket_categories;
pub mod ticket_tiers;
pub mod tickets;
pub mod users;

/// `ActiveModelBehavior` that moves `updated_at` on every change of a row.
#[macro_export]
macro_rules! touch_updated_at {
    ($active:ty) => {
        #[async_trait::async_trait]
        impl sea_orm::ActiveModelBehavior for $active {
            async fn before_save<C>(self, _db: &C, insert: bool) -> Result<Self, sea_orm::DbErr>
            where
                C: sea_orm::ConnectionTrait,
            {
                use sea_orm::ActiveModelTrait as _;
                let mut this = self;
                if !insert && this.is_changed() {
                    this.updated_at = sea_orm::ActiveValue::Set(chrono::Utc::now().into());
                }
                Ok(this)
            }
        }
    };
}
