//! Each model's admin declaration with its hooks, one file per app (Django's
//! `admin.py`).

pub mod events;
pub mod orders;
pub mod organizers;
pub mod payments;
pub mod users;
