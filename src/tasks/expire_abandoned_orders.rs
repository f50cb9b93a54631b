//! `task expire_abandoned_orders`: ends the orders booked and never paid
//! (backtuki's Celery clean-up of abandoned orders): pending for more than
//! an hour, their hold over, and no payment that could still go through or
//! went through (a commit under way, unanswered or authorized is left to
//! `task reconcile_payments`; a Webpay form not committed within its few
//! minutes is void at Transbank).
//! They become `expired` and give back their hold and discount-code use.
//! For a Cloud Run Job on a schedule; safe to run twice at once (each order
//! ends in one guarded `UPDATE`).

use chrono::{Duration, Utc};
use loco_rs::prelude::*;
use sea_orm::FromQueryResult;

use crate::models::{
    _entities::orders,
    sql::statement,
    status::{OrderStatus, PaymentStatus, ReservationStatus},
};

/// How long an unpaid order stays pending at least.
const GRACE_MINUTES: i64 = 60;
const BATCH: u64 = 500;

pub struct ExpireAbandonedOrders;

#[async_trait]
impl Task for ExpireAbandonedOrders {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "expire_abandoned_orders".to_string(),
            detail: "End the orders booked and never paid (pending over an hour, hold over)"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        let expired = expire(&ctx.db, Utc::now()).await?;
        super::say!(ctx, "expire_abandoned_orders: {expired} orders expired");
        Ok(())
    }
}

/// Expires the abandoned orders as of `now`; how many.
///
/// # Errors
/// When the database fails.
pub async fn expire(db: &DatabaseConnection, now: chrono::DateTime<Utc>) -> Result<u64> {
    let cutoff = (now - Duration::minutes(GRACE_MINUTES)).fixed_offset();
    let nowf = now.fixed_offset();
    let sql = format!(
        "SELECT o.* FROM orders o \
         WHERE o.status = '{pending}' AND o.created_at < $1 \
           AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id \
             AND p.status IN ('{committing}', '{authorized}', '{unknown}')) \
           AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = o.reservation_id \
             AND r.status IN ('{active}', '{ordered}') AND r.expires_at > $2) \
         ORDER BY o.created_at LIMIT {BATCH}",
        pending = OrderStatus::Pending.as_str(),
        committing = PaymentStatus::Committing.as_str(),
        authorized = PaymentStatus::Authorized.as_str(),
        unknown = PaymentStatus::Unknown.as_str(),
        active = ReservationStatus::Active.as_str(),
        ordered = ReservationStatus::Ordered.as_str(),
    );
    let mut total = 0;
    let mut seen = std::collections::HashSet::new();
    loop {
        let found = orders::Model::find_by_statement(statement(
            db.get_database_backend(),
            &sql,
            [cutoff.into(), nowf.into()],
        ))
        .all(db)
        .await?;
        let read = found.len();
        let fresh: Vec<orders::Model> = found.into_iter().filter(|o| seen.insert(o.id)).collect();
        if fresh.is_empty() {
            break;
        }
        for order in fresh {
            if order.end_unpaid(db, OrderStatus::Expired, now).await? {
                total += 1;
            }
        }
        if (read as u64) < BATCH {
            break;
        }
    }
    Ok(total)
}
