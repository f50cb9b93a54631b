//! `/api/v1/events/…` through the real router, on a real database.

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::support::{
    app::TestApp,
    catalogue::{at, place, NewEvent, Place},
};

/// Four listed events (one featured, one past, one without place or open
/// sales) and three that must never be listed (draft, private, deleted).
async fn catalogue(app: &TestApp) -> Place {
    let db = &app.ctx().db;
    let p = place(db).await;
    let mut jazz = NewEvent::new(
        &p,
        "Jazz en el Municipal",
        "jazz-en-el-municipal",
        "2031-03-10T23:30:00Z",
    );
    jazz.image = Some("events/jazz.jpg");
    jazz.insert(db, &p).await;

    let mut teatro = NewEvent::new(&p, "Gran Teatro", "gran-teatro", "2031-05-01T00:00:00Z");
    teatro.featured = true;
    teatro.r#type = "theater";
    teatro.category = Some(p.theater);
    teatro.location = Some(p.valparaiso);
    teatro.tiers = vec![(0, None, 5, true), (5_000, Some(10), 0, true)];
    teatro.insert(db, &p).await;

    let mut past = NewEvent::new(
        &p,
        "Festival Pasado",
        "festival-pasado",
        "2020-01-15T22:00:00Z",
    );
    past.tiers = vec![(8_000, Some(50), 50, false)];
    past.insert(db, &p).await;

    let mut closed = NewEvent::new(&p, "Sin Lugar", "sin-lugar", "2031-01-01T12:00:00Z");
    closed.location = None;
    closed.category = None;
    closed.r#type = "party";
    closed.sales = (
        Some(at("2030-12-01T00:00:00Z")),
        Some(at("2030-12-31T00:00:00Z")),
    );
    closed.insert(db, &p).await;

    let mut draft = NewEvent::new(&p, "Borrador", "borrador", "2031-02-01T00:00:00Z");
    draft.status = "draft";
    draft.insert(db, &p).await;
    let mut private = NewEvent::new(&p, "Privado", "privado", "2031-02-01T00:00:00Z");
    private.visibility = "private";
    private.insert(db, &p).await;
    let mut deleted = NewEvent::new(&p, "Borrado", "borrado", "2031-02-01T00:00:00Z");
    deleted.deleted = true;
    deleted.insert(db, &p).await;
    p
}

fn titles(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn public_list_has_tukis_shape_order_and_values() {
    let app = TestApp::boot().await;
    catalogue(&app).await;
    let res = app
        .server()
        .get("/api/v1/events/public_list/")
        .add_header("host", "localhost:5150")
        .await;
    assert_eq!(res.status_code(), 200);
    let body: Value = res.json();
    insta::assert_json_snapshot!("public_list", body, {".results[].id" => "[id]"});
}

#[tokio::test]
async fn draft_private_and_deleted_events_are_never_listed_nor_shown() {
    let app = TestApp::boot().await;
    catalogue(&app).await;
    let server = app.server();
    let body: Value = server.get("/api/v1/events/public_list/").await.json();
    assert_eq!(body["count"], 4);
    assert_eq!(
        titles(&body),
        [
            "Gran Teatro",
            "Jazz en el Municipal",
            "Sin Lugar",
            "Festival Pasado"
        ]
    );
    for slug in [
        "borrador",
        "privado",
        "borrado",
        "no-existe",
        "00000000-0000-4000-8000-000000000000",
    ] {
        let res = server.get(&format!("/api/v1/events/{slug}/")).await;
        assert_eq!(res.status_code(), 404, "{slug}");
        assert!(res.json::<Value>()["detail"].is_string());
    }
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let app = TestApp::boot().await;
    catalogue(&app).await;
    let server = app.server();
    let list = |q: &'static str| {
        let server = &server;
        async move {
            let res = server.get(&format!("/api/v1/events/public_list/{q}")).await;
            assert_eq!(res.status_code(), 200, "{q}");
            let body: Value = res.json();
            titles(&body)
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("?type=theater").await, ["Gran Teatro"]);
    assert_eq!(
        list("?type=theater&type=party").await,
        ["Gran Teatro", "Sin Lugar"]
    );
    assert_eq!(list("?category=Teatro").await, ["Gran Teatro"]);
    assert_eq!(
        list("?category=Teatro&category=M%C3%BAsica").await,
        ["Gran Teatro", "Jazz en el Municipal", "Festival Pasado"]
    );
    // Venue name, city or country, any case.
    assert_eq!(list("?location=VALPARA").await, ["Gran Teatro"]);
    assert_eq!(
        list("?location=municipal").await,
        ["Jazz en el Municipal", "Festival Pasado"]
    );
    assert_eq!(list("?location=chile").await.len(), 3);
    assert_eq!(list("?location=%25").await, Vec::<String>::new());
    // Dates compare the start; naive dates are Santiago time.
    assert_eq!(
        list("?start_date=2031-01-01").await,
        ["Gran Teatro", "Jazz en el Municipal", "Sin Lugar"]
    );
    assert_eq!(list("?end_date=2030-12-31").await, ["Festival Pasado"]);
    assert_eq!(
        list("?start_date=2031-02-01T00:00&end_date=2031-04-01T00:00:00-03:00").await,
        ["Jazz en el Municipal"]
    );
    // Unknown parameters are ignored.
    assert_eq!(list("?colour=red").await.len(), 4);
}

#[tokio::test]
async fn malformed_dates_are_400_naming_the_field() {
    let app = TestApp::boot().await;
    let server = app.server();
    for field in ["start_date", "end_date"] {
        let res = server
            .get(&format!("/api/v1/events/public_list/?{field}=mañana"))
            .await;
        assert_eq!(res.status_code(), 400);
        let body: Value = res.json();
        assert_eq!(body[field][0], "Invalid date or datetime: 'mañana'.");
    }
}

#[tokio::test]
async fn pages_link_absolutely_and_a_page_past_the_end_is_404_in_spanish() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let p = place(db).await;
    let slugs: Vec<&'static str> = (0..23)
        .map(|i| &*Box::leak(format!("ev-{i:02}").into_boxed_str()))
        .collect();
    for (i, slug) in slugs.iter().enumerate() {
        let start = format!("2031-01-{:02}T12:00:00Z", i + 1);
        NewEvent::new(&p, slug, slug, &start).insert(db, &p).await;
    }
    let server = app.server();
    let first: Value = server
        .get("/api/v1/events/public_list/?type=concert")
        .add_header("host", "localhost:5150")
        .add_header("x-forwarded-proto", "https")
        .await
        .json();
    assert_eq!(first["count"], 23);
    assert_eq!(first["results"].as_array().unwrap().len(), 20);
    assert_eq!(
        first["next"],
        "https://localhost:5150/api/v1/events/public_list/?page=2&type=concert"
    );
    assert_eq!(first["previous"], Value::Null);
    let second: Value = server
        .get("/api/v1/events/public_list?page=2&type=concert")
        .add_header("host", "localhost:5150")
        .await
        .json();
    assert_eq!(second["results"].as_array().unwrap().len(), 3);
    assert_eq!(second["next"], Value::Null);
    assert_eq!(
        second["previous"],
        "http://localhost:5150/api/v1/events/public_list?type=concert"
    );
    let last: Value = server
        .get("/api/v1/events/public_list/?page=last&type=concert")
        .await
        .json();
    assert_eq!(last["results"].as_array().unwrap().len(), 3);
    let none: Value = server
        .get("/api/v1/events/public_list/?type=rifa")
        .await
        .json();
    assert_eq!(none["count"], 0);
    assert_eq!(none["results"], serde_json::json!([]));
    for bad in [
        "3",
        "0",
        "abc",
        "-1",
        "99999999999999999999",
        "461168601842738790",
    ] {
        let res = server
            .get(&format!("/api/v1/events/public_list/?page={bad}"))
            .await;
        assert_eq!(res.status_code(), 404, "page={bad}");
        assert_eq!(
            res.json::<Value>(),
            serde_json::json!({"detail": "Página inválida."})
        );
    }
    let all: Value = server
        .get("/api/v1/events/public_list/?no_pagination=true")
        .await
        .json();
    assert_eq!(all.as_object().unwrap().len(), 1, "only results");
    assert_eq!(all["results"].as_array().unwrap().len(), 23);
}

#[tokio::test]
async fn ongoing_and_upcoming_follow_the_clock() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let p = place(db).await;
    let now = Utc::now();
    let started = (now - Duration::hours(1)).to_rfc3339();
    let starting = (now + Duration::days(3)).to_rfc3339();
    NewEvent::new(&p, "Ahora", "ahora", Box::leak(started.into_boxed_str()))
        .insert(db, &p)
        .await;
    NewEvent::new(&p, "Pronto", "pronto", Box::leak(starting.into_boxed_str()))
        .insert(db, &p)
        .await;
    let body: Value = app.server().get("/api/v1/events/public_list/").await.json();
    let by_title = |t: &str| {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["title"] == t)
            .unwrap()
            .clone()
    };
    let now_event = by_title("Ahora");
    assert_eq!(now_event["is_ongoing"], true);
    assert_eq!(now_event["is_upcoming"], false);
    assert_eq!(now_event["is_sales_active"], true);
    let soon = by_title("Pronto");
    assert_eq!(soon["is_ongoing"], false);
    assert_eq!(soon["is_upcoming"], true);
    assert_eq!(soon["is_available_for_purchase"], true);
}

#[tokio::test]
async fn the_detail_shows_organizer_venue_images_and_live_tiers_by_id_or_slug() {
    let app = TestApp::boot().await;
    catalogue(&app).await;
    let server = app.server();
    let by_slug = server
        .get("/api/v1/events/jazz-en-el-municipal/")
        .add_header("host", "localhost:5150")
        .await;
    assert_eq!(by_slug.status_code(), 200);
    let body: Value = by_slug.json();
    let id = body["id"].as_str().unwrap().to_string();
    let by_id: Value = server
        .get(&format!("/api/v1/events/{id}"))
        .add_header("host", "localhost:5150")
        .await
        .json();
    assert_eq!(by_id, body);
    let public: Value = server
        .get(&format!("/api/v1/public/events/{id}/"))
        .add_header("host", "localhost:5150")
        .await
        .json();
    assert_eq!(public, body);
    // One spelling of an id per event (and per cache entry).
    let shouted = id.to_uppercase();
    for other in [shouted.as_str(), &id.replace('-', "")] {
        let res = server.get(&format!("/api/v1/events/{other}/")).await;
        assert_eq!(res.status_code(), 404, "{other}");
    }
    insta::assert_json_snapshot!("event_detail", body, {
        ".id" => "[id]", ".category.id" => "[id]", ".location.id" => "[id]",
        ".ticket_tiers[].id" => "[id]", ".images[].id" => "[id]"
    });
}

#[tokio::test]
async fn a_card_shows_the_short_description_else_the_long_one() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Unchanged, Set};
    use tuki_backend::models::_entities::events;

    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let p = place(db).await;
    let short = NewEvent::new(&p, "Corto", "corto", "2031-01-02T12:00:00Z")
        .insert(db, &p)
        .await;
    NewEvent::new(&p, "Largo", "largo", "2031-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    events::ActiveModel {
        id: Unchanged(short),
        short_description: Set("  Resumen breve ".into()),
        ..Default::default()
    }
    .update(db)
    .await
    .unwrap();
    let body: Value = app.server().get("/api/v1/events/public_list/").await.json();
    assert_eq!(body["results"][0]["title"], "Corto");
    assert_eq!(body["results"][0]["description"], "Resumen breve");
    assert_eq!(body["results"][1]["description"], "Descripción de Largo");
}

#[tokio::test]
async fn the_detail_of_a_bare_event_and_of_one_with_several_images() {
    use sea_orm::{ActiveModelTrait, Set};
    use tuki_backend::models::_entities::event_images;

    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let p = place(db).await;
    // No venue, no category, no public tier (its one tier is private).
    let mut bare = NewEvent::new(&p, "Sin lugar", "sin-lugar", "2031-01-01T12:00:00Z");
    bare.category = None;
    bare.location = None;
    bare.tiers = vec![(5_000, Some(10), 0, false)];
    bare.insert(db, &p).await;
    let server = app.server();
    let body: Value = server.get("/api/v1/events/sin-lugar/").await.json();
    assert_eq!(body["title"], "Sin lugar");
    assert_eq!(body["location"], Value::Null);
    assert_eq!(body["category"], Value::Null);
    assert_eq!(body["ticket_tiers"], serde_json::json!([]));
    assert_eq!(body["ticket_categories"], serde_json::json!([]));
    assert_eq!(body["images"], serde_json::json!([]));
    assert_eq!(body["organizer_name"], "Producciones Cordillera");
    assert_eq!(body["organizer_logo"], Value::Null);
    assert_eq!(body["tags_list"], serde_json::json!([]));

    // Images in their position order, paths escaped, alt falling back to the
    // title; tiers in their display order.
    let mut gallery = NewEvent::new(&p, "Galería", "galeria", "2031-02-01T12:00:00Z");
    gallery.tiers = vec![(9_000, None, 0, true), (3_000, Some(5), 5, true)];
    let id = gallery.insert(db, &p).await;
    let now = Utc::now().fixed_offset();
    for (position, path, alt) in [
        (2, "events/c.png", "Escenario"),
        (0, "events/año nuevo.jpg", ""),
        (1, "events/b.webp", ""),
    ] {
        event_images::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            event_id: Set(id),
            path: Set(path.into()),
            alt: Set(alt.into()),
            position: Set(position),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    let body: Value = server
        .get(&format!("/api/v1/events/{id}/"))
        .add_header("host", "localhost:5150")
        .await
        .json();
    let images: Vec<(&str, &str, &str)> = body["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert!(
                uuid::Uuid::parse_str(i["id"].as_str().unwrap()).is_ok(),
                "{i}"
            );
            (
                i["url"].as_str().unwrap(),
                i["alt"].as_str().unwrap(),
                i["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        images,
        [
            (
                "http://localhost:5150/media/events/a%C3%B1o%20nuevo.jpg",
                "Galería",
                "image"
            ),
            (
                "http://localhost:5150/media/events/b.webp",
                "Galería",
                "image"
            ),
            (
                "http://localhost:5150/media/events/c.png",
                "Escenario",
                "image"
            ),
        ]
    );
    let tiers = body["ticket_tiers"].as_array().unwrap();
    let prices: Vec<f64> = tiers
        .iter()
        .map(|t| t["price"]["basePrice"].as_f64().unwrap())
        .collect();
    assert_eq!(prices, [9_000.0, 3_000.0]);
    // Unlimited: no capacity, backtuki's sentinel for the seats left.
    assert_eq!(tiers[0]["capacity"], Value::Null);
    assert_eq!(tiers[0]["available"], 9_999_999);
    assert_eq!(tiers[0]["availability_summary"]["utilization_rate"], 0.0);
    // Sold out.
    assert_eq!(tiers[1]["available"], 0);
    assert_eq!(tiers[1]["real_available"], 0);
    assert_eq!(tiers[1]["on_sale"], false);
    assert_eq!(tiers[1]["availability_summary"]["utilization_rate"], 100.0);
}

#[tokio::test]
async fn categories_and_locations_list_for_the_filters() {
    let app = TestApp::boot().await;
    place(&app.ctx().db).await;
    let server = app.server();
    let categories: Value = server.get("/api/v1/event-categories/").await.json();
    assert_eq!(categories["count"], 2);
    let names: Vec<&str> = categories["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Música", "Teatro"]);
    let locations: Value = server
        .get("/api/v1/locations?no_pagination=true")
        .await
        .json();
    assert_eq!(locations["results"].as_array().unwrap().len(), 2);
    assert_eq!(locations["results"][0]["city"], "Valparaíso");
    insta::assert_json_snapshot!("event_categories", categories, {".results[].id" => "[id]"});
    insta::assert_json_snapshot!("locations", locations, {".results[].id" => "[id]"});
}
