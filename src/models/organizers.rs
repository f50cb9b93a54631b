//! Organizers: who sells. Their profile is edited by their members from the
//! dashboard (`organizers/current/`) and by staff in the admin.

use std::path::Path;

use bytes::Bytes;
use loco_rs::app::AppContext;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use uuid::Uuid;

pub use super::_entities::organizers::{self, ActiveModel, Column, Entity, Model};
use super::event_images::{ImageError, MAX_IMAGE_BYTES};
use crate::platform::storage::ImageKind;

crate::touch_updated_at!(ActiveModel);

/// Sizes an organizer may say it is.
pub const SIZES: [&str; 4] = ["", "small", "medium", "large"];

/// Checks and stores a new logo for `organizer`, then points the organizer at
/// it and deletes the old file. Only JPEG, PNG, GIF or WebP bytes are taken.
///
/// # Errors
/// [`ImageError`]: a client error for a bad file (nothing stored), otherwise
/// the storage or database failure (the new file is deleted again).
pub async fn set_logo(
    ctx: &AppContext,
    organizer: &Model,
    content: Bytes,
) -> Result<Model, ImageError> {
    if content.len() > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge);
    }
    let kind = ImageKind::sniff(&content).ok_or(ImageError::NotAnImage)?;
    let key = format!(
        "organizers/{}/logo-{}.{}",
        organizer.id,
        Uuid::new_v4().simple(),
        kind.extension()
    );
    ctx.storage.upload(Path::new(&key), &content).await?;
    let mut row: ActiveModel = organizer.clone().into();
    row.logo = Set(key.clone());
    match row.update(&ctx.db).await {
        Ok(updated) => {
            if !organizer.logo.is_empty() {
                if let Err(e) = ctx.storage.delete(Path::new(&organizer.logo)).await {
                    tracing::warn!(key = organizer.logo, error = %e, "could not delete an old logo");
                }
            }
            if let Ok(cache) = crate::platform::context::cache(ctx) {
                cache.invalidate();
            }
            Ok(updated)
        }
        Err(err) => {
            if let Err(e) = ctx.storage.delete(Path::new(&key)).await {
                tracing::warn!(key, error = %e, "could not delete an orphaned logo");
            }
            Err(err.into())
        }
    }
}
