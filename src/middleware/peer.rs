//! The server's connection-level service: each connection's requests carry
//! the peer's address as `ConnectInfo<SocketAddr>` (what
//! `Router::into_make_service_with_connect_info` gives), for any tower service
//! rather than only a router.

use std::{
    convert::Infallible,
    net::SocketAddr,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, Response},
    serve::{IncomingStream, Listener},
};
use tower::Service;

/// Makes one [`WithPeer`] per accepted connection.
#[derive(Clone)]
pub struct MakeWithPeer<S> {
    inner: S,
}

impl<S> MakeWithPeer<S> {
    pub const fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<'a, L, S> Service<IncomingStream<'a, L>> for MakeWithPeer<S>
where
    L: Listener<Addr = SocketAddr>,
    S: Clone,
{
    type Response = WithPeer<S>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<WithPeer<S>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'a, L>) -> Self::Future {
        std::future::ready(Ok(WithPeer {
            inner: self.inner.clone(),
            peer: *stream.remote_addr(),
        }))
    }
}

/// `inner`, with the connection's peer address on every request.
#[derive(Clone)]
pub struct WithPeer<S> {
    inner: S,
    peer: SocketAddr,
}

impl<S> Service<Request<Body>> for WithPeer<S>
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
        req.extensions_mut().insert(ConnectInfo(self.peer));
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn every_request_carries_the_peer_address() {
        let echo = tower::service_fn(|req: Request<Body>| async move {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.to_string())
                .unwrap_or_default();
            Ok::<_, Infallible>(Response::new(Body::from(peer)))
        });
        let peer: SocketAddr = "203.0.113.7:4321".parse().unwrap();
        let res = WithPeer { inner: echo, peer }
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap();
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        assert_eq!(body, "203.0.113.7:4321");
    }
}
