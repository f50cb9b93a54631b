//! What the app keeps in Loco's shared store at boot (see `app.rs`), as typed
//! getters: controllers, mailers, models and tasks read their services here
//! instead of reaching up into the app's hooks.

use std::sync::Arc;

use loco_rs::{app::AppContext, Error, Result};

use crate::{
    accounts::sessions::SessionStore,
    accounts::throttle::LoginThrottle,
    payments::{credentials::Gateway, webpay::Webpay},
    platform::cache::ResponseCache,
    platform::settings::Settings,
};

fn get<T: Clone + Send + Sync + 'static>(ctx: &AppContext, what: &str) -> Result<T> {
    ctx.shared_store
        .get::<T>()
        .ok_or_else(|| Error::string(&format!("{what} is not set up")))
}

/// The checked settings, read once at boot.
///
/// # Errors
/// Never after a normal boot; a context built by hand without settings.
pub fn settings(ctx: &AppContext) -> Result<Arc<Settings>> {
    get(ctx, "settings")
}

/// The catalogue's response cache (see `cache.rs`).
///
/// # Errors
/// Never after a normal boot.
pub fn cache(ctx: &AppContext) -> Result<Arc<ResponseCache>> {
    get(ctx, "the response cache")
}

/// The payment gateway (see `payments::credentials`).
///
/// # Errors
/// Never after a normal boot.
pub fn gateway(ctx: &AppContext) -> Result<Arc<Gateway>> {
    get(ctx, "the payment gateway")
}

/// The Webpay Plus client to pay with now (see `webpay.rs`): `None` while
/// Webpay has no credentials (neither in the environment nor in the admin).
///
/// # Errors
/// When the database fails.
pub async fn webpay(ctx: &AppContext) -> Result<Option<Arc<Webpay>>> {
    let (webpay, _) = gateway(ctx)?.webpay(&ctx.db).await?;
    Ok(webpay)
}

/// Attempt counters: sign-in, password change and reset, reserve.
///
/// # Errors
/// Never after a normal boot.
pub fn throttle(ctx: &AppContext) -> Result<Arc<LoginThrottle>> {
    get(ctx, "the attempt counters")
}

/// The admin's session store.
///
/// # Errors
/// Never after a normal boot.
pub fn sessions(ctx: &AppContext) -> Result<Arc<SessionStore>> {
    get(ctx, "the session store")
}
