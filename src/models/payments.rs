pub use super::_entities::payments::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
