//! Signing in by email and password, shared by the API's tokens and the
//! admin's sessions: throttled per email and per address, the same time and
//! the same refusal whether the email exists or not, argon2 checked off the
//! async workers, and a Django hash upgraded to argon2id on first use.

use std::sync::{Arc, LazyLock};

use chrono::Utc;
use loco_rs::{app::AppContext, model::ModelError};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::{
    models::users,
    passwords::{self, Verified},
    throttle::LoginThrottle,
};

/// What an attempt came to.
pub enum SignIn {
    Ok(users::Model),
    /// Wrong email or password, inactive, or (for the admin) not staff.
    Refused,
    /// Too many failures: retry after this many seconds.
    Throttled(u64),
}

/// A hash to check against when the email is unknown, so both answers take
/// the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| passwords::hash("tuki-no-such-user").unwrap_or_default());

/// Checks a password off the async workers (argon2 is deliberately slow).
pub async fn verify_password(password: String, hash: String) -> Verified {
    tokio::task::spawn_blocking(move || passwords::verify(&password, &hash))
        .await
        .unwrap_or(Verified::No)
}

/// One attempt by `email` from `ip`; `staff_only` for the admin.
///
/// # Errors
/// Database errors.
pub async fn sign_in(
    ctx: &AppContext,
    email: &str,
    password: &str,
    ip: &str,
    staff_only: bool,
) -> Result<SignIn, ModelError> {
    let throttle = ctx
        .shared_store
        .get::<Arc<LoginThrottle>>()
        .ok_or_else(|| ModelError::Any("the sign-in throttle is not set up".into()))?;
    let email = email.trim().to_lowercase();
    if let Err(seconds) = throttle.check(&email, ip).await {
        return Ok(SignIn::Throttled(seconds));
    }
    let user = users::Model::find_by_email(&ctx.db, &email).await?;
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password.clone());
    let verified = verify_password(password.to_string(), hash).await;
    let Some(user) = user.filter(|u| u.is_active && (u.is_staff || !staff_only) && verified.ok())
    else {
        throttle.failed(&email, ip).await;
        return Ok(SignIn::Refused);
    };
    throttle.succeeded(&email).await;
    let mut active: users::ActiveModel = user.into();
    active.last_login = Set(Some(Utc::now().fixed_offset()));
    let user = if verified == Verified::YesNeedsRehash {
        // A Django hash becomes argon2id on its first successful use.
        active.set_password(&ctx.db, password).await?
    } else {
        active.update(&ctx.db).await?
    };
    Ok(SignIn::Ok(user))
}
