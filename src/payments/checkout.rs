//! Reservations, orders and what a payment does to them.
//!
//! Every capacity decision is one conditional `UPDATE` on the tier inside a
//! transaction: `reserved` grows only while `sold + reserved + n <= capacity`,
//! and the database's own check refuses anything else. No read-then-write in
//! Rust, no in-process lock: a hundred instances share the same inventory.
//! Every state change of a reservation or an order is guarded by its current
//! state in the `WHERE` clause, so a repeated or concurrent call does nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, TransactionTrait,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    models::{
        events::{self, sales_active_at, STATUS_PUBLISHED, VISIBILITY_PUBLIC},
        order_items,
        orders::{self, Confirmed},
        reservation_items, reservations,
        status::{OrderStatus, ReservationStatus},
        ticket_tiers,
        ticket_tiers::{move_seats, Seats},
    },
    platform::settings::Limits,
    platform::tokens::sha256_hex,
};

/// One line of a reservation request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Line {
    pub tier_id: Uuid,
    pub quantity: i32,
}

/// Why a checkout step was refused; each maps to one client answer.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("not found")]
    NotFound,
    /// 400 with field errors.
    #[error("invalid: {0:?}")]
    Invalid(BTreeMap<String, Vec<String>>),
    /// 409: the event or a tier is not on sale.
    #[error("not on sale: {0}")]
    NotOnSale(String),
    /// 409: not enough seats left in a tier.
    #[error("sold out: {tier_name}")]
    SoldOut {
        tier_id: Uuid,
        tier_name: String,
        available: Option<i32>,
    },
    /// 409: the reservation is no longer usable (expired, already ordered).
    #[error("reservation: {0}")]
    Reservation(&'static str),
    /// 429: this client or buyer already holds as much as one may.
    #[error("limit: {0}")]
    Limit(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn invalid(field: &str, message: impl Into<String>) -> CheckoutError {
    CheckoutError::Invalid(BTreeMap::from([(field.to_string(), vec![message.into()])]))
}

/// Who is buying, for the per-client limits: the signed-in user, else the
/// client's address.
#[derive(Debug, Clone)]
pub struct Client {
    pub user_id: Option<Uuid>,
    /// `user:{id}` or `ip:{address}`, as stored on the reservation.
    pub key: String,
}

impl Client {
    #[must_use]
    pub fn new(user_id: Option<Uuid>, ip: &str) -> Self {
        let key = user_id.map_or_else(
            || format!("ip:{}", ip.chars().take(60).collect::<String>()),
            |u| format!("user:{u}"),
        );
        Self { user_id, key }
    }
}

/// The most tickets one order of an event may have: the event's own maximum,
/// else the platform's default, never above the hard ceiling.
#[must_use]
pub fn order_ceiling(max_tickets_per_purchase: Option<i32>, limits: &Limits) -> i64 {
    let max = max_tickets_per_purchase
        .and_then(|m| u32::try_from(m).ok())
        .unwrap_or(limits.tickets_per_order);
    i64::from(Ord::min(max, Limits::HARD_TICKETS_PER_ORDER))
}

const LIMIT_LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))::text";

/// Serializes, until the end of the transaction, every transaction that
/// counts against the same limit `key` (PostgreSQL; SQLite has one writer).
/// (`tuki_hold_one_tier` takes the same lock; a test keeps the two equal.)
async fn lock_limit<C: ConnectionTrait>(db: &C, key: &str) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            LIMIT_LOCK_SQL,
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The client's reservations still holding seats: active ones and those
/// booked but not paid yet (an order keeps its seats until the hold expires).
async fn live_holds<C: ConnectionTrait>(
    db: &C,
    client_key: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    reservations::Entity::find()
        .filter(reservations::Column::ClientKey.eq(client_key))
        .filter(reservations::Column::Status.is_in(ReservationStatus::LIVE))
        .filter(reservations::Column::ExpiresAt.gt(now.fixed_offset()))
        .count(db)
        .await
}

fn too_many_holds(limit: u32) -> CheckoutError {
    CheckoutError::Limit(format!(
        "Ya tienes {limit} reservas activas. Completa una compra o espera a que expiren."
    ))
}

/// A new reservation with its lines.
#[derive(Debug, Clone)]
pub struct Reserved {
    pub reservation: reservations::Model,
    /// The event's service fee rate (basis points) for the totals shown.
    pub service_fee_bps: i32,
    pub items: Vec<(reservation_items::Model, ticket_tiers::Model)>,
}

/// Holds seats for `hold` minutes.
///
/// # Errors
/// [`CheckoutError`]: invalid lines (400), not on sale or not enough seats
/// (409), unknown event (404); nothing is held then.
pub async fn reserve(
    db: &DatabaseConnection,
    event_id: Uuid,
    client: &Client,
    limits: &Limits,
    lines: &[Line],
    hold: Duration,
    now: DateTime<Utc>,
) -> Result<Reserved, CheckoutError> {
    if lines.is_empty() {
        return Err(invalid("tiers", "Elige al menos una entrada."));
    }
    let hard = i32::try_from(Limits::HARD_TICKETS_PER_ORDER).unwrap_or(i32::MAX);
    if lines.len() > Limits::HARD_TICKETS_PER_ORDER as usize {
        return Err(invalid(
            "tiers",
            format!("Máximo {hard} entradas por compra."),
        ));
    }
    let mut wanted: BTreeMap<Uuid, i32> = BTreeMap::new();
    for line in lines {
        if !(1..=hard).contains(&line.quantity) {
            return Err(invalid(
                "tiers",
                format!("Cada cantidad debe estar entre 1 y {hard}."),
            ));
        }
        if wanted.insert(line.tier_id, line.quantity).is_some() {
            return Err(invalid("tiers", "Cada tipo de entrada va una sola vez."));
        }
    }
    // The event and the wanted tiers in one read.
    let rows = events::Entity::find_by_id(event_id)
        .filter(events::Column::Status.eq(STATUS_PUBLISHED))
        .filter(events::Column::Visibility.eq(VISIBILITY_PUBLIC))
        .filter(events::Column::DeletedAt.is_null())
        .find_also_related(ticket_tiers::Entity)
        .filter(ticket_tiers::Column::IsPublic.eq(true))
        // A tier in a ticket category is sold while its category is
        // active and public.
        .filter(
            sea_orm::Condition::any()
                .add(ticket_tiers::Column::CategoryId.is_null())
                .add(
                    ticket_tiers::Column::CategoryId.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(crate::models::ticket_categories::Column::Id)
                            .from(crate::models::ticket_categories::Entity)
                            .and_where(
                                crate::models::ticket_categories::Column::Status.eq("active"),
                            )
                            .and_where(
                                crate::models::ticket_categories::Column::Visibility.eq("public"),
                            )
                            .to_owned(),
                    ),
                ),
        )
        .filter(ticket_tiers::Column::Id.is_in(wanted.keys().copied()))
        .all(db)
        .await?;
    let event = match rows.first() {
        Some((event, _)) => event.clone(),
        // No wanted tier matched: the event decides between 404 and 400.
        None => events::sellable(db, event_id)
            .await?
            .ok_or(CheckoutError::NotFound)?,
    };
    let tiers: BTreeMap<Uuid, ticket_tiers::Model> = rows
        .into_iter()
        .filter_map(|(_, t)| t)
        .map(|t| (t.id, t))
        .collect();
    let total: i64 = wanted.values().map(|q| i64::from(*q)).sum();
    let max = order_ceiling(event.max_tickets_per_purchase, limits);
    if total > max {
        return Err(invalid(
            "tiers",
            format!("Máximo {max} entradas por compra."),
        ));
    }
    let nowf = now.fixed_offset();
    if !sales_active_at(
        &event.status,
        event.ticket_sales_start,
        event.ticket_sales_end,
        event.end_date,
        nowf,
    ) {
        return Err(CheckoutError::NotOnSale(
            "La venta de entradas no está activa para este evento.".into(),
        ));
    }
    for (id, quantity) in &wanted {
        let Some(tier) = tiers.get(id) else {
            return Err(invalid(
                "tiers",
                format!("El tipo de entrada {id} no existe en este evento."),
            ));
        };
        if !tier.in_sale_window(nowf) {
            return Err(CheckoutError::NotOnSale(format!(
                "«{}» no está a la venta ahora.",
                tier.name
            )));
        }
        if *quantity < tier.min_per_order {
            return Err(invalid(
                "tiers",
                format!("«{}»: mínimo {} por compra.", tier.name, tier.min_per_order),
            ));
        }
        if let Some(max) = tier.max_per_order {
            if *quantity > max {
                return Err(invalid(
                    "tiers",
                    format!("«{}»: máximo {max} por compra.", tier.name),
                ));
            }
        }
    }

    let tier_ids: Vec<Uuid> = wanted.keys().copied().collect();
    let attempt = Attempt {
        event: &event,
        client,
        max_holds: limits.holds_per_client,
        wanted: &wanted,
        tiers: &tiers,
        hold,
        now,
    };
    // A tier the read above already shows short is not worth its row's lock
    // (once a tier sells out, every buyer would queue on it to hear so): only
    // expired holds could make room. The hold itself is still decided under
    // the lock, so a stale read can only refuse, never oversell.
    let seen_short = wanted
        .iter()
        .find(|&(id, quantity)| {
            let t = &tiers[id];
            t.capacity
                .is_some_and(|c| c - t.sold - t.reserved < *quantity)
        })
        .map(|(id, _)| *id);
    let mut outcome = match seen_short {
        Some(id) => Held::Short(id),
        None => hold_seats(db, &attempt).await?,
    };
    // Whether the read above is still the latest word on the seats.
    let mut as_read = seen_short.is_some();
    if matches!(outcome, Held::Short(_)) {
        // Expired holds may be in the way: give their seats back, try once more.
        if reservations::release_expired(db, now, Some(&tier_ids), 100).await? > 0 {
            outcome = hold_seats(db, &attempt).await?;
            as_read = false;
        }
    }
    match outcome {
        Held::Reserved(reserved) => Ok(reserved),
        Held::TooManyHolds => Err(too_many_holds(limits.holds_per_client)),
        Held::Short(short) => {
            let seats_left =
                |t: &ticket_tiers::Model| t.capacity.map(|c| Ord::max(c - t.sold - t.reserved, 0));
            let available = if as_read {
                seats_left(&tiers[&short])
            } else {
                ticket_tiers::Entity::find_by_id(short)
                    .one(db)
                    .await?
                    .and_then(|t| seats_left(&t))
            };
            Err(CheckoutError::SoldOut {
                tier_id: short,
                tier_name: tiers[&short].name.clone(),
                available,
            })
        }
    }
}

/// The rows of a new hold (not written yet): the reservation, expiring after
/// `hold`, and one line per wanted tier at its current price.
fn new_hold(a: &Attempt<'_>) -> Reserved {
    let (event, wanted, tiers, now) = (a.event, a.wanted, a.tiers, a.now);
    let nowf = now.fixed_offset();
    let reservation = reservations::Model {
        id: Uuid::new_v4(),
        event_id: event.id,
        user_id: a.client.user_id,
        status: ReservationStatus::Active.into(),
        expires_at: (now + a.hold).fixed_offset(),
        client_key: Some(a.client.key.clone()),
        created_at: nowf,
        updated_at: nowf,
    };
    let items = wanted
        .iter()
        .map(|(id, quantity)| {
            (
                reservation_items::Model {
                    id: Uuid::new_v4(),
                    reservation_id: reservation.id,
                    tier_id: *id,
                    quantity: *quantity,
                    unit_price: tiers[id].price,
                    created_at: nowf,
                    updated_at: nowf,
                },
                tiers[id].clone(),
            )
        })
        .collect();
    Reserved {
        reservation,
        service_fee_bps: event.service_fee_bps,
        items,
    }
}

/// One reserve request, checked and ready to hold.
struct Attempt<'a> {
    event: &'a events::Model,
    client: &'a Client,
    max_holds: u32,
    wanted: &'a BTreeMap<Uuid, i32>,
    tiers: &'a BTreeMap<Uuid, ticket_tiers::Model>,
    hold: Duration,
    now: DateTime<Utc>,
}

/// What one attempt at holding came to.
enum Held {
    Reserved(Reserved),
    /// This tier had too few seats; nothing was held.
    Short(Uuid),
    /// The client already holds as many reservations as allowed.
    TooManyHolds,
}

/// One attempt at holding every wanted tier in one transaction: the new
/// reservation, the first tier that was short, or the client's hold limit
/// (nothing held then). The client's live holds are counted under a lock on
/// the client (PostgreSQL) or after this transaction's first write (SQLite's
/// single writer), so concurrent requests of one client, on any instance,
/// never pass the limit together.
async fn hold_seats(db: &DatabaseConnection, a: &Attempt<'_>) -> Result<Held, DbErr> {
    let held = new_hold(a);
    let pg = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    if pg && a.wanted.len() == 1 {
        return hold_one_tier_pg(db, held, a.max_holds).await;
    }
    let txn = db.begin().await?;
    if pg {
        lock_limit(&txn, &a.client.key).await?;
        // A hold lost to a database crash only means the buyer reserves again
        // (the tier's count goes with it: one WAL record); orders and payments
        // always wait for the disk. Not waiting here keeps the tier row's lock
        // short when everyone wants the same seats.
        txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF")
            .await?;
    }
    // The rows first, the seats last: a tier's row stays locked only from its
    // UPDATE to the COMMIT.
    reservations::ActiveModel::from(held.reservation.clone())
        .insert(&txn)
        .await?;
    reservation_items::Entity::insert_many(
        held.items
            .iter()
            .map(|(i, _)| reservation_items::ActiveModel::from(i.clone())),
    )
    .exec(&txn)
    .await?;
    // This one included.
    if live_holds(&txn, &a.client.key, a.now).await? > u64::from(a.max_holds) {
        txn.rollback().await?;
        return Ok(Held::TooManyHolds);
    }
    // In id order, so two reservations of the same tiers never deadlock.
    for (id, quantity) in a.wanted {
        if !move_seats(&txn, *id, Seats::Hold(*quantity)).await? {
            txn.rollback().await?;
            return Ok(Held::Short(*id));
        }
    }
    txn.commit().await?;
    Ok(Held::Reserved(held))
}

/// [`hold_seats`] for one tier on PostgreSQL: one autocommit call of the
/// `tuki_hold_one_tier` function (migration `m20261204_000026`), which takes
/// the client's lock, counts its live holds, takes the seats with the
/// conditional `UPDATE` and writes the reservation and its line, all inside
/// the statement. The tier's row is locked from that `UPDATE` to the commit
/// that ends the statement: never while a reply travels to this process and
/// the next command back, which is what capped an on-sale surge (every buyer
/// queues on that one row).
async fn hold_one_tier_pg(
    db: &DatabaseConnection,
    held: Reserved,
    max_holds: u32,
) -> Result<Held, DbErr> {
    let (item, _) = held
        .items
        .first()
        .ok_or_else(|| DbErr::Custom("no tier to hold".into()))?;
    let reservation = &held.reservation;
    let stmt = sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT tuki_hold_one_tier($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS outcome",
        [
            item.tier_id.into(),
            item.quantity.into(),
            reservation.id.into(),
            reservation.event_id.into(),
            reservation.user_id.into(),
            reservation.expires_at.into(),
            reservation.created_at.into(),
            item.id.into(),
            item.unit_price.into(),
            reservation.client_key.clone().into(),
            i64::from(max_holds).into(),
        ],
    );
    let tier_id = item.tier_id;
    let outcome: String = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| DbErr::Custom("tuki_hold_one_tier returned no row".into()))?
        .try_get("", "outcome")?;
    match outcome.as_str() {
        "held" => Ok(Held::Reserved(held)),
        "short" => Ok(Held::Short(tier_id)),
        "limit" => Ok(Held::TooManyHolds),
        other => Err(DbErr::Custom(format!(
            "tuki_hold_one_tier answered {other:?}"
        ))),
    }
}

/// The buyer as the order records them.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Customer {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

impl Customer {
    fn check(&self) -> Result<Self, CheckoutError> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let name = self.name.trim();
        if name.chars().any(char::is_control) {
            errors.insert(
                "customer.name".into(),
                vec!["El nombre no puede tener saltos de línea ni caracteres de control.".into()],
            );
        } else if name.is_empty() || name.chars().count() > 200 {
            errors.insert(
                "customer.name".into(),
                vec!["Ingresa tu nombre (máximo 200 caracteres).".into()],
            );
        }
        let email = crate::models::users::Email::parse(&self.email).ok();
        if email.is_none() {
            errors.insert(
                "customer.email".into(),
                vec!["Ingresa un correo válido.".into()],
            );
        }
        let phone = self.phone.trim();
        if phone.chars().count() > 40
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()".contains(c))
        {
            errors.insert(
                "customer.phone".into(),
                vec!["Ingresa un teléfono válido.".into()],
            );
        }
        if !errors.is_empty() {
            return Err(CheckoutError::Invalid(errors));
        }
        Ok(Self {
            name: name.to_string(),
            email: email.map(|e| e.as_str().to_string()).unwrap_or_default(),
            phone: phone.to_string(),
        })
    }
}

/// The service fee on a subtotal, rounded half up to whole pesos.
#[must_use]
pub fn service_fee(subtotal: i64, bps: i32) -> i64 {
    (subtotal * i64::from(bps) + 5_000) / 10_000
}

/// A random order number like `TK7Q2M9XH4PA` (no 0/O/1/I).
pub fn order_number() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 10];
    rand::rng().fill_bytes(&mut bytes);
    let mut s = String::from("TK");
    s.extend(bytes.iter().map(|b| ALPHABET[usize::from(*b) % 32] as char));
    s
}

/// A new order and the access token that reads it (shown once).
#[derive(Debug)]
pub struct Booked {
    pub order: orders::Model,
    pub access_token: String,
    /// What was written with it, when the write itself returned it (the
    /// answer is then made without reading the order back).
    pub written: Option<Written>,
}

/// The rest of a new pending order, as its statement wrote it.
#[derive(Debug)]
pub struct Written {
    pub items: Vec<order_items::Model>,
    /// The event's id, title, slug and start.
    pub event: (Uuid, String, String, DateTime<FixedOffset>),
    pub hold_expires_at: Option<DateTime<FixedOffset>>,
}

/// What a booking is made of.
#[derive(Clone, Copy)]
pub struct NewOrder<'a> {
    pub event_id: Uuid,
    pub reservation_id: Uuid,
    pub customer: &'a Customer,
    /// The signed-in buyer, if any.
    pub user_id: Option<Uuid>,
    pub limits: &'a Limits,
    /// The app's secret (the order's access token is derived from it).
    pub secret: &'a str,
    /// A discount code typed by the buyer.
    pub coupon: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Turns a live reservation into a pending order (or a paid one when free).
///
/// # Errors
/// [`CheckoutError`].
pub async fn book(db: &DatabaseConnection, new: &NewOrder<'_>) -> Result<Booked, CheckoutError> {
    let NewOrder {
        event_id,
        reservation_id,
        customer,
        user_id,
        limits,
        secret,
        coupon,
        now,
    } = *new;
    let customer = customer.check()?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        return book_pg(db, new, &customer).await;
    }
    let event = events::sellable(db, event_id)
        .await?
        .ok_or(CheckoutError::NotFound)?;
    let nowf = now.fixed_offset();
    let txn = db.begin().await?;
    let claimed = reservations::claim(&txn, reservation_id, event.id, now).await?;
    if !claimed {
        txn.rollback().await?;
        return Err(refused_booking(db, event_id, reservation_id, None).await?);
    }
    // Counted after this transaction's first write: SQLite's one writer.
    if pending_orders(&txn, &customer.email, now).await?
        >= u64::from(limits.pending_orders_per_email)
    {
        txn.rollback().await?;
        return Err(too_many_pending(limits.pending_orders_per_email));
    }
    let items = reservation_items::Entity::find()
        .filter(reservation_items::Column::ReservationId.eq(reservation_id))
        .find_also_related(ticket_tiers::Entity)
        .all(&txn)
        .await?;
    let subtotal: i64 = items
        .iter()
        .map(|(i, _)| i64::from(i.quantity) * i.unit_price)
        .sum();
    let fee = service_fee(subtotal, event.service_fee_bps);
    let id = Uuid::new_v4();
    let access_token = orders::access_token(secret, id);
    let order = orders::ActiveModel {
        id: Set(id),
        order_number: Set(order_number()),
        event_id: Set(event.id),
        user_id: Set(user_id),
        reservation_id: Set(Some(reservation_id)),
        status: Set(OrderStatus::Pending.into()),
        customer_name: Set(customer.name.clone()),
        customer_email: Set(customer.email.clone()),
        customer_phone: Set(customer.phone.clone()),
        subtotal: Set(subtotal),
        service_fee: Set(fee),
        total: Set(subtotal + fee),
        refunded_amount: Set(0),
        access_token_hash: Set(sha256_hex(&access_token)),
        paid_at: Set(None),
        confirmation_sent: Set(false),
        ticket_holders: Set("[]".to_string()),
        coupon_id: Set(None),
        coupon_code: Set(String::new()),
        discount: Set(0),
        created_at: Set(nowf),
        updated_at: Set(nowf),
    }
    .insert(&txn)
    .await?;
    let lines: Vec<order_items::ActiveModel> = items
        .iter()
        .map(|(i, tier)| order_items::ActiveModel {
            id: Set(Uuid::new_v4()),
            order_id: Set(order.id),
            tier_id: Set(i.tier_id),
            tier_name: Set(tier.as_ref().map(|t| t.name.clone()).unwrap_or_default()),
            quantity: Set(i.quantity),
            unit_price: Set(i.unit_price),
            discount: Set(0),
            created_at: Set(nowf),
            updated_at: Set(nowf),
        })
        .collect();
    order_items::Entity::insert_many(lines).exec(&txn).await?;
    let order = match with_coupon(&txn, coupon, order, now).await? {
        Ok(order) => order,
        Err(e) => {
            txn.rollback().await?;
            return Err(e);
        }
    };
    if order.total == 0 {
        if let Err(e) = check_free_tickets(&txn, &event, &customer.email, limits).await? {
            txn.rollback().await?;
            return Err(e);
        }
    }
    let order = if order.total == 0 {
        match order.mark_paid(&txn, now).await? {
            Confirmed::Paid(o) => o,
            // The seats are held by this very reservation: cannot happen.
            Confirmed::AlreadyDone(o) | Confirmed::NoCapacity(o) => o,
        }
    } else {
        order
    };
    txn.commit().await?;
    Ok(Booked {
        order,
        access_token,
        written: None,
    })
}

/// The order with the buyer's code on it, if they typed one (see
/// [`crate::models::coupons::apply`]); a refused code is a 400 on
/// `couponCode`.
async fn with_coupon<C: ConnectionTrait>(
    txn: &C,
    code: Option<&str>,
    order: orders::Model,
    now: DateTime<Utc>,
) -> Result<Result<orders::Model, CheckoutError>, DbErr> {
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Ok(Ok(order));
    };
    Ok(crate::models::coupons::apply(txn, code, &order, now)
        .await?
        .map_err(|message| invalid("couponCode", message)))
}

/// The buyer email's pending orders whose seats are still held.
async fn pending_orders<C: ConnectionTrait>(
    db: &C,
    email: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM orders o JOIN reservations r ON r.id = o.reservation_id \
             WHERE lower(o.customer_email) = lower($1) AND o.status = 'pending' AND r.expires_at > $2",
            [email.into(), now.fixed_offset().into()],
        ))
        .await?;
    let n: i64 = row.map_or(Ok(0), |r| r.try_get("", "n"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn too_many_pending(limit: u32) -> CheckoutError {
    CheckoutError::Limit(format!(
        "Este correo ya tiene {limit} compras pendientes de pago. Págalas o espera a que expiren."
    ))
}

/// Free tickets are capped per buyer email and event at one order's worth
/// (the order just written included): a free event cannot be emptied by one
/// person booking again and again.
async fn check_free_tickets<C: ConnectionTrait>(
    db: &C,
    event: &events::Model,
    email: &str,
    limits: &Limits,
) -> Result<Result<(), CheckoutError>, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT coalesce(sum(i.quantity), 0) AS n FROM order_items i \
             JOIN orders o ON o.id = i.order_id \
             WHERE lower(o.customer_email) = lower($1) AND o.event_id = $2 \
               AND o.status IN ('pending', 'paid')",
            [email.into(), event.id.into()],
        ))
        .await?;
    let n: i64 = row.map_or(Ok(0), |r| r.try_get("", "n"))?;
    let max = order_ceiling(event.max_tickets_per_purchase, limits);
    Ok(if n > max {
        Err(invalid(
            "customer.email",
            format!("Este correo ya tiene el máximo de {max} entradas gratuitas para este evento."),
        ))
    } else {
        Ok(())
    })
}

/// Why a reservation could not become an order (after the claim failed).
async fn refused_booking(
    db: &DatabaseConnection,
    event_id: Uuid,
    reservation_id: Uuid,
    pending_limit: Option<(&str, u32, DateTime<Utc>)>,
) -> Result<CheckoutError, DbErr> {
    if events::sellable(db, event_id).await?.is_none() {
        return Ok(CheckoutError::NotFound);
    }
    let found = reservations::Entity::find_by_id(reservation_id)
        .filter(reservations::Column::EventId.eq(event_id))
        .one(db)
        .await?;
    Ok(match found {
        None => invalid("reservation_id", "La reserva no existe."),
        Some(r)
            if ReservationStatus::Ordered.is(&r.status)
                || ReservationStatus::Consumed.is(&r.status) =>
        {
            CheckoutError::Reservation("La reserva ya tiene una orden.")
        }
        Some(r) if ReservationStatus::Active.is(&r.status) && r.expires_at > Utc::now() => {
            match pending_limit {
                Some((email, limit, now))
                    if pending_orders(db, email, now).await? >= u64::from(limit) =>
                {
                    too_many_pending(limit)
                }
                _ => CheckoutError::Reservation("La reserva expiró; reserva de nuevo."),
            }
        }
        Some(_) => CheckoutError::Reservation("La reserva expiró; reserva de nuevo."),
    })
}

/// [`book`] on PostgreSQL in one statement (one round trip, one atomic
/// write): the event must be on sale, the reservation is claimed
/// (`active` → `ordered`, only while unexpired), and the order and its lines
/// are written from the reservation's own lines, priced as they were held.
async fn book_pg(
    db: &DatabaseConnection,
    new: &NewOrder<'_>,
    customer: &Customer,
) -> Result<Booked, CheckoutError> {
    let NewOrder {
        event_id,
        reservation_id,
        user_id,
        limits,
        secret,
        coupon,
        now,
        ..
    } = *new;
    const SQL: &str = " \
        WITH ev AS ( \
          SELECT id, service_fee_bps, title, slug, start_date FROM events \
          WHERE id = $1 AND status = 'published' AND visibility = 'public' AND deleted_at IS NULL), \
        room AS ( \
          SELECT count(*) < $11 AS ok FROM orders o JOIN reservations r ON r.id = o.reservation_id \
          WHERE lower(o.customer_email) = lower($8) AND o.status = 'pending' AND r.expires_at > $2), \
        claimed AS ( \
          UPDATE reservations SET status = 'ordered', updated_at = $2 \
          WHERE id = $3 AND event_id = (SELECT id FROM ev) AND status = 'active' AND expires_at > $2 \
            AND (SELECT ok FROM room) \
          RETURNING id, expires_at), \
        lines AS ( \
          SELECT i.tier_id, i.quantity, i.unit_price, \
            (SELECT t.name FROM ticket_tiers t WHERE t.id = i.tier_id) AS name \
          FROM reservation_items i \
          WHERE i.reservation_id = $3 AND EXISTS (SELECT 1 FROM claimed)), \
        sums AS ( \
          SELECT coalesce(sum(quantity::bigint * unit_price), 0)::bigint AS subtotal, \
                 (SELECT service_fee_bps FROM ev)::bigint AS bps FROM lines), \
        placed AS ( \
          INSERT INTO orders (id, order_number, event_id, user_id, reservation_id, status, \
            customer_name, customer_email, customer_phone, subtotal, service_fee, total, \
            refunded_amount, access_token_hash, paid_at, confirmation_sent, created_at, updated_at) \
          SELECT $4, $5, $1, $6, $3, 'pending', $7, $8, $9, subtotal, (subtotal * bps + 5000) / 10000, \
            subtotal + (subtotal * bps + 5000) / 10000, 0, $10, NULL, false, $2, $2 \
          FROM sums WHERE EXISTS (SELECT 1 FROM claimed) \
          RETURNING *), \
        lined AS ( \
          INSERT INTO order_items (id, order_id, tier_id, tier_name, quantity, unit_price, created_at, updated_at) \
          SELECT gen_random_uuid(), placed.id, lines.tier_id, lines.name, lines.quantity, lines.unit_price, $2, $2 \
          FROM placed CROSS JOIN lines \
          RETURNING *) \
        SELECT row_to_json(placed.*)::text AS order_json, \
          coalesce((SELECT json_agg(lined.*) FROM lined), '[]'::json)::text AS items_json, \
          (SELECT expires_at FROM claimed) AS hold, \
          ev.title AS event_title, ev.slug AS event_slug, ev.start_date AS event_start \
        FROM placed, ev";
    let nowf = now.fixed_offset();
    let id = Uuid::new_v4();
    let access_token = orders::access_token(secret, id);
    let stmt = sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        SQL,
        [
            event_id.into(),
            nowf.into(),
            reservation_id.into(),
            id.into(),
            order_number().into(),
            user_id.into(),
            customer.name.clone().into(),
            customer.email.clone().into(),
            customer.phone.clone().into(),
            sha256_hex(&access_token).into(),
            i64::from(limits.pending_orders_per_email).into(),
        ],
    );
    // The buyer's pending orders are counted under a lock on the email, so
    // concurrent bookings with one email never pass the limit together.
    let txn = db.begin().await?;
    lock_limit(&txn, &format!("email:{}", customer.email.to_lowercase())).await?;
    let Some(row) = txn.query_one_raw(stmt).await? else {
        txn.rollback().await?;
        let limit = (
            customer.email.as_str(),
            limits.pending_orders_per_email,
            now,
        );
        return Err(refused_booking(db, event_id, reservation_id, Some(limit)).await?);
    };
    let json_of = |col: &str| -> Result<String, DbErr> { row.try_get::<String>("", col) };
    let order: orders::Model = serde_json::from_str(&json_of("order_json")?)
        .map_err(|e| DbErr::Custom(format!("order row: {e}")))?;
    let discounted = coupon.is_some();
    let order = if discounted {
        match with_coupon(&txn, coupon, order, now).await? {
            Ok(order) => order,
            Err(e) => {
                txn.rollback().await?;
                return Err(e);
            }
        }
    } else {
        order
    };
    if order.total == 0 {
        let event = events::Entity::find_by_id(event_id)
            .one(&txn)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        if let Err(e) = check_free_tickets(&txn, &event, &customer.email, limits).await? {
            txn.rollback().await?;
            return Err(e);
        }
    }
    txn.commit().await?;
    if order.total == 0 {
        // Free: confirmed at once (seats sold, tickets issued).
        let txn = db.begin().await?;
        let order = match order.mark_paid(&txn, now).await? {
            Confirmed::Paid(o) | Confirmed::AlreadyDone(o) | Confirmed::NoCapacity(o) => o,
        };
        txn.commit().await?;
        return Ok(Booked {
            order,
            access_token,
            written: None,
        });
    }
    if discounted {
        // The lines' shares were written after the statement: read back.
        return Ok(Booked {
            order,
            access_token,
            written: None,
        });
    }
    let items: Vec<order_items::Model> = serde_json::from_str(&json_of("items_json")?)
        .map_err(|e| DbErr::Custom(format!("order items: {e}")))?;
    let written = Written {
        items,
        event: (
            event_id,
            row.try_get("", "event_title")?,
            row.try_get("", "event_slug")?,
            row.try_get("", "event_start")?,
        ),
        hold_expires_at: row.try_get("", "hold")?,
    };
    Ok(Booked {
        order,
        access_token,
        written: Some(written),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_fee_rounds_half_up_to_whole_pesos() {
        assert_eq!(service_fee(10_000, 1_000), 1_000);
        assert_eq!(service_fee(12_345, 1_000), 1_235);
        assert_eq!(service_fee(12_344, 1_000), 1_234);
        assert_eq!(service_fee(0, 1_000), 0);
        assert_eq!(service_fee(9_990, 0), 0);
    }

    #[test]
    fn the_hold_function_locks_and_counts_as_the_transaction_path_does() {
        use migration::m20261204_000026_hold_function::CREATE;
        // The same advisory lock (key expression and seed): a one-tier and a
        // multi-tier hold of one client serialize against each other.
        let lock = LIMIT_LOCK_SQL
            .split("pg_advisory_xact_lock(")
            .nth(1)
            .and_then(|rest| rest.split(")::text").next())
            .unwrap()
            .replace("$1", "p_client");
        assert!(
            CREATE.contains(&format!("pg_advisory_xact_lock({lock})")),
            "{lock}"
        );
        // The same live statuses as `live_holds`.
        let live: Vec<String> = ReservationStatus::LIVE
            .iter()
            .map(|s| format!("'{}'", String::from(*s)))
            .collect();
        assert!(CREATE.contains(&format!("status IN ({})", live.join(", "))));
    }

    #[test]
    fn order_numbers_fit_webpay_buy_order() {
        let n = order_number();
        assert_eq!(n.len(), 12);
        assert!(n.len() <= 26);
        assert!(n.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
