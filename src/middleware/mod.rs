//! The request guards the Django `cloudrun` settings gave the old deployment,
//! as tower layers around Loco's router (see [`apply`] for their order).

pub mod cors;
pub mod fast_cache;
pub mod headers;
pub mod healthz;
pub mod hosts;
pub mod https;
pub mod nul;
pub mod peer;
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
///
/// Returns the router Loco serves and tests call, and the way to the
/// service that router wraps ([`FrontParts`]): the server serves that
/// directly (see `App::serve`), so a request does not first pass an outer
/// router whose only route is its fallback.
pub fn apply(
    router: Router,
    settings: &Arc<Settings>,
    cache: Arc<ResponseCache>,
) -> (Router, FrontParts) {
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
    let router = Arc::new(router);
    let parts = FrontParts {
        production: settings.production,
        fast: fast_cache::FastCacheLayer::new(cache, allowed, settings.production),
        router: Arc::downgrade(&router),
    };
    (Router::new().fallback_service(parts.around(router)), parts)
}

/// What [`Front`] is made of, without owning the router: kept in the app's
/// shared store, which the router's own state holds (owning it there would
/// be a cycle, and a context and its router would never be freed).
#[derive(Clone)]
pub struct FrontParts {
    production: bool,
    fast: fast_cache::FastCacheLayer,
    router: std::sync::Weak<Router>,
}

impl FrontParts {
    fn around(&self, router: Arc<Router>) -> Front {
        healthz::Healthz::new(headers::SecurityHeaders::new(
            self.fast.around(router),
            self.production,
        ))
    }

    /// The front service, while the router `apply` returned is alive.
    #[must_use]
    pub fn front(&self) -> Option<Front> {
        self.router.upgrade().map(|router| self.around(router))
    }
}

/// Every request's way in: `/healthz`, the security headers, the cache's
/// short way, then the router with the rest of the layers.
pub type Front = healthz::Healthz<headers::SecurityHeaders<fast_cache::FastCache<Router>>>;
