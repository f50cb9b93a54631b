//! Courtesy tickets (issue 13): a pasted list previewed then made into
//! invitations, listed and exported; the secret link redeemed once into a
//! zero-priced order whose tickets take seats of the tier; cancelled links
//! and another organizer's member refused.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{orders, ticket_tiers, tickets};

use super::organizers::{organizer, signed_in};

#[tokio::test]
async fn invitations_are_made_from_a_list_and_redeemed_once() {
    use crate::support::app::TestApp;
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
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
            "title": "Gala", "description": "d", "short_description": "s",
            "start_date": "2031-04-01T21:00:00", "end_date": "2031-04-02T02:00:00",
            "location": {"name": "Muelle", "address": "Costanera 1"}
        }),
    )
    .await
    .json();
    let event = event["id"].as_str().unwrap().to_string();
    let vip: Value = post(
        "ticket-tiers/".into(),
        &admin,
        json!({"event": event, "name": "VIP", "price": 50000, "capacity": 2}),
    )
    .await
    .json();
    post(format!("events/{event}/publish/"), &admin, json!({})).await;

    // Preview: a pasted list with a header, one bad address reported.
    let res = post(
        format!("events/{event}/complimentary-tickets/preview/"),
        &admin,
        json!({"text": "Nombre\tApellido\tEmail\nAna\tRojas\tana@correo.cl\nLuis\tSoto\tluis@\nPía\t\t"}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let preview: Value = res.json();
    assert_eq!(preview["data"].as_array().unwrap().len(), 3, "{preview}");
    assert_eq!(preview["errors"].as_array().unwrap().len(), 1);
    assert_eq!(preview["suggested_mapping"]["first_name"], "first_name");
    // The same as a multipart upload of a CSV file.
    let form = axum_test::multipart::MultipartForm::new().add_part(
        "file",
        axum_test::multipart::Part::bytes(b"nombre,email\nAna,ana@correo.cl\n".to_vec())
            .file_name("lista.csv"),
    );
    let res = server
        .post(&format!(
            "/api/v1/events/{event}/complimentary-tickets/preview/"
        ))
        .add_header("authorization", admin.clone())
        .multipart(form)
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["data"][0]["email"], "ana@correo.cl");

    // One bad entry: nothing made.
    let res = post(
        format!("events/{event}/complimentary-tickets/create-batch/"),
        &admin,
        json!({"entries": [{"first_name": "Ana"}, {"email": "no-es-correo"}]}),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["entries"][1]["email"].is_array());
    // Made: two on the hidden courtesy tier, one on VIP.
    let res = post(
        format!("events/{event}/complimentary-tickets/create-batch/"),
        &admin,
        json!({"entries": [{"first_name": "Ana", "last_name": "Rojas", "email": "ana@correo.cl"}, {"first_name": "Pía"}], "tickets_per_invitation": 2}),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let made: Value = res.json();
    assert_eq!(made["created"], 2);
    let token = made["invitations"][0]["public_token"]
        .as_str()
        .unwrap()
        .to_string();
    let second = made["invitations"][1]["id"].as_str().unwrap().to_string();
    let second_token = made["invitations"][1]["public_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(made["invitations"][0]["public_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/complimentary/{token}")));
    let res = post(
        format!("events/{event}/complimentary-tickets/create-batch/"),
        &admin,
        json!({"entries": [{"first_name": "Leo"}], "tickets_per_invitation": 3, "ticket_tier": vip["id"]}),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let vip_token = res.json::<Value>()["invitations"][0]["public_token"]
        .as_str()
        .unwrap()
        .to_string();

    // Another organizer's member: not found, nothing made or changed.
    for path in [
        format!("events/{event}/complimentary-tickets/create-batch/"),
        format!("events/{event}/complimentary-tickets/{second}/cancel/"),
        format!("events/{event}/complimentary-tickets/preview/"),
    ] {
        let res = post(
            path.clone(),
            &other,
            json!({"entries": [{"first_name": "X"}], "text": "a"}),
        )
        .await;
        assert_eq!(res.status_code(), 404, "{path}");
    }
    let res = server
        .get(&format!("/api/v1/events/{event}/complimentary-tickets/"))
        .add_header("authorization", other.clone())
        .await;
    assert_eq!(res.status_code(), 404);

    // The link: shows the event, then redeems once.
    let res = server
        .get(&format!("/api/v1/public/complimentary/{token}/"))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let shown: Value = res.json();
    assert_eq!(shown["event"]["title"], "Gala");
    assert_eq!(shown["max_tickets"], 2);
    assert!(
        shown.get("email").is_none(),
        "the invitee's address is not shown to the link's holders"
    );
    assert_eq!(
        server
            .get("/api/v1/public/complimentary/nada/")
            .await
            .status_code(),
        404
    );
    let redeem = |token: &str, body: Value| {
        server
            .post(&format!("/api/v1/public/complimentary/{token}/redeem/"))
            .json(&body)
    };
    assert_eq!(
        redeem(&token, json!({})).await.status_code(),
        400,
        "ticket_quantity is required"
    );
    let res = redeem(&token, json!({"ticket_quantity": 3})).await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        res.json::<Value>()["detail"],
        "Invalid ticket quantity: 3 (max: 2)"
    );
    let res = redeem(&token, json!({"ticket_quantity": 2})).await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    let redeemed: Value = res.json();
    assert_eq!(redeemed["ticket_count"], 2);
    let number = redeemed["order_number"].as_str().unwrap();
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            order.status.as_str(),
            order.total,
            order.customer_email.as_str()
        ),
        ("paid", 0, "ana@correo.cl")
    );
    let issued = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .all(db)
        .await
        .unwrap();
    assert_eq!(issued.len(), 2);
    let res = redeem(&token, json!({"ticket_quantity": 1})).await;
    assert_eq!(res.status_code(), 400, "once only");
    let shown: Value = server
        .get(&format!("/api/v1/public/complimentary/{token}/"))
        .await
        .json();
    assert_eq!(shown["status"], "redeemed");
    assert_eq!(shown["tickets"].as_array().unwrap().len(), 2);

    // The VIP courtesy takes VIP seats: 3 asked of 2 → refused, 2 given.
    let res = redeem(&vip_token, json!({"ticket_quantity": 3})).await;
    assert_eq!(res.status_code(), 409, "{}", res.text());
    let sold = |id: &str| {
        let id = uuid::Uuid::parse_str(id).unwrap();
        async move {
            ticket_tiers::Entity::find_by_id(id)
                .one(db)
                .await
                .unwrap()
                .unwrap()
                .sold
        }
    };
    assert_eq!(
        sold(vip["id"].as_str().unwrap()).await,
        0,
        "a refused redemption takes nothing"
    );
    let res = redeem(
        &vip_token,
        json!({"ticket_quantity": 2, "first_name": "Leo", "email": "leo@correo.cl"}),
    )
    .await;
    assert_eq!(res.status_code(), 201, "{}", res.text());
    assert_eq!(sold(vip["id"].as_str().unwrap()).await, 2);

    // Cancelled: the link stops working.
    let res = post(
        format!("events/{event}/complimentary-tickets/{second}/cancel/"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(
        redeem(&second_token, json!({"ticket_quantity": 1}))
            .await
            .status_code(),
        400
    );

    // The list and its workbook.
    let list: Value = server
        .get(&format!(
            "/api/v1/events/{event}/complimentary-tickets/?status=redeemed"
        ))
        .add_header("authorization", admin.clone())
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let res = server
        .get(&format!(
            "/api/v1/events/{event}/complimentary-tickets/export-excel/"
        ))
        .add_header("authorization", admin.clone())
        .await;
    assert_eq!(res.status_code(), 200);
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(res.as_bytes().to_vec())).unwrap();
    assert!(book.by_name("xl/worksheets/sheet1.xml").is_ok());
}
