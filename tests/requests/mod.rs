mod buyers;
mod cache;
mod checkout;
mod docs;
mod events;
mod health;
mod media;
