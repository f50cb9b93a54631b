//! Catalogue answers already in this instance's cache, served before the
//! request span, CORS, routing and the handler: a hit costs a key lookup. It
//! sits inside the host check and the https redirect (those rules hold for
//! every answer) and outside everything else. Only plain reads take it: `GET`
//! under `/api/v1/` without an `Origin` (browsers' cross-origin calls go the
//! full way, so CORS answers them) — the mobile app, server-side rendering
//! and crawlers. A miss, or anything else, goes on as before; the body and
//! headers of a hit are those the full path gives.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request, Response, StatusCode},
};
use tower::{Layer, Service};

use crate::platform::cache::ResponseCache;

/// What the CORS layer adds to every answer (kept identical on a hit).
const VARY: &str = "origin, access-control-request-method, access-control-request-headers";

#[derive(Clone)]
pub struct FastCacheLayer {
    cache: Arc<ResponseCache>,
}

impl FastCacheLayer {
    #[must_use]
    pub const fn new(cache: Arc<ResponseCache>) -> Self {
        Self { cache }
    }
}

impl<S> Layer<S> for FastCacheLayer {
    type Service = FastCache<S>;
    fn layer(&self, inner: S) -> Self::Service {
        FastCache {
            inner,
            cache: self.cache.clone(),
        }
    }
}

#[derive(Clone)]
pub struct FastCache<S> {
    inner: S,
    cache: Arc<ResponseCache>,
}

/// The cache key the catalogue handlers store an answer under (see
/// `RequestUrl::cache_key`), if this request may be answered from it.
fn key_of(req: &Request<Body>) -> Option<String> {
    if req.method() != Method::GET
        || !req.uri().path().starts_with("/api/v1/")
        || req.headers().contains_key(header::ORIGIN)
    {
        return None;
    }
    let scheme = super::https::forwarded_scheme(req.headers())
        .filter(|s| s.eq_ignore_ascii_case("https"))
        .map_or("http", |_| "https");
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| {
            req.uri()
                .authority()
                .map(axum::http::uri::Authority::as_str)
        })
        .unwrap_or("localhost");
    let query =
        url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()).into_owned();
    Some(crate::platform::cache::key(
        scheme,
        host,
        req.uri().path(),
        &crate::platform::cache::canonical_query(req.uri().path(), query),
    ))
}

impl<S> Service<Request<Body>> for FastCache<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let Some(key) = key_of(&req).filter(|_| self.cache.enabled()) else {
            return Box::pin(self.inner.call(req));
        };
        let cache = self.cache.clone();
        // The clone that was made ready is the one that serves a miss.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            if let Some(body) = cache.peek(&key).await {
                let mut res = Response::new(Body::from(body));
                *res.status_mut() = StatusCode::OK;
                let h = res.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                h.insert(header::VARY, HeaderValue::from_static(VARY));
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
                return Ok(res);
            }
            inner.call(req).await
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::FromRequestParts;

    use super::*;
    use crate::controllers::api::RequestUrl;

    async fn handler_key(req: Request<Body>) -> String {
        let (mut parts, _) = req.into_parts();
        RequestUrl::from_request_parts(&mut parts, &())
            .await
            .unwrap()
            .cache_key()
    }

    fn get(uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .uri(uri)
            .header(header::HOST, "api.tuki.live")
    }

    #[tokio::test]
    async fn the_key_is_the_one_the_handlers_store_under() {
        for uri in [
            "/api/v1/events/public_list/",
            "/api/v1/events/public_list/?page=2&search=rock",
            "/api/v1/events/public_list/?type=b&page=02&category=z&category=a&utm_source=x",
            "/api/v1/events/gran-show/",
        ] {
            for proto in ["https", "http"] {
                let req = || {
                    get(uri)
                        .header("x-forwarded-proto", proto)
                        .body(Body::empty())
                        .unwrap()
                };
                assert_eq!(key_of(&req()).unwrap(), handler_key(req()).await, "{uri}");
            }
        }
    }

    #[test]
    fn only_plain_reads_of_the_api_take_the_short_way() {
        let with = |b: axum::http::request::Builder| b.body(Body::empty()).unwrap();
        assert!(key_of(&with(get("/api/v1/events/public_list/"))).is_some());
        assert!(key_of(&with(get("/api/v1/events/public_list/").method("POST"))).is_none());
        assert!(key_of(&with(get("/admin/"))).is_none());
        assert!(key_of(&with(
            get("/api/v1/events/public_list/").header(header::ORIGIN, "https://tuki.cl")
        ))
        .is_none());
    }
}
