//! Ticket categories: how an organizer groups an event's tiers ("General",
//! "VIP"…), with their display and sale-window settings (backtuki's
//! `TicketCategory`).

pub use super::_entities::ticket_categories::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);

/// Category states.
pub const STATUSES: [&str; 3] = ["active", "hidden", "sold_out"];
/// Who sees a category.
pub const VISIBILITIES: [&str; 3] = ["public", "private", "password"];
