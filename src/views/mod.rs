//! Output types: JSON responses and Tera page data (one module per resource).

pub mod accounts;
pub mod events;
pub mod orders;
pub mod tickets;
