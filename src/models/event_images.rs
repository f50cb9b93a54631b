pub use super::_entities::event_images::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
