//! An event's pictures: the file goes to media storage, the row keeps its key.

use std::path::Path;

use bytes::Bytes;
use loco_rs::{app::AppContext, storage::StorageError};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

pub use super::_entities::event_images::{self, ActiveModel, Column, Entity, Model};
use crate::{models::_entities::events, platform::storage::ImageKind};

crate::touch_updated_at!(ActiveModel);

/// The largest image accepted (the request body limit is 10 MB).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("El archivo no es una imagen JPEG, PNG, GIF o WebP.")]
    NotAnImage,
    #[error("La imagen pesa más de 5 MB.")]
    TooLarge,
    #[error("El evento no existe.")]
    NoSuchEvent,
    #[error("media storage: {0}")]
    Storage(#[from] StorageError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl ImageError {
    /// Whether the caller sent something wrong (a 4xx), as opposed to a failure here.
    #[must_use]
    pub const fn is_client_error(&self) -> bool {
        matches!(self, Self::NotAnImage | Self::TooLarge | Self::NoSuchEvent)
    }
}

/// The storage key of a new image: `events/{event}/{random}.{ext}`. Names are
/// never reused, so a stored file never changes and may be cached for good.
fn new_key(event_id: Uuid, kind: ImageKind) -> String {
    format!(
        "events/{event_id}/{}.{}",
        Uuid::new_v4().simple(),
        kind.extension()
    )
}

/// Checks and stores an image, then adds it after the event's other images.
/// The file is only accepted if its bytes are a JPEG, PNG, GIF or WebP image.
///
/// # Errors
/// [`ImageError`]: a client error for a bad file or unknown event (nothing is
/// stored), otherwise the storage or database failure (a stored file whose row
/// could not be written is deleted again).
pub async fn add(
    ctx: &AppContext,
    event_id: Uuid,
    content: Bytes,
    alt: &str,
) -> Result<Model, ImageError> {
    if content.len() > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge);
    }
    let kind = ImageKind::sniff(&content).ok_or(ImageError::NotAnImage)?;
    if events::Entity::find_by_id(event_id)
        .one(&ctx.db)
        .await?
        .is_none()
    {
        return Err(ImageError::NoSuchEvent);
    }
    let key = new_key(event_id, kind);
    ctx.storage.upload(Path::new(&key), &content).await?;
    let last: Option<i32> = Entity::find()
        .select_only()
        .column(Column::Position)
        .filter(Column::EventId.eq(event_id))
        .order_by_desc(Column::Position)
        .limit(1)
        .into_tuple()
        .one(&ctx.db)
        .await?;
    let now = chrono::Utc::now().into();
    let row = ActiveModel {
        id: Set(Uuid::new_v4()),
        event_id: Set(event_id),
        path: Set(key.clone()),
        alt: Set(alt.chars().take(200).collect()),
        position: Set(last.map_or(0, |p| p + 1)),
        kind: Set("image".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&ctx.db)
    .await;
    match row {
        Ok(row) => {
            invalidate_catalogue(ctx).await;
            Ok(row)
        }
        Err(err) => {
            if let Err(e) = ctx.storage.delete(Path::new(&key)).await {
                tracing::warn!(key, error = %e, "could not delete an orphaned image");
            }
            Err(err.into())
        }
    }
}

/// Removes an image: the row first (the API stops showing it), then the file.
///
/// # Errors
/// The database failure; a file that cannot be deleted is only logged.
pub async fn remove(ctx: &AppContext, id: Uuid) -> Result<bool, ImageError> {
    let Some(row) = Entity::find_by_id(id).one(&ctx.db).await? else {
        return Ok(false);
    };
    Entity::delete_by_id(id).exec(&ctx.db).await?;
    invalidate_catalogue(ctx).await;
    if let Err(e) = ctx.storage.delete(Path::new(&row.path)).await {
        tracing::warn!(key = row.path, error = %e, "could not delete an image file");
    }
    Ok(true)
}

/// Changes are visible at once on this instance (others within the cache bound).
async fn invalidate_catalogue(ctx: &AppContext) {
    if let Ok(cache) = crate::platform::context::cache(ctx) {
        cache.invalidate();
    }
}
