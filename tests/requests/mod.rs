mod cache;
mod events;
mod health;
