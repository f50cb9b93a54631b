//! Behind Google's front end the scheme comes from `X-Forwarded-Proto`; a plain
//! HTTP request is sent to HTTPS with a 301, as Django's `SECURE_SSL_REDIRECT`
//! did. Runs after the host check, so the Location never names a forged host.

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::hosts::request_host;

/// The scheme Google's front end saw: `X-Forwarded-Proto`'s first value, if
/// the header is there.
#[must_use]
pub fn forwarded_scheme(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
}

pub async fn redirect_plain_http(req: Request, next: Next) -> Response {
    if !forwarded_scheme(req.headers()).is_some_and(|s| s.eq_ignore_ascii_case("http")) {
        return next.run(req).await;
    }
    let host = request_host(&req).unwrap_or_default();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    match HeaderValue::from_str(&format!("https://{host}{path}")) {
        Ok(location) => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}
