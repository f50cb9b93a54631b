//! `GET /healthz` (Cloud Run's probe). The same answer is given earlier, ahead
//! of every middleware, by `middleware::healthz`; this route keeps it on the
//! site map (`cargo loco routes`).

use loco_rs::prelude::*;

use crate::middleware::healthz;

async fn healthz() -> Response {
    healthz::ok().into_response()
}

pub fn routes() -> Routes {
    Routes::new().add(healthz::PATH, get(healthz))
}

#[derive(serde::Deserialize)]
struct SlowParams {
    ms: Option<u64>,
}

/// Answers after `ms` milliseconds (at most 10 s): a request that is still in
/// flight when SIGTERM arrives. Mounted in the test environment only.
async fn slow(Query(params): Query<SlowParams>) -> Response {
    let ms = params.ms.unwrap_or(1000).min(10_000);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    format!("slept {ms} ms").into_response()
}

pub fn test_routes() -> Routes {
    Routes::new().prefix("/__test").add("/slow", get(slow))
}
