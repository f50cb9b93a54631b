//! The public listing costs at most two SQL statements per request, whatever
//! the page size or filters — one for a numbered page, two for `?page=last` —
//! and an event's page one (rendering; the response cache is off here — with
//! the database as the shared cache tier a miss adds one read and one write of
//! `cache_entries`, a hit in this instance none). A test binary of its own: it installs a global
//! tracing subscriber that counts sqlx's statement events (SQLite runs them on
//! a worker thread, out of reach of a thread-local subscriber).

#[path = "support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use support::{
    app::TestApp,
    catalogue::{place, NewEvent},
};
use tracing_subscriber::{layer::SubscriberExt, Layer};

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

struct CountStatements;

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target().starts_with("sqlx::query") {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test]
async fn a_public_list_page_costs_one_statement_whatever_its_size_and_an_event_one() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountStatements))
        .expect("the only subscriber of this binary");
    let app = TestApp::boot_with(|c| {
        c.database.enable_logging = true;
        c.settings.as_mut().unwrap()["catalogue_cache_seconds"] = 0.into();
    })
    .await;
    let db = &app.ctx().db;
    let p = place(db).await;
    for i in 0..45 {
        let slug: &'static str = Box::leak(format!("s-{i}").into_boxed_str());
        NewEvent::new(&p, slug, slug, "2031-01-01T12:00:00Z")
            .insert(db, &p)
            .await;
    }
    let server = app.server();
    let empty = server.get("/api/v1/events/public_list/?page=9").await;
    assert_eq!(empty.status_code(), 404);
    for (path, limit) in [
        ("/api/v1/events/public_list/", 1),
        ("/api/v1/events/public_list/?page=3", 1),
        ("/api/v1/events/public_list/?page=2&location=santiago&category=M%C3%BAsica&type=concert&start_date=2030-01-01", 1),
        ("/api/v1/events/public_list/?page=last", 2),
        ("/api/v1/events/public_list/?no_pagination=true", 1),
        ("/api/v1/events/s-7/", 1),
    ] {
        STATEMENTS.store(0, Ordering::SeqCst);
        let res = server.get(path).await;
        assert_eq!(res.status_code(), 200, "{path}");
        let n = STATEMENTS.load(Ordering::SeqCst);
        assert!(n >= 1, "no statement observed for {path}: is sqlx logging on?");
        assert!(n <= limit, "{path}: {n} statements");
    }
    STATEMENTS.store(0, Ordering::SeqCst);
    let past = server.get("/api/v1/events/public_list/?page=4").await;
    assert_eq!(past.status_code(), 404, "45 events make 3 pages");
    assert_eq!(STATEMENTS.load(Ordering::SeqCst), 1);
    // The one statement's total and page agree with the filters.
    for (path, count, len) in [
        ("/api/v1/events/public_list/?page=3", 45, 5),
        ("/api/v1/events/public_list/?page=2&location=santiago&category=M%C3%BAsica&type=concert&start_date=2030-01-01", 45, 20),
        ("/api/v1/events/public_list/?page=1&type=nope", 0, 0),
    ] {
        let body: serde_json::Value = server.get(path).await.json();
        assert_eq!(body["count"], count, "{path}");
        assert_eq!(body["results"].as_array().map(Vec::len), Some(len), "{path}");
    }
}
