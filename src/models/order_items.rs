pub use super::_entities::order_items::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
