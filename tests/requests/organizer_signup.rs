//! Organizers on their own (issue 12): the sign-up wizard, the dashboard's
//! whole sequence (sign-up → profile → draft → categories and tiers → image
//! → publish → the event in `public_list`), the team, and ticket
//! categories — each with another organizer's requests getting 404 and
//! changing nothing.

use loco_rs::TestServer;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tuki_backend::models::{
    _entities::{organizer_members, organizer_onboardings, organizers, ticket_categories},
    users,
};
use uuid::Uuid;

use super::organizers::{organizer, signed_in};
use crate::support::{app::TestApp, tools::SmtpSink};

/// An app that mails through a local SMTP sink, with a media root and no
/// catalogue cache.
pub async fn mailing_app(sink: &SmtpSink, media: &std::path::Path) -> TestApp {
    let port = sink.peer.port;
    let root = media.display().to_string();
    TestApp::boot_with(move |config| {
        config.mailer = Some(loco_rs::config::Mailer {
            stub: false,
            smtp: Some(loco_rs::config::SmtpMailer {
                enable: true,
                host: "127.0.0.1".into(),
                port,
                secure: false,
                tls: None,
                auth: None,
                hello_name: None,
            }),
        });
        let settings = config.settings.as_mut().unwrap();
        settings["media"] =
            json!({"backend": {"kind": "local", "root": root}, "public_base": null});
        settings["catalogue_cache_seconds"] = 0.into();
    })
    .await
}

/// The six-digit code last mailed to `email`.
fn code_for(sink: &SmtpSink, email: &str) -> String {
    let messages = sink.messages();
    let text = messages
        .iter()
        .rev()
        .find(|m| {
            m["rcpt_tos"] == json!([email])
                && m["text"].as_str().is_some_and(|t| t.contains("es: "))
        })
        .and_then(|m| m["text"].as_str())
        .unwrap()
        .to_string();
    text.split("es: ").nth(1).unwrap().chars().take(6).collect()
}

/// Signs in as an organizer by code: the `Authorization` value and the body.
pub async fn code_sign_in(server: &TestServer, sink: &SmtpSink, email: &str) -> (String, Value) {
    let res = server
        .post("/api/v1/auth/organizer/otp/send/")
        .json(&json!({"email": email}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let res = server
        .post("/api/v1/auth/organizer/otp/validate/")
        .json(&json!({"email": email, "code": code_for(sink, email)}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let body: Value = res.json();
    (format!("Bearer {}", body["access"].as_str().unwrap()), body)
}

/// Runs the wizard to its end for `slug` and `email`; the completion's answer.
async fn wizard(server: &TestServer, slug: &str, email: &str) -> axum_test::TestResponse {
    let started: Value = server
        .get("/api/v1/organizers/onboarding/start/")
        .await
        .json();
    let id = started["id"].as_str().unwrap().to_string();
    for (step, data) in [
        (1, json!({"selected_types": ["events"]})),
        (
            2,
            json!({"organization_name": "Teatro Austral", "organization_slug": slug, "organization_size": "medium"}),
        ),
        (
            3,
            json!({"contact_name": "Eva Rojas Soto", "contact_email": email, "contact_phone": "+56911112222"}),
        ),
    ] {
        let res = server
            .post("/api/v1/organizers/onboarding/step/")
            .json(&json!({"onboarding_id": id, "step": step, "data": data}))
            .await;
        assert_eq!(res.status_code(), 200, "{}", res.text());
    }
    server
        .post("/api/v1/organizers/onboarding/complete/")
        .json(&json!({"onboarding_id": id, "password": "Teatro-austral-2031"}))
        .await
}

#[tokio::test]
async fn the_wizard_checks_each_step_and_completes_once() {
    let app = TestApp::boot().await;
    let server = app.server();
    organizer(&app, "Ocupado", "ocupado").await;
    let start = || server.get("/api/v1/organizers/onboarding/start/");
    let step = |body: Value| {
        server
            .post("/api/v1/organizers/onboarding/step/")
            .json(&body)
    };

    let started: Value = start().await.json();
    assert_eq!(started["completed_step"], 0);
    assert_eq!(started["selected_types"], json!([]));
    assert_eq!(started["has_experience_display"], "");
    let id = started["id"].as_str().unwrap().to_string();
    // backtuki's other path reads the same wizard.
    let again: Value = server
        .get(&format!("/api/v1/organizer-onboarding/current/?id={id}"))
        .await
        .json();
    assert_eq!(again["id"], json!(id));
    assert_eq!(
        start()
            .add_query_param("id", Uuid::new_v4())
            .await
            .status_code(),
        404
    );

    // Bad requests: the keys, the step, each field.
    for body in [
        json!({"step": 1, "data": {}}),
        json!({"onboarding_id": id, "data": {}}),
        json!({"onboarding_id": id, "step": 1, "data": []}),
        json!([1]),
    ] {
        let res = step(body.clone()).await;
        assert_eq!(res.status_code(), 400, "{body}");
    }
    assert_eq!(
        step(json!({"onboarding_id": id, "step": 7, "data": {}}))
            .await
            .status_code(),
        400
    );
    let res =
        step(json!({"onboarding_id": id, "step": 1, "data": {"selected_types": ["casino"]}})).await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["selected_types"][0].is_string());
    let res = step(json!({"onboarding_id": id, "step": 2, "data": {
        "organization_name": "x".repeat(300), "organization_slug": "Con Espacios", "organization_size": "huge"}}))
    .await;
    assert_eq!(res.status_code(), 400);
    let errors: Value = res.json();
    for key in [
        "organization_name",
        "organization_slug",
        "organization_size",
    ] {
        assert!(errors[key][0].is_string(), "{key}: {errors}");
    }
    let res =
        step(json!({"onboarding_id": id, "step": 2, "data": {"organization_slug": "admin"}})).await;
    assert_eq!(res.status_code(), 400, "reserved");
    let res =
        step(json!({"onboarding_id": id, "step": 3, "data": {"contact_email": "no-es"}})).await;
    assert_eq!(res.status_code(), 400);
    let stored = organizer_onboardings::Entity::find_by_id(Uuid::parse_str(&id).unwrap())
        .one(&app.ctx().db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.completed_step, 0, "nothing saved by a refused step");
    assert_eq!(stored.organization_slug, "");

    // Completing too early names what is missing.
    let res = server
        .post("/api/v1/organizers/onboarding/complete/")
        .json(&json!({"onboarding_id": id}))
        .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["detail"]
        .as_str()
        .unwrap()
        .starts_with("Missing required fields: selected_types, organization_name"));

    // A taken subdomain is refused at the end; nothing is made.
    let users_before = users::Entity::find().count(&app.ctx().db).await.unwrap();
    let res = wizard(&server, "ocupado", "eva@austral.cl").await;
    assert_eq!(res.status_code(), 400, "{}", res.text());
    assert!(res.json::<Value>()["organization_slug"][0]
        .as_str()
        .unwrap()
        .contains("ya está en uso"));
    assert_eq!(
        users::Entity::find().count(&app.ctx().db).await.unwrap(),
        users_before
    );

    // A weak password, then the real thing.
    let started: Value = start().await.json();
    let id = started["id"].as_str().unwrap().to_string();
    for (n, data) in [
        (1, json!({"selected_types": ["eventos", "events"]})),
        (
            2,
            json!({"organization_name": "Teatro Austral", "organization_slug": "teatro-austral"}),
        ),
        (
            3,
            json!({"contact_name": "Eva", "contact_email": "Eva@Austral.cl"}),
        ),
    ] {
        let res = step(json!({"onboarding_id": id, "step": n, "data": data})).await;
        assert_eq!(res.status_code(), 200, "{}", res.text());
    }
    let complete = |password: &str| {
        server
            .post("/api/v1/organizers/onboarding/complete/")
            .json(&json!({"onboarding_id": id, "password": password}))
    };
    assert_eq!(complete("123").await.status_code(), 400);
    let res = complete("Teatro-austral-2031").await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let made: Value = res.json();
    assert_eq!(made["slug"], "teatro-austral");
    assert_eq!(made["status"], "pending");
    assert_eq!(made["contact_email"], "eva@austral.cl");
    assert_eq!(made["onboarding_completed"], true);
    // Once only: a replay makes nothing more.
    let res = complete("Teatro-austral-2031").await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        organizers::Entity::find()
            .filter(organizers::Column::Slug.eq("teatro-austral"))
            .count(&app.ctx().db)
            .await
            .unwrap(),
        1
    );
    let user = users::Model::find_by_email(&app.ctx().db, "eva@austral.cl")
        .await
        .unwrap()
        .unwrap();
    assert!(!user.is_staff && !user.is_guest);
    assert!(
        !user.is_organizer,
        "a member only once the email is proved by a code"
    );
    // The password chosen signs in.
    let res = server
        .post("/api/v1/auth/token/")
        .json(&json!({"email": "eva@austral.cl", "password": "Teatro-austral-2031"}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());

    // An existing account joins as it is: its password is not the wizard's.
    signed_in(&server, &app, "leo@ya.cl", None).await;
    let res = wizard(&server, "leo-producciones", "leo@ya.cl").await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let res = server
        .post("/api/v1/auth/token/")
        .json(&json!({"email": "leo@ya.cl", "password": "Teatro-austral-2031"}))
        .await;
    assert_ne!(
        res.status_code(),
        200,
        "an anonymous wizard never sets a password"
    );
    // Nor makes anyone a member: the account holder gets no organizer until
    // they sign in by a code sent to that address.
    let res = server
        .post("/api/v1/auth/token/")
        .json(&json!({"email": "leo@ya.cl", "password": "Organiza-segura-42"}))
        .await;
    let leo = format!("Bearer {}", res.json::<Value>()["access"].as_str().unwrap());
    let res = server
        .get("/api/v1/organizers/current/")
        .add_header("authorization", leo)
        .await;
    assert_eq!(res.status_code(), 403);
    assert_eq!(
        organizer_members::Entity::find()
            .count(&app.ctx().db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn the_dashboard_sequence_from_sign_up_to_the_catalogue() {
    let sink = SmtpSink::start();
    let media = tempfile::tempdir().unwrap();
    let app = mailing_app(&sink, media.path()).await;
    let server = app.server();
    let email = "eva@austral.cl";

    // Sign-up: the wizard, then the first sign-in by code proves the email.
    let res = wizard(&server, "teatro-austral", email).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let org_id: Uuid = res.json::<Value>()["id"].as_str().unwrap().parse().unwrap();
    let (auth, signed) = code_sign_in(&server, &sink, email).await;
    assert_eq!(signed["needs_setup"], false);
    assert_eq!(signed["organizer"]["email_validated"], true);
    let org = organizers::Entity::find_by_id(org_id)
        .one(&app.ctx().db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org.status, "active");
    let send = |method: &str, path: &str, body: Option<Value>| {
        let path = format!("/api/v1/{path}");
        let req = match method {
            "GET" => server.get(&path),
            "POST" => server.post(&path),
            "PATCH" => server.patch(&path),
            _ => server.delete(&path),
        }
        .add_header("authorization", auth.clone());
        match body {
            Some(b) => req.json(&b),
            None => req,
        }
    };

    // Profile.
    let res = send(
        "PATCH",
        "organizers/current/",
        Some(json!({"description": "Teatro en Frutillar", "city": "Frutillar"})),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());

    // A draft; the editor loads it at events/{id}/ (anonymous: 404).
    let res = send("POST", "events/", Some(json!({
        "title": "Ópera en el Lago", "description": "Una noche de ópera.", "short_description": "Ópera",
        "start_date": "2031-02-01T20:00:00", "end_date": "2031-02-01T23:00:00",
        "location": {"name": "Teatro del Lago", "address": "Av. Philippi 1000, Frutillar"}
    })))
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let event = res.json::<Value>()["id"].as_str().unwrap().to_string();
    let res = send("GET", &format!("events/{event}/"), None).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["status"], "draft");
    assert_eq!(
        server
            .get(&format!("/api/v1/events/{event}/"))
            .await
            .status_code(),
        404
    );

    // Categories and tiers.
    let res = send("POST", &format!("events/{event}/ticket-categories/"), Some(json!({
        "name": "Platea", "capacity": 300, "order": 1, "sale_start_date": "2031-01-01", "sale_start_time": "10:00"
    })))
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let category: Value = res.json();
    assert_eq!(category["available"], 300);
    assert_eq!(category["sale_start_time"], "10:00:00");
    let res = send(
        "POST",
        "ticket-tiers/",
        Some(json!({
            "event": event, "name": "General", "price": {"basePrice": 25000}, "capacity": 200
        })),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let tier = res.json::<Value>()["id"].as_str().unwrap().to_string();
    let res = send(
        "POST",
        &format!("ticket-tiers/{tier}/category_link/"),
        Some(json!({"category_id": category["id"]})),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["category_name"], "Platea");

    // An image.
    let png = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
            .unwrap()
    };
    let form = axum_test::multipart::MultipartForm::new()
        .add_text("event_id", event.clone())
        .add_part(
            "file",
            axum_test::multipart::Part::bytes(png).file_name("afiche.png"),
        );
    let res = server
        .post("/api/v1/events/upload/")
        .add_header("authorization", auth.clone())
        .multipart(form)
        .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());

    // Complete, publish: in the catalogue, with its category on its page.
    let res = send("POST", &format!("events/{event}/complete_draft/"), None).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let res = send("POST", &format!("events/{event}/publish/"), None).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let catalogue: Value = server.get("/api/v1/events/public_list/").await.json();
    assert_eq!(catalogue["results"][0]["id"], json!(event));
    let page: Value = server.get(&format!("/api/v1/events/{event}/")).await.json();
    assert_eq!(page["ticket_categories"][0]["name"], "Platea");
    assert_eq!(
        page["ticket_tiers"][0]["metadata"]["categoryName"],
        "Platea"
    );
    assert_eq!(page["images"].as_array().unwrap().len(), 1);
    assert_eq!(page["organizer_description"], "Teatro en Frutillar");

    // A tier in a hidden category is neither shown nor sold.
    let res = send(
        "POST",
        &format!("events/{event}/ticket-categories/"),
        Some(json!({"name": "Backstage", "status": "hidden"})),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let hidden = res.json::<Value>()["id"].as_str().unwrap().to_string();
    let res = send(
        "POST",
        "ticket-tiers/",
        Some(json!({"event": event, "name": "Backstage", "price": 90000})),
    )
    .await;
    let secret = res.json::<Value>()["id"].as_str().unwrap().to_string();
    send(
        "POST",
        &format!("ticket-tiers/{secret}/category_link/"),
        Some(json!({"category_id": hidden})),
    )
    .await;
    let page: Value = server.get(&format!("/api/v1/events/{event}/")).await.json();
    let names: Vec<&str> = page["ticket_tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["General"]);
    assert_eq!(page["ticket_categories"].as_array().unwrap().len(), 1);
    let res = server
        .post(&format!("/api/v1/events/{event}/reserve/"))
        .json(&json!({"tickets": [{"tierId": secret, "quantity": 1}]}))
        .await;
    assert_eq!(res.status_code(), 400, "{}", res.text());
    let res = server
        .post(&format!("/api/v1/events/{event}/reserve/"))
        .json(&json!({"tickets": [{"tierId": tier, "quantity": 1}]}))
        .await;
    assert!(res.status_code().is_success(), "{}", res.text());
}

#[tokio::test]
async fn a_team_is_invited_changed_and_never_left_without_an_admin() {
    let sink = SmtpSink::start();
    let media = tempfile::tempdir().unwrap();
    let app = mailing_app(&sink, media.path()).await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let reader = signed_in(&server, &app, "leo@sur.cl", Some((sur, false, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    let members = "/api/v1/organizers/current/members/";
    let list = |auth: &str| {
        server
            .get(members)
            .add_header("authorization", auth.to_string())
    };

    let team: Value = list(&admin).await.json();
    assert_eq!(team.as_array().unwrap().len(), 2);
    assert_eq!(list(&reader).await.status_code(), 403);
    assert_eq!(server.get(members).await.status_code(), 401);

    // An invitation: bad input, a reader, then the admin's. The invitee
    // signs in by code and is in the team.
    let invite = |auth: &str, body: Value| {
        server
            .post(members)
            .add_header("authorization", auth.to_string())
            .json(&body)
    };
    assert_eq!(
        invite(&admin, json!({"email": "no-es"}))
            .await
            .status_code(),
        400
    );
    assert_eq!(
        invite(&admin, json!({"email": "mia@sur.cl", "is_admin": "quizás"}))
            .await
            .status_code(),
        400
    );
    assert_eq!(
        invite(&reader, json!({"email": "mia@sur.cl"}))
            .await
            .status_code(),
        403
    );
    let res = invite(
        &admin,
        json!({"email": "Mia@Sur.cl", "first_name": "Mía", "can_view_reports": false}),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let mia: Value = res.json();
    assert_eq!(mia["email"], "mia@sur.cl");
    assert_eq!(mia["can_manage_events"], true);
    assert_eq!(mia["can_view_reports"], false);
    assert_eq!(mia["invitation_sent"], true);
    assert_eq!(mia["pending"], true);
    assert_eq!(
        mia["first_name"], "Mía",
        "what the inviter typed, nothing of the account"
    );
    assert!(sink
        .messages()
        .iter()
        .any(|m| m["rcpt_tos"] == json!(["mia@sur.cl"])
            && m["text"].as_str().unwrap().contains("Productora Sur")));
    assert_eq!(
        invite(&admin, json!({"email": "mia@sur.cl"}))
            .await
            .status_code(),
        409
    );
    let (mia_auth, signed) = code_sign_in(&server, &sink, "mia@sur.cl").await;
    assert_eq!(signed["organizer"]["slug"], "productora-sur");
    let res = server
        .get("/api/v1/organizers/current/")
        .add_header("authorization", mia_auth.clone())
        .await;
    assert_eq!(res.json::<Value>()["slug"], "productora-sur");

    // Another organizer's admin: 404 on this team's members, nothing changes.
    let mia_id = mia["id"].as_str().unwrap();
    let path = format!("{members}{mia_id}/");
    let res = server
        .patch(&path)
        .add_header("authorization", other.clone())
        .json(&json!({"is_admin": true}))
        .await;
    assert_eq!(res.status_code(), 404);
    let res = server
        .delete(&path)
        .add_header("authorization", other.clone())
        .await;
    assert_eq!(res.status_code(), 404);
    let theirs: Value = list(&other).await.json();
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    let row = organizer_members::Entity::find_by_id(Uuid::parse_str(mia_id).unwrap())
        .one(&app.ctx().db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.is_admin);

    // Flags: a reader cannot, the admin can.
    let res = server
        .patch(&path)
        .add_header("authorization", reader.clone())
        .json(&json!({"is_admin": true}))
        .await;
    assert_eq!(res.status_code(), 403);
    let res = server
        .patch(&path)
        .add_header("authorization", admin.clone())
        .json(&json!({"can_view_reports": true}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["can_view_reports"], true);

    // The only admin cannot stop being one, nor leave.
    let team: Value = list(&admin).await.json();
    let eva = team
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "eva@sur.cl")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let eva_path = format!("{members}{eva}/");
    let res = server
        .patch(&eva_path)
        .add_header("authorization", admin.clone())
        .json(&json!({"is_admin": false}))
        .await;
    assert_eq!(res.status_code(), 400);
    let res = server
        .delete(&eva_path)
        .add_header("authorization", admin.clone())
        .await;
    assert_eq!(res.status_code(), 400);
    // A reader may leave; a member is removed by the admin.
    let leo = team
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "leo@sur.cl")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = server
        .delete(&format!("{members}{mia_id}/"))
        .add_header("authorization", reader.clone())
        .await;
    assert_eq!(res.status_code(), 403, "a reader removes nobody else");
    let res = server
        .delete(&format!("{members}{leo}/"))
        .add_header("authorization", reader.clone())
        .await;
    assert_eq!(res.status_code(), 204);
    assert_eq!(
        server
            .get("/api/v1/organizers/current/")
            .add_header("authorization", reader.clone())
            .await
            .status_code(),
        403,
        "gone at once"
    );
    let res = server
        .delete(&path)
        .add_header("authorization", admin.clone())
        .await;
    assert_eq!(res.status_code(), 204);
    let left = organizer_members::Entity::find()
        .filter(organizer_members::Column::OrganizerId.eq(sur))
        .count(&app.ctx().db)
        .await
        .unwrap();
    assert_eq!(left, 1);

    // An invited admin counts once they sign in by code; then the first may
    // step down.
    let res = invite(&admin, json!({"email": "sol@sur.cl", "is_admin": true})).await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let res = server
        .patch(&eva_path)
        .add_header("authorization", admin.clone())
        .json(&json!({"is_admin": false}))
        .await;
    assert_eq!(
        res.status_code(),
        400,
        "a pending invitation is no admin yet"
    );
    code_sign_in(&server, &sink, "sol@sur.cl").await;
    let res = server
        .patch(&eva_path)
        .add_header("authorization", admin.clone())
        .json(&json!({"is_admin": false}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
}

#[tokio::test]
async fn categories_belong_to_the_organizers_own_events() {
    let app = TestApp::boot().await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    let send = |method: &str, path: &str, auth: &str, body: Option<Value>| {
        let path = format!("/api/v1/{path}");
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
    let draft = |auth: String, title: &'static str| {
        let server = &server;
        async move {
            server
                .post("/api/v1/events/")
                .add_header("authorization", auth)
                .json(&json!({"title": title, "start_date": "2031-06-01T21:00:00", "end_date": "2031-06-01T23:00:00"}))
                .await
                .json::<Value>()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let event = draft(admin.clone(), "Sur").await;
    let theirs = draft(other.clone(), "Norte").await;

    // Bad input: every field named, nothing made.
    let res = send(
        "POST",
        "ticket-categories/",
        &admin,
        Some(json!({
            "event": event, "capacity": -1, "status": "abierta", "sale_start_date": "01-02-2031",
            "sale_end_time": "25:00", "min_per_purchase": 5, "max_per_purchase": 0
        })),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    let errors: Value = res.json();
    for key in [
        "name",
        "capacity",
        "status",
        "sale_start_date",
        "sale_end_time",
        "max_per_purchase",
    ] {
        assert!(errors[key][0].is_string(), "{key}: {errors}");
    }
    let res = send("POST", "ticket-categories/", &admin, Some(json!({
        "event": event, "name": "Al revés", "sale_start_date": "2031-02-01", "sale_end_date": "2031-01-01"
    })))
    .await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        ticket_categories::Entity::find()
            .count(&app.ctx().db)
            .await
            .unwrap(),
        0
    );
    // Into another organizer's event: 404.
    let res = send(
        "POST",
        "ticket-categories/",
        &admin,
        Some(json!({"event": theirs, "name": "Intrusa"})),
    )
    .await;
    assert_eq!(res.status_code(), 404);
    let res = send(
        "POST",
        &format!("events/{theirs}/ticket-categories/"),
        &admin,
        Some(json!({"name": "Intrusa"})),
    )
    .await;
    assert_eq!(res.status_code(), 404);

    // Made (unlimited without capacity), read, patched (partial), listed.
    let res = send(
        "POST",
        "ticket-categories/",
        &admin,
        Some(json!({"event": event, "name": "General"})),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let general: Value = res.json();
    assert_eq!(general["capacity"], Value::Null);
    assert_eq!(general["available"], 9_999_999);
    assert_eq!(general["is_sold_out"], false);
    let id = general["id"].as_str().unwrap().to_string();
    let res = send(
        "PATCH",
        &format!("ticket-categories/{id}/"),
        &admin,
        Some(json!({"order": 3, "status": "hidden"})),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["name"], "General");
    let res = send(
        "PUT",
        &format!("ticket-categories/{id}/"),
        &admin,
        Some(json!({"order": 2})),
    )
    .await;
    assert_eq!(res.status_code(), 400, "PUT needs the name");
    let page: Value = send(
        "GET",
        &format!("ticket-categories/?event={event}&status=hidden"),
        &admin,
        None,
    )
    .await
    .json();
    assert_eq!(page["count"], 1);
    assert_eq!(
        send("GET", "ticket-categories/?status=x", &admin, None)
            .await
            .status_code(),
        400
    );

    // Another organizer: 404 for every path, nothing changes; their list is empty.
    let before = ticket_categories::Entity::find()
        .all(&app.ctx().db)
        .await
        .unwrap();
    for (method, path, body) in [
        ("GET", format!("ticket-categories/{id}/"), None),
        (
            "PATCH",
            format!("ticket-categories/{id}/"),
            Some(json!({"name": "Robada"})),
        ),
        (
            "PUT",
            format!("ticket-categories/{id}/"),
            Some(json!({"name": "Robada"})),
        ),
        ("DELETE", format!("ticket-categories/{id}/"), None),
        ("GET", format!("events/{event}/ticket-categories/"), None),
    ] {
        let res = send(method, &path, &other, body).await;
        assert_eq!(res.status_code(), 404, "{method} {path}: {}", res.text());
    }
    let listed: Value = send("GET", "ticket-categories/", &other, None).await.json();
    assert_eq!(listed["count"], 0);
    // Their tier into this category: 404; this tier into their category: 404.
    let their_tier: Value = send(
        "POST",
        "ticket-tiers/",
        &other,
        Some(json!({"event": theirs, "name": "N", "price": 1000})),
    )
    .await
    .json();
    let res = send(
        "POST",
        &format!(
            "ticket-tiers/{}/category_link/",
            their_tier["id"].as_str().unwrap()
        ),
        &other,
        Some(json!({"category_id": id})),
    )
    .await;
    assert_eq!(res.status_code(), 404);
    let res = send(
        "POST",
        &format!(
            "ticket-tiers/{}/category_link/",
            their_tier["id"].as_str().unwrap()
        ),
        &admin,
        Some(json!({"category_id": id})),
    )
    .await;
    assert_eq!(res.status_code(), 404);
    assert_eq!(
        ticket_categories::Entity::find()
            .all(&app.ctx().db)
            .await
            .unwrap(),
        before
    );

    // Deleting the category keeps its tiers, outside any category.
    let tier: Value = send(
        "POST",
        "ticket-tiers/",
        &admin,
        Some(json!({"event": event, "name": "G", "price": 1000})),
    )
    .await
    .json();
    let tier_id = tier["id"].as_str().unwrap();
    let res = send(
        "POST",
        &format!("ticket-tiers/{tier_id}/category_link/"),
        &admin,
        Some(json!({"category_id": id})),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(
        send("DELETE", &format!("ticket-categories/{id}/"), &admin, None)
            .await
            .status_code(),
        204
    );
    let res = send("GET", &format!("ticket-tiers/{tier_id}/"), &admin, None).await;
    assert_eq!(res.status_code(), 200);
}

#[tokio::test]
async fn an_event_is_cloned_its_images_reordered_and_the_admin_history_shows_who() {
    let media = tempfile::tempdir().unwrap();
    let root = media.path().display().to_string();
    let app = TestApp::boot_with(move |c| {
        let settings = c.settings.as_mut().unwrap();
        settings["media"] =
            json!({"backend": {"kind": "local", "root": root}, "public_base": null});
    })
    .await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    let post = |path: &str, auth: &str, body: Value| {
        server
            .post(&format!("/api/v1/{path}"))
            .add_header("authorization", auth.to_string())
            .json(&body)
    };
    let event: Value = post(
        "events/",
        &admin,
        json!({
            "title": "Jazz", "description": "Noche de jazz", "short_description": "Jazz",
            "start_date": "2031-06-01T21:00:00", "end_date": "2031-06-01T23:00:00",
            "location": {"name": "Teatro", "address": "Calle 1"}
        }),
    )
    .await
    .json();
    let event = event["id"].as_str().unwrap().to_string();
    let category: Value = post(
        &format!("events/{event}/ticket-categories/"),
        &admin,
        json!({"name": "Platea"}),
    )
    .await
    .json();
    let tier: Value = post(
        "ticket-tiers/",
        &admin,
        json!({"event": event, "name": "General", "price": 9000, "capacity": 50}),
    )
    .await
    .json();
    let res = post(
        &format!(
            "ticket-tiers/{}/category_link/",
            tier["id"].as_str().unwrap()
        ),
        &admin,
        json!({"category_id": category["id"]}),
    )
    .await;
    assert_eq!(res.status_code(), 200);
    let png = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
            .unwrap()
    };
    let mut images = Vec::new();
    for n in 0..2 {
        let form = axum_test::multipart::MultipartForm::new()
            .add_text("event_id", event.clone())
            .add_text("replace_main", "false")
            .add_text("alt", format!("foto {n}"))
            .add_part(
                "file",
                axum_test::multipart::Part::bytes(png.clone()).file_name("a.png"),
            );
        let res = server
            .post("/api/v1/events/upload/")
            .add_header("authorization", admin.clone())
            .multipart(form)
            .await;
        assert_eq!(res.status_code(), 201, "{}", res.text());
        images.push(
            res.json::<Value>()["event_image_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }

    // Reorder: exactly the event's images; another organizer 404.
    let path = format!("events/{event}/images/reorder/");
    assert_eq!(
        post(&path, &admin, json!({"order": [images[0]]}))
            .await
            .status_code(),
        400
    );
    assert_eq!(
        post(&path, &admin, json!({"order": [images[0], images[0]]}))
            .await
            .status_code(),
        400
    );
    assert_eq!(
        post(&path, &other, json!({"order": [images[1], images[0]]}))
            .await
            .status_code(),
        404
    );
    let res = post(&path, &admin, json!({"order": [images[1], images[0]]})).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let page: Value = server
        .get(&format!("/api/v1/events/{event}/"))
        .add_header("authorization", admin.clone())
        .await
        .json();
    assert_eq!(
        page["images"][0]["id"],
        json!(images[1]),
        "the new cover first"
    );

    // Clone: another organizer 404; the copy is a draft with its own tiers,
    // categories and image files, nothing sold.
    assert_eq!(
        post(&format!("events/{event}/clone/"), &other, json!({}))
            .await
            .status_code(),
        404
    );
    let res = post(&format!("events/{event}/clone/"), &admin, json!({})).await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let copy: Value = res.json();
    assert_eq!(copy["title"], "Jazz (copia)");
    assert_eq!(copy["status"], "draft_complete");
    let copy_id = copy["id"].as_str().unwrap();
    let page: Value = server
        .get(&format!("/api/v1/events/{copy_id}/"))
        .add_header("authorization", admin.clone())
        .await
        .json();
    assert_eq!(page["ticket_tiers"][0]["name"], "General");
    assert_eq!(page["ticket_tiers"][0]["tickets_sold"], 0);
    assert_eq!(
        page["ticket_tiers"][0]["metadata"]["categoryName"],
        "Platea"
    );
    assert_ne!(page["ticket_tiers"][0]["id"], tier["id"]);
    assert_eq!(page["images"].as_array().unwrap().len(), 2);
    assert_ne!(page["images"][0]["url"], json!(null));
    let original: Value = server
        .get(&format!("/api/v1/events/{event}/"))
        .add_header("authorization", admin.clone())
        .await
        .json();
    assert_ne!(
        page["images"][0]["url"], original["images"][0]["url"],
        "files are the copy's own"
    );

    // The admin's history: each change, as the organizer's member's.
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.ctx().db;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT user_email, model, message FROM admin_log WHERE object_id = '{event}' ORDER BY action_time"),
        ))
        .await
        .unwrap();
    let log: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "user_email").unwrap(),
                r.try_get("", "model").unwrap(),
                r.try_get("", "message").unwrap(),
            )
        })
        .collect();
    assert!(log.len() >= 4, "{log:?}");
    assert!(
        log.iter()
            .all(|(who, model, _)| who == "eva@sur.cl" && model == "event"),
        "{log:?}"
    );
    assert!(log[0].2.starts_with("Creado como borrador."), "{log:?}");
    assert!(
        log.iter().any(|(_, _, m)| m.starts_with("Reordenadas")),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_draft_may_wait_for_its_dates_but_is_not_published_without_them() {
    let app = TestApp::boot().await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let send = |method: &str, path: &str, body: Option<Value>| {
        let path = format!("/api/v1/{path}");
        let req = match method {
            "GET" => server.get(&path),
            "POST" => server.post(&path),
            _ => server.patch(&path),
        }
        .add_header("authorization", admin.clone());
        match body {
            Some(b) => req.json(&b),
            None => req,
        }
    };
    // One date alone is refused; none is a draft without dates.
    let res = send(
        "POST",
        "events/",
        Some(json!({"title": "Pronto", "start_date": "2031-01-01T20:00:00"})),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        res.json::<Value>()["end_date"][0],
        "Este campo es requerido."
    );
    let res = send(
        "POST",
        "events/",
        Some(json!({
            "title": "Pronto", "description": "d", "short_description": "s",
            "location": {"name": "Por confirmar", "address": "Por confirmar"}
        })),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let draft: Value = res.json();
    assert_eq!(draft["start_date"], Value::Null);
    assert_eq!(draft["end_date"], Value::Null);
    let id = draft["id"].as_str().unwrap().to_string();
    let list: Value = send("GET", "events/", None).await.json();
    assert_eq!(list["results"][0]["start_date"], Value::Null);
    let page: Value = send("GET", &format!("events/{id}/"), None).await.json();
    assert_eq!(page["start_date"], Value::Null);
    assert_eq!(page["date"], "");
    assert_eq!(
        send("GET", "events/organizer/", None).await.json::<Value>(),
        json!([])
    );
    // Not complete, not publishable.
    let res = send("POST", &format!("events/{id}/complete_draft/"), None).await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        res.json::<Value>()["missing_fields"],
        json!(["start_date", "end_date"])
    );
    let tier = send(
        "POST",
        "ticket-tiers/",
        Some(json!({"event": id, "name": "G", "price": 1000})),
    )
    .await;
    assert_eq!(tier.status_code(), 201);
    let res = send("POST", &format!("events/{id}/publish/"), None).await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        res.json::<Value>()["error"],
        "El evento necesita fechas de inicio y término"
    );
    // Both dates at once (one is refused); then it publishes, and the
    // category names are there for the editor.
    let res = send(
        "PATCH",
        &format!("events/{id}/"),
        Some(json!({"startDate": "2031-03-01T20:00:00"})),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    let res = send(
        "PATCH",
        &format!("events/{id}/"),
        Some(json!({"startDate": "2031-03-01T20:00:00", "endDate": "2031-03-01T23:00:00"})),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(
        res.json::<Value>()["start_date"],
        "2031-03-01T20:00:00-03:00"
    );
    let res = send("POST", &format!("events/{id}/publish/"), None).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let names = send("GET", "events/categories/", None).await;
    assert_eq!(names.status_code(), 200);
    assert!(names.json::<Value>().is_array());
    assert_eq!(
        server.get("/api/v1/events/categories/").await.status_code(),
        401
    );
}
