//! The organizer's orders (issue 13, first part): the event's order list
//! with its statistics, cancel, resend the confirmation, timeline — each
//! with another organizer's member getting 404 and changing nothing.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{orders, ticket_tiers};
use uuid::Uuid;

use super::{
    organizer_signup::mailing_app,
    organizers::{organizer, signed_in},
};
use crate::support::tools::SmtpSink;

#[tokio::test]
async fn an_organizer_lists_cancels_resends_and_traces_only_their_own_orders() {
    let sink = SmtpSink::start();
    let media = tempfile::tempdir().unwrap();
    let app = mailing_app(&sink, media.path()).await;
    let server = app.server();
    let db = &app.ctx().db;
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    let buyer = signed_in(&server, &app, "compra@example.cl", None).await;
    let post = |path: &str, auth: &str, body: Value| {
        server
            .post(&format!("/api/v1/{path}"))
            .add_header("authorization", auth.to_string())
            .json(&body)
    };
    let get = |path: &str, auth: &str| {
        server
            .get(&format!("/api/v1/{path}"))
            .add_header("authorization", auth.to_string())
    };

    // An event on sale, and two orders booked for it.
    let event: Value = post(
        "events/",
        &admin,
        json!({
            "title": "Cumbia en el Puerto", "description": "d", "short_description": "s",
            "start_date": "2031-04-01T21:00:00", "end_date": "2031-04-02T02:00:00",
            "location": {"name": "Muelle", "address": "Costanera 1"}
        }),
    )
    .await
    .json();
    let event = event["id"].as_str().unwrap().to_string();
    let tier: Value = post(
        "ticket-tiers/",
        &admin,
        json!({"event": event, "name": "General", "price": 10000, "capacity": 100}),
    )
    .await
    .json();
    let tier: Uuid = tier["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        post(&format!("events/{event}/publish/"), &admin, json!({}))
            .await
            .status_code(),
        200
    );
    let mut numbers = Vec::new();
    for (name, email) in [
        ("Ana Pérez", "ana@example.cl"),
        ("Luis Soto", "luis@example.cl"),
    ] {
        let res = server
            .post(&format!("/api/v1/events/{event}/reserve/"))
            .json(&json!({"tiers": [{"tier_id": tier, "quantity": 2}]}))
            .await;
        assert_eq!(res.status_code(), 201, "{}", res.text());
        let reservation = res.json::<Value>()["reservation_id"]
            .as_str()
            .unwrap()
            .to_string();
        let res = server
            .post(&format!("/api/v1/events/{event}/book/"))
            .json(
                &json!({"reservation_id": reservation, "customer": {"name": name, "email": email}}),
            )
            .await;
        assert_eq!(res.status_code(), 201, "{}", res.text());
        numbers.push(
            res.json::<Value>()["order_number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // The first is paid (as the payment flow leaves it).
    let paid = {
        use sea_orm::{ColumnTrait, QueryFilter};
        orders::Entity::find()
            .filter(orders::Column::OrderNumber.eq(numbers[0].as_str()))
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };
    let total = paid.total;
    let mut row: orders::ActiveModel = paid.clone().into();
    row.status = Set("paid".into());
    row.paid_at = Set(Some(chrono::Utc::now().fixed_offset()));
    row.update(db).await.unwrap();

    // The list: both orders, statistics of the paid one, filters.
    let list = format!("orders/?event_id={event}");
    let res = get(&list, &admin).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let page: Value = res.json();
    assert_eq!(page["count"], 2);
    assert_eq!(page["results"]["results"].as_array().unwrap().len(), 2);
    assert_eq!(page["results"]["statistics"]["total_orders"], 1);
    assert_eq!(
        page["results"]["statistics"]["total_revenue"],
        json!(total as f64)
    );
    assert_eq!(page["results"]["statistics"]["current_page_count"], 2);
    let first = &page["results"]["results"][0];
    assert_eq!(first["order_number"], json!(numbers[1]), "newest first");
    assert_eq!(first["items"][0]["quantity"], 2);
    assert!(first.get("tickets").is_none());
    let found: Value = get(&format!("{list}&search=luis%20SOTO"), &admin)
        .await
        .json();
    assert_eq!(found["count"], 1);
    let found: Value = get(&format!("{list}&search={}", numbers[0]), &admin)
        .await
        .json();
    assert_eq!(found["results"]["results"][0]["status"], "paid");
    let found: Value = get(&format!("{list}&status=pending"), &admin).await.json();
    assert_eq!(found["count"], 1);
    assert_eq!(
        get(&format!("{list}&status=pagado"), &admin)
            .await
            .status_code(),
        400
    );
    let sorted: Value = get(&format!("{list}&ordering=created_at"), &admin)
        .await
        .json();
    assert_eq!(
        sorted["results"]["results"][0]["order_number"],
        json!(numbers[0])
    );
    let all: Value = get(&format!("{list}&no_pagination=true"), &admin)
        .await
        .json();
    assert_eq!(all["count"], 2);
    assert_eq!(all["statistics"]["total_orders"], 1);
    // Without event_id: the signed-in user's own orders, as before.
    assert_eq!(get("orders/", &admin).await.status_code(), 200);

    // Another organizer's member, a buyer: 404 / 403, nothing changes.
    let before = orders::Entity::find().all(db).await.unwrap();
    assert_eq!(get(&list, &other).await.status_code(), 404);
    assert_eq!(get(&list, &buyer).await.status_code(), 403);
    for number in &numbers {
        for (path, body) in [
            (format!("orders/{number}/cancel/"), json!({})),
            (format!("orders/{number}/resend_email/"), json!({})),
        ] {
            let res = post(&path, &other, body).await;
            assert_eq!(res.status_code(), 404, "{path}: {}", res.text());
        }
        assert_eq!(
            get(&format!("orders/{number}/timeline/"), &other)
                .await
                .status_code(),
            404
        );
    }
    assert_eq!(orders::Entity::find().all(db).await.unwrap(), before);

    // A report reader lists and reads timelines, but cancels nothing.
    let reader = signed_in(&server, &app, "leo@sur.cl", Some((sur, false, false))).await;
    {
        use sea_orm::{ColumnTrait, QueryFilter};
        use tuki_backend::models::_entities::organizer_members;
        let m = organizer_members::Entity::find()
            .filter(organizer_members::Column::OrganizerId.eq(sur))
            .filter(organizer_members::Column::IsAdmin.eq(false))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut m: organizer_members::ActiveModel = m.into();
        m.can_manage_events = Set(false);
        m.update(db).await.unwrap();
    }
    assert_eq!(get(&list, &reader).await.status_code(), 200);
    assert_eq!(
        post(
            &format!("orders/{}/cancel/", numbers[1]),
            &reader,
            json!({})
        )
        .await
        .status_code(),
        403
    );

    // Cancel: a paid order is refunded instead; a pending one ends and its
    // seats go back on sale.
    let res = post(&format!("orders/{}/cancel/", numbers[0]), &admin, json!({})).await;
    assert_eq!(res.status_code(), 400);
    let held = ticket_tiers::Entity::find_by_id(tier)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .reserved;
    let res = post(
        &format!("orders/{}/cancel/", numbers[1]),
        &admin,
        json!({"reason": "pedido duplicado"}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let after = ticket_tiers::Entity::find_by_id(tier)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.reserved, held - 2, "the seats are back");
    let res = post(&format!("orders/{}/cancel/", numbers[1]), &admin, json!({})).await;
    assert_eq!(res.status_code(), 400, "once");

    // Resend: only a paid order, only to the buyer's address.
    let res = post(
        &format!("orders/{}/resend_email/", numbers[1]),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    let res = post(
        &format!("orders/{}/resend_email/", numbers[0]),
        &admin,
        json!({"email": "ladron@example.cl"}),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    let res = post(
        &format!("orders/{}/resend_email/", numbers[0]),
        &admin,
        json!({"email": "Ana@Example.cl"}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.json::<Value>()["email"], "ana@example.cl");
    assert!(sink
        .messages()
        .iter()
        .any(|m| m["rcpt_tos"] == json!(["ana@example.cl"])));
    // Again: a resend is sent although the confirmation went out before.
    let res = post(
        &format!("orders/{}/resend_email/", numbers[0]),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let to_ana = |sink: &crate::support::tools::SmtpSink| {
        sink.messages()
            .iter()
            .filter(|m| m["rcpt_tos"] == json!(["ana@example.cl"]))
            .count()
    };
    let started = std::time::Instant::now();
    while to_ana(&sink) < 2 && started.elapsed() < std::time::Duration::from_secs(5) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(to_ana(&sink) >= 2);

    // Timelines.
    let res = get(&format!("orders/{}/timeline/", paid.id), &admin).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let kinds: Vec<String> = res.json::<Value>()["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds[..2], ["order_created", "status_changed"]);
    let cancelled: Value = get(&format!("orders/{}/timeline/", numbers[1]), &admin)
        .await
        .json();
    assert_eq!(
        cancelled["timeline"].as_array().unwrap().last().unwrap()["status"],
        "cancelled"
    );

    // Attendees: the paid order's tickets (one checked in).
    use tuki_backend::models::_entities::tickets;
    let now = chrono::Utc::now().fixed_offset();
    for (n, name, used) in [(1, "Ana Pérez", true), (2, "Marta Díaz", false)] {
        tickets::ActiveModel {
            id: Set(Uuid::new_v4()),
            order_id: Set(paid.id),
            event_id: Set(paid.event_id),
            tier_id: Set(tier),
            code: Set(format!(
                "TKT-{n}-{}",
                &Uuid::new_v4().simple().to_string()[..8]
            )),
            attendee_name: Set(name.into()),
            status: Set(if used { "used" } else { "valid" }.into()),
            used_at: Set(used.then_some(now)),
            used_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .unwrap();
    }
    let people = format!("tickets/?event_id={event}");
    let res = get(&people, &admin).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let page: Value = res.json();
    assert_eq!(page["count"], 2);
    assert_eq!(page["results"][0]["attendee_name"], "Ana Pérez");
    assert_eq!(page["results"][0]["check_in_status"], "checked_in");
    let found: Value = get(&format!("{people}&search=marta"), &admin).await.json();
    assert_eq!(found["count"], 1);
    let found: Value = get(&format!("{people}&checked_in=true"), &admin)
        .await
        .json();
    assert_eq!(found["count"], 1);
    let all: Value = get(&format!("{people}&no_pagination=true"), &admin)
        .await
        .json();
    assert_eq!(
        all["statistics"],
        json!({"total_tickets": 2, "checked_in_count": 1, "pending_checkin": 1})
    );
    assert_eq!(
        get(&format!("{people}&status=perdido"), &admin)
            .await
            .status_code(),
        400
    );
    assert_eq!(get(&people, &other).await.status_code(), 404);
    assert_eq!(
        get(&people, &reader).await.status_code(),
        403,
        "ticket numbers are for the door"
    );
    assert_eq!(get(&people, &buyer).await.status_code(), 403);
    // Without event_id: the signed-in user's own tickets, as before.
    assert_eq!(get("tickets/", &buyer).await.status_code(), 200);

    // Exports: CSV with a BOM, Spanish headers, a row per order / ticket;
    // a report reader may; another organizer 404, a buyer 403.
    let res = get(&format!("events/{event}/export_orders/"), &reader).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert!(res
        .header("content-disposition")
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"pedidos_"));
    let bytes = res.as_bytes().to_vec();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("Número de Orden,Estado de Orden,Fecha de Creación"));
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains(&numbers[0]) && lines[1].contains("Pagado"));
    assert!(lines[1].contains("General (x2)"));
    let text = get(&format!("events/{event}/export_attendees/"), &admin)
        .await
        .text();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("Número de Ticket"));
    assert!(text.contains("Ana Pérez") || text.contains("Ana,Pérez"));
    for path in ["export_orders", "export_attendees"] {
        assert_eq!(
            get(&format!("events/{event}/{path}/"), &other)
                .await
                .status_code(),
            404
        );
        assert_eq!(
            get(&format!("events/{event}/{path}/"), &buyer)
                .await
                .status_code(),
            403
        );
    }
}

#[tokio::test]
async fn the_dashboard_figures_count_paid_orders_of_the_organizer_only() {
    use crate::support::app::TestApp;
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
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
    // Each organizer sells: Sur 2 orders (one paid today, one pending),
    // Norte one paid.
    let mut sold = Vec::new();
    for (auth, title) in [(&admin, "Sur"), (&other, "Norte")] {
        let event: Value = post(
            "events/",
            auth,
            json!({
                "title": title, "description": "d", "short_description": "s",
                "start_date": "2031-04-01T21:00:00", "end_date": "2031-04-02T02:00:00",
                "location": {"name": "Muelle", "address": "Costanera 1"}
            }),
        )
        .await
        .json();
        let event = event["id"].as_str().unwrap().to_string();
        let tier: Value = post(
            "ticket-tiers/",
            auth,
            json!({"event": event, "name": "G", "price": 10000}),
        )
        .await
        .json();
        post(&format!("events/{event}/publish/"), auth, json!({})).await;
        for _ in 0..if title == "Sur" { 2 } else { 1 } {
            let r: Value = server
                .post(&format!("/api/v1/events/{event}/reserve/"))
                .json(&json!({"tiers": [{"tier_id": tier["id"], "quantity": 3}]}))
                .await
                .json();
            let o: Value = server
                .post(&format!("/api/v1/events/{event}/book/"))
                .json(&json!({"reservation_id": r["reservation_id"], "customer": {"name": "A B", "email": "a@b.cl"}}))
                .await
                .json();
            sold.push((title, o["order_number"].as_str().unwrap().to_string()));
        }
    }
    let all = orders::Entity::find().all(db).await.unwrap();
    let mut paid_total = 0;
    for (title, number) in [&sold[0], &sold[2]] {
        let o = all.iter().find(|o| &o.order_number == number).unwrap();
        if *title == "Sur" {
            paid_total = o.total;
        }
        o.confirm_paid(db, chrono::Utc::now()).await.unwrap();
    }

    let stats = |auth: &str, query: &str| {
        server
            .get(&format!("/api/v1/organizers/dashboard-stats/{query}"))
            .add_header("authorization", auth.to_string())
    };
    let res = stats(&admin, "").await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let body: Value = res.json();
    assert_eq!(body["period"]["days"], 14);
    assert_eq!(body["summary"]["total_orders"], 1, "{body}");
    assert_eq!(body["summary"]["total_tickets_sold"], 3);
    assert_eq!(body["summary"]["total_revenue"], json!(paid_total as f64));
    assert_eq!(body["summary"]["revenue_trend"], json!(100.0));
    let days = body["daily_data"].as_array().unwrap();
    assert_eq!(days.len(), 14);
    assert_eq!(days[13]["tickets"], 3, "today is the last bar");
    assert_eq!(days[0]["tickets"], 0);
    let week: Value = stats(&admin, "?days=7").await.json();
    assert_eq!(week["daily_data"].as_array().unwrap().len(), 7);
    for bad in ["?days=0", "?days=abc", "?days=400", "?days="] {
        assert_eq!(stats(&admin, bad).await.status_code(), 400, "{bad}");
    }
    // The analytics page: the event's figures, and the organizer's.
    let sur_order = all.iter().find(|o| o.order_number == sold[0].1).unwrap();
    let sur_event = sur_order.event_id;
    let norte_event = all
        .iter()
        .find(|o| o.order_number == sold[2].1)
        .unwrap()
        .event_id;
    let analytics = |auth: &str, query: String| {
        server
            .get(&format!("/api/v1/events/analytics/{query}"))
            .add_header("authorization", auth.to_string())
    };
    let res = analytics(&admin, format!("?event_id={sur_event}")).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let body: Value = res.json();
    let kpis = &body["kpis"];
    assert_eq!(kpis["totalSales"], 3, "{body}");
    assert_eq!(kpis["totalOrders"], 1);
    assert_eq!(kpis["totalRevenue"], json!(sur_order.total as f64));
    assert_eq!(kpis["grossRevenue"], json!(30000.0));
    assert_eq!(
        kpis["totalServiceFees"],
        json!(sur_order.service_fee as f64)
    );
    assert_eq!(kpis["netRevenue"], json!(sur_order.total as f64));
    assert_eq!(kpis["averageTicketPrice"], json!(10000.0));
    assert_eq!(body["chartData"].as_array().unwrap().len(), 30);
    assert_eq!(body["chartData"][29]["sales"], 3, "today is the last day");
    assert_eq!(body["categoryData"][0]["name"], "G");
    assert_eq!(body["categoryData"][0]["value"], 3);
    assert_eq!(body["categoryData"][0]["effective_revenue"], json!(30000.0));
    assert_eq!(body["capacity"]["sold"], 3, "the paid order's tickets");
    assert_eq!(body["checkIn"]["check_in_rate"], json!(0.0));
    assert_eq!(body["metadata"]["event_id_filter"], json!(sur_event));
    // Since the first sale: one day.
    let since: Value = analytics(&admin, format!("?event_id={sur_event}&days=0"))
        .await
        .json();
    assert_eq!(since["dateRange"]["days"], 1, "{since}");
    assert_eq!(since["kpis"]["totalSales"], 3);
    // The whole organizer: the same sale; Norte's never.
    let whole: Value = analytics(&admin, String::new()).await.json();
    assert_eq!(whole["kpis"]["totalSales"], 3, "{whole}");
    assert!(whole.get("capacity").is_none());
    let res = analytics(&admin, format!("?event_id={norte_event}")).await;
    assert_eq!(res.status_code(), 404, "another organizer's event");
    assert_eq!(res.json::<Value>()["detail"], "Evento no encontrado");
    for bad in ["?days=-1", "?days=x", "?days=367"] {
        assert_eq!(
            analytics(&admin, bad.into()).await.status_code(),
            400,
            "{bad}"
        );
    }
    // The funnel: views, holds, orders, paid.
    let funnel = |auth: &str, event: uuid::Uuid| {
        server
            .get(&format!("/api/v1/events/{event}/conversion_metrics/"))
            .add_header("authorization", auth.to_string())
    };
    let res = funnel(&admin, sur_event).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let body: Value = res.json();
    let counts: Vec<i64> = body["funnel_stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts[1..], [2, 2, 1], "{body}");
    assert_eq!(funnel(&admin, norte_event).await.status_code(), 404);

    // Norte sees its own figures only; a member without the report flag, none.
    let theirs: Value = stats(&other, "").await.json();
    assert_eq!(theirs["summary"]["total_orders"], 1);
    assert_eq!(theirs["summary"]["total_tickets_sold"], 3);
    let manager = signed_in(&server, &app, "leo@sur.cl", Some((sur, false, false))).await;
    {
        use sea_orm::{ColumnTrait, QueryFilter};
        use tuki_backend::models::_entities::organizer_members;
        let m = organizer_members::Entity::find()
            .filter(organizer_members::Column::OrganizerId.eq(sur))
            .filter(organizer_members::Column::IsAdmin.eq(false))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut m: organizer_members::ActiveModel = m.into();
        m.can_view_reports = Set(false);
        m.update(db).await.unwrap();
    }
    assert_eq!(stats(&manager, "").await.status_code(), 403);
    assert_eq!(analytics(&manager, String::new()).await.status_code(), 403);
    assert_eq!(funnel(&manager, sur_event).await.status_code(), 403);
    assert_eq!(
        server
            .get("/api/v1/organizers/dashboard-stats/")
            .await
            .status_code(),
        401
    );
}

/// An export larger than one read, with rows sharing their time: every row
/// once (the keyset continues at the same timestamp by id).
#[tokio::test]
async fn an_export_streams_every_row_once_across_reads() {
    use crate::support::app::TestApp;
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let event: Value = server
        .post("/api/v1/events/")
        .add_header("authorization", admin.clone())
        .json(&json!({"title": "Masivo", "start_date": "2031-04-01T21:00:00", "end_date": "2031-04-02T02:00:00"}))
        .await
        .json();
    let event: Uuid = event["id"].as_str().unwrap().parse().unwrap();
    // 1,203 orders: two reads of 1,000 and a bit; groups of 7 share a time.
    let base = chrono::Utc::now().fixed_offset();
    let rows: Vec<orders::ActiveModel> = (0..1203)
        .map(|n| {
            let at = base + chrono::Duration::seconds(n / 7);
            orders::ActiveModel {
                id: Set(Uuid::new_v4()),
                order_number: Set(format!("ORD-{n:05}")),
                event_id: Set(event),
                user_id: Set(None),
                reservation_id: Set(None),
                status: Set("paid".into()),
                customer_name: Set(format!("Persona {n}")),
                customer_email: Set(format!("p{n}@example.cl")),
                customer_phone: Set(String::new()),
                subtotal: Set(1000),
                service_fee: Set(150),
                total: Set(1150),
                refunded_amount: Set(0),
                access_token_hash: Set(String::new()),
                paid_at: Set(Some(at)),
                confirmation_sent: Set(true),
                ticket_holders: Set("[]".into()),
                coupon_id: Set(None),
                coupon_code: Set(String::new()),
                discount: Set(0),
                created_at: Set(at),
                updated_at: Set(at),
            }
        })
        .collect();
    for chunk in rows.chunks(200) {
        orders::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
    // A line and a ticket per order; every third ticket scanned by Eva.
    let tier: Value = server
        .post("/api/v1/ticket-tiers/")
        .add_header("authorization", admin.clone())
        .json(&json!({"event": event, "name": "General", "price": 1000}))
        .await
        .json();
    let tier: Uuid = tier["id"].as_str().unwrap().parse().unwrap();
    let eva = {
        use sea_orm::{ColumnTrait, QueryFilter};
        tuki_backend::models::_entities::users::Entity::find()
            .filter(tuki_backend::models::_entities::users::Column::Email.eq("eva@sur.cl"))
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    {
        use tuki_backend::models::_entities::{order_items, tickets};
        let lines: Vec<order_items::ActiveModel> = rows
            .iter()
            .map(|o| order_items::ActiveModel {
                id: Set(Uuid::new_v4()),
                order_id: o.id.clone(),
                tier_id: Set(tier),
                tier_name: Set("General".into()),
                quantity: Set(1),
                unit_price: Set(1000),
                discount: Set(0),
                created_at: o.created_at.clone(),
                updated_at: o.created_at.clone(),
            })
            .collect();
        let issued: Vec<tickets::ActiveModel> = rows
            .iter()
            .enumerate()
            .map(|(n, o)| tickets::ActiveModel {
                id: Set(Uuid::new_v4()),
                order_id: o.id.clone(),
                event_id: Set(event),
                tier_id: Set(tier),
                code: Set(format!("TKT-{n:05}")),
                attendee_name: Set(format!("Asistente {n}")),
                status: Set(if n % 3 == 0 { "used" } else { "valid" }.into()),
                used_at: Set((n % 3 == 0).then_some(base)),
                used_by: Set((n % 3 == 0).then_some(eva)),
                created_at: o.created_at.clone(),
                updated_at: o.created_at.clone(),
            })
            .collect();
        for chunk in lines.chunks(200) {
            order_items::Entity::insert_many(chunk.to_vec())
                .exec(db)
                .await
                .unwrap();
        }
        for chunk in issued.chunks(200) {
            tickets::Entity::insert_many(chunk.to_vec())
                .exec(db)
                .await
                .unwrap();
        }
    }
    let res = server
        .get(&format!("/api/v1/events/{event}/export_attendees/"))
        .add_header("authorization", admin.clone())
        .await;
    assert_eq!(res.status_code(), 200);
    let text = String::from_utf8(res.as_bytes()[3..].to_vec()).unwrap();
    let people: Vec<Vec<&str>> = text
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(people.len(), 1203);
    let codes: std::collections::BTreeSet<&str> = people.iter().map(|p| p[0]).collect();
    assert_eq!(codes.len(), 1203, "no ticket twice");
    let scanned: Vec<&Vec<&str>> = people.iter().filter(|p| p[7] == "Ingresado").collect();
    assert_eq!(scanned.len(), 401);
    assert!(scanned
        .iter()
        .all(|p| p[9] == "eva@sur.cl" && p[6] == "Usado"));
    assert!(people.iter().all(|p| p[4] == "General" && p[5] == "1000"));
    let first = people.iter().find(|p| p[0] == "TKT-00000").unwrap();
    assert_eq!(first[14], "ORD-00000", "the ticket's order");
    let admin_again = admin.clone();
    let res = server
        .get(&format!("/api/v1/events/{event}/export_orders/"))
        .add_header("authorization", admin)
        .await;
    assert_eq!(res.status_code(), 200);
    let text = String::from_utf8(res.as_bytes()[3..].to_vec()).unwrap();
    let numbers: Vec<&str> = text
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(numbers.len(), 1203);
    let unique: std::collections::BTreeSet<&str> = numbers.iter().copied().collect();
    assert_eq!(unique.len(), 1203, "no row twice");
    // Oldest first (the first seven share the earliest time).
    assert!(numbers[0] <= "ORD-00006", "{}", numbers[0]);
    assert!(numbers[1202] >= "ORD-01197", "{}", numbers[1202]);

    // The same as an Excel workbook: a real .xlsx, every order once, the
    // amounts as numbers.
    let res = server
        .get(&format!(
            "/api/v1/events/{event}/export_orders/?export_format=excel"
        ))
        .add_header("authorization", admin_again)
        .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(
        res.header("content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(res
        .header("content-disposition")
        .to_str()
        .unwrap()
        .ends_with(".xlsx\""));
    let mut book = zip::ZipArchive::new(std::io::Cursor::new(res.as_bytes().to_vec())).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut book.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    assert_eq!(
        sheet.matches("<row ").count(),
        1 + 1203,
        "the header and every order"
    );
    assert_eq!(sheet.matches("ORD-").count(), 1203);
    assert!(sheet.contains("<v>1150</v>"), "totals are numbers");
    assert!(sheet.contains("Número de Orden"));
}

/// The sales figures are kept as orders are paid and refunded, in the same
/// transactions: they always equal the sums over the orders (what `task
/// rebuild_sales` computes), partial refunds counted, a wholly refunded order
/// taken out, another organizer's sales never in them.
#[tokio::test]
async fn the_sales_figures_follow_payments_and_refunds_and_equal_a_rebuild() {
    use crate::support::app::TestApp;
    use sea_orm::{ConnectionTrait, Statement};
    use tuki_backend::models::{orders::record_refund, sales};
    let app = TestApp::boot().await;
    let server = app.server();
    let db = &app.ctx().db;
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
    let mut events = Vec::new();
    for auth in [&admin, &other] {
        let event: Value = post(
            "events/",
            auth,
            json!({
                "title": "Feria", "description": "d", "short_description": "s",
                "start_date": "2031-04-01T21:00:00", "end_date": "2031-04-02T02:00:00",
                "location": {"name": "Muelle", "address": "Costanera 1"}
            }),
        )
        .await
        .json();
        let event = event["id"].as_str().unwrap().to_string();
        let mut tiers = Vec::new();
        for (name, price) in [("General", 10000), ("VIP", 25000)] {
            let tier: Value = post(
                "ticket-tiers/",
                auth,
                json!({"event": event, "name": name, "price": price}),
            )
            .await
            .json();
            tiers.push(tier["id"].as_str().unwrap().to_string());
        }
        assert_eq!(
            post(&format!("events/{event}/publish/"), auth, json!({}))
                .await
                .status_code(),
            200
        );
        events.push((event, tiers));
    }
    // Sur: three orders (one of both tiers); Norte: one.
    let mut paid = Vec::new();
    for (e, lines) in [
        (0, vec![(0, 2)]),
        (0, vec![(0, 1), (1, 2)]),
        (0, vec![(1, 1)]),
        (1, vec![(0, 4)]),
    ] {
        let (event, tiers) = &events[e];
        let wanted: Vec<Value> = lines
            .iter()
            .map(|(t, q)| json!({"tier_id": tiers[*t], "quantity": q}))
            .collect();
        let r: Value = server
            .post(&format!("/api/v1/events/{event}/reserve/"))
            .json(&json!({"tiers": wanted}))
            .await
            .json();
        let o: Value = server
            .post(&format!("/api/v1/events/{event}/book/"))
            .json(&json!({"reservation_id": r["reservation_id"], "customer": {"name": "A B", "email": "a@b.cl"}}))
            .await
            .json();
        let number = o["order_number"].as_str().unwrap();
        let order = {
            use sea_orm::{ColumnTrait, QueryFilter};
            orders::Entity::find()
                .filter(orders::Column::OrderNumber.eq(number))
                .one(db)
                .await
                .unwrap()
                .unwrap()
        };
        order.confirm_paid(db, chrono::Utc::now()).await.unwrap();
        paid.push(
            orders::Entity::find_by_id(order.id)
                .one(db)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    // A partial refund on the first, the whole of the third.
    let now = chrono::Utc::now();
    assert!(record_refund(db, paid[0].id, 3000, now).await.unwrap());
    assert!(record_refund(db, paid[2].id, paid[2].total, now)
        .await
        .unwrap());

    let rows = |table: &'static str| async move {
        let sql = format!("SELECT * FROM {table} ORDER BY 1, 2, 3");
        let backend = db.get_database_backend();
        db.query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (1..=6)
                    .map(|i| r.try_get_by_index::<i64>(i).unwrap_or(-1))
                    .collect::<Vec<_>>()
            })
            .filter(|sums| sums.iter().skip(1).any(|n| *n > 0))
            .collect::<Vec<_>>()
    };
    let kept = (rows("sales_hourly").await, rows("sales_tier_hourly").await);
    sales::rebuild(db).await.unwrap();
    let rebuilt = (rows("sales_hourly").await, rows("sales_tier_hourly").await);
    assert_eq!(kept, rebuilt, "the kept sums are the orders' sums");
    assert!(!kept.0.is_empty() && !kept.1.is_empty());

    // What Sur's dashboard and analytics read: two orders, the refund.
    let (event, _) = &events[0];
    let analytics: Value = server
        .get(&format!("/api/v1/events/analytics/?event_id={event}"))
        .add_header("authorization", admin.clone())
        .await
        .json();
    let kpis = &analytics["kpis"];
    assert_eq!(kpis["totalOrders"], 2, "{analytics}");
    assert_eq!(kpis["totalSales"], 5);
    assert_eq!(kpis["totalRefunds"], json!(3000.0));
    assert_eq!(
        kpis["totalRevenue"],
        json!((paid[0].total + paid[1].total) as f64)
    );
    let tiers: Vec<(String, i64)> = analytics["categoryData"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["value"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tiers, [("General".to_string(), 3), ("VIP".to_string(), 2)]);
    let dashboard: Value = server
        .get("/api/v1/organizers/dashboard-stats/")
        .add_header("authorization", admin)
        .await
        .json();
    assert_eq!(dashboard["summary"]["total_orders"], 2, "{dashboard}");
    assert_eq!(dashboard["summary"]["total_tickets_sold"], 5);
    assert_eq!(
        dashboard["summary"]["total_revenue"],
        json!((paid[0].total + paid[1].total - 3000) as f64)
    );
    let bars: i64 = dashboard["daily_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["tickets"].as_i64().unwrap())
        .sum();
    assert_eq!(bars, 5);
    // Norte's one order is Norte's alone.
    let theirs: Value = server
        .get("/api/v1/organizers/dashboard-stats/")
        .add_header("authorization", other)
        .await
        .json();
    assert_eq!(theirs["summary"]["total_orders"], 1);
    assert_eq!(theirs["summary"]["total_tickets_sold"], 4);
}
