mod cache;
mod docs;
mod events;
mod health;
mod media;
