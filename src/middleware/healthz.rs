//! `GET /healthz` → 200 `ok`, answered before any other middleware and without
//! touching the database or Redis, so it stays up while they are down and costs
//! next to nothing under Cloud Run's probes.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    http::{header, HeaderValue, Request, Response},
};
use futures_util::future::Either;
use tower::Service;

pub const PATH: &str = "/healthz";

/// The health answer, shared by this layer and the `/healthz` route.
#[must_use]
pub fn ok() -> Response<Body> {
    let mut response = Response::new(Body::from("ok"));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Clone)]
pub struct Healthz<S> {
    inner: S,
}

impl<S> Healthz<S> {
    pub const fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S> Service<Request<Body>> for Healthz<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Either<std::future::Ready<Result<Response<Body>, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if req.uri().path() == PATH && (req.method() == "GET" || req.method() == "HEAD") {
            Either::Left(std::future::ready(Ok(ok())))
        } else {
            Either::Right(self.inner.call(req))
        }
    }
}
