//! Courtesy tickets: an invitation is redeemed once — claimed by one guarded
//! `UPDATE` (`pending` → `redeemed`) in the transaction that writes its
//! zero-priced order and confirms it like a paid one, so its tickets take
//! seats of the invitation's tier (refused when none are left) and two
//! redemptions at once give one order.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

pub use super::_entities::complimentary_invitations::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{events, order_items, orders, ticket_tiers},
    orders::{Confirmed, NO_CAPACITY},
    status::OrderStatus,
};

pub const STATUSES: [&str; 3] = ["pending", "redeemed", "cancelled"];

/// `Nombre Apellido`, or `Invitado`.
#[must_use]
pub fn full_name(first: &str, last: &str) -> String {
    let name: String = format!("{} {}", first.trim(), last.trim())
        .trim()
        .chars()
        .take(200)
        .collect();
    if name.is_empty() {
        "Invitado".into()
    } else {
        name
    }
}

/// The event's hidden courtesy tier (price 0, unlimited, not public),
/// made the first time it is needed.
///
/// # Errors
/// The database error.
pub async fn courtesy_tier<C: ConnectionTrait>(
    db: &C,
    event: Uuid,
) -> Result<ticket_tiers::Model, DbErr> {
    if let Some(tier) = ticket_tiers::Entity::find()
        .filter(ticket_tiers::Column::EventId.eq(event))
        .filter(ticket_tiers::Column::TierType.eq("complimentary"))
        .one(db)
        .await?
    {
        return Ok(tier);
    }
    let now = Utc::now().fixed_offset();
    ticket_tiers::ActiveModel {
        created_at: Set(now),
        updated_at: Set(now),
        id: Set(Uuid::new_v4()),
        event_id: Set(event),
        name: Set("Cortesía".into()),
        description: Set("Entrada cortesía".into()),
        price: Set(0),
        capacity: Set(None),
        sold: Set(0),
        min_per_order: Set(1),
        max_per_order: Set(Some(10)),
        sale_start: Set(None),
        sale_end: Set(None),
        is_public: Set(false),
        display_order: Set(1000),
        reserved: Set(0),
        tier_type: Set("complimentary".into()),
        benefits: Set(String::new()),
        is_highlighted: Set(false),
        category_id: Set(None),
    }
    .insert(db)
    .await
}

/// Who redeems: the invitee's details as given at redemption (blank ones
/// fall back to the invitation's).
pub struct Attendee {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// Why a redemption was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Already redeemed or cancelled.
    NotPending,
    /// More tickets than the invitation allows.
    TooMany(i32),
    /// The tier has no seats left.
    SoldOut,
}

/// Redeems an invitation into a paid zero-priced order with `quantity`
/// tickets; `fallback_email` is the order's address when the invitee gives
/// none (the organizer's contact).
///
/// # Errors
/// The database error.
pub async fn redeem(
    db: &DatabaseConnection,
    invitation: &Model,
    attendee: &Attendee,
    quantity: i32,
    fallback_email: &str,
    now: DateTime<Utc>,
) -> Result<Result<orders::Model, Refusal>, DbErr> {
    if quantity < 1 || quantity > invitation.max_tickets {
        return Ok(Err(Refusal::TooMany(invitation.max_tickets)));
    }
    let nowf = now.fixed_offset();
    let pick = |given: &str, stored: &str| {
        let given = given.trim();
        if given.is_empty() {
            stored.trim().to_string()
        } else {
            given.to_string()
        }
    };
    let first = pick(&attendee.first_name, &invitation.first_name);
    let last = pick(&attendee.last_name, &invitation.last_name);
    let email = pick(&attendee.email, &invitation.email).to_lowercase();
    // No address of the invitee's: nothing to mail (the organizer's
    // fallback address is not theirs).
    let no_mail = email.is_empty();
    let txn = db.begin().await?;
    let claimed = Entity::update_many()
        .col_expr(Column::Status, Expr::value("redeemed"))
        .col_expr(Column::RedeemedAt, Expr::value(nowf))
        .col_expr(
            Column::RedeemedByEmail,
            Expr::value(Some(email.clone()).filter(|e| !e.is_empty())),
        )
        .col_expr(Column::UpdatedAt, Expr::value(nowf))
        .filter(Column::Id.eq(invitation.id))
        .filter(Column::Status.eq("pending"))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(Err(Refusal::NotPending));
    }
    let tier = ticket_tiers::Entity::find_by_id(invitation.tier_id)
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("courtesy tier".into()))?;
    let id = Uuid::new_v4();
    let order = orders::ActiveModel {
        id: Set(id),
        order_number: Set(crate::payments::checkout::order_number()),
        event_id: Set(invitation.event_id),
        user_id: Set(None),
        reservation_id: Set(None),
        status: Set(OrderStatus::Pending.into()),
        customer_name: Set(full_name(&first, &last)),
        customer_email: Set(if email.is_empty() {
            fallback_email.to_string()
        } else {
            email
        }),
        customer_phone: Set(String::new()),
        subtotal: Set(0),
        service_fee: Set(0),
        total: Set(0),
        refunded_amount: Set(0),
        // No token: the invitee reads the tickets through the invitation.
        access_token_hash: Set(crate::platform::tokens::sha256_hex(
            &crate::platform::tokens::random_urlsafe(32),
        )),
        paid_at: Set(None),
        confirmation_sent: Set(no_mail),
        ticket_holders: Set("[]".into()),
        coupon_id: Set(None),
        coupon_code: Set(String::new()),
        discount: Set(0),
        created_at: Set(nowf),
        updated_at: Set(nowf),
    }
    .insert(&txn)
    .await?;
    order_items::ActiveModel {
        id: Set(Uuid::new_v4()),
        order_id: Set(order.id),
        tier_id: Set(tier.id),
        tier_name: Set(tier.name.clone()),
        quantity: Set(quantity),
        unit_price: Set(0),
        discount: Set(0),
        created_at: Set(nowf),
        updated_at: Set(nowf),
    }
    .insert(&txn)
    .await?;
    let paid = match order.mark_paid(&txn, now).await {
        Ok(Confirmed::Paid(o) | Confirmed::AlreadyDone(o) | Confirmed::NoCapacity(o)) => o,
        Err(DbErr::Custom(m)) if m == NO_CAPACITY => {
            txn.rollback().await?;
            return Ok(Err(Refusal::SoldOut));
        }
        Err(e) => return Err(e),
    };
    Entity::update_many()
        .col_expr(Column::OrderId, Expr::value(paid.id))
        .filter(Column::Id.eq(invitation.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Ok(paid))
}

/// The event an invitation is for (deleted ones included).
///
/// # Errors
/// The database error.
pub async fn event_of<C: ConnectionTrait>(
    db: &C,
    invitation: &Model,
) -> Result<Option<events::Model>, DbErr> {
    events::Entity::find_by_id(invitation.event_id)
        .one(db)
        .await
}
