//! An order and its rules: paid once (a guarded transition that turns the
//! held seats into sold ones and issues the tickets), ended unpaid with its
//! seats given back, refunded one refund at a time through its payment (the
//! one refund rule, for the admin, the API and any job).

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use uuid::Uuid;

pub use super::_entities::orders::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{order_items, tickets},
    payments, reservations,
    status::{OrderStatus, PaymentStatus, ReservationStatus, TicketStatus},
    ticket_tiers::{move_seats, Seats},
};
use crate::{payments::webpay::Webpay, platform::tokens::random_urlsafe};

crate::touch_updated_at!(ActiveModel);

/// An order's access token (the key to its page and tickets without an
/// account): derived from the order's id under the app's secret, so it is
/// stored only as its hash and can be given again (the Webpay return link).
#[must_use]
pub fn access_token(secret: &str, id: Uuid) -> String {
    crate::platform::tokens::hmac_sha256_hex(secret, &format!("order-access:{id}"))
}

/// The ticket holders stored on an order, per tier, in ticket order:
/// `[{tierId, holders: [{name, lastName, …}]}]` (backtuki's `ticketHolders`;
/// anything else is ignored).
#[must_use]
pub fn holder_names(holders: &str) -> std::collections::BTreeMap<Uuid, Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(holders).unwrap_or_default();
    let mut out = std::collections::BTreeMap::new();
    for group in value.as_array().into_iter().flatten() {
        let Some(tier) = group
            .get("tierId")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
        else {
            continue;
        };
        let names: Vec<String> = group
            .get("holders")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .map(|h| {
                let part = |k: &str| {
                    h.get(k)
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("")
                        .trim()
                        .to_string()
                };
                format!("{} {}", part("name"), part("lastName"))
                    .trim()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect()
            })
            .collect();
        out.entry(tier).or_insert(names);
    }
    out
}

/// What confirming a payment came to.
#[derive(Debug)]
pub enum Confirmed {
    /// Now paid, with its tickets.
    Paid(Model),
    /// It was not pending any more (a repeated confirmation): nothing changed.
    AlreadyDone(Model),
    /// The reservation had expired and its seats were sold meanwhile: nothing
    /// changed; the money must go back.
    NoCapacity(Model),
}

/// What a refund request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refunded {
    Done,
    /// More than is left to refund, or the order is not paid: nothing was
    /// asked of Webpay.
    TooMuch,
    /// No authorized payment to refund through.
    NoPayment,
    /// Another refund of this order is under way: nothing was done.
    InProgress,
    /// Webpay refused: nothing changed.
    Refused,
    /// Webpay did not answer and its status could not say whether the money
    /// went back: the refund stays in flight on the payment (no second refund
    /// can start meanwhile, so none is paid twice) until `task
    /// reconcile_payments` settles it from Transbank's balance.
    Unknown,
}

/// The marker error that rolls [`mark_paid`]'s transaction back when seats ran out.
pub const NO_CAPACITY: &str = "checkout: no capacity left for a late payment";

/// Records `amount` given back on a paid order, in one transaction: the
/// amount is added only while it fits (`refunded_amount + amount <= total`);
/// the order becomes `partially_refunded`, or `refunded` once all of it is
/// back — and the one call that makes it `refunded` (a guarded transition)
/// cancels its tickets and returns their seats. Returns whether it fitted.
///
/// # Errors
/// The database error.
pub async fn record_refund(
    db: &DatabaseConnection,
    order_id: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let nowf = now.fixed_offset();
    let txn = db.begin().await?;
    let added = orders::Entity::update_many()
        .col_expr(
            orders::Column::RefundedAmount,
            Expr::col(orders::Column::RefundedAmount).add(amount),
        )
        .col_expr(orders::Column::UpdatedAt, Expr::value(nowf))
        .filter(orders::Column::Id.eq(order_id))
        .filter(orders::Column::Status.is_in(OrderStatus::PAID))
        .filter(
            Expr::col(orders::Column::RefundedAmount)
                .add(amount)
                .lte(Expr::col(orders::Column::Total)),
        )
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !added {
        txn.rollback().await?;
        return Ok(false);
    }
    let full = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(OrderStatus::Refunded))
        .filter(orders::Column::Id.eq(order_id))
        .filter(orders::Column::Status.is_in(OrderStatus::PAID))
        .filter(Expr::col(orders::Column::RefundedAmount).gte(Expr::col(orders::Column::Total)))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let order = orders::Entity::find_by_id(order_id)
        .one(&txn)
        .await?
        .ok_or(DbErr::RecordNotFound(format!("order {order_id}")))?;
    if full {
        let items = order_items::Entity::find()
            .filter(order_items::Column::OrderId.eq(order_id))
            .order_by_asc(order_items::Column::TierId)
            .all(&txn)
            .await?;
        return_seats(&txn, order_id, &items, nowf).await?;
        // Out of the sales figures, as it was counted (before this amount).
        let counted = orders::Model {
            refunded_amount: order.refunded_amount - amount,
            ..order
        };
        super::sales::uncount_paid(&txn, &counted, &items).await?;
    } else {
        orders::Entity::update_many()
            .col_expr(
                orders::Column::Status,
                Expr::value(OrderStatus::PartiallyRefunded),
            )
            .filter(orders::Column::Id.eq(order_id))
            .filter(orders::Column::Status.eq(OrderStatus::Paid))
            .exec(&txn)
            .await?;
        super::sales::count_refund(&txn, &order, amount).await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// A refunded order's seats go back on sale and its tickets stop working.
async fn return_seats<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    items: &[order_items::Model],
    nowf: DateTime<FixedOffset>,
) -> Result<(), DbErr> {
    for item in items {
        move_seats(db, item.tier_id, Seats::Unsell(item.quantity)).await?;
    }
    tickets::Entity::update_many()
        .col_expr(
            tickets::Column::Status,
            Expr::value(TicketStatus::Cancelled),
        )
        .col_expr(tickets::Column::UpdatedAt, Expr::value(nowf))
        .filter(tickets::Column::OrderId.eq(order_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A payment that arrived for an order that could not take it (its seats
/// were gone) was given back whole: the still-pending order ends `refunded`
/// (it never held seats or tickets).
///
/// # Errors
/// The database error.
pub async fn record_unfilled_refund<C: ConnectionTrait>(
    db: &C,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    orders::Entity::update_many()
        .col_expr(
            orders::Column::RefundedAmount,
            Expr::col(orders::Column::Total),
        )
        .col_expr(orders::Column::Status, Expr::value(OrderStatus::Refunded))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now.fixed_offset()))
        .filter(orders::Column::Id.eq(order_id))
        .filter(orders::Column::Status.eq(OrderStatus::Pending))
        .exec(db)
        .await?;
    Ok(())
}

/// The refund itself, with the payment's slot held.
async fn refund_claimed(
    db: &DatabaseConnection,
    webpay: &Webpay,
    payment_id: Uuid,
    order_id: Uuid,
    amount: i64,
) -> Result<Refunded, DbErr> {
    // Fresh reads: no other refund can move them while the slot is held.
    let (Some(payment), Some(order)) = (
        payments::Entity::find_by_id(payment_id).one(db).await?,
        Entity::find_by_id(order_id).one(db).await?,
    ) else {
        return Ok(Refunded::NoPayment);
    };
    let paid = OrderStatus::is_paid(&order.status);
    if !paid || amount > order.total - order.refunded_amount {
        return Ok(Refunded::TooMuch);
    }
    let done = match webpay.refund(&payment.token, amount).await {
        Ok(refund) => Some(serde_json::to_string(&refund).unwrap_or_default()),
        Err(err) if err.outcome_unknown() => {
            tracing::warn!(payment = %payment.id, error = %err, "webpay refund unanswered; asking its status");
            match payment.refund_happened(webpay, amount).await {
                Some(Some(detail)) => Some(detail),
                Some(None) => None,
                None => {
                    tracing::error!(payment = %payment.id, "webpay refund outcome unknown; left in flight for reconciliation");
                    return Ok(Refunded::Unknown);
                }
            }
        }
        Err(err) => {
            tracing::error!(payment = %payment.id, error = %err, "webpay refused the refund");
            None
        }
    };
    let Some(detail) = done else {
        return Ok(Refunded::Refused);
    };
    order
        .record_done_refund(db, &payment, amount, &detail)
        .await?;
    Ok(Refunded::Done)
}

impl Model {
    /// Stores the ticket holders named at booking; tickets already issued
    /// (a free order) take their names now, the others when paid.
    ///
    /// # Errors
    /// The database error.
    pub async fn set_holders<C: ConnectionTrait>(
        &self,
        db: &C,
        holders: &serde_json::Value,
    ) -> Result<(), DbErr> {
        let text = holders.to_string();
        Entity::update_many()
            .col_expr(Column::TicketHolders, Expr::value(text.clone()))
            .filter(Column::Id.eq(self.id))
            .exec(db)
            .await?;
        let names = holder_names(&text);
        let issued = tickets::Entity::find()
            .filter(tickets::Column::OrderId.eq(self.id))
            .order_by_asc(tickets::Column::CreatedAt)
            .order_by_asc(tickets::Column::Id)
            .all(db)
            .await?;
        let mut seen: std::collections::BTreeMap<Uuid, usize> = std::collections::BTreeMap::new();
        for ticket in issued {
            let n = seen.entry(ticket.tier_id).or_insert(0);
            let name = names
                .get(&ticket.tier_id)
                .and_then(|v| v.get(*n))
                .filter(|s| !s.is_empty());
            *n += 1;
            if let Some(name) = name {
                tickets::Entity::update_many()
                    .col_expr(tickets::Column::AttendeeName, Expr::value(name.clone()))
                    .filter(tickets::Column::Id.eq(ticket.id))
                    .exec(db)
                    .await?;
            }
        }
        Ok(())
    }

    /// Marks a pending order paid inside `txn`: the reservation's seats become
    /// sold (or, if it had expired and been released, seats are taken again while
    /// there are any), and one ticket per seat is issued.
    ///
    /// # Errors
    /// The database error.
    pub async fn mark_paid<C: ConnectionTrait>(
        &self,
        txn: &C,
        now: DateTime<Utc>,
    ) -> Result<Confirmed, DbErr> {
        let order = self;
        let nowf = now.fixed_offset();
        let claimed = orders::Entity::update_many()
            .col_expr(orders::Column::Status, Expr::value(OrderStatus::Paid))
            .col_expr(orders::Column::PaidAt, Expr::value(nowf))
            .col_expr(orders::Column::UpdatedAt, Expr::value(nowf))
            .filter(orders::Column::Id.eq(order.id))
            .filter(orders::Column::Status.eq(OrderStatus::Pending))
            .exec(txn)
            .await?;
        let reload = || async {
            orders::Entity::find_by_id(order.id)
                .one(txn)
                .await
                .map(|o| o.unwrap_or_else(|| order.clone()))
        };
        if claimed.rows_affected == 0 {
            return Ok(Confirmed::AlreadyDone(reload().await?));
        }
        let items = order_items::Entity::find()
            .filter(order_items::Column::OrderId.eq(order.id))
            .order_by_asc(order_items::Column::TierId)
            .all(txn)
            .await?;
        let consumed = match order.reservation_id {
            Some(rid) => reservations::consume(txn, rid, now).await?,
            None => false,
        };
        for item in &items {
            // Held seats become sold; a released hold takes seats again only if
            // there are any.
            let seats = if consumed {
                Seats::Sell(item.quantity)
            } else {
                Seats::SellUnheld(item.quantity)
            };
            if !move_seats(txn, item.tier_id, seats).await? {
                return Err(DbErr::Custom(NO_CAPACITY.into()));
            }
        }
        // A hold that ended gave its code's use back: paid late, the use
        // is taken again while there is one (and the buyer's own limit
        // allows), like a seat. After the tiers: locks are always taken
        // tiers first, then the code.
        if let (false, Some(coupon)) = (consumed, order.coupon_id) {
            if !super::coupons::retake_use(txn, coupon, order).await? {
                return Err(DbErr::Custom(NO_CAPACITY.into()));
            }
        }
        let mut new_tickets = Vec::new();
        let holders = holder_names(&order.ticket_holders);
        for item in &items {
            let names = holders.get(&item.tier_id);
            for n in 0..item.quantity {
                let holder = names
                    .and_then(|v| v.get(usize::try_from(n).unwrap_or(usize::MAX)))
                    .filter(|name| !name.is_empty());
                new_tickets.push(tickets::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    order_id: Set(order.id),
                    event_id: Set(order.event_id),
                    tier_id: Set(item.tier_id),
                    code: Set(random_urlsafe(18)),
                    attendee_name: Set(holder.unwrap_or(&order.customer_name).clone()),
                    status: Set(TicketStatus::Valid.into()),
                    used_at: Set(None),
                    used_by: Set(None),
                    created_at: Set(nowf),
                    updated_at: Set(nowf),
                });
            }
        }
        for chunk in new_tickets.chunks(200) {
            tickets::Entity::insert_many(chunk.to_vec())
                .exec(txn)
                .await?;
        }
        let paid = reload().await?;
        super::sales::count_paid(txn, &paid, &items).await?;
        Ok(Confirmed::Paid(paid))
    }

    /// Confirms a paid order in its own transaction.
    ///
    /// # Errors
    /// The database error.
    pub async fn confirm_paid(
        &self,
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> Result<Confirmed, DbErr> {
        let order = self;
        let txn = db.begin().await?;
        match order.mark_paid(&txn, now).await {
            Ok(done) => {
                txn.commit().await?;
                Ok(done)
            }
            Err(DbErr::Custom(msg)) if msg == NO_CAPACITY => {
                txn.rollback().await?;
                Ok(Confirmed::NoCapacity(order.clone()))
            }
            Err(e) => Err(e),
        }
    }

    /// Ends a pending order unpaid (`cancelled`, `expired`, `failed`) and gives
    /// its seats back. Returns false when the order was not pending.
    ///
    /// # Errors
    /// The database error.
    pub async fn end_unpaid(
        &self,
        db: &DatabaseConnection,
        status: OrderStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        let order = self;
        let txn = db.begin().await?;
        let ended = orders::Entity::update_many()
            .col_expr(orders::Column::Status, Expr::value(status))
            .col_expr(orders::Column::UpdatedAt, Expr::value(now.fixed_offset()))
            .filter(orders::Column::Id.eq(order.id))
            .filter(orders::Column::Status.eq(OrderStatus::Pending))
            .exec(&txn)
            .await?;
        if ended.rows_affected == 1 {
            if let Some(rid) = order.reservation_id {
                reservations::end(&txn, rid, ReservationStatus::Released, now).await?;
            }
        }
        txn.commit().await?;
        Ok(ended.rows_affected == 1)
    }

    /// When the order's reservation stops holding its seats.
    ///
    /// # Errors
    /// The database error.
    pub async fn hold_expires_at<C: ConnectionTrait>(
        &self,
        db: &C,
    ) -> Result<Option<DateTime<FixedOffset>>, DbErr> {
        let order = self;
        let Some(rid) = order.reservation_id else {
            return Ok(None);
        };
        Ok(reservations::Entity::find_by_id(rid)
            .one(db)
            .await?
            .map(|r| r.expires_at))
    }

    /// Refunds part or all of a paid order (the one refund rule, for the admin,
    /// the API and any job). One refund at a time per payment: the payment's
    /// refund slot is taken first (`refund_in_flight`, one guarded `UPDATE`), so
    /// concurrent refunds can never add up to more than was paid; the amount is
    /// checked against the order as it is then; a full refund cancels the
    /// tickets and returns the seats.
    ///
    /// # Errors
    /// Database errors.
    pub async fn refund(
        &self,
        db: &DatabaseConnection,
        webpay: &Webpay,
        amount: i64,
    ) -> Result<Refunded, DbErr> {
        let order = self;
        if amount <= 0 {
            return Ok(Refunded::TooMuch);
        }
        let Some(payment) = payments::Entity::find()
            .filter(payments::Column::OrderId.eq(order.id))
            .filter(payments::Column::Status.eq(PaymentStatus::Authorized))
            .order_by_desc(payments::Column::CreatedAt)
            .one(db)
            .await?
        else {
            return Ok(Refunded::NoPayment);
        };
        if !payment.take_refund_slot(db, amount).await? {
            return Ok(Refunded::InProgress);
        }
        let outcome = refund_claimed(db, webpay, payment.id, order.id, amount).await?;
        // Unknown (or a database error above, after Webpay may have refunded):
        // the slot stays taken until reconciliation reads Transbank's balance.
        if outcome != Refunded::Unknown {
            payment.release_refund_slot(db).await?;
        }
        Ok(outcome)
    }

    /// A refund Transbank made, on the payment and on its order.
    pub async fn record_done_refund(
        &self,
        db: &DatabaseConnection,
        payment: &payments::Model,
        amount: i64,
        detail: &str,
    ) -> Result<(), DbErr> {
        let order = self;
        payment.add_refunded(db, amount, detail).await?;
        if !record_refund(db, order.id, amount, Utc::now()).await? {
            // Cannot happen with the slot held; the money went back all the same.
            tracing::error!(order = %order.order_number, amount, "refund not recorded on the order");
        }
        Ok(())
    }
}
