pub use super::_entities::locations::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
