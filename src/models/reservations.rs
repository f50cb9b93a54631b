//! A reservation (a hold on seats) and its rules: live while active or
//! booked and unexpired; claimed by one booking, consumed by one payment,
//! ended once (released or expired) with its seats given back. Every change
//! is one `UPDATE` guarded by the current state, so a repeated or concurrent
//! call does nothing.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

pub use super::_entities::reservations::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::reservation_items,
    status::ReservationStatus,
    ticket_tiers::{move_seats, Seats},
};

crate::touch_updated_at!(ActiveModel);

/// Returns the seats of expired reservations to sale. Each reservation is
/// claimed by a guarded `UPDATE` first, so concurrent callers (every reserve,
/// the `release_expired_holds` task on any number of instances) never return
/// the same seats twice. `tiers` narrows the search to reservations holding
/// those tiers.
///
/// # Errors
/// The database error.
pub async fn release_expired(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    tiers: Option<&[Uuid]>,
    limit: u64,
) -> Result<u64, DbErr> {
    let mut query = reservations::Entity::find()
        .select_only()
        .column(reservations::Column::Id)
        .filter(reservations::Column::Status.is_in(ReservationStatus::LIVE))
        .filter(reservations::Column::ExpiresAt.lte(now.fixed_offset()))
        .limit(limit);
    if let Some(tiers) = tiers {
        query = query.filter(
            reservations::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(reservation_items::Column::ReservationId)
                    .from(reservation_items::Entity)
                    .and_where(reservation_items::Column::TierId.is_in(tiers.iter().copied()))
                    .to_owned(),
            ),
        );
    }
    let ids: Vec<Uuid> = query.into_tuple().all(db).await?;
    let mut released = 0;
    // One short transaction each: a release never holds tier locks while
    // waiting for another (tiers are always locked in id order).
    for id in ids {
        let txn = db.begin().await?;
        let done = end(&txn, id, ReservationStatus::Expired, now).await?;
        txn.commit().await?;
        if done {
            released += 1;
        }
    }
    Ok(released)
}

/// Ends a live reservation (`released` or `expired`) and gives its seats back.
/// Returns false when it was not live (already ended by someone else).
///
/// # Errors
/// The database error.
pub async fn end<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    status: ReservationStatus,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = reservations::Entity::update_many()
        .col_expr(reservations::Column::Status, Expr::value(status))
        .col_expr(
            reservations::Column::UpdatedAt,
            Expr::value(now.fixed_offset()),
        )
        .filter(reservations::Column::Id.eq(id))
        .filter(reservations::Column::Status.is_in(ReservationStatus::LIVE))
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    let items = reservation_items::Entity::find()
        .filter(reservation_items::Column::ReservationId.eq(id))
        .order_by_asc(reservation_items::Column::TierId)
        .all(db)
        .await?;
    for item in items {
        move_seats(db, item.tier_id, Seats::Release(item.quantity)).await?;
    }
    super::coupons::release_for_reservation(db, id).await?;
    Ok(true)
}

/// Claims an active, unexpired reservation of `event` for its booking
/// (`active` → `ordered`); false when it is not (booked, ended, expired, or
/// another event's).
///
/// # Errors
/// The database error.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    event: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let nowf = now.fixed_offset();
    Ok(Entity::update_many()
        .col_expr(Column::Status, Expr::value(ReservationStatus::Ordered))
        .col_expr(Column::UpdatedAt, Expr::value(nowf))
        .filter(Column::Id.eq(id))
        .filter(Column::EventId.eq(event))
        .filter(Column::Status.eq(ReservationStatus::Active))
        .filter(Column::ExpiresAt.gt(nowf))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// A live reservation's seats are taken by its paid order (`consumed`);
/// false when it was no longer live (expired and released meanwhile).
///
/// # Errors
/// The database error.
pub async fn consume<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::Status, Expr::value(ReservationStatus::Consumed))
        .col_expr(Column::UpdatedAt, Expr::value(now.fixed_offset()))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.is_in(ReservationStatus::LIVE))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}
