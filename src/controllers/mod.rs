pub mod admin;
pub mod api;
pub mod docs;
pub mod health;
pub mod media;
pub mod statics;
