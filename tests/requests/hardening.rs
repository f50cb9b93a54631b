//! The attacks of the hardening review, each shown failing against the app:
//! hoarding seats, huge or repeated orders, dodging the sign-in throttle,
//! sessions outliving a password change, flooding the catalogue cache,
//! concurrent refunds, expired QR links and text PostgreSQL refuses.

use loco_rs::TestServer;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tuki_backend::{
    mailers::order_confirmation::qr_signature,
    models::{
        _entities::{
            events, orders, organizer_members, organizers, payments as payments_entity, tickets,
        },
        users::{self, Email, NewUser},
    },
    payments::flow,
};
use uuid::Uuid;

use super::checkout::{
    boot_with_webpay, on_sale, on_sale_at, pending_payment, tier, webpay_return,
};
use crate::support::{
    app::TestApp,
    catalogue::{place, NewEvent},
    webpay::FakeWebpay,
};

/// A reserve from the client at `addr` (the value Google's front end appends
/// to `X-Forwarded-For`; what the client wrote itself comes first).
async fn reserve_from(
    server: &TestServer,
    event: Uuid,
    tier: Uuid,
    quantity: i64,
    addr: &str,
) -> (u16, Value) {
    let res = server
        .post(&format!("/api/v1/events/{event}/reserve/"))
        .add_header(
            "x-forwarded-for",
            format!("{}, {addr}", Uuid::new_v4().simple()),
        )
        .json(&json!({"tiers": [{"tier_id": tier, "quantity": quantity}]}))
        .await;
    (res.status_code().as_u16(), res.json())
}

async fn book_as(
    server: &TestServer,
    event: Uuid,
    reservation: &Value,
    email: &str,
) -> (u16, Value) {
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "reservation_id": reservation["reservation_id"],
            "customer": {"name": "Ana", "email": email}
        }))
        .await;
    (res.status_code().as_u16(), res.json())
}

#[tokio::test]
async fn one_client_cannot_hold_a_whole_tier() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    // The measured attack: 1,230 seats, held 10 at a time by one client.
    let (event, tiers) = on_sale(db, "acaparar", vec![(5_000, Some(1_230), 0)]).await;
    let addr = "198.51.100.20";

    // Each order has a ceiling (the event's 10 here) and each line a hard one.
    for quantity in [11, 101, 1_000_000, 0, -1] {
        let (status, body) = reserve_from(&server, event, tiers[0], quantity, addr).await;
        assert_eq!(status, 400, "{quantity}: {body}");
        assert!(body["tiers"].is_array(), "{body}");
    }
    let mut held = 0;
    for _ in 0..4 {
        let (status, body) = reserve_from(&server, event, tiers[0], 10, addr).await;
        assert_eq!(status, 201, "{body}");
        held += 10;
    }
    // A fifth live hold is refused, whatever the client writes first in
    // X-Forwarded-For (reserve_from rotates it).
    for _ in 0..3 {
        let (status, body) = reserve_from(&server, event, tiers[0], 1, addr).await;
        assert_eq!(status, 429, "{body}");
        assert!(body["detail"]
            .as_str()
            .unwrap()
            .contains("reservas activas"));
    }
    assert_eq!(tier(db, tiers[0]).await.reserved, held);
    // Another buyer is not affected.
    assert_eq!(
        reserve_from(&server, event, tiers[0], 2, "198.51.100.21")
            .await
            .0,
        201
    );
    // Reserve itself is rate-limited per client (30 in 15 minutes).
    let mut statuses = Vec::new();
    for _ in 0..32 {
        statuses.push(
            reserve_from(&server, event, tiers[0], 500, "198.51.100.22")
                .await
                .0,
        );
    }
    assert!(statuses[..30].iter().all(|s| *s == 400), "{statuses:?}");
    assert_eq!(statuses[30..], [429, 429]);
    assert_eq!(tier(db, tiers[0]).await.reserved, held + 2);
}

#[tokio::test]
async fn a_burst_of_reserves_from_one_client_gets_exactly_its_holds() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "rafaga", vec![(5_000, Some(500), 0)]).await;
    let server = app.server();
    let burst = (0..16).map(|_| reserve_from(&server, event, tiers[0], 5, "198.51.100.30"));
    let mut statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        4,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(tier(db, tiers[0]).await.reserved, 20);
}

#[tokio::test]
async fn free_tickets_and_unpaid_orders_are_capped_per_email() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;

    // A free tier: one order's worth (10) per email and event.
    let p = place(db).await;
    let (free, free_tiers) = on_sale_at(db, &p, "gratis-tope", vec![(0, None, 0)]).await;
    let (_, r) = reserve_from(&server, free, free_tiers[0], 10, "198.51.100.40").await;
    let (status, order) = book_as(&server, free, &r, "acapara@example.cl").await;
    assert_eq!((status, order["status"].as_str()), (201, Some("paid")));
    let (_, r) = reserve_from(&server, free, free_tiers[0], 1, "198.51.100.41").await;
    let (status, body) = book_as(&server, free, &r, "ACAPARA@example.cl").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["customer.email"].is_array(), "{body}");
    assert_eq!(tickets::Entity::find().all(db).await.unwrap().len(), 10);
    // Another email books the same reservation.
    assert_eq!(book_as(&server, free, &r, "otra@example.cl").await.0, 201);

    // A paid tier: at most 3 unpaid orders per email.
    let (paid, paid_tiers) = on_sale_at(db, &p, "pendientes", vec![(9_000, Some(100), 0)]).await;
    for i in 0..3 {
        let (_, r) =
            reserve_from(&server, paid, paid_tiers[0], 1, &format!("198.51.100.5{i}")).await;
        assert_eq!(book_as(&server, paid, &r, "lenta@example.cl").await.0, 201);
    }
    let (_, r) = reserve_from(&server, paid, paid_tiers[0], 1, "198.51.100.59").await;
    let (status, body) = book_as(&server, paid, &r, "lenta@example.cl").await;
    assert_eq!(status, 429, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("pendientes"));
    assert_eq!(
        orders::Entity::find()
            .filter(orders::Column::CustomerEmail.eq("lenta@example.cl"))
            .all(db)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(book_as(&server, paid, &r, "rapida@example.cl").await.0, 201);
}

async fn account(app: &TestApp, email: &str, password: &str) {
    account_as(app, email, password, false).await;
}

/// An account; `superuser` makes it staff and superuser.
async fn account_as(app: &TestApp, email: &str, password: &str, superuser: bool) -> users::Model {
    let email = Email::parse(email).unwrap();
    users::Model::create(
        &app.ctx().db,
        &NewUser {
            email: &email,
            username: email.as_str(),
            password,
            is_staff: superuser,
            is_superuser: superuser,
        },
    )
    .await
    .unwrap()
}

/// The `Authorization` header of a token pair's access token.
fn bearer(pair: &Value) -> String {
    format!("Bearer {}", pair["access"].as_str().unwrap())
}

async fn sign_in(server: &TestServer, email: &str, password: &str, addr: &str) -> (u16, Value) {
    let res = server
        .post("/api/v1/auth/token/")
        .add_header(
            "x-forwarded-for",
            format!("{}, {addr}", Uuid::new_v4().simple()),
        )
        .json(&json!({"email": email, "password": password}))
        .await;
    (res.status_code().as_u16(), res.json())
}

#[tokio::test]
async fn a_parallel_burst_gets_the_limit_and_a_forged_address_changes_nothing() {
    let app = TestApp::boot().await;
    account(&app, "blanco@example.cl", "Clave-Correcta-1").await;
    let server = app.server();
    // 50 at once from 50 addresses: the email's count decides, exactly 5 tries.
    let burst = (0..50).map(|i| {
        let addr = format!("198.51.100.{}", 100 + i);
        let server = &server;
        async move {
            sign_in(server, "blanco@example.cl", "adivina", &addr)
                .await
                .0
        }
    });
    let statuses: Vec<u16> = futures_util::future::join_all(burst).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 45);
    // 50 at once from one address at another email (the client rotates what
    // it writes in X-Forwarded-For): never more than 5 tries either.
    account(&app, "gris@example.cl", "Clave-Correcta-1").await;
    let burst = (0..50).map(|_| sign_in(&server, "gris@example.cl", "adivina", "198.51.100.60"));
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let tries = statuses.iter().filter(|s| **s == 401).count();
    assert!((1..=5).contains(&tries), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 50 - tries);
    // Not even the right password gets through now.
    assert_eq!(
        sign_in(
            &server,
            "blanco@example.cl",
            "Clave-Correcta-1",
            "198.51.100.61"
        )
        .await
        .0,
        429
    );
    // One address trying many emails, rotating what it writes first.
    let mut statuses = Vec::new();
    for i in 0..22 {
        statuses.push(
            sign_in(&server, &format!("n{i}@example.cl"), "x", "198.51.100.62")
                .await
                .0,
        );
    }
    assert!(statuses[..20].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[20..], [429, 429]);
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled() {
    let app = TestApp::boot().await;
    account(&app, "cambia@example.cl", "Clave-Correcta-2").await;
    let server = app.server();
    let (_, pair) = sign_in(
        &server,
        "cambia@example.cl",
        "Clave-Correcta-2",
        "198.51.100.70",
    )
    .await;
    let change = |current: &'static str| {
        server
            .post("/api/v1/auth/password/change/")
            .add_header("authorization", bearer(&pair))
            .json(&json!({"current_password": current, "new_password": "Otra-Clave-Nueva-3"}))
    };
    for _ in 0..5 {
        assert_eq!(change("adivina").await.status_code(), 400);
    }
    assert_eq!(change("adivina").await.status_code(), 429);
    assert_eq!(change("Clave-Correcta-2").await.status_code(), 429);
}

#[tokio::test]
async fn a_password_change_or_a_deactivation_ends_every_older_token() {
    let app = TestApp::boot().await;
    account(&app, "tokens@example.cl", "Clave-Correcta-4").await;
    let server = app.server();
    let (_, phone) = sign_in(
        &server,
        "tokens@example.cl",
        "Clave-Correcta-4",
        "198.51.100.80",
    )
    .await;
    let (_, laptop) = sign_in(
        &server,
        "tokens@example.cl",
        "Clave-Correcta-4",
        "198.51.100.80",
    )
    .await;
    let me = |pair: &Value| {
        server
            .get("/api/v1/users/me/")
            .add_header("authorization", bearer(pair))
    };
    assert_eq!(me(&phone).await.status_code(), 200);
    let changed = server
        .post("/api/v1/auth/password/change/")
        .add_header(
            "authorization",
            format!("Bearer {}", laptop["access"].as_str().unwrap()),
        )
        .json(
            &json!({"current_password": "Clave-Correcta-4", "new_password": "Clave-Nueva-Larga-5"}),
        )
        .await;
    assert_eq!(changed.status_code(), 200);
    let fresh: Value = changed.json();
    // Access tokens issued before the change stop working at once.
    assert_eq!(me(&phone).await.status_code(), 401);
    assert_eq!(me(&laptop).await.status_code(), 401);
    assert_eq!(me(&fresh).await.status_code(), 200);

    // Deactivated: the access token and the refresh token both stop.
    let user = users::Model::find_by_email(&app.ctx().db, "tokens@example.cl")
        .await
        .unwrap()
        .unwrap();
    let mut active: users::ActiveModel = user.into();
    active.is_active = Set(false);
    active.update(&app.ctx().db).await.unwrap();
    assert_eq!(me(&fresh).await.status_code(), 401);
    let refreshed = server
        .post("/api/v1/auth/token/refresh/")
        .json(&json!({"refresh": fresh["refresh"]}))
        .await;
    assert_eq!(refreshed.status_code(), 401);
}

#[tokio::test]
async fn random_parameters_share_one_cache_entry_and_lists_are_bounded() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let p = place(db).await;
    for i in 0..105 {
        let slug: &'static str = Box::leak(format!("evento-{i:03}").into_boxed_str());
        NewEvent::new(&p, "Evento", slug, "2031-05-01T20:00:00Z")
            .insert(db, &p)
            .await;
    }
    let server = app.server();
    let cache = tuki_backend::platform::context::cache(app.ctx()).unwrap();
    let before = cache.local_entries().await;
    let mut bodies = Vec::new();
    for i in 0..20 {
        let res = server
            .get(&format!(
                "/api/v1/events/public_list/?page=2&utm_source={i}&x{i}=1"
            ))
            .await;
        assert_eq!(res.status_code(), 200);
        bodies.push(res.text());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    let page: Value = serde_json::from_str(&bodies[0]).unwrap();
    let next = page["next"].as_str().unwrap();
    assert!(
        !next.contains("utm_source") && next.contains("page=3"),
        "{next}"
    );
    assert_eq!(cache.local_entries().await, before + 1);

    let all: Value = server
        .get("/api/v1/events/public_list/?no_pagination=true")
        .await
        .json();
    assert_eq!(all["results"].as_array().unwrap().len(), 100);
}

/// A paid order of one ticket ($10.000) and a superuser's bearer header:
/// (order number, Webpay token, authorization).
async fn paid_order_and_superuser(
    app: &TestApp,
    server: &TestServer,
    fake: &FakeWebpay,
) -> (String, String, String) {
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "reembolsable", vec![(10_000, Some(5), 0)]).await;
    let (number, _, token) = pending_payment(server, event, &[(tiers[0], 1)]).await;
    fake.pay(&token);
    assert_eq!(
        webpay_return(server, &[("token_ws", &token)]).await.1,
        "paid"
    );
    account_as(app, "jefa@example.cl", "Clave-Jefa-8", true).await;
    let (_, pair) = sign_in(server, "jefa@example.cl", "Clave-Jefa-8", "198.51.100.90").await;
    let auth = bearer(&pair);
    (number, token, auth)
}

/// A member of `organizer` with its admin flag.
async fn organizer_admin(app: &TestApp, organizer: Uuid, email: &str, password: &str) {
    let user = account_as(app, email, password, false).await;
    let now = chrono::Utc::now().fixed_offset();
    organizer_members::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(organizer),
        user_id: Set(user.id),
        is_admin: Set(true),
        can_manage_events: Set(true),
        can_view_reports: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.ctx().db)
    .await
    .unwrap();
}

#[tokio::test]
async fn only_the_events_own_organizer_admins_may_refund() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let db = &app.ctx().db;
    let server = app.server();
    let (number, token, _) = paid_order_and_superuser(&app, &server, &fake).await;
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number.as_str()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let event = events::Entity::find_by_id(order.event_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    // Another organizer, with an admin of its own.
    let now = chrono::Utc::now().fixed_offset();
    let other = organizers::ActiveModel {
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
    organizer_admin(&app, other.id, "ajena@example.cl", "Clave-Ajena-10").await;
    organizer_admin(
        &app,
        event.organizer_id,
        "propia@example.cl",
        "Clave-Propia-11",
    )
    .await;
    let refund = |auth: String| {
        server
            .post(&format!("/api/v1/orders/{number}/refund/"))
            .add_header("authorization", auth)
            .json(&json!({"amount": 2_000}))
    };
    let (_, ajena) = sign_in(
        &server,
        "ajena@example.cl",
        "Clave-Ajena-10",
        "198.51.100.92",
    )
    .await;
    assert_eq!(refund(bearer(&ajena)).await.status_code(), 404);
    assert_eq!(fake.refunds(), 0);
    assert_eq!(fake.tx(&token).refunded, 0);
    let (_, propia) = sign_in(
        &server,
        "propia@example.cl",
        "Clave-Propia-11",
        "198.51.100.93",
    )
    .await;
    assert_eq!(refund(bearer(&propia)).await.status_code(), 200);
    assert_eq!(fake.tx(&token).refunded, 2_000);
}

#[tokio::test]
async fn concurrent_refunds_never_give_back_more_than_was_paid() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let db = &app.ctx().db;
    let server = app.server();
    let (number, token, auth) = paid_order_and_superuser(&app, &server, &fake).await;
    let both = (0..2).map(|_| async {
        server
            .post(&format!("/api/v1/orders/{number}/refund/"))
            .add_header("authorization", auth.clone())
            .json(&json!({"amount": 7_000}))
            .await
            .status_code()
            .as_u16()
    });
    let mut statuses = futures_util::future::join_all(both).await;
    statuses.sort_unstable();
    // The second is refused: over what is left (400) or while the first is
    // under way (409).
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert!(matches!(statuses[1], 400 | 409), "{statuses:?}");
    assert_eq!(fake.refunds(), 1);
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number.as_str()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (order.refunded_amount, order.status.as_str()),
        (7_000, "partially_refunded")
    );

    // A refund whose answer is lost: Transbank's balance says it went
    // through, so it is recorded once and never asked for again.
    fake.inner
        .lose_refund_answers
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let res = server
        .post(&format!("/api/v1/orders/{number}/refund/"))
        .add_header("authorization", auth.clone())
        .json(&json!({"amount": 1_000}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["refunded_amount"], 8_000);
    assert_eq!(fake.refunds(), 2);
    assert_eq!(fake.tx(&token).refunded, 8_000);
}

#[tokio::test]
async fn a_refund_nobody_could_confirm_is_settled_by_reconciliation_once() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let db = &app.ctx().db;
    let server = app.server();
    let (number, token, auth) = paid_order_and_superuser(&app, &server, &fake).await;
    let refund = |amount: i64| {
        server
            .post(&format!("/api/v1/orders/{number}/refund/"))
            .add_header("authorization", auth.clone())
            .json(&json!({ "amount": amount }))
    };
    // Transbank refunds, but neither its answer nor its status reaches us.
    let sequence = std::sync::atomic::Ordering::SeqCst;
    fake.inner.lose_refund_answers.store(1, sequence);
    fake.inner.fail_status.store(1, sequence);
    assert_eq!(refund(4_000).await.status_code(), 502);
    assert_eq!(fake.tx(&token).refunded, 4_000);
    // Nothing can be refunded twice meanwhile.
    assert_eq!(refund(1_000).await.status_code(), 409);
    assert_eq!(fake.refunds(), 1);
    // The reconciliation job (once the refund is older than a live request
    // could be) reads Transbank's balance and records it, once.
    let webpay = tuki_backend::platform::context::webpay(app.ctx())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(flow::reconcile(db, &webpay).await.unwrap(), 0);
    payments_entity::Entity::update_many()
        .col_expr(
            payments_entity::Column::RefundStartedAt,
            sea_orm::sea_query::Expr::value(
                (chrono::Utc::now() - chrono::Duration::minutes(11)).fixed_offset(),
            ),
        )
        .exec(db)
        .await
        .unwrap();
    assert_eq!(flow::reconcile(db, &webpay).await.unwrap(), 1);
    assert_eq!(flow::reconcile(db, &webpay).await.unwrap(), 0);
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number.as_str()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (order.refunded_amount, order.status.as_str()),
        (4_000, "partially_refunded")
    );
    // Refunds work again.
    assert_eq!(refund(1_000).await.status_code(), 200);
    assert_eq!(fake.tx(&token).refunded, 5_000);
}

#[tokio::test]
async fn a_mailed_qr_link_stops_working_after_it_expires() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "qr-vence", vec![(0, None, 0)]).await;
    let server = app.server();
    let (_, r) = reserve_from(&server, event, tiers[0], 1, "198.51.100.95").await;
    assert_eq!(book_as(&server, event, &r, "qr@example.cl").await.0, 201);
    let ticket = tickets::Entity::find().one(db).await.unwrap().unwrap();
    let secret = tuki_backend::platform::context::settings(app.ctx())
        .unwrap()
        .secret_key
        .clone();
    let link = |exp: i64| {
        format!(
            "/api/v1/tickets/{}/qr/?exp={exp}&sig={}",
            ticket.id,
            qr_signature(&secret, ticket.id, exp)
        )
    };
    let later = chrono::Utc::now().timestamp() + 3600;
    let earlier = chrono::Utc::now().timestamp() - 1;
    assert_eq!(server.get(&link(later)).await.status_code(), 200);
    assert_eq!(server.get(&link(earlier)).await.status_code(), 404);
    // The signature binds the expiry: moving it forward breaks it.
    let moved = link(earlier).replace(&format!("exp={earlier}"), &format!("exp={later}"));
    assert_eq!(server.get(&moved).await.status_code(), 404);
}

#[tokio::test]
async fn a_nul_in_any_text_is_a_400_naming_it() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "nulo", vec![(5_000, Some(5), 0)]).await;
    let server = app.server();
    let res = server
        .post("/api/v1/tickets/validate/")
        .json(&json!({"code": "4\u{0}"}))
        .await;
    assert_eq!(res.status_code(), 400, "{}", res.text());
    assert!(res.json::<Value>()["code"].is_array());
    // Whatever content type the body claims.
    let res = server
        .post("/api/v1/tickets/validate/")
        .content_type("text/plain")
        .bytes(r#"{"code": "4\u0000"}"#.into())
        .await;
    assert_eq!(res.status_code(), 400, "{}", res.text());
    assert!(res.json::<Value>()["code"].is_array());
    let (_, r) = reserve_from(&server, event, tiers[0], 1, "198.51.100.99").await;
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "reservation_id": r["reservation_id"],
            "customer": {"name": "Ana\u{0}", "email": "ana@example.cl"}
        }))
        .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["customer.name"].is_array());
    let res = server
        .get("/api/v1/events/public_list/?location=a%00b")
        .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["location"].is_array());
    assert_eq!(server.get("/api/v1/events/a%00b/").await.status_code(), 400);
    let res = server
        .post("/api/v1/payments/webpay_return/")
        .form(&[("token_ws", "t\u{0}k")])
        .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["token_ws"].is_array());
    let res = server
        .post("/api/v1/auth/token/")
        .json(&json!({"email": "a\u{0}@example.cl", "password": "x"}))
        .await;
    assert_eq!(res.status_code(), 400);
    // Control characters in a name that goes into mail are refused too.
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "reservation_id": r["reservation_id"],
            "customer": {"name": "Ana\r\nBcc: todos@example.cl", "email": "ana@example.cl"}
        }))
        .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["customer.name"].is_array());
    assert_eq!(tier(db, tiers[0]).await.reserved, 1);
    assert!(orders::Entity::find().all(db).await.unwrap().is_empty());
}
