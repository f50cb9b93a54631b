pub use super::_entities::organizers::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
