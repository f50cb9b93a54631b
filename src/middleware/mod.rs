//! The request guards the Django `cloudrun` settings gave the old deployment,
//! as tower layers around Loco's router (see [`apply`] for their order).

pub mod cors;
pub mod fast_cache;
pub mod headers;
pub mod healthz;
pub mod hosts;
pub mod https;
pub mod nul;
pub mod readiness;
pub mod slash;
pub mod trace;

use std::sync::Arc;

use axum::Router;

use crate::{platform::cache::ResponseCache, platform::settings::Settings};

/// Wraps the router. Tower runs the layer added last first, so a request meets
/// them in this order:
/// 1. `/healthz` is answered at once (no host check, no redirect: Cloud Run's
///    probes reach it by the container's address, over plain HTTP);
/// 2. security headers are set on whatever answers below;
/// 3. a catalogue answer already cached here is served (`fast_cache`) to a
///    request the next two rules let through (it checks them itself);
/// 4. a Host outside `ALLOWED_HOSTS` gets 400 (before any redirect, so the
///    redirect can never point at a forged host);
/// 5. production: `X-Forwarded-Proto: http` gets a 301 to https;
/// 6. Loco's `/_readiness` answers at most one database ping a second;
/// 7. the request span (trace id, `httpRequest`) and the optional access log;
/// 8. CORS for the frontends' origins; then text PostgreSQL would refuse (a
///    NUL in the path, a parameter or a field) gets a 400 naming it (`nul`);
/// 9. a trailing slash is trimmed before routing (`slash`).
pub fn apply(router: Router, settings: &Arc<Settings>, cache: Arc<ResponseCache>) -> Router {
    let allowed = Arc::new(hosts::AllowedHosts::new(&settings.allowed_hosts));
    let router = slash::wrap(router)
        .layer(axum::middleware::from_fn(nul::refuse_nul))
        .layer(cors::layer(settings))
        .layer(axum::middleware::from_fn_with_state(
            trace::TraceConfig::new(settings.access_log, settings.num_proxies),
            trace::request_span,
        ))
        .layer(axum::middleware::from_fn_with_state(
            readiness::Last::new(),
            readiness::limit,
        ));
    let router = if settings.production {
        router.layer(axum::middleware::from_fn(https::redirect_plain_http))
    } else {
        router
    };
    let router = router.layer(axum::middleware::from_fn_with_state(
        allowed.clone(),
        hosts::check_host,
    ));
    // The first three as one service in front of the router: axum clones a
    // router's layers for every request, and these run for every request.
    let front = tower::ServiceBuilder::new()
        .layer(healthz::HealthzLayer)
        .layer(headers::SecurityHeadersLayer::new(settings.production))
        .layer(fast_cache::FastCacheLayer::new(
            cache,
            allowed,
            settings.production,
        ))
        .service(router);
    Router::new().fallback_service(front)
}
