pub use super::_entities::event_categories::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
