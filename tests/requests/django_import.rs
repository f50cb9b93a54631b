//! `task import_django` against a backtuki-shaped PostgreSQL database (its
//! tables as Django's migrations leave them, `tests/fixtures/backtuki_schema.sql`)
//! with a few thousand ordinary rows and every awkward one the mapping names
//! (`tests/fixtures/backtuki_rows.sql`): the dry run writes nothing, the import
//! reports each awkward row, the imported data serves (catalogue, a buyer's
//! Django password, a mailed QR at the door, a refund of an old payment
//! through Webpay), and a second run changes nothing. PostgreSQL only (the
//! importer reads PostgreSQL): on SQLite it says so and passes.

use base64::Engine as _;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, Statement,
};
use serde_json::{json, Value};
use tuki_backend::{
    django_import::{self, Options, Report},
    models::_entities::{
        coupons, events, order_items, orders, organizer_members, payments, ticket_tiers, tickets,
        users,
    },
};
use uuid::Uuid;

use super::checkout::boot_with_webpay;
use crate::support::webpay::FakeWebpay;

/// A Django `pbkdf2_sha256` hash (fewer iterations than Django's 600 000, so
/// the test stays quick; the iteration count is part of the hash).
fn django_hash(password: &str, salt: &str) -> String {
    let iterations = 1_000;
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    format!(
        "pbkdf2_sha256${iterations}${salt}${}",
        base64::engine::general_purpose::STANDARD.encode(out)
    )
}

const ORG_PASSWORD: &str = "clave-de-django-1";
const BUYER_PASSWORD: &str = "clave-de-comprador-1";

/// A backtuki database of its own on the test's PostgreSQL server, dropped
/// when the test ends.
pub struct Backtuki {
    admin_url: String,
    name: String,
    pub url: String,
}

impl Backtuki {
    pub async fn create(app_uri: &str) -> Self {
        let mut admin = url::Url::parse(app_uri).unwrap();
        admin.set_path("/postgres");
        let name = format!("backtuki_{}", Uuid::new_v4().simple());
        let conn = Database::connect(admin.as_str()).await.unwrap();
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        conn.close().await.ok();
        let mut url = admin.clone();
        url.set_path(&format!("/{name}"));
        let db = Database::connect(url.as_str()).await.unwrap();
        db.execute_unprepared(include_str!("../fixtures/backtuki_schema.sql"))
            .await
            .unwrap();
        let rows = include_str!("../fixtures/backtuki_rows.sql")
            .replace("{ORG_HASH}", &django_hash(ORG_PASSWORD, "saltorg1234"))
            .replace("{BUYER_HASH}", &django_hash(BUYER_PASSWORD, "saltbuyer123"))
            .replace("{ADMIN_HASH}", &django_hash("clave-admin-1", "saltadmin12"));
        db.execute_unprepared(&rows).await.unwrap();
        db.close().await.ok();
        Self {
            admin_url: admin.to_string(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for Backtuki {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                if let Ok(conn) = Database::connect(&admin_url).await {
                    let _ = conn
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join()
        .ok();
    }
}

fn rules(report: &Report, table: &str, rule: &str) -> Vec<String> {
    report
        .with_rule(table, rule)
        .iter()
        .map(|f| f.source_id.clone())
        .collect()
}

fn id(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Everything a run could change, summed: equal before and after a run that
/// changes nothing.
async fn state(db: &DatabaseConnection) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM users",
        "SELECT COUNT(*) FROM organizer_members",
        "SELECT COUNT(*) FROM events",
        "SELECT COUNT(*) FROM ticket_tiers",
        "SELECT CAST(COALESCE(SUM(sold), 0) AS BIGINT) FROM ticket_tiers",
        "SELECT CAST(COALESCE(SUM(capacity), 0) AS BIGINT) FROM ticket_tiers",
        "SELECT COUNT(*) FROM orders",
        "SELECT CAST(COALESCE(SUM(total + refunded_amount), 0) AS BIGINT) FROM orders",
        "SELECT COUNT(*) FROM order_items",
        "SELECT COUNT(*) FROM tickets WHERE status = 'used'",
        "SELECT COUNT(*) FROM tickets",
        "SELECT COUNT(*) FROM payments",
        "SELECT CAST(COALESCE(SUM(used_count), 0) AS BIGINT) FROM coupons",
        "SELECT CAST(COALESCE(SUM(orders), 0) AS BIGINT) FROM sales_hourly",
    ] {
        out.push(scalar(db, sql).await);
    }
    out
}

#[allow(clippy::too_many_lines)]
#[tokio::test]
async fn backtukis_database_imports_serves_and_a_second_run_changes_nothing() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let uri = app.ctx().config.database.uri.clone();
    if !uri.starts_with("postgres") {
        eprintln!("skipped: the import reads PostgreSQL (DATABASE_URL=postgres://…)");
        return;
    }
    let backtuki = Backtuki::create(&uri).await;
    let source = django_import::connect_source(&backtuki.url).await.unwrap();
    let db = &app.ctx().db;

    // The dry run counts everything and writes nothing.
    let dry = django_import::run(db, &source, Options { dry_run: true })
        .await
        .unwrap();
    assert!(dry.written() > 8_000, "{}", dry.render());
    assert_eq!(users::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(orders::Entity::find().count(db).await.unwrap(), 0);
    assert!(dry.render().contains("--dry-run (nothing was written)"));

    let report = django_import::run(db, &source, Options::default())
        .await
        .unwrap();
    let rendered = report.render();
    assert_eq!(report.written(), dry.written(), "{rendered}");
    let count = |table: &str| {
        let t = &report.tables[table];
        (t.read, t.written, t.skipped_total())
    };
    assert_eq!(count("users"), (1_007, 1_006, 1), "{rendered}");
    assert_eq!(count("organizers"), (3, 3, 0));
    assert_eq!(count("organizer_members"), (3, 2, 1));
    assert_eq!(count("events"), (26, 26, 0));
    assert_eq!(count("ticket_tiers"), (44, 43, 1));
    assert_eq!(count("coupons"), (5, 5, 0));
    assert_eq!(count("orders"), (2_012, 2_007, 5), "{rendered}");
    assert_eq!(count("tickets"), (4_007, 4_007, 0));
    assert_eq!(count("payments"), (2_008, 2_006, 2));

    // Each awkward row has its line.
    assert_eq!(rules(&report, "users", "email_case_duplicate"), ["3"]);
    assert_eq!(rules(&report, "users", "password_unverifiable"), ["6"]);
    assert_eq!(rules(&report, "users", "superuser"), ["1"]);
    assert_eq!(
        rules(&report, "organizers", "status_mapped"),
        ["a0000000-0000-0000-0000-000000000003"]
    );
    assert_eq!(
        rules(&report, "organizer_members", "member_duplicate"),
        ["a1000000-0000-0000-0000-000000000002"]
    );
    assert_eq!(rules(&report, "events", "status_mapped").len(), 1);
    assert_eq!(rules(&report, "events", "visibility_mapped").len(), 1);
    assert_eq!(
        rules(&report, "ticket_tiers", "negative_price"),
        ["c0000000-0000-0000-0000-000000000002"]
    );
    assert_eq!(
        rules(&report, "ticket_tiers", "sold_over_capacity"),
        ["c0000000-0000-0000-0000-000000000001"]
    );
    assert_eq!(
        rules(&report, "ticket_tiers", "complimentary_tier").len(),
        1
    );
    assert_eq!(
        rules(&report, "ticket_categories", "min_below_one").len(),
        1
    );
    assert_eq!(
        rules(&report, "coupons", "code_upper_case"),
        ["e0000000-0000-0000-0000-000000000001"]
    );
    assert_eq!(
        rules(&report, "coupons", "code_case_kept"),
        ["e0000000-0000-0000-0000-000000000004"],
        "'PROMO' keeps its code; 'promo' cannot take it"
    );
    assert_eq!(rules(&report, "coupons", "value_out_of_range").len(), 1);
    assert_eq!(rules(&report, "coupons", "events_dropped").len(), 1);
    assert_eq!(rules(&report, "coupons", "tiers_not_applied").len(), 1);
    for (rule, order) in [
        ("sandbox", "d0000000-0000-0000-0000-000000000005"),
        ("not_an_event_order", "d0000000-0000-0000-0000-000000000006"),
        (
            "order_without_lines",
            "d0000000-0000-0000-0000-000000000007",
        ),
        ("money_inconsistent", "d0000000-0000-0000-0000-000000000008"),
        ("tier_skipped", "d0000000-0000-0000-0000-000000000010"),
        ("partially_refunded", "d0000000-0000-0000-0000-000000000002"),
        (
            "refund_amount_missing",
            "d0000000-0000-0000-0000-000000000003",
        ),
    ] {
        assert_eq!(
            rules(&report, "orders", rule),
            [order],
            "{rule}: {rendered}"
        );
    }
    assert_eq!(rules(&report, "payments", "never_sent").len(), 2);
    assert_eq!(
        rules(&report, "order_items", "parent_skipped").len(),
        3,
        "the lines of the skipped orders: {rendered}"
    );
    assert!(rendered.contains("orders"), "{rendered}");

    // What was written follows the rules.
    let order = |n: &'static str| async move {
        orders::Entity::find()
            .filter(orders::Column::OrderNumber.eq(n))
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };
    let coupon_order = order("ORD-COUPON01").await;
    assert_eq!(
        (
            coupon_order.subtotal,
            coupon_order.service_fee,
            coupon_order.discount,
            coupon_order.total
        ),
        (9_000, 1_350, 1_000, 10_350)
    );
    assert_eq!(coupon_order.status, "paid");
    assert!(coupon_order.confirmation_sent);
    assert_eq!(coupon_order.coupon_code, "VERANO");
    assert_eq!(coupon_order.user_id, Some(django_import::user_id_of(7)));
    let line = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(coupon_order.id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((line.unit_price, line.discount), (10_000, 1_000));
    let partial = order("ORD-PARTIAL2").await;
    assert_eq!(
        (partial.status.as_str(), partial.refunded_amount),
        ("partially_refunded", 5_000)
    );
    assert_eq!(
        partial.user_id,
        Some(django_import::user_id_of(4)),
        "the merged account"
    );
    assert_eq!(order("ORD-REFUND03").await.status, "refunded");
    assert_eq!(order("ORD-PENDING4").await.status, "expired");
    assert_eq!(order("ORD-PROCES11").await.status, "expired");
    let paid_without_pending = orders::Entity::find()
        .filter(orders::Column::Status.eq("paid"))
        .filter(orders::Column::ConfirmationSent.eq(false))
        .count(db)
        .await
        .unwrap();
    assert_eq!(paid_without_pending, 0, "no historic buyer is mailed again");

    let tier = |s: &'static str| async move {
        ticket_tiers::Entity::find_by_id(id(s))
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };
    let last = tier("c0000000-0000-0000-0000-000000000001").await;
    assert_eq!(
        (last.capacity, last.sold),
        (Some(2), 2),
        "sold out at what was sold"
    );
    let vip = tier("c0000000-0000-0000-0000-000000000004").await;
    assert_eq!(
        vip.sold, 2,
        "the coupon order and the partially refunded one"
    );
    let courtesy = tier("c0000000-0000-0000-0000-000000000003").await;
    assert!(!courtesy.is_public && courtesy.capacity.is_none());
    let general: i64 = scalar(
        db,
        "SELECT CAST(SUM(sold) AS BIGINT) FROM ticket_tiers WHERE name = 'General'",
    )
    .await;
    assert_eq!(general, 4_000);

    let ticket = |code: &'static str| async move {
        tickets::Entity::find()
            .filter(tickets::Column::Code.eq(code))
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };
    let used = ticket("TUKI-USED0009").await;
    assert_eq!(used.status, "used");
    assert_eq!(used.used_by, Some(django_import::user_id_of(2)));
    assert_eq!(ticket("TUKI-OUT00009").await.status, "valid");
    assert_eq!(
        ticket("TUKI-PART0002").await.status,
        "used",
        "scanned at the door before the refund"
    );
    assert_eq!(ticket("TUKI-PART0022").await.status, "cancelled");
    let payment = |token: &'static str| async move {
        payments::Entity::find()
            .filter(payments::Column::Token.eq(token))
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };
    let coupon_payment = payment("tok-coupon-order-0001").await;
    assert_eq!(coupon_payment.status, "authorized");
    assert_eq!(
        (
            coupon_payment.authorization_code.as_str(),
            coupon_payment.card_last4.as_str()
        ),
        ("777", "4242")
    );
    assert_eq!(payment("tok-failed-0009").await.status, "rejected");
    assert_eq!(payment("tok-processing-0011").await.status, "timeout");
    let verano = coupons::Entity::find()
        .filter(coupons::Column::Code.eq("VERANO"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((verano.used_count, verano.usage_limit), (1, None));
    let draft = events::Entity::find_by_id(id("b0000000-0000-0000-0000-000000000001"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(draft.dates_pending);
    assert!(
        scalar(
            db,
            "SELECT CAST(COALESCE(SUM(orders), 0) AS BIGINT) FROM sales_hourly"
        )
        .await
            > 2_000,
        "the sales figures were summed"
    );

    // The imported data serves: the catalogue…
    let server = app.server();
    let list = server.get("/api/v1/events/public_list/").await;
    assert_eq!(list.status_code(), 200);
    let list: Value = list.json();
    assert_eq!(
        list["count"], 22,
        "20 concerts, the festival, the onboarding organizer's: {list}"
    );
    let titles = list["results"].to_string();
    for shown in ["Concierto 3", "Festival Especial", "Del onboarding"] {
        assert!(titles.contains(shown), "{shown} in {titles}");
    }
    for hidden in ["Borrado", "Con clave", "Borrador"] {
        assert!(!titles.contains(hidden), "{hidden} not in the list");
    }
    let detail = server.get("/api/v1/events/festival-especial/").await;
    assert_eq!(detail.status_code(), 200, "{}", detail.text());
    assert!(
        detail.text().contains("event_images/abc.jpg"),
        "{}",
        detail.text()
    );

    // …a buyer signs in with the password they had in Django…
    let sign_in = |email: &'static str, password: &'static str| {
        let server = &server;
        async move {
            let res = server
                .post("/api/v1/auth/token/")
                .json(&json!({"email": email, "password": password}))
                .await;
            assert_eq!(res.status_code(), 200, "{email}: {}", res.text());
            format!("Bearer {}", res.json::<Value>()["access"].as_str().unwrap())
        }
    };
    sign_in("comprador@correo.cl", BUYER_PASSWORD).await;
    let buyer = users::Entity::find_by_id(django_import::user_id_of(7))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        buyer.password.starts_with("$argon2id$"),
        "upgraded on sign-in"
    );
    let wrong = server
        .post("/api/v1/auth/token/")
        .json(&json!({"email": "comprador@correo.cl", "password": "otra"}))
        .await;
    assert_eq!(wrong.status_code(), 401);

    // …the organizer's door takes a QR mailed by backtuki…
    let door = sign_in("org@andes.cl", ORG_PASSWORD).await;
    let post = |path: String, body: Value| {
        let server = &server;
        let door = door.clone();
        async move {
            server
                .post(&format!("/api/v1/{path}"))
                .add_header("authorization", door)
                .json(&body)
                .await
        }
    };
    let res = post(
        "validation/validator/session/start/".into(),
        json!({"event_id": "b0000000-0000-0000-0000-000000000006", "validator_name": "Puerta"}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let session = res.json::<Value>()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let res: Value = post(
        "validation/validator/ticket/validate/".into(),
        json!({"ticket_number": "https://tuki.cl/tickets/TUKI-C0UP0N01", "session_id": session}),
    )
    .await
    .json();
    assert_eq!(res["valid"], true, "{res}");
    let res = post(
        "validation/validator/ticket/d2000000-0000-0000-0000-000000000001/checkin/".into(),
        json!({"session_id": session}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(ticket("TUKI-C0UP0N01").await.status, "used");
    let again: Value = post(
        "validation/validator/ticket/validate/".into(),
        json!({"ticket_number": "https://tuki.cl/tickets/TUKI-USED0009", "session_id": session}),
    )
    .await
    .json();
    assert_ne!(again["valid"], true, "checked in in backtuki: {again}");

    // …and an order paid through backtuki is refunded through Webpay.
    let first: Uuid = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(md5('order1') AS uuid) AS id",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    let ordinary = orders::Entity::find_by_id(first)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let old = payments::Entity::find()
        .filter(payments::Column::OrderId.eq(ordinary.id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    fake.committed_elsewhere(&old.token, &old.buy_order, old.amount);
    let res = server
        .post(&format!("/api/v1/orders/{}/refund/", ordinary.order_number))
        .add_header("authorization", door.clone())
        .json(&json!({}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(fake.refunds(), 1);
    assert_eq!(fake.tx(&old.token).refunded, 23_000);
    assert_eq!(order_status(db, ordinary.id).await, "refunded");

    // A second run writes nothing and undoes nothing done since: not even
    // a membership the organizer removed here.
    let removed =
        organizer_members::Entity::delete_by_id(id("a1000000-0000-0000-0000-000000000003"))
            .exec(db)
            .await
            .unwrap();
    assert_eq!(removed.rows_affected, 1);
    let before = state(db).await;
    let again = django_import::run(db, &source, Options::default())
        .await
        .unwrap();
    assert_eq!(again.written(), 0, "{}", again.render());
    assert_eq!(again.tables["orders"].present, 2_007);
    assert!(
        again
            .findings
            .iter()
            .all(|f| f.action == django_import::report::Action::Skip),
        "only the rows never imported are reported again: {}",
        again.render()
    );
    assert_eq!(
        again.tables["orders"].skipped_total(),
        report.tables["orders"].skipped_total()
    );
    assert_eq!(state(db).await, before);
    assert_eq!(order_status(db, ordinary.id).await, "refunded");
    assert_eq!(ticket("TUKI-C0UP0N01").await.status, "used");
}

async fn order_status(db: &DatabaseConnection, id: Uuid) -> String {
    orders::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .status
}
