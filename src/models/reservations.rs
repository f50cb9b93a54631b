pub use super::_entities::reservations::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
