//! Catalogue answers already in this instance's cache, served before
//! everything but `/healthz` and the security headers: a hit costs a key
//! lookup. The host check and the https redirect hold for every answer, so a
//! request either rule would stop (a Host outside `ALLOWED_HOSTS`; in
//! production, `X-Forwarded-Proto: http`) never takes the short way: it goes
//! on to those layers, which answer it. Only plain reads take it: `GET`
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
    http::{header, HeaderMap, HeaderValue, Method, Request, Response},
};
use tower::{Service, ServiceExt};

use super::hosts::{request_host, AllowedHosts};
use crate::platform::cache::ResponseCache;

/// What the CORS layer adds to every answer (kept identical on a hit).
const VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// What decides whether a request may take the short way.
struct Rules {
    cache: Arc<ResponseCache>,
    allowed: Arc<AllowedHosts>,
    /// Plain-http requests are redirected (production).
    redirect_http: bool,
    /// A hit's headers, made once: those the full path gives a catalogue
    /// answer, the security headers included (so their layer finds them
    /// set and adds nothing).
    hit_headers: HeaderMap,
}

/// The headers of every catalogue answer served from the cache.
fn hit_headers(production: bool) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(8);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::VARY, HeaderValue::from_static(VARY));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    super::headers::set(&mut h, production);
    h
}

#[derive(Clone)]
pub struct FastCacheLayer {
    rules: Arc<Rules>,
}

impl FastCacheLayer {
    /// `production`: plain-http requests are redirected and answers carry
    /// HSTS.
    #[must_use]
    pub fn new(cache: Arc<ResponseCache>, allowed: Arc<AllowedHosts>, production: bool) -> Self {
        Self {
            rules: Arc::new(Rules {
                cache,
                allowed,
                redirect_http: production,
                hit_headers: hit_headers(production),
            }),
        }
    }

    /// The layer around a service already shared.
    #[must_use]
    pub fn around<S>(&self, inner: Arc<S>) -> FastCache<S> {
        FastCache {
            inner,
            rules: self.rules.clone(),
        }
    }
}

/// The inner service is shared, not owned: axum clones the service a request
/// meets, and a hit must not pay for cloning everything behind it (CORS's
/// lists among it). A miss clones it then, as axum would have.
pub struct FastCache<S> {
    inner: Arc<S>,
    rules: Arc<Rules>,
}

impl<S> Clone for FastCache<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            rules: self.rules.clone(),
        }
    }
}

impl Rules {
    /// The cache key of a request that may be answered from the cache: one
    /// the host check and the redirect would let through, to a cached URL.
    fn key_of(&self, req: &Request<Body>) -> Option<String> {
        if !self.cache.enabled()
            || !request_host(req).is_some_and(|h| self.allowed.allows(h))
            || (self.redirect_http
                && super::https::forwarded_scheme(req.headers())
                    .is_some_and(|s| s.eq_ignore_ascii_case("http")))
        {
            return None;
        }
        key_of(req)
    }
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
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    /// Ready: the clone that serves a miss is made ready when it is called.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let Some(key) = self.rules.key_of(&req) else {
            return Box::pin(S::clone(&self.inner).oneshot(req));
        };
        let rules = self.rules.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            if let Some(body) = rules.cache.peek(&key).await {
                let mut res = Response::new(Body::from(body));
                *res.headers_mut() = rules.hit_headers.clone();
                return Ok(res);
            }
            S::clone(&inner).oneshot(req).await
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

    #[test]
    fn requests_the_host_check_or_the_redirect_would_stop_go_the_full_way() {
        let rules = |redirect_http| Rules {
            cache: Arc::new(ResponseCache::new(
                "t",
                std::time::Duration::from_secs(10),
                None,
            )),
            allowed: Arc::new(AllowedHosts::new(&["api.tuki.live".to_string()])),
            redirect_http,
            hit_headers: hit_headers(redirect_http),
        };
        let req = |host: &str, proto: &str| {
            Request::builder()
                .uri("/api/v1/events/public_list/")
                .header(header::HOST, host)
                .header("x-forwarded-proto", proto)
                .body(Body::empty())
                .unwrap()
        };
        assert!(rules(true).key_of(&req("api.tuki.live", "https")).is_some());
        assert!(rules(true).key_of(&req("evil.example", "https")).is_none());
        assert!(rules(true).key_of(&req("api.tuki.live", "http")).is_none());
        assert!(rules(false).key_of(&req("api.tuki.live", "http")).is_some());
        let off = Rules {
            cache: Arc::new(ResponseCache::new("t", std::time::Duration::ZERO, None)),
            ..rules(false)
        };
        assert!(off.key_of(&req("api.tuki.live", "https")).is_none());
    }
}
