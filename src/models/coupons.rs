//! Discount codes and their one rule: what a code takes off an order, and
//! how its uses are counted where every instance agrees — the database.
//!
//! `used_count` counts the uses of orders that are paid (refunded ones
//! included: the code was used) or pending with their seats held.
//! A use is taken at booking by one guarded `UPDATE` (`used_count` grows
//! only while under the limit, and a check on the table refuses anything
//! else), inside the booking's transaction; the same row lock orders the
//! per-buyer count after it. A use is given back when the order's hold
//! ends without payment (cancelled, failed, expired), and taken again if
//! such an order is paid late — or the payment is refused like a seat
//! that is gone.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

pub use super::_entities::coupons::{self, ActiveModel, Column, Entity, Model};
use super::_entities::{order_items, orders};

crate::touch_updated_at!(ActiveModel);

pub const PERCENTAGE: &str = "percentage";
pub const FIXED: &str = "fixed";
/// `status` choices (only `active` is usable; the others are the
/// organizer's labels).
pub const STATUSES: [&str; 4] = ["active", "expired", "used", "inactive"];

/// A code as buyers type it: trimmed, upper case.
#[must_use]
pub fn normalise(code: &str) -> String {
    code.trim().to_uppercase()
}

/// Whole pesos with a thousands dot: `$5.000`.
#[must_use]
pub fn clp(pesos: i64) -> String {
    let digits = pesos.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}${out}", if pesos < 0 { "-" } else { "" })
}

fn ids(json: &str) -> Vec<Uuid> {
    serde_json::from_str::<Vec<Uuid>>(json).unwrap_or_default()
}

impl Model {
    /// The events it is limited to; `None`: all the organizer's.
    #[must_use]
    pub fn events(&self) -> Option<Vec<Uuid>> {
        self.event_ids.as_deref().map(ids)
    }

    /// The tiers it is limited to; empty: every tier.
    #[must_use]
    pub fn tiers(&self) -> Vec<Uuid> {
        ids(&self.tier_ids)
    }

    /// Why it cannot be used now, if it cannot (uses aside from the limit
    /// are counted at booking).
    #[must_use]
    pub fn problem(&self, now: DateTime<Utc>) -> Option<String> {
        if self.deleted_at.is_some() {
            return Some("El cupón no existe".into());
        }
        if self.status != "active" {
            return Some(match self.status.as_str() {
                "expired" => "El cupón está expirado".into(),
                "used" => "El cupón ya fue utilizado".into(),
                _ => "El cupón está inactivo".into(),
            });
        }
        if !self.is_active {
            return Some("El cupón está desactivado".into());
        }
        let santiago = |t: &sea_orm::prelude::DateTimeWithTimeZone| {
            t.with_timezone(&chrono_tz::America::Santiago)
                .format("%d/%m/%Y %H:%M")
                .to_string()
        };
        if let Some(start) = &self.start_date {
            if now < *start {
                return Some(format!("El cupón será válido desde {}", santiago(start)));
            }
        }
        if let Some(end) = &self.end_date {
            if now > *end {
                return Some(format!("El cupón expiró el {}", santiago(end)));
            }
        }
        if self
            .usage_limit
            .is_some_and(|limit| self.used_count >= limit)
        {
            return Some("El cupón ha alcanzado su límite de uso".into());
        }
        None
    }

    /// What it takes off `amount` pesos of eligible tickets: a percentage
    /// rounded half up, or the fixed amount; never more than its cap nor
    /// than the amount.
    #[must_use]
    pub fn discount_on(&self, amount: i64) -> i64 {
        if amount <= 0 {
            return 0;
        }
        let raw = if self.discount_type == PERCENTAGE {
            (amount * self.discount_value + 50) / 100
        } else {
            self.discount_value
        };
        let capped = self
            .max_discount
            .filter(|m| *m > 0)
            .map_or(raw, |m| Ord::min(raw, m));
        capped.clamp(0, amount)
    }

    /// Whether it may be used on `event`.
    #[must_use]
    pub fn applies_to(&self, event: Uuid) -> bool {
        self.events().is_none_or(|list| list.contains(&event))
    }
}

/// Shares `total` among `weights` in proportion, to the peso, the
/// remainders going to the largest fractions (the shares add up to
/// `total`).
#[must_use]
pub fn apportion(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 {
        return vec![0; weights.len()];
    }
    // In i128: pesos × pesos can pass i64.
    let part = |w: i64| i128::from(total) * i128::from(w);
    let mut shares: Vec<i64> = weights
        .iter()
        .map(|w| i64::try_from(part(*w) / sum).unwrap_or(0))
        .collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(part(weights[i]) % sum));
    let mut left = total - shares.iter().sum::<i64>();
    for i in order {
        if left <= 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

/// Takes one use of a coupon, while under its limit; false when none is
/// left (or it is gone).
///
/// # Errors
/// The database error.
pub async fn take_use<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::UsedCount, Expr::col(Column::UsedCount).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::DeletedAt.is_null())
        .filter(
            Column::UsageLimit
                .is_null()
                .or(Expr::col(Column::UsedCount).lt(Expr::col(Column::UsageLimit))),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Takes again the use of an order paid after its hold ended (which gave
/// the use back), even if the code was deleted since: false when no use is
/// left, or the buyer has used theirs meanwhile.
///
/// # Errors
/// The database error.
pub async fn retake_use<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    order: &orders::Model,
) -> Result<bool, DbErr> {
    let taken = Entity::update_many()
        .col_expr(Column::UsedCount, Expr::col(Column::UsedCount).add(1))
        .filter(Column::Id.eq(id))
        .filter(
            Column::UsageLimit
                .is_null()
                .or(Expr::col(Column::UsedCount).lt(Expr::col(Column::UsageLimit))),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !taken {
        return Ok(false);
    }
    let per_buyer = Entity::find_by_id(id)
        .one(db)
        .await?
        .and_then(|c| c.per_buyer_limit);
    Ok(match per_buyer {
        Some(limit) => {
            buyer_uses(db, id, &order.customer_email, order.id).await? < i64::from(limit)
        }
        None => true,
    })
}

/// Gives back the use taken by the unpaid order of a reservation that just
/// ended (called once per reservation, by the guarded end of its hold).
///
/// # Errors
/// The database error.
pub async fn release_for_reservation<C: ConnectionTrait>(
    db: &C,
    reservation: Uuid,
) -> Result<(), DbErr> {
    let order = orders::Entity::find()
        .filter(orders::Column::ReservationId.eq(reservation))
        .filter(orders::Column::CouponId.is_not_null())
        .filter(orders::Column::Status.is_not_in(["paid", "partially_refunded", "refunded"]))
        .one(db)
        .await?;
    if let Some(coupon) = order.and_then(|o| o.coupon_id) {
        Entity::update_many()
            .col_expr(Column::UsedCount, Expr::col(Column::UsedCount).sub(1))
            .filter(Column::Id.eq(coupon))
            .filter(Column::UsedCount.gt(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The buyer's other live orders with a coupon: paid, or pending with
/// their seats still held.
async fn buyer_uses<C: ConnectionTrait>(
    db: &C,
    coupon: Uuid,
    email: &str,
    order: Uuid,
) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM orders o LEFT JOIN reservations r ON r.id = o.reservation_id \
             WHERE o.coupon_id = $1 AND lower(o.customer_email) = lower($2) AND o.id <> $3 \
               AND (o.status IN ('paid', 'partially_refunded', 'refunded') \
                    OR (o.status = 'pending' AND r.status IN ('active', 'ordered')))",
            [coupon.into(), email.into(), order.into()],
        ))
        .await?;
    row.map_or(Ok(0), |r| r.try_get("", "n"))
}

/// Puts a code on a pending order just written inside the booking's
/// transaction `txn`: finds it among the event organizer's codes, checks
/// it, takes a use, shares the discount among the eligible lines and takes
/// it off the total (the service fee stays that of the listed prices: the
/// discount is the organizer's, off their tickets). `Ok(Err(message))`: refused (the
/// caller rolls back); nothing it wrote is kept then.
///
/// # Errors
/// The database error.
pub async fn apply<C: ConnectionTrait>(
    txn: &C,
    code: &str,
    order: &orders::Model,
    now: DateTime<Utc>,
) -> Result<Result<orders::Model, String>, DbErr> {
    let code = normalise(code);
    let organizer: Option<Uuid> = super::_entities::events::Entity::find_by_id(order.event_id)
        .one(txn)
        .await?
        .map(|e| e.organizer_id);
    let coupon = match organizer {
        Some(organizer) => {
            Entity::find()
                .filter(Column::OrganizerId.eq(organizer))
                .filter(Column::Code.eq(code.as_str()))
                .filter(Column::DeletedAt.is_null())
                .one(txn)
                .await?
        }
        None => None,
    };
    let Some(coupon) = coupon else {
        return Ok(Err("Cupón no encontrado".into()));
    };
    let invalid = |m: &str| Ok(Err(format!("Cupón inválido: {m}")));
    if let Some(problem) = coupon.problem(now) {
        return invalid(&problem);
    }
    if !coupon.applies_to(order.event_id) {
        return invalid("El cupón es específico para otro evento");
    }
    if coupon.min_purchase > 0 && order.subtotal < coupon.min_purchase {
        return invalid(&format!(
            "Compra mínima requerida: {}",
            clp(coupon.min_purchase)
        ));
    }
    let lines = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(order.id))
        .all(txn)
        .await?;
    let tiers = coupon.tiers();
    let weights: Vec<i64> = lines
        .iter()
        .map(|l| {
            if tiers.is_empty() || tiers.contains(&l.tier_id) {
                i64::from(l.quantity) * l.unit_price
            } else {
                0
            }
        })
        .collect();
    let eligible: i64 = weights.iter().sum();
    if eligible == 0 && !tiers.is_empty() {
        return invalid("El cupón no aplica a las entradas elegidas");
    }
    let discount = coupon.discount_on(eligible);
    if discount <= 0 {
        return invalid("El cupón no genera descuento para esta compra");
    }
    // The use first: its row lock orders this buyer's count after any
    // concurrent booking with the same code.
    if !take_use(txn, coupon.id).await? {
        return invalid("El cupón ha alcanzado su límite de uso");
    }
    if let Some(per_buyer) = coupon.per_buyer_limit {
        if buyer_uses(txn, coupon.id, &order.customer_email, order.id).await?
            >= i64::from(per_buyer)
        {
            return invalid("Ya usaste este cupón el máximo de veces permitido");
        }
    }
    for (line, share) in lines.iter().zip(apportion(discount, &weights)) {
        if share > 0 {
            order_items::Entity::update_many()
                .col_expr(order_items::Column::Discount, Expr::value(share))
                .filter(order_items::Column::Id.eq(line.id))
                .exec(txn)
                .await?;
        }
    }
    let mut row: orders::ActiveModel = order.clone().into();
    row.coupon_id = Set(Some(coupon.id));
    row.coupon_code = Set(coupon.code.clone());
    row.discount = Set(discount);
    // `subtotal` is what the tickets cost after the discount (the table
    // checks total = subtotal + fee); the listed price is subtotal + discount.
    row.subtotal = Set(order.subtotal - discount);
    row.total = Set(order.subtotal - discount + order.service_fee);
    let updated = sea_orm::ActiveModelTrait::update(row, txn).await?;
    Ok(Ok(updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coupon(kind: &str, value: i64, cap: Option<i64>) -> Model {
        let now = Utc::now().fixed_offset();
        Model {
            id: Uuid::nil(),
            organizer_id: Uuid::nil(),
            code: "X".into(),
            description: String::new(),
            discount_type: kind.into(),
            discount_value: value,
            min_purchase: 0,
            max_discount: cap,
            start_date: None,
            end_date: None,
            usage_limit: None,
            per_buyer_limit: None,
            used_count: 0,
            status: "active".into(),
            is_active: true,
            event_ids: None,
            tier_ids: "[]".into(),
            deleted_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn discounts_round_half_up_and_never_pass_the_cap_or_the_amount() {
        assert_eq!(coupon(PERCENTAGE, 10, None).discount_on(12_345), 1_235);
        assert_eq!(
            coupon(PERCENTAGE, 50, Some(3_000)).discount_on(10_000),
            3_000
        );
        assert_eq!(coupon(FIXED, 5_000, None).discount_on(3_000), 3_000);
        assert_eq!(coupon(PERCENTAGE, 100, None).discount_on(7_777), 7_777);
        assert_eq!(coupon(FIXED, 5_000, None).discount_on(0), 0);
    }

    #[test]
    fn shares_add_up_to_the_discount() {
        assert_eq!(apportion(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(apportion(1_000, &[30_000, 0, 10_000]), vec![750, 0, 250]);
        assert_eq!(apportion(5, &[0, 0]), vec![0, 0]);
        let shares = apportion(9_999, &[3, 7, 11]);
        assert_eq!(shares.iter().sum::<i64>(), 9_999);
    }

    #[test]
    fn limits_dates_and_switches_make_a_code_unusable() {
        let now = Utc::now();
        let mut c = coupon(FIXED, 1_000, None);
        assert!(c.problem(now).is_none());
        c.usage_limit = Some(2);
        c.used_count = 2;
        assert!(c.problem(now).unwrap().contains("límite"));
        c.used_count = 0;
        c.is_active = false;
        assert!(c.problem(now).unwrap().contains("desactivado"));
        c.is_active = true;
        c.end_date = Some((now - chrono::Duration::hours(1)).fixed_offset());
        assert!(c.problem(now).unwrap().starts_with("El cupón expiró el"));
        assert_eq!(clp(5_000), "$5.000");
        assert_eq!(clp(1_234_567), "$1.234.567");
    }

    #[test]
    fn a_code_with_events_applies_to_those_only() {
        let mut c = coupon(FIXED, 1_000, None);
        let event = Uuid::new_v4();
        assert!(c.applies_to(event));
        c.event_ids = Some(format!("[\"{}\"]", Uuid::new_v4()));
        assert!(!c.applies_to(event));
        c.event_ids = Some(format!("[\"{event}\"]"));
        assert!(c.applies_to(event));
    }
}
