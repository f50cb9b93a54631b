//! Django's URLs end in `/` (`/api/v1/events/public_list/`), Loco's routes do
//! not (it strips the slash when it builds the router). Both spellings reach the
//! same handler: a trailing slash is removed *before* routing, and the URI the
//! client sent is kept as [`OriginalUri`] for links built from it (`next`).

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    extract::OriginalUri,
    http::{uri::PathAndQuery, Request, Response, Uri},
    Router,
};
use tower::{Layer, Service};

#[derive(Clone, Copy)]
pub struct TrimSlashLayer;

impl<S> Layer<S> for TrimSlashLayer {
    type Service = TrimSlash<S>;
    fn layer(&self, inner: S) -> Self::Service {
        TrimSlash { inner }
    }
}

#[derive(Clone)]
pub struct TrimSlash<S> {
    inner: S,
}

fn trimmed(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    if path.len() <= 1 || !path.ends_with('/') {
        return None;
    }
    let path = path.trim_end_matches('/');
    let path = if path.is_empty() { "/" } else { path };
    let pq = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(pq).ok()?);
    Uri::from_parts(parts).ok()
}

impl<S> Service<Request<Body>> for TrimSlash<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        if let Some(uri) = trimmed(req.uri()) {
            let original = std::mem::replace(req.uri_mut(), uri);
            req.extensions_mut().insert(OriginalUri(original));
        }
        self.inner.call(req)
    }
}

/// The router behind the slash trimming (a layer added with `Router::layer`
/// runs after routing, too late to change the path).
pub fn wrap(router: Router) -> Router {
    Router::new().fallback_service(TrimSlashLayer.layer(router))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trailing_slash_is_removed() {
        let t = |s: &str| trimmed(&s.parse().unwrap()).map(|u| u.to_string());
        assert_eq!(
            t("/api/v1/events/public_list/?page=2").as_deref(),
            Some("/api/v1/events/public_list?page=2")
        );
        assert_eq!(t("/admin/").as_deref(), Some("/admin"));
        assert_eq!(t("/"), None);
        assert_eq!(t("/healthz"), None);
    }
}
