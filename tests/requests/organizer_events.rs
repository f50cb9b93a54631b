//! The dashboard's events (issue 12): a draft, its changes, complete,
//! publish (it shows in the catalogue), unpublish, delete — and another
//! organizer's member, who gets 404 for each and changes nothing.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{events, ticket_tiers};
use uuid::Uuid;

use super::organizers::{organizer, signed_in};
use crate::support::app::TestApp;

async fn event_row(app: &TestApp, id: Uuid) -> events::Model {
    events::Entity::find_by_id(id)
        .one(&app.ctx().db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn an_organizer_drafts_completes_publishes_and_deletes_only_their_own_event() {
    let app = TestApp::boot().await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    let buyer = signed_in(&server, &app, "compra@example.cl", None).await;
    let send = |method: &str, path: &str, auth: &str, body: Option<Value>| {
        let path = format!("/api/v1/events/{path}");
        let req = match method {
            "GET" => server.get(&path),
            "POST" => server.post(&path),
            "PATCH" => server.patch(&path),
            "PUT" => server.put(&path),
            _ => server.delete(&path),
        }
        .add_header("authorization", auth.to_string());
        match body {
            Some(b) => req.json(&b),
            None => req,
        }
    };

    // Bad drafts: every field's message, nothing made.
    let res = send("POST", "", &admin, Some(json!({}))).await;
    assert_eq!(res.status_code(), 400);
    let errors: Value = res.json();
    assert_eq!(errors["title"][0], "Este campo es requerido.", "{errors}");
    assert!(
        errors.get("start_date").is_none(),
        "a draft may wait for its dates"
    );
    let res = send("POST", "", &admin, Some(json!({
        "title": "Al revés", "start_date": "2031-05-02T20:00:00", "end_date": "2031-05-01T20:00:00",
        "type": "circo", "location": {"name": "Sin dirección"}
    })))
    .await;
    assert_eq!(res.status_code(), 400);
    let errors: Value = res.json();
    for key in ["end_date", "type", "location"] {
        assert!(errors[key][0].is_string(), "{key}: {errors}");
    }
    assert_eq!(
        send("POST", "", &buyer, Some(json!({})))
            .await
            .status_code(),
        403
    );

    // A draft, as the wizard's first step makes it.
    let res = send("POST", "", &admin, Some(json!({
        "title": "Jazz en el Sur", "description": "Una noche de jazz.",
        "start_date": "2031-05-01T20:00:00", "end_date": "2031-05-01T23:30:00",
        "location": {"name": "Teatro del Lago", "address": "Av. Philippi 1000, Frutillar"},
        "tags": ["jazz", "sur"], "additionalInfo": {"ageRestriction": "18+", "accessibility": ["rampa", "baño"]},
        "status": "published", "featured": true
    })))
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let draft: Value = res.json();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["featured"], false, "featuring is staff's");
    assert_eq!(draft["tags"], json!(["jazz", "sur"]));
    assert_eq!(draft["start_date"], "2031-05-01T20:00:00-04:00");
    assert_eq!(draft["location"]["name"], "Teatro del Lago");
    let id: Uuid = draft["id"].as_str().unwrap().parse().unwrap();
    let stored = event_row(&app, id).await;
    assert_eq!(
        (
            stored.age_restriction.as_str(),
            stored.accessibility.as_str()
        ),
        ("18+", "rampa,baño")
    );

    let list: Value = send("GET", "", &admin, None).await.json();
    assert_eq!(list["count"], 1);
    assert_eq!(list["results"][0]["title"], "Jazz en el Sur");
    assert_eq!(list["results"][0]["tags_list"], json!(["jazz", "sur"]));
    assert_eq!(list["results"][0]["organizer_name"], "Productora Sur");

    // Another organizer's member: 404 for each, nothing changes; their list is empty.
    let before = event_row(&app, id).await;
    for (method, path, body) in [
        ("PATCH", format!("{id}/"), Some(json!({"title": "Robado"}))),
        (
            "PUT",
            format!("{id}/"),
            Some(json!({"title": "Robado", "start_date": "2031-01-01", "end_date": "2031-01-02"})),
        ),
        ("DELETE", format!("{id}/"), None),
        ("POST", format!("{id}/complete_draft/"), None),
        ("POST", format!("{id}/publish/"), None),
        ("POST", format!("{id}/unpublish/"), None),
    ] {
        let res = send(method, &path, &other, body).await;
        assert_eq!(res.status_code(), 404, "{method} {path}: {}", res.text());
    }
    assert_eq!(event_row(&app, id).await, before);
    let theirs: Value = send("GET", "", &other, None).await.json();
    assert_eq!(theirs["count"], 0);
    let res = send("GET", "organizer/", &other, None).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>(), json!([]));

    // A member who does not manage events reads, and changes nothing.
    let reader = signed_in(&server, &app, "leo@sur.cl", Some((sur, false, false))).await;
    {
        use sea_orm::{ColumnTrait, QueryFilter};
        use tuki_backend::models::_entities::organizer_members;
        let member = organizer_members::Entity::find()
            .filter(organizer_members::Column::OrganizerId.eq(sur))
            .filter(organizer_members::Column::IsAdmin.eq(false))
            .one(&app.ctx().db)
            .await
            .unwrap()
            .unwrap();
        let mut m: organizer_members::ActiveModel = member.into();
        m.can_manage_events = Set(false);
        m.update(&app.ctx().db).await.unwrap();
    }
    let seen: Value = send("GET", "", &reader, None).await.json();
    assert_eq!(seen["count"], 1);
    let res = send(
        "PATCH",
        &format!("{id}/"),
        &reader,
        Some(json!({"title": "Otro"})),
    )
    .await;
    assert_eq!(res.status_code(), 403);
    assert_eq!(
        send(
            "POST",
            "",
            &reader,
            Some(json!({"title": "X", "start_date": "2031-01-01", "end_date": "2031-01-02"}))
        )
        .await
        .status_code(),
        403
    );
    assert_eq!(event_row(&app, id).await, before);

    // Completing needs the short description; then publishing needs a public tier.
    let res = send("POST", &format!("{id}/complete_draft/"), &admin, None).await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        res.json::<Value>()["missing_fields"],
        json!(["short_description"])
    );
    let res = send(
        "PATCH",
        &format!("{id}/"),
        &admin,
        Some(json!({"shortDescription": "Jazz frente al lago"})),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let res = send("POST", &format!("{id}/complete_draft/"), &admin, None).await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.json::<Value>()["status"], "draft_complete");
    let res = send("POST", &format!("{id}/publish/"), &admin, None).await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        res.json::<Value>()["error"],
        "El evento debe tener al menos un tipo de ticket"
    );
    let now = chrono::Utc::now().fixed_offset();
    ticket_tiers::ActiveModel {
        id: Set(Uuid::new_v4()),
        event_id: Set(id),
        name: Set("General".into()),
        description: Set(String::new()),
        price: Set(12_000),
        capacity: Set(Some(200)),
        sold: Set(0),
        reserved: Set(0),
        min_per_order: Set(1),
        max_per_order: Set(None),
        sale_start: Set(None),
        sale_end: Set(None),
        is_public: Set(true),
        display_order: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.ctx().db)
    .await
    .unwrap();
    let res = send("POST", &format!("{id}/publish/"), &admin, None).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let catalogue: Value = server.get("/api/v1/events/public_list/").await.json();
    assert_eq!(catalogue["results"][0]["id"], json!(id));
    let figures: Value = send("GET", "organizer/", &admin, None).await.json();
    assert_eq!(figures[0]["ticket_tiers"][0]["price"], 12_000.0);
    assert_eq!(figures[0]["total_tickets"], 200);
    assert_eq!(figures[0]["total_revenue"], 0.0);

    // Off sale again, then deleted: gone from the catalogue and the list.
    let res = send("POST", &format!("{id}/unpublish/"), &admin, None).await;
    assert_eq!(res.status_code(), 200);
    let catalogue: Value = server.get("/api/v1/events/public_list/").await.json();
    assert_eq!(catalogue["count"], 0);
    let res = send("DELETE", &format!("{id}/"), &admin, None).await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(
        res.json::<Value>()["detail"],
        "Evento eliminado correctamente"
    );
    let list: Value = send("GET", "", &admin, None).await.json();
    assert_eq!(list["count"], 0);
    assert!(event_row(&app, id).await.deleted_at.is_some());
}

#[tokio::test]
async fn tiers_keep_what_was_sold_and_belong_to_their_organizer() {
    use sea_orm::{sea_query::Expr, ColumnTrait, QueryFilter};
    let app = TestApp::boot().await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    let call = |method: &str, path: &str, auth: &str, body: Option<Value>| {
        let path = format!("/api/v1/{path}");
        let req = match method {
            "GET" => server.get(&path),
            "POST" => server.post(&path),
            "PATCH" => server.patch(&path),
            _ => server.delete(&path),
        }
        .add_header("authorization", auth.to_string());
        match body {
            Some(b) => req.json(&b),
            None => req,
        }
    };
    let draft: Value = call("POST", "events/", &admin, Some(json!({
        "title": "Rock del Sur", "start_date": "2031-06-01T21:00:00", "end_date": "2031-06-02T02:00:00"
    })))
    .await
    .json();
    let event = draft["id"].as_str().unwrap().to_string();

    // Bad tiers: each field named, nothing made.
    let res = call("POST", "ticket-tiers/", &admin, Some(json!({
        "event": event, "name": "", "price": -5, "minPerOrder": 5, "maxPerOrder": 2, "isPayWhatYouWant": true
    })))
    .await;
    assert_eq!(res.status_code(), 400);
    let errors: Value = res.json();
    for key in ["name", "price", "isPayWhatYouWant"] {
        assert!(errors[key][0].is_string(), "{key}: {errors}");
    }
    let res = call(
        "POST",
        &format!("events/{event}/ticket-tiers/"),
        &admin,
        Some(json!({
            "name": "General", "price": 1000, "minPerOrder": 5, "maxPerOrder": 2
        })),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["min_per_order"][0].is_string());

    // A tier, as the dashboard sends it.
    let res = call(
        "POST",
        "ticket-tiers/",
        &admin,
        Some(json!({
            "event": event, "name": "General", "type": "General", "price": {"basePrice": 12000},
            "capacity": 10, "maxPerOrder": 4, "isPublic": true
        })),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let tier: Value = res.json();
    assert_eq!(tier["price"]["basePrice"], 12_000.0);
    assert_eq!(tier["max_per_order"], 4);
    assert_eq!(tier["available"], 10);
    let tier_id = tier["id"].as_str().unwrap().to_string();
    let listed: Value = call("GET", &format!("ticket-tiers/?event={event}"), &admin, None)
        .await
        .json();
    assert_eq!(listed["count"], 1);

    // Another organizer: 404 for the tier and the event, nothing changes.
    let stored = || async {
        ticket_tiers::Entity::find_by_id(Uuid::parse_str(&tier_id).unwrap())
            .one(&app.ctx().db)
            .await
            .unwrap()
    };
    let before = stored().await;
    for (method, path, body) in [
        ("GET", format!("ticket-tiers/{tier_id}/"), None),
        (
            "PATCH",
            format!("ticket-tiers/{tier_id}/"),
            Some(json!({"price": 1})),
        ),
        ("DELETE", format!("ticket-tiers/{tier_id}/"), None),
        ("GET", format!("events/{event}/ticket-tiers/"), None),
        (
            "POST",
            format!("events/{event}/ticket-tiers/"),
            Some(json!({"name": "Colada", "price": 0})),
        ),
        (
            "POST",
            "ticket-tiers/".to_string(),
            Some(json!({"event": event, "name": "Colada", "price": 0})),
        ),
    ] {
        let res = call(method, &path, &other, body).await;
        assert_eq!(res.status_code(), 404, "{method} {path}: {}", res.text());
    }
    assert_eq!(stored().await, before);
    let theirs: Value = call("GET", "ticket-tiers/", &other, None).await.json();
    assert_eq!(theirs["count"], 0);

    // 3 sold and 2 held: the capacity may not go below 5; the price changes
    // only when confirmed.
    ticket_tiers::Entity::update_many()
        .col_expr(ticket_tiers::Column::Sold, Expr::value(3))
        .col_expr(ticket_tiers::Column::Reserved, Expr::value(2))
        .filter(ticket_tiers::Column::Id.eq(Uuid::parse_str(&tier_id).unwrap()))
        .exec(&app.ctx().db)
        .await
        .unwrap();
    let path = format!("ticket-tiers/{tier_id}/");
    let res = call("PATCH", &path, &admin, Some(json!({"capacity": 4}))).await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["capacity"][0]
        .as_str()
        .unwrap()
        .contains('5'));
    assert_eq!(stored().await.unwrap().capacity, Some(10));
    let res = call("PATCH", &path, &admin, Some(json!({"capacity": 5}))).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["available"], 0);
    let res = call("PATCH", &path, &admin, Some(json!({"price": 15000}))).await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(stored().await.unwrap().price, 12_000);
    let res = call(
        "PATCH",
        &path,
        &admin,
        Some(json!({"price": 15000, "confirmPriceChange": true})),
    )
    .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(stored().await.unwrap().price, 15_000);

    // Sold: hidden, not deleted. A fresh one: deleted.
    let res = call("DELETE", &path, &admin, None).await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.json::<Value>()["archived"], true);
    assert!(!stored().await.unwrap().is_public);
    let fresh: Value = call(
        "POST",
        &format!("events/{event}/ticket-tiers/"),
        &admin,
        Some(json!({
            "name": "Cortesía", "price": 0, "capacity": null
        })),
    )
    .await
    .json();
    let res = call(
        "DELETE",
        &format!("ticket-tiers/{}/", fresh["id"].as_str().unwrap()),
        &admin,
        None,
    )
    .await;
    assert_eq!(res.status_code(), 204);
}

/// Lowering a tier's capacity while buyers reserve at the same moment never
/// leaves more sold and held than the capacity (PostgreSQL in `.ci/run`).
#[tokio::test]
async fn lowering_capacity_during_concurrent_reserves_never_oversells() {
    use futures_util::future::join_all;
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = super::checkout::on_sale(db, "carrera", vec![(5_000, Some(60), 0)]).await;
    let organizer_id = event_row(&app, event).await.organizer_id;
    let admin = signed_in(
        &server,
        &app,
        "eva@cordillera.cl",
        Some((organizer_id, true, false)),
    )
    .await;
    let reserves = (0..30).map(|i| {
        std::future::IntoFuture::into_future(
            server
                .post(&format!("/api/v1/events/{event}/reserve/"))
                .add_header("x-forwarded-for", format!("198.51.100.{i}"))
                .json(&json!({"tiers": [{"tier_id": tiers[0], "quantity": 2}]})),
        )
    });
    let lowers = [40, 30, 20, 12, 8].map(|capacity| {
        std::future::IntoFuture::into_future(
            server
                .patch(&format!("/api/v1/ticket-tiers/{}/", tiers[0]))
                .add_header("authorization", admin.clone())
                .json(&json!({ "capacity": capacity })),
        )
    });
    let (held, lowered) = tokio::join!(join_all(reserves), join_all(lowers));
    for res in held.iter().chain(lowered.iter()) {
        assert!(res.status_code().as_u16() < 500, "{}", res.text());
    }
    let tier = ticket_tiers::Entity::find_by_id(tiers[0])
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let capacity = tier.capacity.unwrap();
    assert!(
        tier.sold + tier.reserved <= capacity,
        "sold {} + held {} > capacity {capacity}",
        tier.sold,
        tier.reserved
    );
    let ok = held.iter().filter(|r| r.status_code() == 201).count();
    assert_eq!(i32::try_from(ok * 2).unwrap(), tier.reserved);
}

#[tokio::test]
async fn images_go_to_the_organizers_own_events_only() {
    let media = tempfile::tempdir().unwrap();
    let root = media.path().display().to_string();
    let app = TestApp::boot_with(move |c| {
        let settings = c.settings.as_mut().unwrap();
        settings["media"] =
            json!({"backend": {"kind": "local", "root": root}, "public_base": null});
        settings["catalogue_cache_seconds"] = 0.into();
    })
    .await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    let draft: Value = server
        .post("/api/v1/events/")
        .add_header("authorization", admin.clone())
        .json(&json!({"title": "Con afiche", "start_date": "2031-06-01T21:00:00", "end_date": "2031-06-01T23:00:00"}))
        .await
        .json();
    let event = draft["id"].as_str().unwrap().to_string();
    let png = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
            .unwrap()
    };
    let upload = |auth: &str, event: &str, bytes: Vec<u8>, replace: &str| {
        let form = axum_test::multipart::MultipartForm::new()
            .add_text("event_id", event.to_string())
            .add_text("replace_main", replace.to_string())
            .add_part(
                "file",
                axum_test::multipart::Part::bytes(bytes).file_name("afiche.png"),
            );
        server
            .post("/api/v1/events/upload/")
            .add_header("authorization", auth.to_string())
            .multipart(form)
    };
    let files = || walk(media.path());
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }

    // Refused: not an image, another organizer's event. Nothing stored.
    let res = upload(&admin, &event, b"<html><script>".to_vec(), "true").await;
    assert_eq!(res.status_code(), 400);
    let res = upload(&other, &event, png.clone(), "true").await;
    assert_eq!(res.status_code(), 404);
    assert_eq!(files(), 0);

    let first: Value = upload(&admin, &event, png.clone(), "false").await.json();
    assert!(first["event_image_id"].is_string(), "{first}");
    let second = upload(&admin, &event, png.clone(), "true").await;
    assert_eq!(second.status_code(), 201, "{}", second.text());
    let second: Value = second.json();
    // The new main image replaced the old one, file included.
    assert_eq!(files(), 1);
    let list: Value = server
        .get("/api/v1/events/")
        .add_header("authorization", admin.clone())
        .await
        .json();
    let images = list["results"][0]["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["id"], second["event_image_id"]);

    let path = format!(
        "/api/v1/events/{event}/images/{}/",
        second["event_image_id"].as_str().unwrap()
    );
    let res = server
        .delete(&path)
        .add_header("authorization", other.clone())
        .await;
    assert_eq!(res.status_code(), 404);
    assert_eq!(files(), 1);
    let res = server
        .delete(&path)
        .add_header("authorization", admin.clone())
        .await;
    assert_eq!(res.status_code(), 204);
    assert_eq!(files(), 0);
}
