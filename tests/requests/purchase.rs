//! Reserve and book with the bodies backtuki's frontends send (issue 11,
//! buying): totals per tier on one reservation, bounds kept, refusals in
//! DRF's shape that hold nothing, ticket holders named on the tickets.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{reservations, tickets};

use super::checkout::{boot_with_webpay, on_sale, tier};
use crate::support::webpay::FakeWebpay;

async fn post(server: &loco_rs::TestServer, path: &str, body: Value) -> (u16, Value) {
    let res = server
        .post(path)
        .add_header("x-forwarded-for", "203.0.113.77")
        .json(&body)
        .await;
    (
        res.status_code().as_u16(),
        serde_json::from_str(&res.text()).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_buyer_reserves_changes_quantities_and_books_with_ticket_holders() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(
        db,
        "dialecto",
        vec![(10_000, Some(50), 0), (0, Some(10), 0)],
    )
    .await;
    let reserve = format!("/api/v1/events/{event}/reserve/");
    let book = format!("/api/v1/events/{event}/book/");

    // Two seats of the first tier, for longer than the server allows.
    let (status, body) = post(
        &server,
        &reserve,
        json!({"tickets": [{"tierId": tiers[0], "quantity": 2}], "holdMinutes": 600}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let first = body["reservationId"].as_str().unwrap().to_string();
    assert_eq!(body["holdMinutes"], 15);
    assert!(body["expiresAt"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(body["items"], json!([{"tierId": tiers[0], "quantity": 2}]));
    assert_eq!(tier(db, tiers[0]).await.reserved, 2);

    // The same reservation, another total: the seats follow, one live hold.
    let (status, body) = post(
        &server,
        &reserve,
        json!({"tickets": [{"tierId": tiers[0], "quantity": 3}], "reservationId": first}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let second = body["reservationId"].as_str().unwrap().to_string();
    assert_eq!(tier(db, tiers[0]).await.reserved, 3);
    let live = reservations::Entity::find()
        .filter(reservations::Column::EventId.eq(event))
        .filter(reservations::Column::Status.eq("active"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id.to_string(), second);

    // Refusals name the field and hold nothing more.
    for (bad, key) in [
        (json!({"tickets": []}), "detail"),
        (
            json!({"tickets": [{"tierId": "no-es-uuid", "quantity": 1}]}),
            "tickets",
        ),
        (
            json!({"tickets": [{"tierId": tiers[0], "quantity": -1}]}),
            "tickets",
        ),
        (
            json!({"tickets": [{"tierId": tiers[0], "quantity": 1, "customPrice": 5}]}),
            "tickets",
        ),
        (
            json!({"tickets": [{"tierId": tiers[0], "quantity": 500}]}),
            "tickets",
        ),
    ] {
        let (status, body) = post(&server, &reserve, bad.clone()).await;
        assert_eq!(status, 400, "{bad} → {body}");
        assert!(body.get(key).is_some(), "{bad} → {body}");
    }
    assert_eq!(tier(db, tiers[0]).await.reserved, 3);

    // Book with the holders; a coupon that does not exist is refused first.
    let holders = json!([{"tierId": tiers[0], "holders": [
        {"name": "Ana", "lastName": "Pérez", "email": "ana@example.cl"},
        {"name": "Luis", "lastName": "Soto", "email": "luis@example.cl"},
    ]}]);
    let booking = json!({
        "customerInfo": {"name": "Ana Pérez", "email": "ana@example.cl", "phone": "+56 9 1111 2222"},
        "ticketHolders": holders,
        "reservationId": second,
        "couponCode": "GRATIS",
    });
    let (status, body) = post(&server, &book, booking.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"couponCode": ["Cupón no encontrado"]}));
    let (status, body) = post(
        &server,
        &book,
        json!({"customerInfo": {"email": "ana@example.cl"}, "reservationId": second}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"customerInfo": ["Customer name is required"]}));

    let mut booking = booking;
    booking["couponCode"] = Value::Null;
    let (status, body) = post(&server, &book, booking).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["payment_required"], true);
    assert_eq!(body["next_step"], "payment");
    assert_eq!(
        body["totalAmount"], 33_000.0,
        "3 × $10.000 plus the 10 % service fee"
    );
    assert!(body["bookingId"].is_string() && body["orderNumber"].is_string());
    assert!(body["accessToken"].is_string());
    assert_eq!(body["coupon_applied"], Value::Null);

    // A free tier, booked without a reservation: paid at once, tickets named.
    let (status, body) = post(
        &server,
        &book,
        json!({
            "customerInfo": {"name": "Eva Díaz", "email": "eva@example.cl"},
            "tickets": [{"tierId": tiers[1], "quantity": 2}],
            "ticketHolders": [{"tierId": tiers[1], "holders": [{"name": "Eva", "lastName": "Díaz"}, {"name": "Tomás", "lastName": "Díaz"}]}],
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "paid");
    assert_eq!(body["payment_required"], false);
    assert_eq!(body["message"], "Reserva confirmada exitosamente");
    let mut names: Vec<String> = tickets::Entity::find()
        .filter(tickets::Column::TierId.eq(tiers[1]))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.attendee_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Eva Díaz", "Tomás Díaz"]);
}

#[tokio::test]
async fn availability_lists_the_seats_left_per_tier() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let server = app.server();
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "asientos", vec![(10_000, Some(50), 5), (0, None, 0)]).await;
    let url = format!("/api/v1/events/{event}/availability/");
    let body: Value = server.get(&url).await.json();
    assert_eq!(
        body,
        json!({"ticketTiers": [
            {"id": tiers[0], "available": 45, "total": 50},
            {"id": tiers[1], "available": 9_999_999, "total": null},
        ]})
    );
    let (status, _) = post(
        &server,
        &format!("/api/v1/events/{event}/reserve/"),
        json!({"tickets": [{"tierId": tiers[0], "quantity": 3}]}),
    )
    .await;
    assert_eq!(status, 200);
    let body: Value = server.get(&url).await.json();
    assert_eq!(
        body["ticketTiers"][0]["available"], 42,
        "held seats are not available"
    );
    assert_eq!(
        server
            .get(&format!(
                "/api/v1/events/{}/availability/",
                uuid::Uuid::new_v4()
            ))
            .await
            .status_code(),
        404
    );
}
