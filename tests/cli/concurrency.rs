//! Overselling and double charging under real concurrency: four production
//! server processes on one PostgreSQL database (as Cloud Run instances share
//! Cloud SQL), 200 buyers racing for the last 100 seats, then duplicate Webpay
//! returns spread over every instance. PostgreSQL only: on SQLite it says so
//! and passes (SQLite is one process's embedded database).

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{orders, ticket_tiers, tickets};

use crate::{
    requests::checkout::on_sale,
    support::{
        app::TestApp,
        free_port, image_start_command, production_env,
        webpay::{self, FakeWebpay},
        Server,
    },
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_instances_never_oversell_and_pay_an_order_once() {
    let app = TestApp::boot().await;
    let database_url = app.ctx().config.database.uri.clone();
    if !database_url.starts_with("postgres") {
        eprintln!("skipped: the multi-instance race needs PostgreSQL (DATABASE_URL=postgres://…)");
        return;
    }
    let db = &app.ctx().db;
    // 150 seats, 50 already sold: the last 100.
    let (event, tiers) = on_sale(db, "ultimas", vec![(10_000, Some(150), 50)]).await;
    let fake = FakeWebpay::start().await;

    let mut servers = Vec::new();
    for _ in 0..4 {
        let port = free_port();
        let mut cmd = image_start_command();
        production_env(&mut cmd, &database_url, port);
        cmd.env("TRANSBANK_API_BASE_URL", fake.url())
            .env("TRANSBANK_COMMERCE_CODE", webpay::COMMERCE_CODE)
            .env("TRANSBANK_API_KEY", webpay::API_KEY)
            .env("LOG_LEVEL", "warn");
        servers.push(Server::start(cmd, port).await);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    // 200 buyers, one seat each, spread over the four instances.
    let mut buyers = Vec::new();
    for i in 0..200 {
        let url = servers[i % 4].url(&format!("/api/v1/events/{event}/reserve/"));
        let client = client.clone();
        let tier = tiers[0];
        buyers.push(tokio::spawn(async move {
            // Each buyer from an address of its own, as Google's front end
            // appends it (the per-client limits count by address).
            let res = client
                .post(url)
                .header("X-Forwarded-Proto", "https")
                .header(
                    "X-Forwarded-For",
                    format!("203.0.113.{}, 10.1.{}.{}", i % 250, i / 250, i % 250),
                )
                .json(&json!({"tiers": [{"tier_id": tier, "quantity": 1}]}))
                .send()
                .await
                .expect("an answer");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut held = Vec::new();
    let (mut conflicts, mut other) = (0, Vec::new());
    for b in buyers {
        let (status, body) = b.await.unwrap();
        match status {
            201 => held.push(body),
            409 => conflicts += 1,
            s => other.push((s, body)),
        }
    }
    assert!(other.is_empty(), "unexpected answers: {other:?}");
    assert_eq!(held.len(), 100, "exactly the last 100 seats are held");
    assert_eq!(conflicts, 100);
    let t = ticket_tiers::Entity::find_by_id(tiers[0])
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((t.sold, t.reserved), (50, 100), "0 oversold");

    // One buyer books and pays; Webpay's return arrives eight times at once,
    // on every instance.
    let reservation = held[0]["reservation_id"].as_str().unwrap();
    let booked: Value = client
        .post(servers[0].url(&format!("/api/v1/events/{event}/book/")))
        .header("X-Forwarded-Proto", "https")
        .json(&json!({
            "reservation_id": reservation,
            "customer": {"name": "Ana", "email": "ana@example.cl"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = booked["order_number"].as_str().unwrap().to_string();
    let pay: Value = client
        .post(servers[1].url("/api/v1/payments/create_payment/"))
        .header("X-Forwarded-Proto", "https")
        .json(&json!({"order_number": number, "token": booked["access_token"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = pay["token"].as_str().unwrap().to_string();
    fake.pay(&token);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut returns = Vec::new();
    for i in 0..8 {
        let url = servers[i % 4].url("/api/v1/payments/webpay_return/");
        let c = no_redirect.clone();
        let token = token.clone();
        returns.push(tokio::spawn(async move {
            c.post(url)
                .header("X-Forwarded-Proto", "https")
                .form(&[("token_ws", token)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for r in returns {
        assert_eq!(r.await.unwrap(), 303);
    }
    assert_eq!(fake.commits(), 1, "committed once");
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number.as_str()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, "paid");
    let issued = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .all(db)
        .await
        .unwrap();
    assert_eq!(issued.len(), 1, "one set of tickets");
    let t = ticket_tiers::Entity::find_by_id(tiers[0])
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((t.sold, t.reserved), (51, 99));
    for s in &servers {
        assert!(
            !s.stdout().contains("\"severity\":\"ERROR\""),
            "{}",
            s.stdout()
        );
    }
}
