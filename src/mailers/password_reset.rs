//! Password reset by a mailed one-time link.
//!
//! The token is `{expiry}.{hmac}` over the user's id, the expiry and the
//! current password hash (Django's scheme): it needs no table, stops working
//! after an hour, and stops working once used — using it changes the hash.

use include_dir::{include_dir, Dir};
use loco_rs::{
    app::AppContext,
    mailer::{Args, Mailer},
};
use serde_json::json;

use crate::models::users;

static TEMPLATES: Dir<'_> = include_dir!("src/mailers/password_reset");

/// How long a reset link works.
pub const LIFETIME_SECONDS: i64 = 3600;

pub struct ResetMailer;

impl Mailer for ResetMailer {}

fn mac(secret: &str, user: &users::Model, expires: i64) -> String {
    crate::platform::tokens::hmac_sha256_hex(
        secret,
        &format!("password-reset:{}:{expires}:{}", user.id, user.password),
    )
}

/// A token for `user`, valid until `now + LIFETIME_SECONDS`.
#[must_use]
pub fn make_token(secret: &str, user: &users::Model, now: i64) -> String {
    let expires = now + LIFETIME_SECONDS;
    format!("{expires}.{}", mac(secret, user, expires))
}

/// Whether `token` is a live token for `user`.
#[must_use]
pub fn check_token(secret: &str, user: &users::Model, token: &str, now: i64) -> bool {
    let Some((expires, given)) = token.split_once('.') else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    if expires < now || expires > now + LIFETIME_SECONDS {
        return false;
    }
    let expected = mac(secret, user, expires);
    bool::from(subtle::ConstantTimeEq::ct_eq(
        given.as_bytes(),
        expected.as_bytes(),
    ))
}

/// Mails the reset link to an active user.
///
/// # Errors
/// The mail could not be sent (or no mail server is configured).
pub async fn send(ctx: &AppContext, user: &users::Model) -> Result<(), String> {
    let settings = crate::platform::context::settings(ctx).map_err(|e| e.to_string())?;
    if ctx.mailer.is_none() {
        return Err("no mail server is configured (EMAIL_HOST)".into());
    }
    let token = make_token(&settings.secret_key, user, chrono::Utc::now().timestamp());
    let link = format!(
        "{}/reset-password?uid={}&token={token}",
        settings.frontend_url, user.id
    );
    ResetMailer::mail_template(
        ctx,
        &TEMPLATES,
        Args {
            from: Some(settings.from_email.clone()),
            to: user.email.clone(),
            locals: json!({ "email": user.email, "link": link }),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| e.to_string())
}
