mod admin;
mod buyers;
mod cache;
pub mod checkout;
mod docs;
mod events;
mod health;
mod mail;
mod media;
