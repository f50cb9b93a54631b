//! A user as backtuki's frontends read it (its `UserProfileSerializer`).

use serde::Serialize;

use super::events::iso_santiago;
use crate::models::users;

/// `auth/me/`, `auth/profile/` and every sign-in's `user`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserProfile {
    pub id: uuid::Uuid,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Option<String>,
    pub full_name: String,
    pub is_organizer: bool,
    pub is_validator: bool,
    pub is_guest: bool,
    pub is_erasmus: bool,
    pub locale: String,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_profile_complete: bool,
    pub has_password: bool,
    /// ISO 8601, Santiago's offset.
    pub date_joined: String,
    pub last_login: Option<String>,
    pub profile_completed_at: Option<String>,
}

/// Whether the account can sign in with a password (guests made at purchase
/// or by a code have none).
#[must_use]
pub fn has_password(user: &users::Model) -> bool {
    !user.password.is_empty() && !user.password.starts_with('!')
}

/// Names given, claimed (not a guest) and marked complete.
#[must_use]
pub fn is_profile_complete(user: &users::Model) -> bool {
    !user.first_name.trim().is_empty()
        && !user.last_name.trim().is_empty()
        && !user.is_guest
        && user.profile_completed_at.is_some()
}

impl From<&users::Model> for UserProfile {
    fn from(u: &users::Model) -> Self {
        let full = format!("{} {}", u.first_name, u.last_name)
            .trim()
            .to_string();
        Self {
            id: u.id,
            email: u.email.clone(),
            username: u.username.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            phone_number: u.phone_number.clone(),
            full_name: if full.is_empty() {
                u.username.clone()
            } else {
                full
            },
            is_organizer: u.is_organizer,
            is_validator: u.is_validator,
            is_guest: u.is_guest,
            is_erasmus: false,
            locale: "es".to_string(),
            is_superuser: u.is_superuser,
            is_staff: u.is_staff,
            is_profile_complete: is_profile_complete(u),
            has_password: has_password(u),
            date_joined: iso_santiago(u.date_joined),
            last_login: u.last_login.map(iso_santiago),
            profile_completed_at: u.profile_completed_at.map(iso_santiago),
        }
    }
}
