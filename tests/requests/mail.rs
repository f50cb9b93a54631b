//! The order confirmation, delivered to a real SMTP server (aiosmtpd): once
//! per paid order, with each ticket's code and a QR link that works from the
//! mail alone.

use loco_rs::config::{Mailer, SmtpMailer};
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use tuki_backend::models::_entities::orders;

use super::checkout::{on_sale, pending_payment, reserve};
use crate::support::{app::TestApp, free_port, tools::SmtpSink, webpay::FakeWebpay};

async fn boot(fake: &FakeWebpay, smtp_port: u16) -> TestApp {
    let url = fake.url();
    TestApp::boot_with(move |config| {
        let settings = config.settings.as_mut().expect("settings");
        settings["catalogue_cache_seconds"] = 0.into();
        settings["transbank"]["api_base_url"] = url.into();
        config.mailer = Some(Mailer {
            stub: false,
            smtp: Some(SmtpMailer {
                enable: true,
                host: "127.0.0.1".into(),
                port: smtp_port,
                secure: false,
                tls: None,
                auth: None,
                hello_name: None,
            }),
        });
    })
    .await
}

#[tokio::test]
async fn a_paid_order_is_confirmed_by_mail_once_with_working_qr_links() {
    let sink = SmtpSink::start();
    let fake = FakeWebpay::start().await;
    let app = boot(&fake, sink.peer.port).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "correo", vec![(12_000, Some(10), 0)]).await;
    let (number, _, token) = pending_payment(&server, event, &[(tiers[0], 2)]).await;
    assert!(sink.messages().is_empty(), "nothing is sent before payment");
    fake.pay(&token);
    for _ in 0..3 {
        server
            .post("/api/v1/payments/webpay_return/")
            .form(&[("token_ws", token.as_str())])
            .await;
    }
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "one mail per paid order: {messages:?}");
    let mail = &messages[0];
    assert_eq!(mail["rcpt_tos"], json!(["ana@example.cl"]));
    assert!(mail["from"].as_str().unwrap().contains("no-reply@tuki.cl"));
    let subject = mail["subject"].as_str().unwrap();
    assert!(
        subject.contains("Festival") && subject.contains(&number),
        "{subject}"
    );
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("$26.400"), "{text}");
    let order = orders::Entity::find().one(db).await.unwrap().unwrap();
    assert!(order.confirmation_sent);
    let tickets = tuki_backend::models::_entities::tickets::Entity::find()
        .all(db)
        .await
        .unwrap();
    assert_eq!(tickets.len(), 2);
    for t in &tickets {
        assert!(text.contains(&t.code));
    }
    // The QR link in the mail works without signing in; a forged one does not.
    let html = mail["html"].as_str().unwrap();
    let src = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let path = &src[src.find("/api/").unwrap()..];
    let png = server.get(path).await;
    assert_eq!(png.status_code(), 200);
    assert!(png.as_bytes().starts_with(b"\x89PNG"));
    let forged = path.replace("sig=", "sig=00");
    assert_eq!(server.get(&forged).await.status_code(), 404);
}

#[tokio::test]
async fn a_free_order_is_mailed_too_and_a_dead_mail_server_loses_nothing() {
    let sink = SmtpSink::start();
    let fake = FakeWebpay::start().await;
    let app = boot(&fake, sink.peer.port).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "gratis-correo", vec![(0, None, 0)]).await;
    let (_, r) = reserve(&server, event, &[(tiers[0], 1)]).await;
    let order = super::checkout::book(&server, event, r["reservation_id"].as_str().unwrap()).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(sink.messages().len(), 1);

    // No SMTP server listening: the order is still paid, the mail is owed.
    let fake = FakeWebpay::start().await;
    let app = boot(&fake, free_port()).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "sin-correo", vec![(5_000, Some(3), 0)]).await;
    let (number, access, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    fake.pay(&token);
    let res = server
        .post("/api/v1/payments/webpay_return/")
        .form(&[("token_ws", token.as_str())])
        .await;
    assert_eq!(res.status_code(), 303);
    assert!(res
        .header("location")
        .to_str()
        .unwrap()
        .contains("status=paid"));
    let order: Value = server
        .get(&format!("/api/v1/orders/{number}/?token={access}"))
        .await
        .json();
    assert_eq!(order["status"], "paid");
    let stored = orders::Entity::find().one(db).await.unwrap().unwrap();
    assert!(!stored.confirmation_sent, "the mail stays owed");
}

#[tokio::test]
async fn a_password_reset_link_is_mailed_and_works_once() {
    let sink = SmtpSink::start();
    let fake = FakeWebpay::start().await;
    let app = boot(&fake, sink.peer.port).await;
    let server = app.server();
    server
        .post("/api/v1/auth/register/")
        .json(&json!({"email": "olvido@example.cl", "password": "Primera-llave-1"}))
        .await;
    for email in ["olvido@example.cl", "nadie@example.cl"] {
        let res = server
            .post("/api/v1/auth/password/reset/")
            .json(&json!({ "email": email }))
            .await;
        assert_eq!(res.status_code(), 202);
    }
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "only the existing account gets a mail");
    let text = messages[0]["text"].as_str().unwrap();
    let link = text
        .lines()
        .find(|l| l.contains("/reset-password?"))
        .unwrap()
        .trim();
    let url = url::Url::parse(link).unwrap();
    let param = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
            .unwrap()
    };
    let (uid, token) = (param("uid"), param("token"));
    let confirm = |password: &str, token: &str| {
        server
            .post("/api/v1/auth/password/reset/confirm/")
            .json(&json!({"uid": uid, "token": token, "new_password": password}))
    };
    assert_eq!(confirm("Segunda-llave-2", "1.bad").await.status_code(), 400);
    assert_eq!(confirm("corta", &token).await.status_code(), 400);
    assert_eq!(confirm("Segunda-llave-2", &token).await.status_code(), 200);
    // Used once: the same link is dead now.
    let again = confirm("Tercera-llave-3", &token).await;
    assert_eq!(again.status_code(), 400);
    assert!(again.json::<Value>()["token"].is_array());
    let sign_in = |password: &str| {
        server
            .post("/api/v1/auth/token/")
            .json(&json!({"email": "olvido@example.cl", "password": password}))
    };
    assert_eq!(sign_in("Primera-llave-1").await.status_code(), 401);
    assert_eq!(sign_in("Segunda-llave-2").await.status_code(), 200);
}

#[tokio::test]
async fn a_name_with_markup_arrives_as_text() {
    let sink = SmtpSink::start();
    let fake = FakeWebpay::start().await;
    let app = boot(&fake, sink.peer.port).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "marcado", vec![(0, None, 0)]).await;
    let (_, r) = reserve(&server, event, &[(tiers[0], 1)]).await;
    let name = r#"<a href="https://phish.example/pago">Paga aquí</a><img src=x>"#;
    let res = server
        .post(&format!("/api/v1/events/{event}/book/"))
        .json(&json!({
            "reservation_id": r["reservation_id"],
            "customer": {"name": name, "email": "victima@example.cl"}
        }))
        .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let html = messages[0]["html"].as_str().unwrap();
    assert!(!html.contains("<a href=\"https://phish"), "{html}");
    assert!(!html.contains("<img src=x>"), "{html}");
    assert!(html.contains("&lt;a href=&quot;https:"), "{html}");
}
