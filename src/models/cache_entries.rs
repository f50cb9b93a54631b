//! Rows of the `cache_entries` table: the response cache's shared tier and
//! staff sessions when Redis is off.

use chrono::{DateTime, Utc};
use sea_orm::{entity::prelude::*, sea_query::OnConflict, ActiveValue::Set};

pub use super::_entities::cache_entries::{ActiveModel, Column, Entity, Model};
pub type CacheEntries = Entity;

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(self, _db: &C, _insert: bool) -> std::result::Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        Ok(self)
    }
}

/// Writes `key` (a new row, or the value and expiry of the one there).
///
/// # Errors
/// The database error.
pub async fn put<C: ConnectionTrait>(
    db: &C,
    key: String,
    value: Vec<u8>,
    expires: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        key: Set(key),
        value: Set(value),
        expires_at: Set(expires.fixed_offset()),
    })
    .on_conflict(
        OnConflict::column(Column::Key)
            .update_columns([Column::Value, Column::ExpiresAt])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
