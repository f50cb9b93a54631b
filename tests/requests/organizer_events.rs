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
    for key in ["title", "start_date", "end_date"] {
        assert_eq!(errors[key][0], "Este campo es requerido.", "{errors}");
    }
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
