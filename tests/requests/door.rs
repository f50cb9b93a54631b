//! The door (issue 13): door-only team members check tickets in and out by
//! id, by number within a validator session, with notes; a ticket goes in
//! once (two scans at once: one in, one "already in" with when and by
//! whom); the event's door figures and log; another organizer's member
//! gets 404 and changes nothing.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{organizer_members, tickets, users};

use super::organizers::{organizer, signed_in};

#[tokio::test]
async fn the_door_lets_each_ticket_in_once_and_only_the_organizers_team_runs_it() {
    use crate::support::app::TestApp;
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    // A door-only member: no flag but the door's.
    let door = signed_in(&server, &app, "puerta@sur.cl", Some((sur, false, false))).await;
    {
        let user = users::Model::find_by_email(db, "puerta@sur.cl")
            .await
            .unwrap()
            .unwrap();
        let m = organizer_members::Entity::find()
            .filter(organizer_members::Column::UserId.eq(user.id))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut m: organizer_members::ActiveModel = m.into();
        m.can_manage_events = Set(false);
        m.can_view_reports = Set(false);
        m.can_validate_tickets = Set(true);
        m.update(db).await.unwrap();
    }
    // A free event: booking issues the tickets at once.
    let post = |path: String, auth: &str, body: Value| {
        server
            .post(&format!("/api/v1/{path}"))
            .add_header("authorization", auth.to_string())
            .json(&body)
    };
    let event: Value = post(
        "events/".into(),
        &admin,
        json!({
            "title": "Fiesta", "description": "d", "short_description": "s",
            "start_date": "2031-04-01T21:00:00", "end_date": "2031-04-02T02:00:00",
            "location": {"name": "Muelle", "address": "Costanera 1"}
        }),
    )
    .await
    .json();
    let event = event["id"].as_str().unwrap().to_string();
    let tier: Value = post(
        "ticket-tiers/".into(),
        &admin,
        json!({"event": event, "name": "Libre", "price": 0}),
    )
    .await
    .json();
    post(format!("events/{event}/publish/"), &admin, json!({})).await;
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "customerInfo": {"name": "Ana Rojas", "email": "ana@correo.cl"},
            "tickets": [{"tierId": tier["id"], "quantity": 3}],
        }))
        .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let issued = tickets::Entity::find().all(db).await.unwrap();
    assert_eq!(issued.len(), 3);
    let (one, two, three) = (&issued[0], &issued[1], &issued[2]);

    // Another organizer's member: "not found", nothing changes.
    for (path, body) in [
        ("tickets/check_in_by_uuid/", json!({"ticket_uuid": one.id})),
        ("tickets/check_out_by_uuid/", json!({"ticket_uuid": one.id})),
        (
            "validation/validator/session/start/",
            json!({"event_id": event}),
        ),
    ] {
        let res = post(path.into(), &other, body).await;
        assert!(
            [404, 400].contains(&res.status_code().as_u16()),
            "{path}: {}",
            res.text()
        );
    }
    let res = post(
        format!("tickets/{}/check_in/?event_id={event}", one.id),
        &other,
        json!({}),
    )
    .await;
    assert_eq!(res.status_code(), 404);
    let res = server
        .get(&format!(
            "/api/v1/events/validation_stats/?event_id={event}"
        ))
        .add_header("authorization", other.clone())
        .await;
    assert_eq!(res.status_code(), 404);
    assert!(tickets::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .all(|t| t.status == "valid"));

    // The door member lets a ticket in once; the second scan says when and by whom.
    let res = post(
        "tickets/check_in_by_uuid/".into(),
        &door,
        json!({"ticket_uuid": one.id, "event_id": event}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let body: Value = res.json();
    assert_eq!(body["ticket"]["check_in_status"], "checked_in");
    let res = post(
        "tickets/check_in_by_uuid/".into(),
        &door,
        json!({"ticket_uuid": one.id}),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    let body: Value = res.json();
    assert_eq!(body["detail"], "Ticket already checked in.");
    assert_eq!(body["checked_in_by"], "puerta@sur.cl");
    assert!(body["checked_in_at"].is_string());
    // Out and in again.
    let res = post(
        "tickets/check_out_by_uuid/".into(),
        &door,
        json!({"ticket_uuid": one.id}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let res = post(
        "tickets/check_out_by_uuid/".into(),
        &door,
        json!({"ticket_uuid": one.id}),
    )
    .await;
    assert_eq!(res.status_code(), 400, "not in any more");
    let res = post(
        format!("tickets/{}/check_in/?event_id={event}", one.id),
        &door,
        json!({}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    // The door member has nothing else: no exports, no codes.
    let res = server
        .get(&format!("/api/v1/events/{event}/export_attendees/"))
        .add_header("authorization", door.clone())
        .await;
    assert_eq!(res.status_code(), 403);

    // Two scans of one ticket at once, from two instances: one in.
    let second = app.another_instance().await;
    let scan = |s: &loco_rs::TestServer| {
        s.post("/api/v1/tickets/check_in_by_uuid/")
            .add_header("authorization", admin.clone())
            .json(&json!({"ticket_uuid": two.id}))
    };
    let (a, b) = tokio::join!(scan(&server), scan(&second));
    let mut codes = [a.status_code().as_u16(), b.status_code().as_u16()];
    codes.sort_unstable();
    assert_eq!(codes, [200, 400]);

    // A validator session: check by number (nothing changes), check in, note, figures, end.
    let res = post(
        "validation/validator/session/start/".into(),
        &door,
        json!({"event_id": event, "validator_name": "Puerta 1"}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let started: Value = res.json();
    let session = started["session_id"].as_str().unwrap().to_string();
    assert_eq!(started["event"]["total_tickets"], 3);
    let res: Value = post(
        "validation/validator/ticket/validate/".into(),
        &door,
        json!({"ticket_number": format!("https://tuki.cl/tickets/{}", three.code), "session_id": session}),
    )
    .await
    .json();
    assert_eq!(res["valid"], true, "{res}");
    let res: Value = post(
        "validation/validator/ticket/validate/".into(),
        &door,
        json!({"ticket_number": one.code, "session_id": session}),
    )
    .await
    .json();
    assert_eq!(res["error"], "VALIDATION_FAILED");
    // Norte cannot use Sur's session.
    let res = post(
        "validation/validator/ticket/validate/".into(),
        &other,
        json!({"ticket_number": three.code, "session_id": session}),
    )
    .await;
    assert_eq!(res.status_code(), 401);
    let res = post(
        format!("validation/validator/ticket/{}/checkin/", three.id),
        &door,
        json!({"session_id": session, "notes": "Llegó con acompañante"}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["ticket"]["checked_in_by"], "Puerta 1");
    let res = post(
        format!("validation/validator/ticket/{}/notes/", three.id),
        &door,
        json!({"content": "VIP", "note_type": "vip", "session_id": session}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let res = post(
        format!("validation/validator/ticket/{}/notes/", three.id),
        &other,
        json!({"content": "x"}),
    )
    .await;
    assert_eq!(res.status_code(), 404);

    let stats: Value = server
        .get(&format!(
            "/api/v1/events/validation_stats/?event_id={event}"
        ))
        .add_header("authorization", door.clone())
        .await
        .json();
    assert_eq!(stats["overall_stats"]["total_tickets"], 3, "{stats}");
    assert_eq!(stats["overall_stats"]["checked_in"], 3);
    assert_eq!(stats["overall_stats"]["check_in_rate"], json!(100.0));
    let logs: Value = server
        .get(&format!("/api/v1/events/validation_logs/?event_id={event}"))
        .add_header("authorization", door.clone())
        .await
        .json();
    let actions: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"check_out") && actions.contains(&"note_added"),
        "{actions:?}"
    );
    assert_eq!(logs["total_logs"].as_u64().unwrap() as usize, actions.len());
    let res: Value = server
        .get(&format!(
            "/api/v1/validation/validator/session/{session}/stats/"
        ))
        .add_header("authorization", door.clone())
        .await
        .json();
    assert_eq!(res["session"]["tickets_checked_in"], 1, "{res}");
    assert_eq!(res["session"]["total_scans"], 3);
    let res = post(
        format!("validation/validator/session/{session}/end/"),
        &door,
        json!({}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["session_report"]["is_active"], false);
    let res = post(
        format!("validation/validator/session/{session}/end/"),
        &door,
        json!({}),
    )
    .await;
    assert_eq!(res.status_code(), 404);
}
