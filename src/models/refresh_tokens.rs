pub use super::_entities::refresh_tokens::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
