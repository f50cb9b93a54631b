pub use super::_entities::ticket_tiers::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);
