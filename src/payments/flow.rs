//! Webpay Plus payments of orders: create, the four returns, commit,
//! reconciliation and refunds. Nothing a buyer paid for is lost: an authorized
//! payment always ends as a paid order with tickets, or as a refund.
//!
//! The rules are the models': a payment is claimed before Transbank is
//! called and settled from its answer (`models::payments`), an order is
//! confirmed, ended or refunded once (`models::orders`). This module walks a
//! return or a job through them.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use uuid::Uuid;

use crate::{
    models::{
        orders,
        payments::{self, Outcome},
        status::{OrderStatus, PaymentStatus},
    },
    payments::webpay::{Webpay, WebpayError},
};

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
    let holds_until = order.hold_expires_at(db).await?;
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
                let outcome = Outcome::of(&order);
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
            if !payment
                .claim(db, &[PaymentStatus::Created], PaymentStatus::Committing)
                .await?
            {
                let order = load_order(db, payment.order_id).await?;
                return Ok(Some(order.as_ref().map_or(Outcome::Error, Outcome::of)));
            }
            return payment.settle(db, webpay, Ok(tx)).await.map(Some);
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

/// An attempt that was not charged: the payment ends as `status`, and the
/// order (if still pending and no other attempt is open) as `order_status`,
/// giving its seats back.
async fn end_unpaid(
    db: &DatabaseConnection,
    payment: &payments::Model,
    status: PaymentStatus,
    order_status: OrderStatus,
) -> Result<(), DbErr> {
    if !payment.claim(db, &[PaymentStatus::Created], status).await? {
        return Ok(());
    }
    let Some(order) = orders::Entity::find_by_id(payment.order_id).one(db).await? else {
        return Ok(());
    };
    order.end_unpaid(db, order_status, Utc::now()).await?;
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
    if !payment
        .claim(db, &[PaymentStatus::Created], PaymentStatus::Committing)
        .await?
    {
        // Someone else committed (or is committing) it: report what is known.
        let order = orders::Entity::find_by_id(payment.order_id).one(db).await?;
        return Ok(order.as_ref().map_or(Outcome::Error, Outcome::of));
    }
    let answer = match webpay.commit(&payment.token).await {
        Ok(tx) => Ok(tx),
        Err(err) => {
            tracing::warn!(payment = %payment.id, error = %err, "webpay commit failed; asking its status");
            // Whatever happened, Transbank's status says where the money is.
            webpay.status(&payment.token).await
        }
    };
    payment.settle(db, webpay, answer).await
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
        match payment.refund_happened(webpay, amount).await {
            Some(Some(detail)) => {
                order
                    .record_done_refund(db, &payment, amount, &detail)
                    .await?;
            }
            Some(None) => {}
            None => continue,
        }
        payment.release_refund_slot(db).await?;
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
    settled += resume_authorized(db, webpay).await?;
    for payment in unknown {
        if !payment
            .claim(db, &[PaymentStatus::Unknown], PaymentStatus::Committing)
            .await?
        {
            continue;
        }
        let outcome = payment
            .settle(db, webpay, webpay.status(&payment.token).await)
            .await?;
        if outcome != Outcome::Pending {
            settled += 1;
        }
    }
    Ok(settled)
}

/// Payments Webpay authorized whose order was left pending: the request
/// that recorded the authorization failed before the order was paid (a
/// database error, a restart). Each is claimed (one reconciler at a time),
/// then settled again from Transbank's status: the order is paid and its
/// tickets issued, or the money given back if its seats are gone. Only
/// payments untouched for two minutes (never one a live request holds).
async fn resume_authorized(db: &DatabaseConnection, webpay: &Webpay) -> Result<u64, DbErr> {
    use crate::models::_entities::{orders as order_rows, payments as payment_rows};
    use sea_orm::{JoinType, QuerySelect, RelationTrait};
    let quiet = (Utc::now() - chrono::Duration::minutes(2)).fixed_offset();
    let stuck = payment_rows::Entity::find()
        .join(JoinType::InnerJoin, payment_rows::Relation::Orders.def())
        .filter(payment_rows::Column::Status.eq(PaymentStatus::Authorized))
        .filter(payment_rows::Column::UpdatedAt.lt(quiet))
        .filter(order_rows::Column::Status.eq(OrderStatus::Pending))
        .all(db)
        .await?;
    let mut settled = 0;
    for payment in stuck {
        if !payment
            .claim(db, &[PaymentStatus::Authorized], PaymentStatus::Committing)
            .await?
        {
            continue;
        }
        tracing::warn!(payment = %payment.id, "authorized payment with its order still pending; settling it again");
        let outcome = payment
            .settle(db, webpay, webpay.status(&payment.token).await)
            .await?;
        if outcome != Outcome::Pending {
            settled += 1;
        }
    }
    Ok(settled)
}
