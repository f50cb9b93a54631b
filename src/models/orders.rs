pub use super::_entities::orders::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
