pub use super::_entities::organizer_members::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
