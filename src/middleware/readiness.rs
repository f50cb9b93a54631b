//! Loco's `/_readiness` pings the database (and Redis): useful to operators
//! and probes, but a free database round trip for anyone on the internet.
//! Its answer is kept for a second per instance and only one check runs at a
//! time, so a flood of readiness requests costs at most one ping a second.

use std::{sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::{sync::Mutex, time::Instant};

/// How long one readiness answer is reused.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Last(Mutex<Option<(Instant, StatusCode, HeaderMap, Bytes)>>);

impl Last {
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
}

pub async fn limit(State(last): State<Arc<Last>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().trim_end_matches('/');
    if path != "/_readiness" {
        return next.run(req).await;
    }
    let mut kept = last.0.lock().await;
    if let Some((at, status, headers, body)) = kept.as_ref() {
        if at.elapsed() < FRESH_FOR {
            return (*status, headers.clone(), Body::from(body.clone())).into_response();
        }
    }
    let res = next.run(req).await;
    let (parts, body) = res.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    *kept = Some((
        Instant::now(),
        parts.status,
        parts.headers.clone(),
        body.clone(),
    ));
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::{routing::get, Router};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_flood_of_readiness_checks_pings_once() {
        let pings = Arc::new(AtomicUsize::new(0));
        let counted = pings.clone();
        let app = Router::new()
            .route(
                "/_readiness",
                get(move || {
                    let counted = counted.clone();
                    async move {
                        counted.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        "{\"ok\":true}"
                    }
                }),
            )
            .route("/other", get(|| async { "x" }))
            .layer(axum::middleware::from_fn_with_state(Last::new(), limit));
        let call = |path: &'static str| {
            let app = app.clone();
            async move {
                let req = Request::builder().uri(path).body(Body::empty()).unwrap();
                app.oneshot(req).await.unwrap().status()
            }
        };
        let flood = futures_util::future::join_all((0..50).map(|_| call("/_readiness"))).await;
        assert!(flood.iter().all(|s| *s == StatusCode::OK));
        assert_eq!(pings.load(Ordering::SeqCst), 1);
        assert_eq!(call("/other").await, StatusCode::OK);
    }
}
