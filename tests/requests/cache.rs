//! The catalogue cache through the router: answers at most
//! `catalogue_cache_seconds` stale, and a dead Redis never turns into an error.

use std::time::Duration;

use serde_json::Value;

use crate::support::{
    app::TestApp,
    catalogue::{place, NewEvent},
};

fn with_cache(seconds: u64, redis: Option<&str>) -> impl FnOnce(&mut loco_rs::config::Config) {
    let redis = redis.map(str::to_string);
    move |config| {
        let settings = config.settings.as_mut().expect("settings");
        settings["catalogue_cache_seconds"] = seconds.into();
        if let Some(url) = redis {
            settings["use_redis"] = true.into();
            settings["redis_url"] = url.into();
        }
    }
}

/// `count` of the list; one server throughout, since the host (its port here)
/// is part of the cache key.
async fn count(server: &loco_rs::TestServer) -> u64 {
    let res = server.get("/api/v1/events/public_list/").await;
    assert_eq!(res.status_code(), 200);
    res.json::<Value>()["count"].as_u64().unwrap()
}

#[tokio::test]
async fn a_cached_list_is_at_most_the_configured_seconds_stale() {
    let app = TestApp::boot_with(with_cache(1, None)).await;
    let server = app.server();
    let db = &app.ctx().db;
    let p = place(db).await;
    NewEvent::new(&p, "Uno", "uno", "2031-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    assert_eq!(count(&server).await, 1);
    NewEvent::new(&p, "Dos", "dos", "2031-01-02T12:00:00Z")
        .insert(db, &p)
        .await;
    // Inside the bound the cached answer may be served…
    assert_eq!(count(&server).await, 1);
    // …and never after it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(count(&server).await, 2);
}

#[tokio::test]
async fn with_the_cache_off_every_answer_is_fresh() {
    let app = TestApp::boot_with(with_cache(0, None)).await;
    let server = app.server();
    let db = &app.ctx().db;
    let p = place(db).await;
    assert_eq!(count(&server).await, 0);
    NewEvent::new(&p, "Uno", "uno", "2031-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn a_dead_redis_degrades_to_uncached_answers_never_to_an_error() {
    let app = TestApp::boot_with(with_cache(10, Some("redis://127.0.0.1:1/0"))).await;
    let db = &app.ctx().db;
    let p = place(db).await;
    NewEvent::new(&p, "Uno", "uno", "2031-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    for path in [
        "/api/v1/events/public_list/",
        "/api/v1/events/uno/",
        "/api/v1/event-categories/",
    ] {
        let res = app.server().get(path).await;
        assert_eq!(res.status_code(), 200, "{path}");
    }
}

#[tokio::test]
async fn the_cached_answer_is_byte_for_byte_the_rendered_one() {
    let app = TestApp::boot_with(with_cache(60, None)).await;
    let db = &app.ctx().db;
    let p = place(db).await;
    NewEvent::new(&p, "Uno", "uno", "2031-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    let server = app.server();
    let miss = server.get("/api/v1/events/public_list/").await;
    let hit = server.get("/api/v1/events/public_list/").await;
    assert_eq!(miss.as_bytes(), hit.as_bytes());
    assert_eq!(hit.header("content-type"), "application/json");
}

#[tokio::test]
async fn a_cached_answer_is_the_same_answer_whichever_way_it_is_served() {
    let app = TestApp::boot_with(with_cache(30, None)).await;
    let server = app.server();
    let db = &app.ctx().db;
    let p = place(db).await;
    NewEvent::new(&p, "Uno", "uno", "2031-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    let headers = |res: &axum_test::TestResponse| {
        let mut h: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter(|(k, _)| *k != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        h.sort();
        h
    };
    for path in [
        "/api/v1/events/public_list/?page=1",
        "/api/v1/events/uno/",
        "/api/v1/event-categories/",
    ] {
        // The first read renders; the second is served from the cache before
        // routing: the same status, headers and body.
        let first = server.get(path).await;
        let second = server.get(path).await;
        assert_eq!(first.status_code(), 200, "{path}");
        assert_eq!(second.status_code(), 200, "{path}");
        assert_eq!(headers(&first), headers(&second), "{path}");
        assert_eq!(first.as_bytes(), second.as_bytes(), "{path}");
    }
    // A host outside ALLOWED_HOSTS is refused even for a cached answer.
    let forged = server
        .get("/api/v1/event-categories/")
        .add_header("host", "evil.example")
        .await;
    assert_eq!(forged.status_code(), 400);
    // A browser's cross-origin read goes the full way and gets its CORS answer.
    let cors = server
        .get("/api/v1/event-categories/")
        .add_header("origin", "http://localhost:3000")
        .await;
    assert_eq!(cors.status_code(), 200);
    assert_eq!(
        cors.as_bytes(),
        server.get("/api/v1/event-categories/").await.as_bytes()
    );
    // An admin change is seen at once on this instance.
    NewEvent::new(&p, "Dos", "dos", "2031-01-02T12:00:00Z")
        .insert(db, &p)
        .await;
    tuki_backend::platform::context::cache(app.ctx())
        .unwrap()
        .invalidate();
    assert_eq!(count(&server).await, 2);
}
