//! Webpay Plus payments of orders: create, the four returns, commit,
//! reconciliation and refunds. Nothing a buyer paid for is lost: an authorized
//! payment always ends as a paid order with tickets, or as a refund.
//!
//! Each payment row is claimed before Transbank is called (`created` →
//! `committing` in one guarded `UPDATE`), so a repeated return, a second tab or
//! a second instance never commits twice; the order is confirmed by
//! `checkout::confirm_paid`, itself guarded, so it is paid once.

use chrono::Utc;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{
    models::{
        _entities::{orders, payments},
        status::{OrderStatus, PaymentStatus},
    },
    payments::checkout::{self, Confirmed},
    payments::webpay::{Transaction, Webpay, WebpayError},
};

/// How a payment attempt ended, as the frontend is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    Rejected,
    Cancelled,
    Timeout,
    /// Paid, but the seats were gone (or the order was already paid): refunded.
    Refunded,
    /// Transbank's answer is not known yet; reconciliation will settle it.
    Pending,
    Error,
}

impl Outcome {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Timeout => "timeout",
            Self::Refunded => "refunded",
            Self::Pending => "pending",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("order is not pending")]
    NotPending,
    #[error("the reservation expired")]
    HoldExpired,
    #[error(transparent)]
    Webpay(#[from] WebpayError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Starts a Webpay transaction for a pending order whose seats are still held.
///
/// # Errors
/// [`PaymentError`].
pub async fn create(
    db: &DatabaseConnection,
    webpay: &Webpay,
    order: &orders::Model,
    return_url: &str,
) -> Result<crate::payments::webpay::Created, PaymentError> {
    if !OrderStatus::Pending.is(&order.status) || order.total <= 0 {
        return Err(PaymentError::NotPending);
    }
    let holds_until = checkout::hold_expires_at(db, order).await?;
    if holds_until.is_none_or(|t| t <= Utc::now()) {
        return Err(PaymentError::HoldExpired);
    }
    let created = webpay
        .create(
            &order.order_number,
            &session_id(order.id),
            order.total,
            return_url,
        )
        .await?;
    let now = Utc::now().fixed_offset();
    payments::ActiveModel {
        id: Set(Uuid::new_v4()),
        order_id: Set(order.id),
        token: Set(created.token.clone()),
        buy_order: Set(order.order_number.clone()),
        amount: Set(order.total),
        status: Set(PaymentStatus::Created.into()),
        response_code: Set(None),
        authorization_code: Set(String::new()),
        card_last4: Set(String::new()),
        payment_type_code: Set(String::new()),
        refunded_amount: Set(0),
        detail: Set(String::new()),
        refund_in_flight: Set(None),
        refund_started_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(created)
}

/// The parameters Webpay sends back to the return URL (GET or POST form).
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ReturnParams {
    pub token_ws: Option<String>,
    #[serde(rename = "TBK_TOKEN")]
    pub tbk_token: Option<String>,
    #[serde(rename = "TBK_ORDEN_COMPRA")]
    pub tbk_orden_compra: Option<String>,
    #[serde(rename = "TBK_ID_SESION")]
    pub tbk_id_sesion: Option<String>,
}

fn non_empty(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Handles a return to `webpay_return`: returns the order (if known, as it is
/// after the return) and the outcome.
///
/// * `token_ws` alone: the buyer finished the form; commit it.
/// * `TBK_TOKEN` (with `TBK_ORDEN_COMPRA`): the buyer aborted; with
///   `token_ws` too: an error in the payment form. Not charged.
/// * `TBK_ORDEN_COMPRA` without any token: the form timed out. Not charged.
///
/// # Errors
/// Database errors only; Transbank's problems become outcomes.
pub async fn handle_return(
    db: &DatabaseConnection,
    webpay: &Webpay,
    params: &ReturnParams,
) -> Result<(Option<orders::Model>, Outcome), DbErr> {
    let token_ws = non_empty(params.token_ws.as_ref());
    let tbk_token = non_empty(params.tbk_token.as_ref());
    let buy_order = non_empty(params.tbk_orden_compra.as_ref());
    match (token_ws, tbk_token) {
        (Some(token), None) => {
            let Some(payment) = find_by_token(db, token).await? else {
                return Ok((None, Outcome::Error));
            };
            let outcome = commit(db, webpay, &payment).await?;
            Ok((load_order(db, payment.order_id).await?, outcome))
        }
        (token_ws, Some(tbk)) => {
            // Aborted (TBK_TOKEN) or a form error (both tokens).
            let status = if token_ws.is_some() {
                PaymentStatus::Failed
            } else {
                PaymentStatus::Aborted
            };
            let outcome = if token_ws.is_some() {
                Outcome::Error
            } else {
                Outcome::Cancelled
            };
            let payment = match find_by_token(db, tbk).await? {
                Some(p) => Some(p),
                None => match token_ws {
                    Some(t) => find_by_token(db, t).await?,
                    None => None,
                },
            };
            // Without a payment of ours nothing changes (and nothing about
            // an order is told to whoever sent this).
            let Some(payment) = payment else {
                return Ok((None, outcome));
            };
            // Webpay sends the session id back with every abort and form
            // error: without the one this payment was created with, nothing
            // changes.
            let session = non_empty(params.tbk_id_sesion.as_ref());
            if session != Some(session_id(payment.order_id).as_str()) {
                return Ok((None, Outcome::Error));
            }
            let outcome = end_if_unpaid(db, webpay, &payment, status, OrderStatus::Cancelled)
                .await?
                .unwrap_or(outcome);
            Ok((load_order(db, payment.order_id).await?, outcome))
        }
        (None, None) => {
            // Timeout: the buy order (our order number) and the session id
            // (the order's id, never shown to anyone) come back. Both must
            // match: an order number alone, which buyers see and share,
            // changes nothing.
            let (Some(number), Some(session)) =
                (buy_order, non_empty(params.tbk_id_sesion.as_ref()))
            else {
                return Ok((None, Outcome::Error));
            };
            let Some(order) = find_by_number(db, Some(number))
                .await?
                .filter(|o| session_id(o.id) == session)
            else {
                return Ok((None, Outcome::Error));
            };
            let open = payments::Entity::find()
                .filter(payments::Column::OrderId.eq(order.id))
                .filter(payments::Column::Status.eq(PaymentStatus::Created))
                .all(db)
                .await?;
            if open.is_empty() {
                // No open attempt: leave the order as it is (it may be paid).
                let outcome = current_outcome(&order);
                return Ok((Some(order), outcome));
            }
            let mut outcome = Outcome::Timeout;
            for payment in &open {
                if let Some(o) = end_if_unpaid(
                    db,
                    webpay,
                    payment,
                    PaymentStatus::Timeout,
                    OrderStatus::Expired,
                )
                .await?
                {
                    outcome = o;
                }
            }
            Ok((load_order(db, order.id).await?, outcome))
        }
    }
}

/// The session id a payment of this order was created with.
fn session_id(order_id: Uuid) -> String {
    order_id.simple().to_string()
}

/// Ends a payment the buyer did not complete, once Transbank's status agrees
/// that it was not paid; `Some(outcome)` when it does not: an authorized
/// payment is settled (paid, or refunded), and an unanswered status call
/// leaves it open for reconciliation (the hold's expiry ends it otherwise).
async fn end_if_unpaid(
    db: &DatabaseConnection,
    webpay: &Webpay,
    payment: &payments::Model,
    status: PaymentStatus,
    order_status: OrderStatus,
) -> Result<Option<Outcome>, DbErr> {
    match webpay.status(&payment.token).await {
        Ok(tx) if tx.is_authorized() => {
            if !claim(
                db,
                payment.id,
                &[PaymentStatus::Created],
                PaymentStatus::Committing,
            )
            .await?
            {
                let order = load_order(db, payment.order_id).await?;
                return Ok(Some(order.as_ref().map_or(Outcome::Error, current_outcome)));
            }
            return settle(db, webpay, payment, Ok(tx)).await.map(Some);
        }
        Err(err) if err.outcome_unknown() => {
            tracing::warn!(payment = %payment.id, error = %err, "webpay status unknown on an abort or timeout; left open");
            return Ok(Some(Outcome::Pending));
        }
        // Not paid (still initialized, failed, or unknown to Transbank).
        _ => {}
    }
    end_unpaid(db, payment, status, order_status).await?;
    Ok(None)
}

fn current_outcome(order: &orders::Model) -> Outcome {
    match OrderStatus::parse(&order.status) {
        Some(OrderStatus::Paid) => Outcome::Paid,
        Some(OrderStatus::Refunded | OrderStatus::PartiallyRefunded) => Outcome::Refunded,
        Some(OrderStatus::Cancelled) => Outcome::Cancelled,
        Some(OrderStatus::Expired) => Outcome::Timeout,
        Some(OrderStatus::Failed) => Outcome::Rejected,
        Some(OrderStatus::Pending) | None => Outcome::Pending,
    }
}

async fn find_by_token(
    db: &DatabaseConnection,
    token: &str,
) -> Result<Option<payments::Model>, DbErr> {
    payments::Entity::find()
        .filter(payments::Column::Token.eq(token))
        .one(db)
        .await
}

async fn load_order(db: &DatabaseConnection, id: Uuid) -> Result<Option<orders::Model>, DbErr> {
    orders::Entity::find_by_id(id).one(db).await
}

async fn find_by_number(
    db: &DatabaseConnection,
    number: Option<&str>,
) -> Result<Option<orders::Model>, DbErr> {
    let Some(number) = number else {
        return Ok(None);
    };
    orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number))
        .one(db)
        .await
}

/// Moves a payment from one of `from` to `to`; true if this call did it.
async fn claim(
    db: &DatabaseConnection,
    payment_id: Uuid,
    from: &[PaymentStatus],
    to: PaymentStatus,
) -> Result<bool, DbErr> {
    Ok(payments::Entity::update_many()
        .col_expr(payments::Column::Status, Expr::value(to))
        .col_expr(
            payments::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(payments::Column::Id.eq(payment_id))
        .filter(payments::Column::Status.is_in(from.iter().copied()))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// An attempt that was not charged: the payment ends as `status`, and the
/// order (if still pending and no other attempt is open) as `order_status`,
/// giving its seats back.
async fn end_unpaid(
    db: &DatabaseConnection,
    payment: &payments::Model,
    status: PaymentStatus,
    order_status: OrderStatus,
) -> Result<(), DbErr> {
    if !claim(db, payment.id, &[PaymentStatus::Created], status).await? {
        return Ok(());
    }
    let Some(order) = orders::Entity::find_by_id(payment.order_id).one(db).await? else {
        return Ok(());
    };
    checkout::end_unpaid(db, &order, order_status, Utc::now()).await?;
    Ok(())
}

/// Commits a payment the buyer completed, once.
///
/// # Errors
/// Database errors.
pub async fn commit(
    db: &DatabaseConnection,
    webpay: &Webpay,
    payment: &payments::Model,
) -> Result<Outcome, DbErr> {
    if !claim(
        db,
        payment.id,
        &[PaymentStatus::Created],
        PaymentStatus::Committing,
    )
    .await?
    {
        // Someone else committed (or is committing) it: report what is known.
        let order = orders::Entity::find_by_id(payment.order_id).one(db).await?;
        return Ok(order.as_ref().map_or(Outcome::Error, current_outcome));
    }
    let answer = match webpay.commit(&payment.token).await {
        Ok(tx) => Ok(tx),
        Err(err) => {
            tracing::warn!(payment = %payment.id, error = %err, "webpay commit failed; asking its status");
            // Whatever happened, Transbank's status says where the money is.
            webpay.status(&payment.token).await
        }
    };
    settle(db, webpay, payment, answer).await
}

/// Applies Transbank's view of a transaction to the payment and its order.
async fn settle(
    db: &DatabaseConnection,
    webpay: &Webpay,
    payment: &payments::Model,
    answer: Result<Transaction, WebpayError>,
) -> Result<Outcome, DbErr> {
    let tx = match answer {
        Ok(tx) => tx,
        Err(err) => {
            tracing::error!(payment = %payment.id, error = %err, "webpay outcome unknown");
            record(db, payment, PaymentStatus::Unknown, None, &err.to_string()).await?;
            return Ok(Outcome::Pending);
        }
    };
    let detail = serde_json::to_string(&tx).unwrap_or_default();
    if !(tx.is_authorized() && tx.amount == Some(payment.amount)) {
        // A status still INITIALIZED means the buyer has not paid: leave it open.
        let status = tx.status.as_deref().unwrap_or("");
        if status == "INITIALIZED" {
            record(db, payment, PaymentStatus::Created, Some(&tx), &detail).await?;
            return Ok(Outcome::Pending);
        }
        record(db, payment, PaymentStatus::Rejected, Some(&tx), &detail).await?;
        if let Some(order) = orders::Entity::find_by_id(payment.order_id).one(db).await? {
            checkout::end_unpaid(db, &order, OrderStatus::Failed, Utc::now()).await?;
        }
        return Ok(Outcome::Rejected);
    }
    record(db, payment, PaymentStatus::Authorized, Some(&tx), &detail).await?;
    let Some(order) = orders::Entity::find_by_id(payment.order_id).one(db).await? else {
        return Ok(Outcome::Error);
    };
    match checkout::confirm_paid(db, &order, Utc::now()).await? {
        Confirmed::Paid(_) => Ok(Outcome::Paid),
        Confirmed::AlreadyDone(current) => {
            // A second payment for an order already settled: give it back.
            tracing::warn!(order = %order.order_number, payment = %payment.id, "second payment for a settled order; refunding it");
            refund_payment(db, webpay, payment, payment.amount).await?;
            Ok(current_outcome(&current))
        }
        Confirmed::NoCapacity(order) => {
            tracing::warn!(order = %order.order_number, "paid after the hold expired and the seats were sold; refunding");
            if refund_payment(db, webpay, payment, payment.amount).await? {
                checkout::record_unfilled_refund(db, order.id, Utc::now()).await?;
            }
            Ok(Outcome::Refunded)
        }
    }
}

async fn record(
    db: &DatabaseConnection,
    payment: &payments::Model,
    status: PaymentStatus,
    tx: Option<&Transaction>,
    detail: &str,
) -> Result<(), DbErr> {
    let mut active: payments::ActiveModel = payments::Entity::find_by_id(payment.id)
        .one(db)
        .await?
        .unwrap_or_else(|| payment.clone())
        .into();
    active.status = Set(status.to_string());
    active.detail = Set(detail.chars().take(4000).collect());
    if let Some(tx) = tx {
        active.response_code = Set(tx.response_code.and_then(|c| i32::try_from(c).ok()));
        active.authorization_code = Set(tx
            .authorization_code
            .clone()
            .unwrap_or_default()
            .chars()
            .take(20)
            .collect());
        active.card_last4 = Set(tx
            .card_detail
            .as_ref()
            .and_then(|c| c.card_number.clone())
            .unwrap_or_default()
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect());
        active.payment_type_code = Set(tx
            .payment_type_code
            .clone()
            .unwrap_or_default()
            .chars()
            .take(4)
            .collect());
    }
    active.updated_at = Set(Utc::now().fixed_offset());
    active.update(db).await?;
    Ok(())
}

/// Refunds `amount` of an authorized payment at Transbank and records it on
/// the payment.
///
/// # Errors
/// Database errors; a refund Transbank refuses is logged and left for support
/// (the payment keeps its amount, nothing is marked refunded): `Ok(false)`.
async fn refund_payment(
    db: &DatabaseConnection,
    webpay: &Webpay,
    payment: &payments::Model,
    amount: i64,
) -> Result<bool, DbErr> {
    match webpay.refund(&payment.token, amount).await {
        Ok(refund) => {
            let detail = serde_json::to_string(&refund).unwrap_or_default();
            add_refunded(db, payment, amount, &detail).await?;
            Ok(true)
        }
        Err(err) => {
            tracing::error!(payment = %payment.id, error = %err, "webpay refund failed; needs attention");
            Ok(false)
        }
    }
}

/// Adds a refund Transbank made to the payment (an atomic add, capped at
/// what was paid).
async fn add_refunded(
    db: &DatabaseConnection,
    payment: &payments::Model,
    amount: i64,
    detail: &str,
) -> Result<(), DbErr> {
    let added = Expr::col(payments::Column::RefundedAmount).add(amount);
    payments::Entity::update_many()
        .col_expr(
            payments::Column::RefundedAmount,
            Expr::case(
                added.clone().gt(Expr::col(payments::Column::Amount)),
                Expr::col(payments::Column::Amount),
            )
            .finally(added)
            .into(),
        )
        .col_expr(payments::Column::Detail, Expr::value(detail.to_string()))
        .col_expr(
            payments::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(payments::Column::Id.eq(payment.id))
        .exec(db)
        .await?;
    Ok(())
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

/// Refunds part or all of a paid order (the one refund rule, for the admin,
/// the API and any job). One refund at a time per payment: the payment's
/// refund slot is taken first (`refund_in_flight`, one guarded `UPDATE`), so
/// concurrent refunds can never add up to more than was paid; the amount is
/// checked against the order as it is then; a full refund cancels the
/// tickets and returns the seats.
///
/// # Errors
/// Database errors.
pub async fn refund_order(
    db: &DatabaseConnection,
    webpay: &Webpay,
    order: &orders::Model,
    amount: i64,
) -> Result<Refunded, DbErr> {
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
    if !take_refund_slot(db, payment.id, amount).await? {
        return Ok(Refunded::InProgress);
    }
    let outcome = refund_claimed(db, webpay, payment.id, order.id, amount).await?;
    // Unknown (or a database error above, after Webpay may have refunded):
    // the slot stays taken until reconciliation reads Transbank's balance.
    if outcome != Refunded::Unknown {
        release_refund_slot(db, payment.id).await?;
    }
    Ok(outcome)
}

/// Marks `amount` as being refunded through a payment, unless another
/// refund of it is under way. True if this call took the slot.
async fn take_refund_slot(
    db: &DatabaseConnection,
    payment_id: Uuid,
    amount: i64,
) -> Result<bool, DbErr> {
    Ok(payments::Entity::update_many()
        .col_expr(payments::Column::RefundInFlight, Expr::value(amount))
        .col_expr(
            payments::Column::RefundStartedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(payments::Column::Id.eq(payment_id))
        .filter(payments::Column::RefundInFlight.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

async fn release_refund_slot(db: &DatabaseConnection, payment_id: Uuid) -> Result<(), DbErr> {
    payments::Entity::update_many()
        .col_expr(
            payments::Column::RefundInFlight,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            payments::Column::RefundStartedAt,
            Expr::value(Option::<chrono::DateTime<chrono::FixedOffset>>::None),
        )
        .filter(payments::Column::Id.eq(payment_id))
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
        load_order(db, order_id).await?,
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
            match refund_happened(webpay, &payment, amount).await {
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
    record_done_refund(db, &payment, &order, amount, &detail).await?;
    Ok(Refunded::Done)
}

/// Whether a refund of `amount` whose answer was lost went through, by the
/// balance Transbank keeps: `Some(Some(detail))` yes, `Some(None)` no, `None`
/// when Transbank cannot say now.
async fn refund_happened(
    webpay: &Webpay,
    payment: &payments::Model,
    amount: i64,
) -> Option<Option<String>> {
    let left = payment.amount - payment.refunded_amount;
    match webpay.status(&payment.token).await {
        Ok(tx) if tx.balance == Some(left - amount) => {
            Some(Some(serde_json::to_string(&tx).unwrap_or_default()))
        }
        Ok(tx) if tx.balance == Some(left) => Some(None),
        Ok(_) | Err(_) => None,
    }
}

/// A refund Transbank made, on the payment and on its order.
async fn record_done_refund(
    db: &DatabaseConnection,
    payment: &payments::Model,
    order: &orders::Model,
    amount: i64,
    detail: &str,
) -> Result<(), DbErr> {
    add_refunded(db, payment, amount, detail).await?;
    if !checkout::record_refund(db, order.id, amount, Utc::now()).await? {
        // Cannot happen with the slot held; the money went back all the same.
        tracing::error!(order = %order.order_number, amount, "refund not recorded on the order");
    }
    Ok(())
}

/// Settles refunds left in flight (an unanswered refund, or a process that
/// stopped in the middle of one) once they are older than a live request
/// could be: Transbank's balance says whether the money went back.
async fn reconcile_refunds(db: &DatabaseConnection, webpay: &Webpay) -> Result<u64, DbErr> {
    let stale = Utc::now() - chrono::Duration::minutes(10);
    let stuck = payments::Entity::find()
        .filter(payments::Column::RefundInFlight.is_not_null())
        .filter(payments::Column::RefundStartedAt.lt(stale.fixed_offset()))
        .all(db)
        .await?;
    let mut settled = 0;
    for payment in stuck {
        let (Some(amount), Some(order)) = (
            payment.refund_in_flight,
            load_order(db, payment.order_id).await?,
        ) else {
            continue;
        };
        match refund_happened(webpay, &payment, amount).await {
            Some(Some(detail)) => {
                record_done_refund(db, &payment, &order, amount, &detail).await?;
            }
            Some(None) => {}
            None => continue,
        }
        release_refund_slot(db, payment.id).await?;
        settled += 1;
    }
    Ok(settled)
}

/// Settles payments whose outcome is unknown (a commit that got no answer),
/// and commits none: only Transbank's status decides. Safe to run anywhere,
/// any number of times.
///
/// # Errors
/// Database errors.
pub async fn reconcile(db: &DatabaseConnection, webpay: &Webpay) -> Result<u64, DbErr> {
    let unknown = payments::Entity::find()
        .filter(payments::Column::Status.eq(PaymentStatus::Unknown))
        .all(db)
        .await?;
    let mut settled = reconcile_refunds(db, webpay).await?;
    for payment in unknown {
        if !claim(
            db,
            payment.id,
            &[PaymentStatus::Unknown],
            PaymentStatus::Committing,
        )
        .await?
        {
            continue;
        }
        let outcome = settle(db, webpay, &payment, webpay.status(&payment.token).await).await?;
        if outcome != Outcome::Pending {
            settled += 1;
        }
    }
    Ok(settled)
}
