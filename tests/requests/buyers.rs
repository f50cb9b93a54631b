//! Buyer accounts (JWT in simplejwt's shapes), their orders and tickets, QR
//! codes, and check-in at the door.

use loco_rs::TestServer;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};
use tuki_backend::models::{
    _entities::{organizer_members, tickets},
    users::{self, Email, NewUser},
};
use uuid::Uuid;

use super::checkout::{boot_with_webpay, on_sale, pending_payment, reserve};
use crate::support::{app::TestApp, webpay::FakeWebpay};

async fn register(server: &TestServer, email: &str, password: &str) -> u16 {
    server
        .post("/api/v1/auth/register/")
        .json(&json!({"email": email, "password": password, "first_name": "Ana"}))
        .await
        .status_code()
        .as_u16()
}

async fn sign_in(server: &TestServer, email: &str, password: &str) -> (u16, Value) {
    let res = server
        .post("/api/v1/auth/token/")
        .add_header("x-forwarded-for", "203.0.113.7")
        .json(&json!({"email": email, "password": password}))
        .await;
    (res.status_code().as_u16(), res.json())
}

fn bearer(token: &Value) -> String {
    format!("Bearer {}", token.as_str().unwrap())
}

#[tokio::test]
async fn register_sign_in_refresh_and_me() {
    let app = TestApp::boot().await;
    let server = app.server();
    assert_eq!(
        register(&server, "ana@example.cl", "buena-clave-2026").await,
        202
    );
    // The same answer for an email that already has an account.
    assert_eq!(
        register(&server, "ANA@example.cl", "otra-clave-2026").await,
        202
    );
    // Weak passwords and bad emails are named.
    let res = server
        .post("/api/v1/auth/register/")
        .json(&json!({"email": "x@example.cl", "password": "1234"}))
        .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["password"].is_array());
    let res = server
        .post("/api/v1/auth/register/")
        .json(&json!({"email": "nope", "password": "buena-clave-2026"}))
        .await;
    assert_eq!(res.json::<Value>()["email"][0], "Ingresa un correo válido.");

    let (status, pair) = sign_in(&server, "Ana@Example.cl", "buena-clave-2026").await;
    assert_eq!(status, 200, "{pair}");
    // Wrong password and unknown email get the very same answer.
    let (s1, wrong) = sign_in(&server, "ana@example.cl", "mala").await;
    let (s2, unknown) = sign_in(&server, "nadie@example.cl", "mala").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(wrong, unknown);

    let me = server
        .get("/api/v1/users/me/")
        .add_header("authorization", bearer(&pair["access"]))
        .await;
    assert_eq!(me.status_code(), 200);
    let me: Value = me.json();
    assert_eq!(me["email"], "ana@example.cl");
    assert_eq!(me["first_name"], "Ana");
    assert!(me.get("password").is_none());
    let patched = server
        .patch("/api/v1/users/me/")
        .add_header("authorization", bearer(&pair["access"]))
        .json(&json!({"last_name": "Pérez"}))
        .await;
    assert_eq!(patched.json::<Value>()["last_name"], "Pérez");
    // No token, a bad token, a refresh token used as access: 401.
    assert_eq!(server.get("/api/v1/users/me/").await.status_code(), 401);
    for bad in ["Bearer nope", &bearer(&pair["refresh"])] {
        let res = server
            .get("/api/v1/users/me/")
            .add_header("authorization", bad.to_string())
            .await;
        assert_eq!(res.status_code(), 401);
        assert_eq!(res.json::<Value>()["code"], "token_not_valid");
        assert!(res.maybe_header("www-authenticate").is_some());
    }

    // Refresh rotates; the old refresh token is dead, and reusing it kills
    // the new one too (a stolen token is useless).
    let res = server
        .post("/api/v1/auth/token/refresh/")
        .json(&json!({"refresh": pair["refresh"]}))
        .await;
    assert_eq!(res.status_code(), 200);
    let rotated: Value = res.json();
    assert_ne!(rotated["refresh"], pair["refresh"]);
    let reused = server
        .post("/api/v1/auth/token/refresh/")
        .json(&json!({"refresh": pair["refresh"]}))
        .await;
    assert_eq!(reused.status_code(), 401);
    let after = server
        .post("/api/v1/auth/token/refresh/")
        .json(&json!({"refresh": rotated["refresh"]}))
        .await;
    assert_eq!(after.status_code(), 401);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_elsewhere() {
    let app = TestApp::boot().await;
    let server = app.server();
    register(&server, "luis@example.cl", "clave-original-1").await;
    let (_, pair) = sign_in(&server, "luis@example.cl", "clave-original-1").await;
    let change = |current: &str, new: &str| {
        server
            .post("/api/v1/auth/password/change/")
            .add_header("authorization", bearer(&pair["access"]))
            .json(&json!({"current_password": current, "new_password": new}))
    };
    let res = change("equivocada", "clave-nueva-2").await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["current_password"].is_array());
    let res = change("clave-original-1", "corta").await;
    assert!(res.json::<Value>()["new_password"].is_array());
    let res = change("clave-original-1", "clave-nueva-2").await;
    assert_eq!(res.status_code(), 200);
    let old_refresh = server
        .post("/api/v1/auth/token/refresh/")
        .json(&json!({"refresh": pair["refresh"]}))
        .await;
    assert_eq!(old_refresh.status_code(), 401);
    assert_eq!(
        sign_in(&server, "luis@example.cl", "clave-original-1")
            .await
            .0,
        401
    );
    assert_eq!(
        sign_in(&server, "luis@example.cl", "clave-nueva-2").await.0,
        200
    );
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_refused_for_a_while() {
    let app = TestApp::boot().await;
    let server = app.server();
    register(&server, "eva@example.cl", "clave-correcta-9").await;
    for _ in 0..5 {
        assert_eq!(sign_in(&server, "eva@example.cl", "mala").await.0, 401);
    }
    let res = server
        .post("/api/v1/auth/token/")
        .json(&json!({"email": "eva@example.cl", "password": "clave-correcta-9"}))
        .await;
    assert_eq!(res.status_code(), 429);
    assert!(res.maybe_header("retry-after").is_some());
    assert!(res.json::<Value>()["detail"]
        .as_str()
        .unwrap()
        .contains("Demasiados intentos"));
}

#[tokio::test]
async fn a_django_password_hash_signs_in_and_becomes_argon2() {
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
    let email = Email::parse("vieja@example.cl").unwrap();
    let user = users::Model::create(
        db,
        &NewUser {
            email: &email,
            username: "vieja",
            password: "x-temporary-x",
            is_staff: false,
            is_superuser: false,
        },
    )
    .await
    .unwrap();
    // A hash as Django writes it: pbkdf2_sha256$iterations$salt$base64.
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"clave-de-django-1", b"salmuera", 1000, &mut derived);
    let django = format!(
        "pbkdf2_sha256$1000$salmuera${}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, derived)
    );
    let mut active: users::ActiveModel = user.into();
    active.password = Set(django.clone());
    let user = active.update(db).await.unwrap();
    assert_eq!(sign_in(&server, "vieja@example.cl", "otra").await.0, 401);
    let (status, _) = sign_in(&server, "vieja@example.cl", "clave-de-django-1").await;
    assert_eq!(status, 200);
    let stored = users::Entity::find_by_id(user.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password.starts_with("$argon2id$"),
        "{}",
        stored.password
    );
    assert_eq!(
        sign_in(&server, "vieja@example.cl", "clave-de-django-1")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn signed_in_buyers_see_their_orders_and_tickets_and_qr_codes() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    register(&server, "compra@example.cl", "Entrada-segura-1").await;
    let (_, pair) = sign_in(&server, "compra@example.cl", "Entrada-segura-1").await;
    let auth = bearer(&pair["access"]);
    let (event, tiers) = on_sale(db, "mis-entradas", vec![(5_000, Some(10), 0)]).await;

    let res = server
        .post(&format!("/api/v1/events/{event}/reserve/"))
        .add_header("authorization", auth.clone())
        .json(&json!({"tiers": [{"tier_id": tiers[0], "quantity": 2}]}))
        .await;
    assert_eq!(res.status_code(), 201);
    let reservation: Value = res.json();
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .add_header("authorization", auth.clone())
        .json(&json!({
            "reservation_id": reservation["reservation_id"],
            "customer": {"name": "Compra", "email": "compra@example.cl"}
        }))
        .await;
    let order: Value = res.json();
    let number = order["order_number"].as_str().unwrap().to_string();
    // The owner pays without the token.
    let res = server
        .post("/api/v1/payments/create_payment/")
        .add_header("authorization", auth.clone())
        .json(&json!({"order_number": number}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let token = res.json::<Value>()["token"].as_str().unwrap().to_string();
    fake.pay(&token);
    server
        .post("/api/v1/payments/webpay_return/")
        .form(&[("token_ws", token.as_str())])
        .await;

    let list: Value = server
        .get("/api/v1/orders/")
        .add_header("authorization", auth.clone())
        .await
        .json();
    assert_eq!(list["count"], 1);
    assert_eq!(list["results"][0]["status"], "paid");
    let mine: Value = server
        .get("/api/v1/tickets/")
        .add_header("authorization", auth.clone())
        .await
        .json();
    assert_eq!(mine.as_array().unwrap().len(), 2);
    assert_eq!(mine[0]["order_number"], number.as_str());
    let ticket_id = mine[0]["id"].as_str().unwrap();

    let png = server
        .get(&format!("/api/v1/tickets/{ticket_id}/qr/"))
        .add_header("authorization", auth.clone())
        .await;
    assert_eq!(png.status_code(), 200);
    assert_eq!(png.header("content-type"), "image/png");
    assert!(png.as_bytes().starts_with(b"\x89PNG\r\n\x1a\n"));
    let svg = server
        .get(&format!("/api/v1/tickets/{ticket_id}/qr/?format=svg"))
        .add_header("authorization", auth.clone())
        .await;
    assert!(svg.text().contains("<svg"));
    // Nobody else: anonymous, another buyer, a random id.
    assert_eq!(
        server
            .get(&format!("/api/v1/tickets/{ticket_id}/qr/"))
            .await
            .status_code(),
        404
    );
    register(&server, "otra@example.cl", "Distinta-llave-5").await;
    let (_, other) = sign_in(&server, "otra@example.cl", "Distinta-llave-5").await;
    let res = server
        .get(&format!("/api/v1/tickets/{ticket_id}/qr/"))
        .add_header("authorization", bearer(&other["access"]))
        .await;
    assert_eq!(res.status_code(), 404);
    let res = server
        .get(&format!("/api/v1/orders/{number}/"))
        .add_header("authorization", bearer(&other["access"]))
        .await;
    assert_eq!(res.status_code(), 404);
    assert_eq!(
        server
            .get(&format!("/api/v1/tickets/{}/qr/", Uuid::new_v4()))
            .await
            .status_code(),
        404
    );
    assert_eq!(server.get("/api/v1/orders/").await.status_code(), 401);
}

async fn staff_token(server: &TestServer, app: &TestApp, email: &str, validator: bool) -> String {
    register(server, email, "Acceso-seguro-77").await;
    let user = users::Model::find_by_email(&app.ctx().db, email)
        .await
        .unwrap()
        .unwrap();
    let mut active: users::ActiveModel = user.into();
    active.is_validator = Set(validator);
    active.update(&app.ctx().db).await.unwrap();
    let (_, pair) = sign_in(server, email, "Acceso-seguro-77").await;
    bearer(&pair["access"])
}

#[tokio::test]
async fn check_in_marks_a_ticket_used_once_even_under_concurrent_scans() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "puerta", vec![(0, Some(10), 0)]).await;
    let (s, r) = reserve(&server, event, &[(tiers[0], 2)]).await;
    assert_eq!(s, 201);
    super::checkout::book(&server, event, r["reservation_id"].as_str().unwrap()).await;
    let issued = tickets::Entity::find().all(db).await.unwrap();
    assert_eq!(issued.len(), 2);

    let validator = staff_token(&server, &app, "puerta@example.cl", true).await;
    let buyer = staff_token(&server, &app, "curioso@example.cl", false).await;
    let validate = |auth: &str, code: &str, event_id: Option<Uuid>| {
        server
            .post("/api/v1/tickets/validate/")
            .add_header("authorization", auth.to_string())
            .json(&json!({"code": code, "event_id": event_id}))
    };
    // A buyer cannot check tickets in.
    assert_eq!(
        validate(&buyer, &issued[0].code, Some(event))
            .await
            .status_code(),
        403
    );
    assert_eq!(
        server
            .post("/api/v1/tickets/validate/")
            .json(&json!({"code": "x"}))
            .await
            .status_code(),
        401
    );

    // Eight scans of the same ticket at once: exactly one lets the person in.
    let scans = (0..8).map(|_| {
        std::future::IntoFuture::into_future(validate(&validator, &issued[0].code, Some(event)))
    });
    let answers = futures_util::future::join_all(scans).await;
    let results: Vec<String> = answers
        .iter()
        .map(|a| a.json::<Value>()["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        results.iter().filter(|r| *r == "valid").count(),
        1,
        "{results:?}"
    );
    assert_eq!(results.iter().filter(|r| *r == "already_used").count(), 7);
    let again: Value = validate(&validator, &issued[0].code, Some(event))
        .await
        .json();
    assert_eq!(again["result"], "already_used");
    assert_eq!(again["used_by"], "puerta@example.cl");
    assert!(again["used_at"].is_string());

    // Another event's door, and an unknown code.
    let other: Value = validate(&validator, &issued[1].code, Some(Uuid::new_v4()))
        .await
        .json();
    assert_eq!(other["result"], "invalid");
    let unknown: Value = validate(&validator, "no-existe", Some(event)).await.json();
    assert_eq!(unknown["result"], "invalid");

    // An organizer's member who manages events may check in that organizer's events.
    let manager = staff_token(&server, &app, "productor@example.cl", false).await;
    let user = users::Model::find_by_email(db, "productor@example.cl")
        .await
        .unwrap()
        .unwrap();
    let event_row = tuki_backend::models::_entities::events::Entity::find_by_id(event)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now().fixed_offset();
    organizer_members::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(event_row.organizer_id),
        user_id: Set(user.id),
        is_admin: Set(false),
        can_manage_events: Set(true),
        can_view_reports: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let ok: Value = validate(&manager, &issued[1].code, Some(event))
        .await
        .json();
    assert_eq!(ok["result"], "valid");

    // The door's lookup by ticket id, and the order by its id: this
    // organizer's member reads them; a member of another organizer gets 404.
    let lookup = format!("/api/v1/tickets/by_uuid/?uuid={}", issued[0].id);
    let order_path = format!("/api/v1/orders/{}/", issued[0].order_id);
    let get = |path: &str, auth: &str| {
        server
            .get(path)
            .add_header("authorization", auth.to_string())
    };
    let res = get(&lookup, &manager).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let found: Value = res.json();
    assert_eq!(found["ticket_number"], json!(issued[0].code));
    assert_eq!(found["check_in_status"], "checked_in");
    assert_eq!(found["order_tickets"].as_array().unwrap().len(), 2);
    assert!(found["order_info"]["order_number"].is_string());
    assert_eq!(get(&order_path, &manager).await.status_code(), 200);
    let stranger = staff_token(&server, &app, "ajeno@example.cl", false).await;
    let stranger_id = users::Model::find_by_email(db, "ajeno@example.cl")
        .await
        .unwrap()
        .unwrap()
        .id;
    let elsewhere = tuki_backend::models::_entities::organizers::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set("Otra Productora".into()),
        slug: Set("otra-productora".into()),
        contact_email: Set(String::new()),
        contact_phone: Set(String::new()),
        status: Set("active".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    organizer_members::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(elsewhere.id),
        user_id: Set(stranger_id),
        is_admin: Set(true),
        can_manage_events: Set(true),
        can_view_reports: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    for path in [&lookup, &order_path] {
        let res = get(path, &stranger).await;
        assert_eq!(res.status_code(), 404, "{path}: {}", res.text());
    }
    assert_eq!(
        get("/api/v1/tickets/by_uuid/", &manager)
            .await
            .status_code(),
        400
    );
    // A member of this organizer who only reads reports: ticket numbers let
    // people in, so not these.
    let reader = staff_token(&server, &app, "informes@example.cl", false).await;
    let reader_id = users::Model::find_by_email(db, "informes@example.cl")
        .await
        .unwrap()
        .unwrap()
        .id;
    organizer_members::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(event_row.organizer_id),
        user_id: Set(reader_id),
        is_admin: Set(false),
        can_manage_events: Set(false),
        can_view_reports: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    for path in [&lookup, &order_path] {
        assert_eq!(get(path, &reader).await.status_code(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_payment_flow_does_not_leak_the_api_key_and_sends_it_right() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "llave", vec![(1_000, Some(3), 0)]).await;
    pending_payment(&server, event, &[(tiers[0], 1)]).await;
    assert_eq!(
        fake.inner
            .bad_auth
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn superuser_refund_part_then_all_and_a_full_refund_returns_the_seats() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "reembolso", vec![(10_000, Some(4), 0)]).await;
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 2)]).await;
    let staff = staff_token(&server, &app, "soporte@example.cl", false).await;
    let buyer = staff_token(&server, &app, "cliente@example.cl", false).await;
    let clerk = staff_token(&server, &app, "clerk@example.cl", true).await;
    let user = users::Model::find_by_email(db, "soporte@example.cl")
        .await
        .unwrap()
        .unwrap();
    let mut active: users::ActiveModel = user.into();
    active.is_staff = Set(true);
    active.is_superuser = Set(true);
    active.update(db).await.unwrap();
    let clerk_user = users::Model::find_by_email(db, "clerk@example.cl")
        .await
        .unwrap()
        .unwrap();
    let mut active: users::ActiveModel = clerk_user.into();
    active.is_staff = Set(true);
    active.update(db).await.unwrap();
    let refund = |auth: &str, amount: Option<i64>| {
        server
            .post(&format!("/api/v1/orders/{number}/refund/"))
            .add_header("authorization", auth.to_string())
            .json(&json!({ "amount": amount }))
    };
    // Not paid yet.
    assert_eq!(refund(&staff, None).await.status_code(), 409);
    fake.pay(&token);
    server
        .post("/api/v1/payments/webpay_return/")
        .form(&[("token_ws", token.as_str())])
        .await;
    // One rule with the admin: superusers or the organizer's admins. A buyer
    // or a plain staff member learns nothing about the order.
    assert_eq!(refund(&buyer, None).await.status_code(), 404);
    assert_eq!(refund(&clerk, None).await.status_code(), 404);
    assert_eq!(fake.refunds(), 0);
    assert_eq!(refund(&staff, Some(999_999)).await.status_code(), 400);

    let part = refund(&staff, Some(5_000)).await;
    assert_eq!(part.status_code(), 200, "{}", part.text());
    let part: Value = part.json();
    assert_eq!(part["status"], "partially_refunded");
    assert_eq!(part["refunded_amount"], 5_000);
    assert_eq!(fake.tx(&token).status, "PARTIALLY_NULLIFIED");
    let all: Value = refund(&staff, None).await.json();
    assert_eq!(all["status"], "refunded");
    assert_eq!(all["refunded_amount"], all["total"]);
    assert_eq!(fake.tx(&token).status, "NULLIFIED");
    assert!(all["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "cancelled"));
    let t = super::checkout::tier(db, tiers[0]).await;
    assert_eq!((t.sold, t.reserved), (0, 0));
    let order: Value = server
        .get(&format!("/api/v1/orders/{number}/?token={access}"))
        .await
        .json();
    assert_eq!(order["status"], "refunded");
    assert_eq!(refund(&staff, None).await.status_code(), 409);
}

#[tokio::test]
async fn password_reset_requests_are_throttled_like_sign_ins() {
    let app = TestApp::boot().await;
    let server = app.server();
    let ask = || async {
        server
            .post("/api/v1/auth/password/reset/")
            .json(&json!({"email": "quien@tuki.cl"}))
            .await
    };
    for _ in 0..5 {
        assert_eq!(ask().await.status_code(), 202);
    }
    let refused = ask().await;
    assert_eq!(refused.status_code(), 429);
    let wait: u64 = refused
        .header("retry-after")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 15 * 60);
    // Another address is not affected.
    let other = server
        .post("/api/v1/auth/password/reset/")
        .json(&json!({"email": "otra@tuki.cl"}))
        .await;
    assert_eq!(other.status_code(), 202);
}

#[tokio::test]
async fn a_signed_in_view_of_an_event_counts_once_in_a_while() {
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, _) = on_sale(db, "visitas", vec![(5_000, Some(10), 0)]).await;
    let path = "/api/v1/events/track_view/";
    let views = || async {
        tuki_backend::models::_entities::events::Entity::find_by_id(event)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .views_count
    };

    // Anonymous: 401, nothing counted.
    let res = server.post(path).json(&json!({"event_id": event})).await;
    assert_eq!(res.status_code(), 401);
    assert_eq!(views().await, 0);

    register(&server, "mira@example.cl", "Entrada-segura-1").await;
    let (_, pair) = sign_in(&server, "mira@example.cl", "Entrada-segura-1").await;
    let auth = bearer(&pair["access"]);
    let track = |body: Value| {
        server
            .post(path)
            .add_header("authorization", auth.clone())
            .json(&body)
    };
    let res = track(json!({"event_id": event})).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(
        res.json::<Value>(),
        json!({"view_id": null, "event_id": event, "tracked": true})
    );
    // The same buyer again soon: answered, not counted twice.
    let again: Value = track(json!({"event_id": event})).await.json();
    assert_eq!(again["tracked"], false);
    assert_eq!(views().await, 1);
    // The count shows on the event's page.
    let page: Value = server.get("/api/v1/events/visitas/").await.json();
    assert_eq!(page["views_count"], 1);

    // Bad input: backtuki's messages, nothing counted.
    for (body, status, detail) in [
        (json!({}), 400, "event_id is required"),
        (json!({"event_id": ""}), 400, "event_id is required"),
        (json!({"event_id": "no-es-un-id"}), 404, "Event not found"),
        (json!({"event_id": Uuid::new_v4()}), 404, "Event not found"),
        (json!({"event_id": 7}), 404, "Event not found"),
    ] {
        let res = track(body.clone()).await;
        assert_eq!(res.status_code(), status, "{body}");
        assert_eq!(res.json::<Value>()["detail"], detail, "{body}");
    }
    assert_eq!(views().await, 1);
}
