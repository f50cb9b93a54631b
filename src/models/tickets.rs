pub use super::_entities::tickets::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
