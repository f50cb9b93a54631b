//! Signing in by email and password, shared by the API's tokens and the
//! admin's sessions: throttled per email and per address, the same time and
//! the same refusal whether the email exists or not, argon2 checked off the
//! async workers, and a Django hash upgraded to argon2id on first use.

use chrono::Utc;
use loco_rs::{app::AppContext, model::ModelError};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use tokio::sync::OnceCell;

use crate::{
    accounts::passwords::{self, Busy, Verified},
    models::users,
};

/// What an attempt came to.
pub enum SignIn {
    Ok(Box<users::Model>),
    /// Wrong email or password, inactive, or (for the admin) not staff.
    Refused,
    /// Too many failures: retry after this many seconds.
    Throttled(u64),
    /// Password checking is at capacity: retry in a moment.
    Busy,
}

/// A hash to check against when the email is unknown, so both answers take
/// the same time (made once, off the async workers).
static DUMMY_HASH: OnceCell<String> = OnceCell::const_new();

async fn dummy_hash() -> Result<&'static String, Busy> {
    DUMMY_HASH
        .get_or_try_init(|| async {
            passwords::hash_async("tuki-no-such-user")
                .await
                .map_err(|_| Busy)
        })
        .await
}

/// Checks a password off the async workers (argon2 is deliberately slow),
/// behind the hashing gate.
///
/// # Errors
/// [`Busy`] when the gate's queue is full.
pub async fn verify_password(password: &str, hash: &str) -> Result<Verified, Busy> {
    passwords::verify_async(password, hash).await
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
    let throttle = crate::platform::context::throttle(ctx)
        .map_err(|e| ModelError::Any(e.to_string().into()))?;
    // A full hashing queue refuses before any other work is done.
    if passwords::at_capacity() {
        return Ok(SignIn::Busy);
    }
    let email = email.trim().to_lowercase();
    // The attempt is counted before the password is looked at: a parallel
    // burst cannot all pass the check.
    if let Err(seconds) = throttle.attempt(&email, ip).await {
        return Ok(SignIn::Throttled(seconds));
    }
    let user = users::Model::find_by_email(&ctx.db, &email).await?;
    let hash = match &user {
        Some(u) => u.password.clone(),
        None => match dummy_hash().await {
            Ok(h) => h.clone(),
            Err(Busy) => return Ok(SignIn::Busy),
        },
    };
    let Ok(verified) = verify_password(password, &hash).await else {
        return Ok(SignIn::Busy);
    };
    let Some(user) = user.filter(|u| u.is_active && (u.is_staff || !staff_only) && verified.ok())
    else {
        return Ok(SignIn::Refused);
    };
    throttle.succeeded(&email, ip).await;
    let mut active: users::ActiveModel = user.into();
    active.last_login = Set(Some(Utc::now().fixed_offset()));
    let user = if verified == Verified::YesNeedsRehash {
        // A Django hash becomes argon2id on its first successful use (the
        // same password: sessions stay valid).
        active.rehash_password(&ctx.db, password).await?
    } else {
        active.update(&ctx.db).await?
    };
    Ok(SignIn::Ok(Box::new(user)))
}
