//! A Webpay payment of an order and its rules: claimed before Transbank is
//! called (one guarded status `UPDATE`, so a repeated return, a second tab or
//! a second instance never commits twice), settled from Transbank's answer,
//! refunded one refund at a time (the refund slot).

use chrono::Utc;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
};

pub use super::_entities::payments::{self, ActiveModel, Column, Entity, Model};
use super::{
    orders::{self, Confirmed},
    status::{OrderStatus, PaymentStatus},
};
use crate::payments::webpay::{Transaction, Webpay, WebpayError};

crate::touch_updated_at!(ActiveModel);

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

    /// What an order's status says about its payment, as the frontend is told.
    #[must_use]
    pub fn of(order: &orders::Model) -> Self {
        match OrderStatus::parse(&order.status) {
            Some(OrderStatus::Paid) => Self::Paid,
            Some(OrderStatus::Refunded | OrderStatus::PartiallyRefunded) => Self::Refunded,
            Some(OrderStatus::Cancelled) => Self::Cancelled,
            Some(OrderStatus::Expired) => Self::Timeout,
            Some(OrderStatus::Failed) => Self::Rejected,
            Some(OrderStatus::Pending) | None => Self::Pending,
        }
    }
}

impl Model {
    /// Moves a payment from one of `from` to `to`; true if this call did it.
    pub async fn claim(
        &self,
        db: &DatabaseConnection,
        from: &[PaymentStatus],
        to: PaymentStatus,
    ) -> Result<bool, DbErr> {
        let payment_id = self.id;
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

    /// Applies Transbank's view of a transaction to the payment and its order.
    pub async fn settle(
        &self,
        db: &DatabaseConnection,
        webpay: &Webpay,
        answer: Result<Transaction, WebpayError>,
    ) -> Result<Outcome, DbErr> {
        let payment = self;
        let tx = match answer {
            Ok(tx) => tx,
            Err(err) => {
                tracing::error!(payment = %payment.id, error = %err, "webpay outcome unknown");
                payment
                    .record(db, PaymentStatus::Unknown, None, &err.to_string())
                    .await?;
                return Ok(Outcome::Pending);
            }
        };
        let detail = serde_json::to_string(&tx).unwrap_or_default();
        if !(tx.is_authorized() && tx.amount == Some(payment.amount)) {
            // A status still INITIALIZED means the buyer has not paid: leave it open.
            let status = tx.status.as_deref().unwrap_or("");
            if status == "INITIALIZED" {
                payment
                    .record(db, PaymentStatus::Created, Some(&tx), &detail)
                    .await?;
                return Ok(Outcome::Pending);
            }
            payment
                .record(db, PaymentStatus::Rejected, Some(&tx), &detail)
                .await?;
            if let Some(order) = orders::Entity::find_by_id(payment.order_id).one(db).await? {
                order
                    .end_unpaid(db, OrderStatus::Failed, Utc::now())
                    .await?;
            }
            return Ok(Outcome::Rejected);
        }
        payment
            .record(db, PaymentStatus::Authorized, Some(&tx), &detail)
            .await?;
        let Some(order) = orders::Entity::find_by_id(payment.order_id).one(db).await? else {
            return Ok(Outcome::Error);
        };
        match order.confirm_paid(db, Utc::now()).await? {
            Confirmed::Paid(_) => Ok(Outcome::Paid),
            Confirmed::AlreadyDone(current) => {
                // A second payment for an order already settled: give it back.
                tracing::warn!(order = %order.order_number, payment = %payment.id, "second payment for a settled order; refunding it");
                payment.give_back(db, webpay, payment.amount).await?;
                Ok(Outcome::of(&current))
            }
            Confirmed::NoCapacity(order) => {
                tracing::warn!(order = %order.order_number, "paid after the hold expired and the seats were sold; refunding");
                if payment.give_back(db, webpay, payment.amount).await? {
                    orders::record_unfilled_refund(db, order.id, Utc::now()).await?;
                }
                Ok(Outcome::Refunded)
            }
        }
    }

    async fn record(
        &self,
        db: &DatabaseConnection,
        status: PaymentStatus,
        tx: Option<&Transaction>,
        detail: &str,
    ) -> Result<(), DbErr> {
        let payment = self;
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
    pub async fn give_back(
        &self,
        db: &DatabaseConnection,
        webpay: &Webpay,
        amount: i64,
    ) -> Result<bool, DbErr> {
        let payment = self;
        match webpay.refund(&payment.token, amount).await {
            Ok(refund) => {
                let detail = serde_json::to_string(&refund).unwrap_or_default();
                payment.add_refunded(db, amount, &detail).await?;
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
    pub async fn add_refunded(
        &self,
        db: &DatabaseConnection,
        amount: i64,
        detail: &str,
    ) -> Result<(), DbErr> {
        let payment = self;
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

    /// Marks `amount` as being refunded through a payment, unless another
    /// refund of it is under way. True if this call took the slot.
    pub async fn take_refund_slot(
        &self,
        db: &DatabaseConnection,
        amount: i64,
    ) -> Result<bool, DbErr> {
        let payment_id = self.id;
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

    pub async fn release_refund_slot(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let payment_id = self.id;
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

    /// Whether a refund of `amount` whose answer was lost went through, by the
    /// balance Transbank keeps: `Some(Some(detail))` yes, `Some(None)` no, `None`
    /// when Transbank cannot say now.
    pub async fn refund_happened(&self, webpay: &Webpay, amount: i64) -> Option<Option<String>> {
        let payment = self;
        let left = payment.amount - payment.refunded_amount;
        match webpay.status(&payment.token).await {
            Ok(tx) if tx.balance == Some(left - amount) => {
                Some(Some(serde_json::to_string(&tx).unwrap_or_default()))
            }
            Ok(tx) if tx.balance == Some(left) => Some(None),
            Ok(_) | Err(_) => None,
        }
    }
}
