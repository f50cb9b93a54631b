//! The rows `task import_django` reads from backtuki's database, one struct a
//! table, with only the columns that have a target here. Money (`numeric`) is
//! read as text and converted exactly ([`super::money::pesos`]); dates and
//! times of ticket categories as the text this schema stores.

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    FromQueryResult, IsolationLevel, Statement, TransactionTrait,
};
use uuid::Uuid;

pub type Time = sea_orm::prelude::DateTimeWithTimeZone;

/// The tables the import reads: a database without one of them is not
/// backtuki's (or is older than the migrations this import knows).
pub const TABLES: [&str; 13] = [
    "users_user",
    "organizers_organizer",
    "organizers_organizeruser",
    "events_eventcategory",
    "events_location",
    "events_event",
    "events_eventimage",
    "events_ticketcategory",
    "events_tickettier",
    "events_coupon",
    "events_order",
    "events_orderitem",
    "events_ticket",
];

/// `payment_processor_payment` may be missing (a backtuki without the
/// payment processor app): its payments are then not imported.
pub const PAYMENTS_TABLE: &str = "payment_processor_payment";

#[derive(Debug, Clone, FromQueryResult)]
pub struct User {
    pub id: i64,
    pub password: String,
    pub last_login: Option<Time>,
    pub is_superuser: bool,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub is_staff: bool,
    pub is_active: bool,
    pub date_joined: Time,
    pub email: String,
    pub phone_number: Option<String>,
    pub is_organizer: bool,
    pub is_validator: bool,
    pub last_password_change: Option<Time>,
    pub is_guest: bool,
    pub profile_completed_at: Option<Time>,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Organizer {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub logo: Option<String>,
    pub website: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub organization_size: String,
    pub status: String,
    pub onboarding_completed: bool,
    pub is_temporary: bool,
    pub email_validated: bool,
    pub representative_name: String,
    pub representative_email: String,
    pub representative_phone: String,
    pub default_service_fee_rate: Option<String>,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Member {
    pub id: Uuid,
    pub user_id: i64,
    pub organizer_id: Uuid,
    pub is_admin: bool,
    pub can_manage_events: bool,
    pub can_view_reports: bool,
    pub can_manage_settings: bool,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Category {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Location {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Event {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    pub description: String,
    pub short_description: String,
    pub status: String,
    pub visibility: String,
    pub r#type: String,
    pub start_date: Option<Time>,
    pub end_date: Option<Time>,
    pub featured: bool,
    pub tags: String,
    pub age_restriction: String,
    pub dresscode: String,
    pub accessibility: String,
    pub parking: String,
    pub max_tickets_per_purchase: i32,
    pub ticket_sales_start: Option<Time>,
    pub ticket_sales_end: Option<Time>,
    pub category_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    pub organizer_id: Uuid,
    pub views_count: i32,
    pub deleted_at: Option<Time>,
    pub service_fee_rate: Option<String>,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Image {
    pub id: Uuid,
    pub event_id: Uuid,
    pub image: String,
    pub alt: String,
    pub kind: String,
    pub position: i32,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct TicketCategory {
    pub id: Uuid,
    pub event_id: Uuid,
    pub name: String,
    pub description: String,
    pub capacity: Option<i32>,
    pub status: String,
    pub visibility: String,
    pub color: String,
    pub position: i32,
    pub max_per_purchase: i32,
    pub min_per_purchase: i32,
    pub sale_start_date: Option<String>,
    pub sale_end_date: Option<String>,
    pub sale_start_time: Option<String>,
    pub sale_end_time: Option<String>,
    pub access_start_date: Option<String>,
    pub access_end_date: Option<String>,
    pub access_start_time: Option<String>,
    pub access_end_time: Option<String>,
    pub requires_approval: bool,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Tier {
    pub id: Uuid,
    pub event_id: Uuid,
    pub category_id: Option<Uuid>,
    pub name: String,
    pub tier_type: String,
    pub description: String,
    pub benefits: String,
    pub price: String,
    pub currency: String,
    pub capacity: Option<i32>,
    pub available: Option<i32>,
    pub is_public: bool,
    pub is_active: bool,
    pub min_per_order: i32,
    pub max_per_order: i32,
    pub available_from: Option<Time>,
    pub position: i32,
    pub is_highlighted: bool,
    pub service_fee_rate: Option<String>,
    pub is_complimentary: bool,
    pub max_quantity: Option<i32>,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Coupon {
    pub id: Uuid,
    pub organizer_id: Uuid,
    pub code: String,
    pub description: Option<String>,
    pub discount_type: String,
    pub discount_value: String,
    pub min_purchase: Option<String>,
    pub max_discount: Option<String>,
    pub start_date: Option<Time>,
    pub end_date: Option<Time>,
    pub usage_limit: Option<i32>,
    pub status: String,
    pub is_active: bool,
    pub events_list: Option<String>,
    pub tier_links: i64,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Order {
    pub id: Uuid,
    pub order_number: String,
    pub order_kind: String,
    pub event_id: Option<Uuid>,
    pub user_id: Option<i64>,
    pub status: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub subtotal: String,
    pub service_fee: String,
    pub discount: String,
    pub total: String,
    pub currency: String,
    pub subtotal_effective: Option<String>,
    pub service_fee_effective: Option<String>,
    pub refunded_amount: String,
    pub coupon_id: Option<Uuid>,
    pub access_token: Option<String>,
    pub payment_date: Option<Time>,
    pub is_sandbox: bool,
    pub exclude_from_revenue: bool,
    pub deleted_at: Option<Time>,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Item {
    pub id: Uuid,
    pub order_id: Uuid,
    pub tier_id: Uuid,
    pub quantity: i32,
    pub unit_price: String,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Ticket {
    pub id: Uuid,
    pub order_item_id: Uuid,
    pub ticket_number: String,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
    pub check_in_status: String,
    pub checked_in: bool,
    pub check_in_time: Option<Time>,
    pub check_in_by_id: Option<i64>,
    pub created_at: Time,
    pub updated_at: Time,
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct Payment {
    pub id: Uuid,
    pub order_id: Uuid,
    pub amount: String,
    pub currency: String,
    pub status: String,
    pub token: String,
    pub buy_order: String,
    pub completed_at: Option<Time>,
    pub metadata: String,
    pub created_at: Time,
    pub updated_at: Time,
}

/// Everything the import reads, in one snapshot of the source.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub users: Vec<User>,
    pub organizers: Vec<Organizer>,
    pub members: Vec<Member>,
    pub categories: Vec<Category>,
    pub locations: Vec<Location>,
    pub events: Vec<Event>,
    pub images: Vec<Image>,
    pub ticket_categories: Vec<TicketCategory>,
    pub tiers: Vec<Tier>,
    pub coupons: Vec<Coupon>,
    pub orders: Vec<Order>,
    pub items: Vec<Item>,
    pub tickets: Vec<Ticket>,
    pub payments: Vec<Payment>,
}

const TIME_COLS: &str = "created_at, updated_at";

async fn all<T: FromQueryResult>(db: &DatabaseTransaction, sql: &str) -> Result<Vec<T>, DbErr> {
    T::find_by_statement(Statement::from_string(DbBackend::Postgres, sql))
        .all(db)
        .await
}

/// The tables of [`TABLES`] the source lacks.
///
/// # Errors
/// When the source cannot be queried.
pub async fn missing_tables(db: &DatabaseConnection) -> Result<Vec<&'static str>, DbErr> {
    let mut missing = Vec::new();
    for table in TABLES.iter().chain(std::iter::once(&PAYMENTS_TABLE)) {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT to_regclass($1)::text AS found",
                [(*table).into()],
            ))
            .await?;
        let found: Option<String> = match row {
            Some(row) => row.try_get("", "found")?,
            None => None,
        };
        if found.is_none() {
            missing.push(*table);
        }
    }
    Ok(missing)
}

/// Reads every table, in one repeatable-read transaction so that the rows
/// agree with each other even if the source is still being written.
///
/// # Errors
/// When a query fails (a column this import expects is missing, for one).
#[allow(clippy::too_many_lines)]
pub async fn read(db: &DatabaseConnection, with_payments: bool) -> Result<Snapshot, DbErr> {
    let txn = db
        .begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?;
    let snapshot = read_all(&txn, with_payments).await;
    txn.rollback().await?;
    snapshot
}

#[allow(clippy::too_many_lines)]
async fn read_all(db: &DatabaseTransaction, with_payments: bool) -> Result<Snapshot, DbErr> {
    let users = all(
        db,
        &format!(
            "SELECT id, password, last_login, is_superuser, username, first_name, last_name, \
             is_staff, is_active, date_joined, email, phone_number, is_organizer, is_validator, \
             last_password_change, is_guest, profile_completed_at, {TIME_COLS} \
             FROM users_user ORDER BY id"
        ),
    )
    .await?;
    let organizers = all(
        db,
        &format!(
            "SELECT id, name, slug, description, logo, website, contact_email, contact_phone, \
             address, city, country, organization_size, status, onboarding_completed, \
             is_temporary, email_validated, representative_name, representative_email, \
             representative_phone, default_service_fee_rate::text AS default_service_fee_rate, \
             {TIME_COLS} FROM organizers_organizer ORDER BY created_at, id"
        ),
    )
    .await?;
    let members = all(
        db,
        &format!(
            "SELECT id, user_id, organizer_id, is_admin, can_manage_events, can_view_reports, \
             can_manage_settings, {TIME_COLS} FROM organizers_organizeruser ORDER BY created_at, id"
        ),
    )
    .await?;
    let categories = all(
        db,
        &format!(
            "SELECT id, name, slug, description, {TIME_COLS} FROM events_eventcategory \
             ORDER BY created_at, id"
        ),
    )
    .await?;
    let locations = all(
        db,
        &format!(
            "SELECT id, name, address, {TIME_COLS} FROM events_location ORDER BY created_at, id"
        ),
    )
    .await?;
    let events = all(
        db,
        &format!(
            "SELECT id, title, slug, description, short_description, status, visibility, type, \
             start_date, end_date, featured, tags, age_restriction, dresscode, accessibility, \
             parking, max_tickets_per_purchase, ticket_sales_start, ticket_sales_end, \
             category_id, location_id, organizer_id, views_count, deleted_at, \
             service_fee_rate::text AS service_fee_rate, {TIME_COLS} \
             FROM events_event ORDER BY created_at, id"
        ),
    )
    .await?;
    let images = all(
        db,
        &format!(
            "SELECT id, event_id, image, alt, type AS kind, \"order\" AS position, {TIME_COLS} \
             FROM events_eventimage ORDER BY created_at, id"
        ),
    )
    .await?;
    let ticket_categories = all(
        db,
        &format!(
            "SELECT id, event_id, name, description, capacity, status, visibility, color, \
             \"order\" AS position, max_per_purchase, min_per_purchase, \
             to_char(sale_start_date, 'YYYY-MM-DD') AS sale_start_date, \
             to_char(sale_end_date, 'YYYY-MM-DD') AS sale_end_date, \
             to_char(sale_start_time, 'HH24:MI:SS') AS sale_start_time, \
             to_char(sale_end_time, 'HH24:MI:SS') AS sale_end_time, \
             to_char(access_start_date, 'YYYY-MM-DD') AS access_start_date, \
             to_char(access_end_date, 'YYYY-MM-DD') AS access_end_date, \
             to_char(access_start_time, 'HH24:MI:SS') AS access_start_time, \
             to_char(access_end_time, 'HH24:MI:SS') AS access_end_time, \
             requires_approval, {TIME_COLS} FROM events_ticketcategory ORDER BY created_at, id"
        ),
    )
    .await?;
    let tiers = all(
        db,
        &format!(
            "SELECT id, event_id, category_id, name, type AS tier_type, description, benefits, \
             price::text AS price, currency, capacity, available, is_public, is_active, \
             min_per_order, max_per_order, available_from, \"order\" AS position, is_highlighted, \
             service_fee_rate::text AS service_fee_rate, \
             (is_complimentary OR complimentary_tier_for_event_id IS NOT NULL) AS is_complimentary, \
             max_quantity, {TIME_COLS} FROM events_tickettier ORDER BY created_at, id"
        ),
    )
    .await?;
    let coupons = all(
        db,
        "SELECT c.id, c.organizer_id, c.code, c.description, c.discount_type, \
             c.discount_value::text AS discount_value, c.min_purchase::text AS min_purchase, \
             c.max_discount::text AS max_discount, c.start_date, c.end_date, c.usage_limit, \
             c.status, c.is_active, c.events_list::text AS events_list, \
             (SELECT COUNT(*) FROM events_coupon_ticket_tiers t WHERE t.coupon_id = c.id) AS tier_links, \
             c.created_at, c.updated_at FROM events_coupon c ORDER BY c.created_at, c.id",
    )
    .await?;
    let orders = all(
        db,
        &format!(
            "SELECT id, order_number, order_kind, event_id, user_id, status, email, first_name, \
             last_name, phone, subtotal::text AS subtotal, service_fee::text AS service_fee, \
             discount::text AS discount, total::text AS total, currency, \
             subtotal_effective::text AS subtotal_effective, \
             service_fee_effective::text AS service_fee_effective, \
             refunded_amount::text AS refunded_amount, coupon_id, access_token, payment_date, \
             is_sandbox, exclude_from_revenue, deleted_at, {TIME_COLS} \
             FROM events_order ORDER BY created_at, id"
        ),
    )
    .await?;
    let items = all(
        db,
        &format!(
            "SELECT id, order_id, ticket_tier_id AS tier_id, quantity, \
             unit_price::text AS unit_price, {TIME_COLS} FROM events_orderitem \
             ORDER BY created_at, id"
        ),
    )
    .await?;
    let tickets = all(
        db,
        &format!(
            "SELECT id, order_item_id, ticket_number, first_name, last_name, status, \
             check_in_status, checked_in, check_in_time, check_in_by_id, {TIME_COLS} \
             FROM events_ticket ORDER BY created_at, id"
        ),
    )
    .await?;
    let payments = if with_payments {
        all(
            db,
            &format!(
                "SELECT id, order_id, amount::text AS amount, currency, status, token, buy_order, \
                 completed_at, metadata::text AS metadata, {TIME_COLS} \
                 FROM payment_processor_payment ORDER BY created_at, id"
            ),
        )
        .await?
    } else {
        Vec::new()
    };
    Ok(Snapshot {
        users,
        organizers,
        members,
        categories,
        locations,
        events,
        images,
        ticket_categories,
        tiers,
        coupons,
        orders,
        items,
        tickets,
        payments,
    })
}
