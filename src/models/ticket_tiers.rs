//! A ticket tier and its rules: its seat counters move by one guarded
//! `UPDATE` ([`move_seats`]), and it is on sale inside its window.

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

pub use super::_entities::ticket_tiers::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);

/// Inside a sales window whose bounds are each optional (the event's, a
/// tier's): the one "on sale" test of a time.
#[must_use]
pub fn in_window(
    start: Option<DateTime<FixedOffset>>,
    end: Option<DateTime<FixedOffset>>,
    now: DateTime<FixedOffset>,
) -> bool {
    start.is_none_or(|s| now >= s) && end.is_none_or(|e| now <= e)
}

impl Model {
    /// The tier's own sales window is open.
    #[must_use]
    pub fn in_sale_window(&self, now: DateTime<FixedOffset>) -> bool {
        in_window(self.sale_start, self.sale_end, now)
    }
}

/// What happens to a tier's seats.
#[derive(Debug, Clone, Copy)]
pub enum Seats {
    /// Held for a buyer, only while there is room.
    Hold(i32),
    /// A hold given back.
    Release(i32),
    /// Held seats become sold (the sum is unchanged: always fits).
    Sell(i32),
    /// Sold without a hold (a payment that outlived it), only while there is room.
    SellUnheld(i32),
    /// Sold seats given back (a full refund).
    Unsell(i32),
}

/// The one `UPDATE` of a tier's counters: `reserved` and `sold` move as
/// `seats` says, and seats are only taken while
/// `sold + reserved + n <= capacity` (the database decides; its `CHECK`
/// holds the same rule). Returns whether the tier's row changed.
pub async fn move_seats<C: ConnectionTrait>(
    db: &C,
    tier: Uuid,
    seats: Seats,
) -> Result<bool, DbErr> {
    use ticket_tiers::Column::{Capacity, Id, Reserved, Sold};
    let (held, sold, taken) = match seats {
        Seats::Hold(n) => (n, 0, n),
        Seats::Release(n) => (-n, 0, 0),
        Seats::Sell(n) => (-n, n, 0),
        Seats::SellUnheld(n) => (0, n, n),
        Seats::Unsell(n) => (0, -n, 0),
    };
    let mut update = ticket_tiers::Entity::update_many().filter(Id.eq(tier));
    if held != 0 {
        update = update.col_expr(Reserved, Expr::col(Reserved).add(held));
    }
    if sold != 0 {
        update = update.col_expr(Sold, Expr::col(Sold).add(sold));
    }
    if taken > 0 {
        update = update.filter(
            sea_orm::Condition::any().add(Capacity.is_null()).add(
                Expr::col(Sold)
                    .add(Expr::col(Reserved))
                    .add(taken)
                    .lte(Expr::col(Capacity)),
            ),
        );
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}
