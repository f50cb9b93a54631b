//! What Celery beat did, as tasks (issue 15): abandoned orders expire and
//! give their hold back; the day before an event each paid order's buyer
//! gets one reminder, even with two runs at once.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use tuki_backend::{
    mailers::event_reminder,
    models::_entities::{events, orders, reservations, ticket_tiers},
    tasks::expire_abandoned_orders,
};
use uuid::Uuid;

use super::{
    checkout::{book, on_sale, on_sale_at, reserve},
    organizer_signup::mailing_app,
};
use crate::support::{app::TestApp, tools::SmtpSink};

async fn order_by_number(db: &sea_orm::DatabaseConnection, number: &Value) -> orders::Model {
    orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number.as_str().unwrap()))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn abandoned_orders_expire_and_give_their_seats_back() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let server = app.server();
    let (event, tiers) = on_sale(db, "abandono", vec![(10_000, Some(10), 0)]).await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let (status, r) = reserve(&server, event, &[(tiers[0], 2)]).await;
        assert_eq!(status, 201, "{r}");
        numbers.push(
            book(&server, event, r["reservation_id"].as_str().unwrap()).await["order_number"]
                .clone(),
        );
    }
    let held = |t: ticket_tiers::Model| t.reserved;
    let tier = || async {
        ticket_tiers::Entity::find_by_id(tiers[0])
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(held(tier().await), 6);
    // Nothing is abandoned yet: the holds are live and the orders new.
    let now = Utc::now();
    assert_eq!(expire_abandoned_orders::expire(db, now).await.unwrap(), 0);
    // Two hours later the first two holds are over; the third was paid
    // for meanwhile (authorized at Webpay, not yet settled here): it is left
    // to reconciliation, as is one whose commit is under way.
    let later = now + Duration::hours(2);
    let third = order_by_number(db, &numbers[2]).await;
    let at = third.created_at;
    tuki_backend::models::_entities::payments::ActiveModel {
        id: Set(Uuid::new_v4()),
        order_id: Set(third.id),
        token: Set("tok-en-curso".into()),
        buy_order: Set(third.order_number.clone()),
        amount: Set(third.total),
        status: Set("authorized".into()),
        response_code: Set(None),
        authorization_code: Set(String::new()),
        card_last4: Set(String::new()),
        payment_type_code: Set(String::new()),
        refunded_amount: Set(0),
        detail: Set(String::new()),
        refund_in_flight: Set(None),
        refund_started_at: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await
    .unwrap();
    let (a, b) = tokio::join!(
        expire_abandoned_orders::expire(db, later),
        expire_abandoned_orders::expire(db, later)
    );
    let expired = a.unwrap() + b.unwrap();
    assert_eq!(expired, 2, "each abandoned order once");
    for (n, number) in numbers.iter().enumerate() {
        let o = order_by_number(db, number).await;
        let expected = if n == 2 { "pending" } else { "expired" };
        assert_eq!(o.status, expected, "order {n}");
        if o.status == "expired" {
            let r = reservations::Entity::find_by_id(o.reservation_id.unwrap())
                .one(db)
                .await
                .unwrap()
                .unwrap();
            assert_ne!(r.status, "active");
            assert_ne!(r.status, "ordered");
        }
    }
    assert_eq!(held(tier().await), 2, "the one left pending still holds");
    // Again: nothing more, also with the payment's commit under way.
    assert_eq!(expire_abandoned_orders::expire(db, later).await.unwrap(), 0);
    tuki_backend::models::_entities::payments::Entity::update_many()
        .col_expr(
            tuki_backend::models::_entities::payments::Column::Status,
            sea_orm::sea_query::Expr::value("committing"),
        )
        .filter(tuki_backend::models::_entities::payments::Column::OrderId.eq(third.id))
        .exec(db)
        .await
        .unwrap();
    assert_eq!(expire_abandoned_orders::expire(db, later).await.unwrap(), 0);
    assert_eq!(order_by_number(db, &numbers[2]).await.status, "pending");
}

#[tokio::test]
async fn each_paid_order_gets_one_reminder_the_day_before_its_event() {
    let sink = SmtpSink::start();
    let media = tempfile::tempdir().unwrap();
    let app = mailing_app(&sink, media.path()).await;
    let db = &app.ctx().db;
    let server = app.server();
    let mut paid = Vec::new();
    let venue = crate::support::catalogue::place(db).await;
    for (slug, hours) in [("manana", 12), ("semana", 24 * 6)] {
        let (event, tiers) = on_sale_at(db, &venue, slug, vec![(5_000, Some(10), 0)]).await;
        let start = (Utc::now() + Duration::hours(hours)).fixed_offset();
        let row = events::Entity::find_by_id(event)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mut row: events::ActiveModel = row.into();
        row.start_date = Set(start);
        row.end_date = Set(start + Duration::hours(4));
        row.update(db).await.unwrap();
        for _ in 0..2 {
            let (_, r) = reserve(&server, event, &[(tiers[0], 1)]).await;
            let o = book(&server, event, r["reservation_id"].as_str().unwrap()).await;
            let order = order_by_number(db, &o["order_number"]).await;
            // The first order of tomorrow's event stays unpaid: no
            // reminder for it.
            if !paid.is_empty() {
                order.confirm_paid(db, Utc::now()).await.unwrap();
            }
            paid.push(order);
        }
    }
    let before = sink.messages().len();
    let now = Utc::now();
    let (a, b) = tokio::join!(
        event_reminder::send_due(app.ctx(), now),
        event_reminder::send_due(app.ctx(), now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.sent + b.sent, a.failed + b.failed),
        (1, 0),
        "one reminder, once"
    );
    let mails: Vec<Value> = sink.messages().into_iter().skip(before).collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let subject = mails[0]["subject"].as_str().unwrap();
    assert!(subject.starts_with("Mañana: Festival"), "{subject}");
    assert_eq!(mails[0]["rcpt_tos"], serde_json::json!(["ana@example.cl"]));
    assert_eq!(
        event_reminder::send_due(app.ctx(), now).await.unwrap().sent,
        0,
        "never twice"
    );
}

/// Webpay said yes and the request that was paying the order failed before
/// the order was paid (a crash, a database error): the abandoned-order
/// clean-up leaves it, and `reconcile_payments` pays it and issues its
/// tickets, once, with no refund.
#[tokio::test]
async fn an_authorized_payment_left_with_a_pending_order_is_settled_not_lost() {
    use sea_orm::sea_query::Expr;
    use tuki_backend::models::_entities::{payments, tickets};
    let fake = crate::support::webpay::FakeWebpay::start().await;
    let app = super::checkout::boot_with_webpay(&fake).await;
    let db = &app.ctx().db;
    let server = app.server();
    let (event, tiers) = on_sale(db, "autorizado", vec![(10_000, Some(5), 0)]).await;
    let (number, _, token) =
        super::checkout::pending_payment(&server, event, &[(tiers[0], 2)]).await;
    fake.authorize_without_us(&token);
    let order = order_by_number(db, &Value::String(number.clone())).await;
    let five_ago = (Utc::now() - Duration::minutes(5)).fixed_offset();
    payments::Entity::update_many()
        .col_expr(payments::Column::Status, Expr::value("authorized"))
        .col_expr(payments::Column::UpdatedAt, Expr::value(five_ago))
        .filter(payments::Column::OrderId.eq(order.id))
        .exec(db)
        .await
        .unwrap();
    // Hours later: not abandoned.
    let later = Utc::now() + Duration::hours(3);
    assert_eq!(expire_abandoned_orders::expire(db, later).await.unwrap(), 0);
    assert_eq!(
        order_by_number(db, &Value::String(number.clone()))
            .await
            .status,
        "pending"
    );
    let webpay = tuki_backend::platform::context::webpay(app.ctx())
        .await
        .unwrap()
        .unwrap();
    for _ in 0..2 {
        tuki_backend::payments::flow::reconcile(db, &webpay)
            .await
            .unwrap();
        let order = order_by_number(db, &Value::String(number.clone())).await;
        assert_eq!(order.status, "paid");
        let issued = tickets::Entity::find()
            .filter(tickets::Column::OrderId.eq(order.id))
            .all(db)
            .await
            .unwrap();
        assert_eq!(issued.len(), 2, "tickets issued once");
        assert_eq!(fake.refunds(), 0, "nothing given back");
    }
}
