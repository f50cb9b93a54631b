mod events;
mod health;
