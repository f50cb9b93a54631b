//! `/media/…`: files on local disk (`MEDIA_ROOT`), when media is not on Google
//! Cloud Storage (then image URLs point at the bucket and nothing is served here).

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::Response,
    Router,
};
use tower_http::services::ServeDir;

use crate::{
    platform::settings::{MediaBackend, Settings},
    platform::storage::MEDIA_CACHE_CONTROL,
};

/// Stored files are data, never pages: a file that a browser would run (an SVG
/// with a script, an HTML file) is shown in a sandbox with nothing allowed.
const MEDIA_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

/// Adds `/media/` to the router when media lives on local disk.
pub fn mount(router: Router, settings: &Settings) -> Router {
    let MediaBackend::Local { root } = &settings.media.backend else {
        return router;
    };
    let files = ServeDir::new(root).append_index_html_on_directories(false);
    router.nest_service(
        "/media",
        Router::new()
            .fallback_service(files)
            .layer(axum::middleware::map_response(media_headers)),
    )
}

async fn media_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(MEDIA_CSP),
    );
    if matches!(
        response.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    ) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(MEDIA_CACHE_CONTROL),
        );
    }
    response
}
