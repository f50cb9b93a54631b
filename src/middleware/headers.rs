//! Security headers, as Django's SecurityMiddleware set them in the Cloud Run
//! settings (HSTS one year with subdomains and preload, nosniff, DENY framing,
//! a same-origin referrer policy).

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderName, HeaderValue, Request, Response},
};
use futures_util::future::{FutureExt, Map};
use tower::Service;

const HSTS: &str = "max-age=31536000; includeSubDomains; preload";

/// Every answer's headers (a header the answer already has is kept).
const ALWAYS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

pub(crate) fn set(headers: &mut HeaderMap, production: bool) {
    for (name, value) in &ALWAYS {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
    }
    if production && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY) {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}

type Answer = Result<Response<Body>, Infallible>;

fn with_hsts(mut answer: Answer) -> Answer {
    if let Ok(res) = &mut answer {
        set(res.headers_mut(), true);
    }
    answer
}

fn without_hsts(mut answer: Answer) -> Answer {
    if let Ok(res) = &mut answer {
        set(res.headers_mut(), false);
    }
    answer
}

/// Adds the headers to every response. HSTS only in production: sent from a
/// development server it would pin `localhost` to HTTPS in the browser.
#[derive(Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    production: bool,
}

impl<S> SecurityHeaders<S> {
    pub const fn new(inner: S, production: bool) -> Self {
        Self { inner, production }
    }
}

impl<S> Service<Request<Body>> for SecurityHeaders<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Map<S::Future, fn(Answer) -> Answer>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let finish: fn(Answer) -> Answer = if self.production {
            with_hsts
        } else {
            without_hsts
        };
        self.inner.call(req).map(finish)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_an_answer_set_itself_are_kept() {
        let mut h = HeaderMap::new();
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
        set(&mut h, true);
        assert_eq!(h[header::X_FRAME_OPTIONS], "SAMEORIGIN");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin");
        assert_eq!(h[header::STRICT_TRANSPORT_SECURITY], HSTS);
        let mut dev = HeaderMap::new();
        set(&mut dev, false);
        assert!(!dev.contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert_eq!(dev[header::REFERRER_POLICY], "same-origin");
    }
}
