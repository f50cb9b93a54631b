//! backtuki's frontend sequence, end to end (issue 11): check-user → sign-in
//! code → reserve → book with ticket holders → payment methods →
//! create_payment by order id → Webpay (the stand-in) → the frontend posts
//! the return as JSON → the order is paid, its tickets named. Each answer is
//! checked for the keys and types the frontend reads.

use loco_rs::config::{Mailer, SmtpMailer};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{orders, tickets};

use super::checkout::on_sale;
use crate::support::{app::TestApp, tools::SmtpSink, webpay::FakeWebpay};

async fn post(
    server: &loco_rs::TestServer,
    path: &str,
    body: Value,
    bearer: Option<&str>,
) -> (u16, Value) {
    let mut req = server
        .post(path)
        .add_header("x-forwarded-for", "203.0.113.9")
        .json(&body);
    if let Some(token) = bearer {
        req = req.add_header("authorization", format!("Bearer {token}"));
    }
    let res = req.await;
    (
        res.status_code().as_u16(),
        serde_json::from_str(&res.text()).unwrap_or(Value::Null),
    )
}

fn code_in(sink: &SmtpSink, email: &str) -> String {
    let messages = sink.messages();
    let text = messages
        .iter()
        .rev()
        .find(|m| m["rcpt_tos"] == json!([email]))
        .and_then(|m| m["text"].as_str())
        .unwrap()
        .to_string();
    text.split("es: ").nth(1).unwrap().chars().take(6).collect()
}

#[tokio::test]
async fn a_buyer_follows_backtukis_frontend_from_sign_in_to_paid_tickets() {
    let sink = SmtpSink::start();
    let fake = FakeWebpay::start().await;
    let url = fake.url();
    let port = sink.peer.port;
    let app = TestApp::boot_with(move |config| {
        let settings = config.settings.as_mut().expect("settings");
        settings["catalogue_cache_seconds"] = 0.into();
        settings["transbank"]["api_base_url"] = url.into();
        config.mailer = Some(Mailer {
            stub: false,
            smtp: Some(SmtpMailer {
                enable: true,
                host: "127.0.0.1".into(),
                port,
                secure: false,
                tls: None,
                auth: None,
                hello_name: None,
            }),
        });
    })
    .await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "secuencia", vec![(15_000, Some(20), 0)]).await;
    let email = "compradora@example.cl";

    // check-user, then a sign-in code.
    let (status, body) = post(
        &server,
        "/api/v1/auth/check-user/",
        json!({"email": email}),
        None,
    )
    .await;
    assert_eq!((status, body["exists"].clone()), (200, json!(false)));
    let (status, _) = post(&server, "/api/v1/otp/login/", json!({"email": email}), None).await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &server,
        "/api/v1/auth/login/otp/",
        json!({"email": email, "code": code_in(&sink, email)}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap().to_string();

    // Reserve and book with the holders.
    let (status, held) = post(
        &server,
        &format!("/api/v1/events/{event}/reserve/"),
        json!({"tickets": [{"tierId": tiers[0], "quantity": 2}], "holdMinutes": 10}),
        Some(&access),
    )
    .await;
    assert_eq!(status, 200, "{held}");
    assert!(held["reservationId"].is_string() && held["expiresAt"].is_string());
    let (status, booked) = post(
        &server,
        &format!("/api/v1/events/{event}/book/"),
        json!({
            "customerInfo": {"name": "Carla Muñoz", "email": email, "phone": "+56 9 5555 0000"},
            "ticketHolders": [{"tierId": tiers[0], "holders": [
                {"name": "Carla", "lastName": "Muñoz", "email": email},
                {"name": "Pedro", "lastName": "Muñoz", "email": "pedro@example.cl"},
            ]}],
            "couponCode": "",
            "reservationId": held["reservationId"],
        }),
        Some(&access),
    )
    .await;
    assert_eq!(status, 201, "{booked}");
    assert_eq!(booked["payment_required"], true);
    assert!(booked["totalAmount"].is_f64());
    let order_id = booked["bookingId"].as_str().unwrap().to_string();

    // The ways to pay, then create_payment by order id.
    let methods: Value = server.get("/api/v1/payment-methods/").await.json();
    assert_eq!(methods["success"], true);
    assert_eq!(methods["count"], 2);
    let method = methods["payment_methods"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        methods["payment_methods"][0]["provider"]["provider_type"],
        "transbank_webpay_plus"
    );
    let (status, created) = post(
        &server,
        "/api/v1/payments/create_payment/",
        json!({"order_id": order_id, "payment_method_id": method}),
        Some(&access),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["success"], true);
    assert_eq!(created["redirect_required"], true);
    let token = created["token"].as_str().unwrap().to_string();
    assert!(created["payment_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("?token_ws={token}")));
    let payment = &created["payment"];
    for key in [
        "id",
        "paymentId",
        "order_id",
        "order_number",
        "order_access_token",
        "buy_order",
        "token",
        "created_at",
    ] {
        assert!(payment[key].is_string(), "payment.{key}: {payment}");
    }
    assert_eq!(payment["status"], "processing");
    assert!(payment["order_total"].as_str().unwrap().ends_with(".00"));
    // Transbank sends the buyer back to the frontend, with the order's key.
    let access_token = payment["order_access_token"].as_str().unwrap();
    assert!(
        fake.tx(&token)
            .return_url
            .ends_with(&format!("/payment/return?token={access_token}")),
        "{}",
        fake.tx(&token).return_url
    );

    // Another buyer cannot pay this order.
    let (status, _) = post(
        &server,
        "/api/v1/otp/login/",
        json!({"email": "otra@example.cl"}),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, other) = post(
        &server,
        "/api/v1/auth/login/otp/",
        json!({"email": "otra@example.cl", "code": code_in(&sink, "otra@example.cl")}),
        None,
    )
    .await;
    let (status, body) = post(
        &server,
        "/api/v1/payments/create_payment/",
        json!({"order_id": order_id, "payment_method_id": method}),
        other["access_token"].as_str(),
    )
    .await;
    assert_eq!(status, 403, "{body}");

    // The buyer pays; the frontend posts the return, twice (a reload).
    fake.pay(&token);
    for _ in 0..2 {
        let (status, body) = post(
            &server,
            "/api/v1/payments/webpay_return/",
            json!({"token_ws": token}),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["success"], true);
        assert_eq!(body["order_status"], "paid");
        assert_eq!(body["payment"]["status"], "completed");
        assert!(body["transaction_data"].is_object());
        assert_eq!(body["message"], "Payment completed successfully");
    }
    assert_eq!(fake.commits(), 1, "committed once");
    let order = orders::Entity::find()
        .filter(orders::Column::Id.eq(uuid::Uuid::parse_str(&order_id).unwrap()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, "paid");
    let mut names: Vec<String> = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.attendee_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Carla Muñoz", "Pedro Muñoz"]);

    // The confirmation page: the tickets by the order's key, and the mail.
    let number = &order.order_number;
    let tickets_url = format!("/api/v1/orders/{number}/tickets/");
    let res = server
        .get(&format!("{tickets_url}?token={access_token}"))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let page: Value = res.json();
    assert_eq!(page["ticket_count"], 2);
    assert_eq!(page["event"]["title"], "Festival");
    let mut holders: Vec<String> = page["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {}",
                t["first_name"].as_str().unwrap(),
                t["last_name"].as_str().unwrap()
            )
        })
        .collect();
    holders.sort();
    assert_eq!(holders, ["Carla Muñoz", "Pedro Muñoz"]);
    assert_eq!(server.get(&tickets_url).await.status_code(), 401);
    let res = server
        .get(&format!("{tickets_url}?token=otra-cosa&admin=true"))
        .await;
    assert_eq!(res.status_code(), 404);
    assert_eq!(res.json::<Value>()["error"], "INVALID_TOKEN_OR_ORDER");
    let res = server
        .post(&format!(
            "/api/v1/orders/{number}/send-email/?access_token={access_token}"
        ))
        .json(&json!({"to_email": "ladron@example.cl"}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["already_sent"], true);
    assert!(
        sink.messages()
            .iter()
            .all(|m| m["rcpt_tos"] != json!(["ladron@example.cl"])),
        "the mail never goes elsewhere"
    );

    // "Mis reservas": the buyer's, one of them; another buyer sees neither.
    let res = server
        .get("/api/v1/user/reservations/")
        .add_header("authorization", format!("Bearer {access}"))
        .await;
    assert_eq!(res.status_code(), 200);
    let mine: Value = res.json();
    assert_eq!(mine["count"], 1);
    let card = &mine["results"][0];
    assert_eq!(card["orderId"], json!(number));
    assert_eq!(card["status"], "confirmed");
    assert_eq!(card["ticketCount"], 2);
    assert_eq!(card["attendees"].as_array().unwrap().len(), 2);
    assert!(card["totalAmount"].is_f64() && card["eventDate"].is_string());
    let detail = format!("/api/v1/user/reservations/{order_id}/");
    let res = server
        .get(&detail)
        .add_header("authorization", format!("Bearer {access}"))
        .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.json::<Value>()["reservation"]["id"], json!(order_id));
    let other_access = other["access_token"].as_str().unwrap();
    let res = server
        .get(&detail)
        .add_header("authorization", format!("Bearer {other_access}"))
        .await;
    assert_eq!(res.status_code(), 404);
    let res = server
        .get("/api/v1/user/reservations/")
        .add_header("authorization", format!("Bearer {other_access}"))
        .await;
    assert_eq!(res.json::<Value>()["count"], 0);
    // A guest by email: only with the code mailed to that address.
    let (status, body) = post(
        &server,
        "/api/v1/user/reservations/by-email/",
        json!({"email": email, "otp_token": "000000"}),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = post(
        &server,
        "/api/v1/otp/ticket-access/",
        json!({"email": email}),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &server,
        "/api/v1/user/reservations/by-email/",
        json!({"email": email, "otp_token": code_in(&sink, email)}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 1);

    // Each ticket's QR by its number: JSON with a PNG data URL and a hash
    // that validate-qr accepts (and no other); unknown numbers are a 404.
    let first = &page["tickets"][0];
    let ticket_number = first["ticket_number"].as_str().unwrap();
    let res = server
        .get(&format!("/api/v1/tickets/{ticket_number}/qr/"))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let qr: Value = res.json();
    assert_eq!(qr["success"], true);
    assert!(qr["qr_code"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    assert!(qr["ticket_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/tickets/{ticket_number}")));
    assert_eq!(qr["ticket_info"]["order_number"], json!(number));
    assert_eq!(qr["ticket_info"]["event_title"], "Festival");
    let hash = qr["security_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 16);
    let res = server.get("/api/v1/tickets/TUKI-NOEXISTE/qr/").await;
    assert_eq!(res.status_code(), 404);
    assert_eq!(res.json::<Value>()["error"], "TICKET_NOT_FOUND");
    let (status, body) = post(
        &server,
        "/api/v1/tickets/validate-qr/",
        json!({"ticket_number": ticket_number, "security_hash": hash}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["valid"], true);
    assert_eq!(body["order_number"], json!(number));
    let (status, body) = post(
        &server,
        "/api/v1/tickets/validate-qr/",
        json!({"ticket_number": ticket_number, "security_hash": "0000000000000000"}),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("INVALID_HASH"))
    );
    let (status, body) = post(&server, "/api/v1/tickets/validate-qr/", json!({}), None).await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("MISSING_DATA"))
    );

    // The order by its id (backtuki's serializer) and one ticket's PDF data:
    // the buyer's; another buyer gets 404, nobody signed in 401.
    let ticket_id = tickets::Entity::find()
        .filter(tickets::Column::Code.eq(ticket_number))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let as_buyer = |path: String, bearer: &str| {
        server
            .get(&path)
            .add_header("authorization", format!("Bearer {bearer}"))
    };
    let res = as_buyer(format!("/api/v1/orders/{order_id}/"), &access).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.header("cache-control"), "private, no-store");
    let detail: Value = res.json();
    assert_eq!(detail["order_number"], json!(number));
    assert_eq!(detail["status"], "paid");
    assert!(detail["total"].as_str().unwrap().ends_with(".00"));
    assert_eq!(detail["items"][0]["tickets_count"], 2);
    assert_eq!(detail["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(detail["tickets"][0]["status"], "active");
    assert_eq!(detail["payment_details"]["payment_status"], "completed");
    let pdf = format!("/api/v1/tickets/{ticket_id}/pdf-data/");
    let res = as_buyer(pdf.clone(), &access).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let one: Value = res.json();
    assert_eq!(one["ticket_count"], 1);
    assert_eq!(one["tickets"][0]["ticket_number"], json!(ticket_number));
    assert_eq!(one["event"]["location"]["name"], "Teatro Municipal");
    for path in [format!("/api/v1/orders/{order_id}/"), pdf.clone()] {
        assert_eq!(
            as_buyer(path.clone(), other_access).await.status_code(),
            404,
            "{path}"
        );
        assert_eq!(server.get(&path).await.status_code(), 401, "{path}");
    }
    // The door's lookup is for organizers: a buyer is refused.
    let res = as_buyer(
        format!("/api/v1/tickets/by_uuid/?uuid={ticket_id}"),
        &access,
    )
    .await;
    assert_eq!(res.status_code(), 403);

    // The mail's magic link signs the buyer in (a paid order only).
    let (status, body) = post(
        &server,
        "/api/v1/auth/magic-login/",
        json!({"order_access_token": access_token}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["email"], email);
    assert!(body["access_token"].is_string());

    // An unknown token is a field error.
    let (status, body) = post(
        &server,
        "/api/v1/payments/webpay_return/",
        json!({"token_ws": "nada"}),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

/// The same purchase by a guest who never signs in — reserve, book, pay and
/// read the tickets with the order's key only — who then claims the account
/// through the mail's magic link and sets a password on the profile.
#[tokio::test]
async fn a_guest_buys_without_an_account_then_claims_it() {
    let fake = FakeWebpay::start().await;
    let app = super::checkout::boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "invitados", vec![(8_000, Some(10), 0)]).await;
    let email = "invitado@example.cl";

    let (status, held) = post(
        &server,
        &format!("/api/v1/events/{event}/reserve/"),
        json!({"tickets": [{"tierId": tiers[0], "quantity": 1}]}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{held}");
    assert!(
        held["items"].is_array() && held["holdMinutes"].is_i64(),
        "{held}"
    );
    let (status, booked) = post(
        &server,
        &format!("/api/v1/events/{event}/book/"),
        json!({
            "customerInfo": {"firstName": "Inés", "lastName": "Vera", "email": email},
            "ticketHolders": [{"tierId": tiers[0], "holders": [{"name": "Inés", "lastName": "Vera", "email": email}]}],
            "reservationId": held["reservationId"],
        }),
        None,
    )
    .await;
    assert_eq!(status, 201, "{booked}");
    for key in [
        "bookingId",
        "orderNumber",
        "accessToken",
        "status",
        "message",
    ] {
        assert!(booked[key].is_string(), "{key}: {booked}");
    }
    let order_id = booked["bookingId"].as_str().unwrap();
    let (status, created) = post(
        &server,
        "/api/v1/payments/create_payment/",
        json!({"order_id": order_id, "provider_type": "transbank_webpay_plus", "method_type": "debit_card"}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    let access_token = created["payment"]["order_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    fake.pay(&token);
    let (status, body) = post(
        &server,
        "/api/v1/payments/webpay_return/",
        json!({"token_ws": token}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["order_status"], "paid");

    // The confirmation page with the order's key, and the ticket's QR.
    let number = booked["orderNumber"].as_str().unwrap();
    let page: Value = server
        .get(&format!(
            "/api/v1/orders/{number}/tickets/?token={access_token}"
        ))
        .await
        .json();
    assert_eq!(page["ticket_count"], 1, "{page}");
    assert_eq!(page["tickets"][0]["first_name"], "Inés");
    assert_eq!(page["tickets"][0]["last_name"], "Vera");
    let ticket_number = page["tickets"][0]["ticket_number"].as_str().unwrap();
    let res = server
        .get(&format!("/api/v1/tickets/{ticket_number}/qr/"))
        .await;
    assert_eq!(res.status_code(), 200);

    // The claim: the magic link signs the guest in; a first password is set
    // on the profile; from then on the email and password sign in, and the
    // purchase is among the account's reservations.
    let (status, signed) = post(
        &server,
        "/api/v1/auth/magic-login/",
        json!({"order_access_token": access_token}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["user"]["email"], email);
    let bearer = format!("Bearer {}", signed["access_token"].as_str().unwrap());
    let res = server
        .put("/api/v1/auth/profile/")
        .add_header("authorization", bearer.clone())
        .json(&json!({"first_name": "Inés", "last_name": "Vera", "password": "Mi-clave-de-invitada-1"}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let (status, pair) = post(
        &server,
        "/api/v1/auth/token/",
        json!({"email": email, "password": "Mi-clave-de-invitada-1"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["user"]["is_guest"], false, "{pair}");
    let mine: Value = server
        .get("/api/v1/user/reservations/")
        .add_header(
            "authorization",
            format!("Bearer {}", pair["access"].as_str().unwrap()),
        )
        .await
        .json();
    assert_eq!(mine["count"], 1, "{mine}");
    assert_eq!(mine["results"][0]["orderId"], json!(number));
}
