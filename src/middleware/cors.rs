//! CORS for the web and mobile frontends (`CORS_ALLOWED_ORIGINS`), with
//! credentials, as django-cors-headers answered them.

use std::{collections::HashSet, sync::Arc, time::Duration};

use axum::http::{HeaderValue, Method};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::platform::settings::Settings;

pub fn layer(settings: &Settings) -> CorsLayer {
    let origins = &settings.cors_allowed_origins;
    let allow_origin = if origins.iter().any(|o| o == "*") {
        // Development only (production refuses `*` at boot). With credentials a
        // literal `*` is invalid, so the request's origin is echoed.
        AllowOrigin::mirror_request()
    } else {
        // A predicate over a shared set: tower-http clones its layer for every
        // request, and a `list` would copy the origins each time.
        let allowed: Arc<HashSet<HeaderValue>> = Arc::new(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect(),
        );
        AllowOrigin::predicate(move |origin, _| allowed.contains(origin))
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(Duration::from_secs(86_400))
}
