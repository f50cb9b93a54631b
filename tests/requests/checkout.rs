//! Buying through the router, paying on a Webpay stand-in over HTTP: reserve,
//! book, create_payment, every return path, late payments, refunds.

use chrono::{Duration, Utc};
use loco_rs::TestServer;
use sea_orm::{
    sea_query::Expr, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{orders, reservations, ticket_tiers, tickets};
use uuid::Uuid;

use crate::support::{
    app::TestApp,
    catalogue::{at, place, NewEvent},
    webpay::FakeWebpay,
};

pub async fn boot_with_webpay(fake: &FakeWebpay) -> TestApp {
    let url = fake.url();
    TestApp::boot_with(move |config| {
        let settings = config.settings.as_mut().expect("settings");
        settings["catalogue_cache_seconds"] = 0.into();
        settings["transbank"]["api_base_url"] = url.into();
        settings["frontend_url"] = "https://tuki.cl".into();
    })
    .await
}

/// An event on sale now with the given tiers (price, capacity, sold); returns
/// its id and tier ids in order.
pub async fn on_sale(
    db: &DatabaseConnection,
    slug: &'static str,
    tiers: Vec<(i64, Option<i32>, i32)>,
) -> (Uuid, Vec<Uuid>) {
    on_sale_at(db, &place(db).await, slug, tiers).await
}

pub async fn on_sale_at(
    db: &DatabaseConnection,
    p: &crate::support::catalogue::Place,
    slug: &'static str,
    tiers: Vec<(i64, Option<i32>, i32)>,
) -> (Uuid, Vec<Uuid>) {
    let mut e = NewEvent::new(p, "Festival", slug, "2031-03-10T23:30:00Z");
    e.tiers = tiers.into_iter().map(|(p, c, s)| (p, c, s, true)).collect();
    let id = e.insert(db, p).await;
    let tiers = ticket_tiers::Entity::find()
        .filter(ticket_tiers::Column::EventId.eq(id))
        .order_by_asc(ticket_tiers::Column::DisplayOrder)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    (id, tiers)
}

pub async fn tier(db: &DatabaseConnection, id: Uuid) -> ticket_tiers::Model {
    ticket_tiers::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

pub async fn reserve(server: &TestServer, event: Uuid, lines: &[(Uuid, i32)]) -> (u16, Value) {
    let tiers: Vec<Value> = lines
        .iter()
        .map(|(t, q)| json!({"tier_id": t, "quantity": q}))
        .collect();
    let res = server
        .post(&format!("/api/v1/events/{event}/reserve/"))
        .json(&json!({ "tiers": tiers }))
        .await;
    (res.status_code().as_u16(), res.json())
}

pub async fn book(server: &TestServer, event: Uuid, reservation: &str) -> Value {
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "reservation_id": reservation,
            "customer": {"name": "Ana Pérez", "email": "ana@example.cl", "phone": "+56 9 1234 5678"}
        }))
        .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    res.json()
}

/// Reserve → book → create_payment; returns (order number, access token, webpay token).
pub async fn pending_payment(
    server: &TestServer,
    event: Uuid,
    lines: &[(Uuid, i32)],
) -> (String, String, String) {
    let (status, r) = reserve(server, event, lines).await;
    assert_eq!(status, 201, "{r}");
    let order = book(server, event, r["reservation_id"].as_str().unwrap()).await;
    let number = order["order_number"].as_str().unwrap().to_string();
    let token = order["access_token"].as_str().unwrap().to_string();
    let res = server
        .post("/api/v1/payments/create_payment/")
        .json(&json!({"order_number": number, "token": token}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let pay: Value = res.json();
    assert!(pay["url"]
        .as_str()
        .unwrap()
        .ends_with("/webpayserver/init_transaction.cgi"));
    (number, token, pay["token"].as_str().unwrap().to_string())
}

/// Webpay's return, as a form POST; returns the redirect's query status.
pub async fn webpay_return(server: &TestServer, form: &[(&str, &str)]) -> (String, String) {
    let res = server
        .post("/api/v1/payments/webpay_return/")
        .form(&form)
        .await;
    assert_eq!(res.status_code(), 303, "{}", res.text());
    let location = res.header("location").to_str().unwrap().to_string();
    assert!(
        location.starts_with("https://tuki.cl/payment/result?"),
        "{location}"
    );
    let url = url::Url::parse(&location).unwrap();
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    };
    (get("order"), get("status"))
}

async fn order_json(server: &TestServer, number: &str, token: &str) -> Value {
    let res = server
        .get(&format!("/api/v1/orders/{number}/?token={token}"))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    res.json()
}

#[tokio::test]
async fn a_paid_order_gets_its_tickets_once_however_often_webpay_returns() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "pago", vec![(10_000, Some(10), 0)]).await;

    let (status, r) = reserve(&server, event, &[(tiers[0], 2)]).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["subtotal"], 20_000);
    assert_eq!(r["service_fee"], 2_000);
    assert_eq!(r["total"], 22_000);
    assert_eq!(r["currency"], "CLP");
    assert_eq!(tier(db, tiers[0]).await.reserved, 2);
    // The held seats are not for sale to anyone else.
    let detail: Value = server.get("/api/v1/events/pago/").await.json();
    assert_eq!(detail["ticket_tiers"][0]["available"], 8);
    assert_eq!(detail["ticket_tiers"][0]["tickets_on_hold"], 2);

    let order = book(&server, event, r["reservation_id"].as_str().unwrap()).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["total"], 22_000);
    assert!(order["hold_expires_at"].is_string());
    let number = order["order_number"].as_str().unwrap().to_string();
    let access = order["access_token"].as_str().unwrap().to_string();
    // The token is shown once; reading the order never shows it again.
    assert!(order_json(&server, &number, &access).await["access_token"].is_null());

    let res = server
        .post("/api/v1/payments/create_payment/")
        .json(&json!({"order_number": number, "token": access}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let token = res.json::<Value>()["token"].as_str().unwrap().to_string();
    let tx = fake.tx(&token);
    assert_eq!(tx.amount, 22_000);
    assert_eq!(tx.buy_order, number);
    assert!(tx.return_url.ends_with("/api/v1/payments/webpay_return/"));

    fake.pay(&token);
    assert_eq!(
        webpay_return(&server, &[("token_ws", &token)]).await,
        (number.clone(), "paid".to_string())
    );
    // Again (a reload, a double submit, GET this time): nothing changes.
    assert_eq!(
        webpay_return(&server, &[("token_ws", &token)]).await.1,
        "paid"
    );
    let res = server
        .get(&format!("/api/v1/payments/webpay_return/?token_ws={token}"))
        .await;
    assert_eq!(res.status_code(), 303);
    assert_eq!(fake.commits(), 1);

    let paid = order_json(&server, &number, &access).await;
    assert_eq!(paid["status"], "paid");
    assert!(paid["paid_at"].is_string());
    let issued = paid["tickets"].as_array().unwrap();
    assert_eq!(issued.len(), 2);
    assert_ne!(issued[0]["code"], issued[1]["code"]);
    let t = tier(db, tiers[0]).await;
    assert_eq!((t.sold, t.reserved), (2, 0));

    // Paying again is refused: the order is not pending.
    let again = server
        .post("/api/v1/payments/create_payment/")
        .json(&json!({"order_number": number, "token": access}))
        .await;
    assert_eq!(again.status_code(), 409);
}

#[tokio::test]
async fn reserve_refuses_what_cannot_be_sold_and_holds_nothing_then() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "limites", vec![(5_000, Some(3), 1), (8_000, None, 0)]).await;

    // Unknown event, malformed body, bad quantities, unknown tier.
    let (s, _) = reserve(&server, Uuid::new_v4(), &[(tiers[0], 1)]).await;
    assert_eq!(s, 404);
    let res = server
        .post(&format!("/api/v1/events/{event}/reserve/"))
        .text("{not json")
        .content_type("application/json")
        .await;
    assert_eq!(res.status_code(), 400);
    let res = server
        .post(&format!("/api/v1/events/{event}/reserve/"))
        .json(&json!({}))
        .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["tiers"].is_array(), "{}", res.text());
    let (s, body) = reserve(&server, event, &[]).await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = reserve(&server, event, &[(tiers[0], 0)]).await;
    assert_eq!(s, 400, "{body}");
    assert!(body["tiers"][0].is_string());
    let (s, _) = reserve(&server, event, &[(Uuid::new_v4(), 1)]).await;
    assert_eq!(s, 400);
    let (s, _) = reserve(&server, event, &[(tiers[0], 1), (tiers[0], 1)]).await;
    assert_eq!(s, 400);
    // Over the tier's per-order maximum (10) and the event's per-purchase one (10).
    let (s, _) = reserve(&server, event, &[(tiers[1], 11)]).await;
    assert_eq!(s, 400);
    let (s, _) = reserve(&server, event, &[(tiers[1], 6), (tiers[0], 1)]).await;
    assert_eq!(s, 201);
    let (s, _) = reserve(&server, event, &[(tiers[1], 9), (tiers[0], 2)]).await;
    assert_eq!(s, 400);

    // 3 seats, 1 sold, 1 held above: 1 left. Asking for 2 names the tier.
    let (s, body) = reserve(&server, event, &[(tiers[1], 1), (tiers[0], 2)]).await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["tier_id"], tiers[0].to_string());
    assert_eq!(body["available"], 1);
    assert!(body["detail"].as_str().unwrap().contains("Tier 0"));
    // Nothing was held by the refused request, the unlimited tier included.
    assert_eq!(tier(db, tiers[0]).await.reserved, 1);
    assert_eq!(tier(db, tiers[1]).await.reserved, 6);
    // Unlimited tiers have no ceiling.
    let (s, _) = reserve(&server, event, &[(tiers[1], 10)]).await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn events_and_tiers_off_sale_are_a_409_and_drafts_a_404() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let p = place(db).await;
    let mut draft = NewEvent::new(&p, "Borrador", "borrador", "2031-01-01T12:00:00Z");
    draft.status = "draft";
    let draft = draft.insert(db, &p).await;
    let mut closed = NewEvent::new(&p, "Cerrado", "cerrado", "2031-01-01T12:00:00Z");
    closed.sales = (
        Some(at("2030-12-01T00:00:00Z")),
        Some(at("2030-12-31T00:00:00Z")),
    );
    let closed = closed.insert(db, &p).await;
    let past = NewEvent::new(&p, "Pasado", "pasado", "2020-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    for (event, expect) in [(draft, 404), (closed, 409), (past, 409)] {
        let tier = ticket_tiers::Entity::find()
            .filter(ticket_tiers::Column::EventId.eq(event))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let (s, body) = reserve(&server, event, &[(tier.id, 1)]).await;
        assert_eq!(s, expect, "{body}");
    }
    // A tier whose own window has not opened.
    let (event, tiers) = on_sale_at(db, &p, "ventana", vec![(1_000, Some(5), 0)]).await;
    ticket_tiers::Entity::update_many()
        .col_expr(
            ticket_tiers::Column::SaleStart,
            Expr::value((Utc::now() + Duration::days(2)).fixed_offset()),
        )
        .filter(ticket_tiers::Column::Id.eq(tiers[0]))
        .exec(db)
        .await
        .unwrap();
    let (s, _) = reserve(&server, event, &[(tiers[0], 1)]).await;
    assert_eq!(s, 409);
    // By slug too.
    let res = server
        .post("/api/v1/events/no-such-slug/reserve/")
        .json(&json!({"tiers": [{"tier_id": tiers[0], "quantity": 1}]}))
        .await;
    assert_eq!(res.status_code(), 404);
}

#[tokio::test]
async fn a_declined_card_fails_the_order_and_returns_the_seats() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "rechazo", vec![(10_000, Some(5), 0)]).await;
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 2)]).await;
    fake.decline(&token);
    assert_eq!(
        webpay_return(&server, &[("token_ws", &token)]).await,
        (number.clone(), "rejected".into())
    );
    assert_eq!(
        order_json(&server, &number, &access).await["status"],
        "failed"
    );
    let t = tier(db, tiers[0]).await;
    assert_eq!((t.sold, t.reserved), (0, 0));
    assert_eq!(tickets::Entity::find().all(db).await.unwrap().len(), 0);
}

#[tokio::test]
async fn forged_abort_and_timeout_returns_end_nothing_transbank_has_not_ended() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "falsos", vec![(10_000, Some(9), 0)]).await;
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;

    // Someone who knows the order number (buyers share it) forges a timeout:
    // without the session id Webpay sends back, nothing changes.
    for query in [
        format!("TBK_ORDEN_COMPRA={number}"),
        format!("TBK_ORDEN_COMPRA={number}&TBK_ID_SESION=adivinado"),
    ] {
        let res = server
            .get(&format!("/api/v1/payments/webpay_return/?{query}"))
            .await;
        assert_eq!(res.status_code(), 303);
        let to = res.header("location").to_str().unwrap().to_string();
        assert!(to.contains("status=error") && !to.contains(&number), "{to}");
        assert_eq!(
            order_json(&server, &number, &access).await["status"],
            "pending"
        );
    }
    // An abort with the real token but another session id, or none, changes
    // nothing.
    for form in [
        vec![
            ("TBK_TOKEN", token.as_str()),
            ("TBK_ID_SESION", "otra-sesion"),
        ],
        vec![("TBK_TOKEN", token.as_str())],
    ] {
        let (_, status) = webpay_return(&server, &form).await;
        assert_eq!(status, "error");
    }
    assert_eq!(
        order_json(&server, &number, &access).await["status"],
        "pending"
    );
    // The buyer still pays.
    fake.pay(&token);
    assert_eq!(
        webpay_return(&server, &[("token_ws", &token)]).await.1,
        "paid"
    );

    // An abort for a payment Transbank reports authorised (its commit went
    // through elsewhere) settles it as paid instead of cancelling it.
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 2)]).await;
    fake.authorize_without_us(&token);
    let session = fake.tx(&token).session_id;
    let (_, status) = webpay_return(
        &server,
        &[
            ("TBK_TOKEN", &token),
            ("TBK_ORDEN_COMPRA", &number),
            ("TBK_ID_SESION", &session),
        ],
    )
    .await;
    assert_eq!(status, "paid");
    assert_eq!(
        order_json(&server, &number, &access).await["status"],
        "paid"
    );
    let t = tier(db, tiers[0]).await;
    assert_eq!((t.sold, t.reserved), (3, 0));
}

#[tokio::test]
async fn abort_timeout_and_form_error_returns_each_end_the_order_unpaid() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "retornos", vec![(10_000, Some(9), 0)]).await;

    // The buyer pressed "anular" on Webpay's form.
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    let session = fake.tx(&token).session_id;
    let (n, status) = webpay_return(
        &server,
        &[
            ("TBK_TOKEN", &token),
            ("TBK_ORDEN_COMPRA", &number),
            ("TBK_ID_SESION", &session),
        ],
    )
    .await;
    assert_eq!(
        (n.as_str(), status.as_str()),
        (number.as_str(), "cancelled")
    );
    assert_eq!(
        order_json(&server, &number, &access).await["status"],
        "cancelled"
    );

    // The form timed out: only the buy order comes back (as a GET here).
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    let session = fake.tx(&token).session_id;
    let res = server
        .get(&format!(
            "/api/v1/payments/webpay_return/?TBK_ORDEN_COMPRA={number}&TBK_ID_SESION={session}"
        ))
        .await;
    assert_eq!(res.status_code(), 303);
    assert!(res
        .header("location")
        .to_str()
        .unwrap()
        .contains("status=timeout"));
    assert_eq!(
        order_json(&server, &number, &access).await["status"],
        "expired"
    );

    // An error on the payment form: both tokens come back.
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    let session = fake.tx(&token).session_id;
    let (_, status) = webpay_return(
        &server,
        &[
            ("token_ws", &token),
            ("TBK_TOKEN", &token),
            ("TBK_ORDEN_COMPRA", &number),
            ("TBK_ID_SESION", &session),
        ],
    )
    .await;
    assert_eq!(status, "error");
    assert_eq!(
        order_json(&server, &number, &access).await["status"],
        "cancelled"
    );

    // Nothing was committed or charged, and every seat is back.
    assert_eq!(fake.commits(), 0);
    let t = tier(db, tiers[0]).await;
    assert_eq!((t.sold, t.reserved), (0, 0));
    // A return nobody knows about goes to the frontend as an error.
    assert_eq!(
        webpay_return(&server, &[("token_ws", "nope")]).await.1,
        "error"
    );
}

#[tokio::test]
async fn a_commit_whose_answer_is_lost_is_settled_by_asking_its_status() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "perdido", vec![(4_000, Some(5), 0)]).await;
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    fake.pay(&token);
    fake.inner
        .lose_commit_answers
        .store(1, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        webpay_return(&server, &[("token_ws", &token)]).await.1,
        "paid"
    );
    assert_eq!(
        order_json(&server, &number, &access).await["status"],
        "paid"
    );
    assert_eq!(tier(db, tiers[0]).await.sold, 1);
}

#[tokio::test]
async fn concurrent_duplicate_returns_pay_the_order_once() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "doble", vec![(4_000, Some(5), 0)]).await;
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 2)]).await;
    fake.pay(&token);
    let form = [("token_ws", token.as_str())];
    let returns = (0..6).map(|_| {
        std::future::IntoFuture::into_future(
            server.post("/api/v1/payments/webpay_return/").form(&form),
        )
    });
    let answers = futures_util::future::join_all(returns).await;
    for a in &answers {
        assert_eq!(a.status_code(), 303);
    }
    assert_eq!(fake.commits(), 1);
    let order = order_json(&server, &number, &access).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(tier(db, tiers[0]).await.sold, 2);
}

async fn expire_reservations(db: &DatabaseConnection) {
    reservations::Entity::update_many()
        .col_expr(
            reservations::Column::ExpiresAt,
            Expr::value((Utc::now() - Duration::minutes(1)).fixed_offset()),
        )
        .exec(db)
        .await
        .unwrap();
}

#[tokio::test]
async fn expired_holds_return_their_seats_at_reserve_time_and_by_the_task() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "expira", vec![(1_000, Some(2), 0)]).await;
    let (s, first) = reserve(&server, event, &[(tiers[0], 2)]).await;
    assert_eq!(s, 201);
    let (s, _) = reserve(&server, event, &[(tiers[0], 1)]).await;
    assert_eq!(s, 409);
    expire_reservations(db).await;
    // The next reservation finds the expired one and frees its seats first.
    let (s, _) = reserve(&server, event, &[(tiers[0], 2)]).await;
    assert_eq!(s, 201);
    assert_eq!(tier(db, tiers[0]).await.reserved, 2);
    // An expired reservation cannot be booked.
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "reservation_id": first["reservation_id"],
            "customer": {"name": "Ana", "email": "ana@example.cl"}
        }))
        .await;
    assert_eq!(res.status_code(), 409);
    // The task does the same for everyone; twice is harmless.
    expire_reservations(db).await;
    assert_eq!(
        tuki_backend::models::reservations::release_expired(db, Utc::now(), None, 500)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tuki_backend::models::reservations::release_expired(db, Utc::now(), None, 500)
            .await
            .unwrap(),
        0
    );
    assert_eq!(tier(db, tiers[0]).await.reserved, 0);
}

#[tokio::test]
async fn a_payment_after_the_hold_expired_takes_seats_if_any_else_is_refunded() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "tarde", vec![(7_000, Some(2), 0)]).await;

    // Late, and the seats are still there: paid.
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    expire_reservations(db).await;
    tuki_backend::models::reservations::release_expired(db, Utc::now(), None, 500)
        .await
        .unwrap();
    fake.pay(&token);
    assert_eq!(
        webpay_return(&server, &[("token_ws", &token)]).await.1,
        "paid"
    );
    assert_eq!(
        order_json(&server, &number, &access).await["status"],
        "paid"
    );

    // Late, and someone else bought the last seat meanwhile: refunded.
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    expire_reservations(db).await;
    let (other, other_access, other_token) =
        pending_payment(&server, event, &[(tiers[0], 1)]).await;
    fake.pay(&other_token);
    assert_eq!(
        webpay_return(&server, &[("token_ws", &other_token)])
            .await
            .1,
        "paid"
    );
    fake.pay(&token);
    assert_eq!(
        webpay_return(&server, &[("token_ws", &token)]).await.1,
        "refunded"
    );
    let late = order_json(&server, &number, &access).await;
    assert_eq!(late["status"], "refunded");
    assert_eq!(late["refunded_amount"], late["total"]);
    assert!(late["tickets"].as_array().unwrap().is_empty());
    assert_eq!(fake.refunds(), 1);
    assert_eq!(fake.tx(&token).status, "REVERSED");
    assert_eq!(
        order_json(&server, &other, &other_access).await["status"],
        "paid"
    );
    let t = tier(db, tiers[0]).await;
    assert_eq!((t.sold, t.reserved), (2, 0));
}

#[tokio::test]
async fn a_second_payment_of_a_paid_order_is_given_back() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "dos-pestanas", vec![(3_000, Some(5), 0)]).await;
    let (number, access, first) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    // A second tab started its own payment before the first one finished.
    let res = server
        .post("/api/v1/payments/create_payment/")
        .json(&json!({"order_number": number, "token": access}))
        .await;
    let second = res.json::<Value>()["token"].as_str().unwrap().to_string();
    fake.pay(&first);
    fake.pay(&second);
    assert_eq!(
        webpay_return(&server, &[("token_ws", &first)]).await.1,
        "paid"
    );
    assert_eq!(
        webpay_return(&server, &[("token_ws", &second)]).await.1,
        "paid"
    );
    assert_eq!(fake.refunds(), 1);
    assert_eq!(fake.tx(&second).status, "REVERSED");
    let order = order_json(&server, &number, &access).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(tier(db, tiers[0]).await.sold, 1);
}

#[tokio::test]
async fn a_free_order_is_confirmed_without_payment() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "gratis", vec![(0, Some(50), 0)]).await;
    let (s, r) = reserve(&server, event, &[(tiers[0], 3)]).await;
    assert_eq!(s, 201);
    assert_eq!(r["total"], 0);
    let order = book(&server, event, r["reservation_id"].as_str().unwrap()).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["tickets"].as_array().unwrap().len(), 3);
    assert_eq!(
        fake.inner.creates.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    let t = tier(db, tiers[0]).await;
    assert_eq!((t.sold, t.reserved), (3, 0));
    // Nothing to pay.
    let res = server
        .post("/api/v1/payments/create_payment/")
        .json(&json!({"order_number": order["order_number"], "token": order["access_token"]}))
        .await;
    assert_eq!(res.status_code(), 409);
}

#[tokio::test]
async fn an_order_is_read_only_with_its_token_and_bad_customer_data_is_a_400() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "lectura", vec![(3_000, Some(5), 0)]).await;
    let (s, r) = reserve(&server, event, &[(tiers[0], 1)]).await;
    assert_eq!(s, 201);
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "reservation_id": r["reservation_id"],
            "customer": {"name": " ", "email": "no-es-correo", "phone": "abc"}
        }))
        .await;
    assert_eq!(res.status_code(), 400);
    let errors: Value = res.json();
    for field in ["customer.name", "customer.email", "customer.phone"] {
        assert!(errors[field].is_array(), "{field}: {errors}");
    }
    // The reservation is still usable after the refused attempt.
    let order = book(&server, event, r["reservation_id"].as_str().unwrap()).await;
    let number = order["order_number"].as_str().unwrap();
    // Booked twice: 409.
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "reservation_id": r["reservation_id"],
            "customer": {"name": "Ana", "email": "ana@example.cl"}
        }))
        .await;
    assert_eq!(res.status_code(), 409);
    for path in [
        format!("/api/v1/orders/{number}/"),
        format!("/api/v1/orders/{number}/?token=wrong"),
        "/api/v1/orders/TKNOPE/?token=x".to_string(),
    ] {
        assert_eq!(server.get(&path).await.status_code(), 404, "{path}");
    }
    let res = server
        .post("/api/v1/payments/create_payment/")
        .json(&json!({"order_number": number, "token": "wrong"}))
        .await;
    assert_eq!(res.status_code(), 404);
    let stored = orders::Entity::find().one(db).await.unwrap().unwrap();
    assert_ne!(
        stored.access_token_hash,
        order["access_token"].as_str().unwrap()
    );
}

#[tokio::test]
async fn the_booking_answer_is_the_order_as_read_back() {
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "eco", vec![(7_000, Some(10), 0), (12_500, None, 0)]).await;
    let (status, r) = reserve(&server, event, &[(tiers[0], 2), (tiers[1], 1)]).await;
    assert_eq!(status, 201, "{r}");
    let mut booked = book(&server, event, r["reservation_id"].as_str().unwrap()).await;
    let number = booked["order_number"].as_str().unwrap().to_string();
    let token = booked["access_token"].as_str().unwrap().to_string();
    let read = order_json(&server, &number, &token).await;
    booked.as_object_mut().unwrap().remove("access_token");
    let sort = |v: &mut Value| {
        v["items"]
            .as_array_mut()
            .unwrap()
            .sort_by_key(|i| i["tier_id"].as_str().unwrap().to_string());
    };
    let mut read = read;
    sort(&mut booked);
    sort(&mut read);
    assert_eq!(booked, read);
    assert_eq!(booked["total"], 26_500 + 2_650);
    assert!(booked["hold_expires_at"].is_string());
}
