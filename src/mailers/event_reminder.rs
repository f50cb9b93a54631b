//! The reminder of a paid order's event, the day before, once per order.
//!
//! "Once" is a row of `order_reminders`, inserted before the mail is sent:
//! of two runs at once, one inserts it and sends. A send that fails deletes
//! the row again, and the next run retries while the event has not started.

use chrono::{DateTime, Duration, Utc};
use include_dir::{include_dir, Dir};
use loco_rs::{
    app::AppContext,
    mailer::{Args, Mailer},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::order_confirmation::one_line;
use crate::{
    models::{
        _entities::{events, locations, orders},
        sql::statement,
        status::OrderStatus,
    },
    views::events::{date_es, time_hm},
};

static TEMPLATES: Dir<'_> = include_dir!("src/mailers/event_reminder");

pub struct ReminderMailer;

impl Mailer for ReminderMailer {}

/// How long before its event an order is reminded.
pub const AHEAD_HOURS: i64 = 24;
const BATCH: u64 = 500;

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub sent: u64,
    pub failed: u64,
}

/// Mails every paid order whose event starts within the next day and that
/// was not reminded yet.
///
/// # Errors
/// Database errors; a mail that fails is counted and retried next run.
pub async fn send_due(ctx: &AppContext, now: DateTime<Utc>) -> Result<Sent, DbErr> {
    #[derive(FromQueryResult)]
    struct Due {
        id: Uuid,
    }
    let db = &ctx.db;
    let sql = format!(
        "SELECT o.id AS id FROM orders o JOIN events e ON e.id = o.event_id \
         WHERE o.status IN ('{paid}', '{partly}') AND e.deleted_at IS NULL \
           AND e.status = 'published' \
           AND e.start_date > $1 AND e.start_date <= $2 \
           AND NOT EXISTS (SELECT 1 FROM order_reminders r WHERE r.order_id = o.id) \
         ORDER BY e.start_date, o.id LIMIT {BATCH}",
        paid = OrderStatus::Paid.as_str(),
        partly = OrderStatus::PartiallyRefunded.as_str(),
    );
    let window = [
        now.fixed_offset().into(),
        (now + Duration::hours(AHEAD_HOURS)).fixed_offset().into(),
    ];
    let mut done = Sent::default();
    let mut tried = std::collections::HashSet::new();
    loop {
        let due =
            Due::find_by_statement(statement(db.get_database_backend(), &sql, window.clone()))
                .all(db)
                .await?;
        let fresh: Vec<Uuid> = due
            .iter()
            .map(|d| d.id)
            .filter(|id| tried.insert(*id))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for id in fresh {
            let claimed = db
                .execute_raw(statement(
                    db.get_database_backend(),
                    "INSERT INTO order_reminders (order_id, sent_at) VALUES ($1, $2) \
                     ON CONFLICT (order_id) DO NOTHING",
                    [id.into(), now.fixed_offset().into()],
                ))
                .await?
                .rows_affected()
                == 1;
            if !claimed {
                continue;
            }
            match compose_and_send(ctx, id).await {
                Ok(()) => done.sent += 1,
                Err(err) => {
                    tracing::error!(order = %id, error = %err, "event reminder not sent; will retry");
                    db.execute_raw(statement(
                        db.get_database_backend(),
                        "DELETE FROM order_reminders WHERE order_id = $1",
                        [id.into()],
                    ))
                    .await?;
                    done.failed += 1;
                }
            }
        }
        if (due.len() as u64) < BATCH {
            break;
        }
    }
    Ok(done)
}

async fn compose_and_send(ctx: &AppContext, order_id: Uuid) -> Result<(), String> {
    let settings = crate::platform::context::settings(ctx).map_err(|e| e.to_string())?;
    let order = orders::Entity::find_by_id(order_id)
        .one(&ctx.db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("order vanished")?;
    let (event, place) = events::Entity::find_by_id(order.event_id)
        .find_also_related(locations::Entity)
        .one(&ctx.db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("event vanished")?;
    let tickets = crate::models::_entities::tickets::Entity::find()
        .filter(crate::models::_entities::tickets::Column::OrderId.eq(order.id))
        .count(&ctx.db)
        .await
        .map_err(|e| e.to_string())?;
    let venue = place.map_or_else(String::new, |p| {
        [p.name, p.address, p.city]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    });
    let locals = json!({
        "customer_name": one_line(&order.customer_name),
        "event_title": one_line(&event.title),
        "event_date": format!("{} · {}", date_es(event.start_date), time_hm(event.start_date)),
        "venue": one_line(&venue),
        "order_number": order.order_number,
        "ticket_count": tickets,
        "order_url": format!("{}/orders/{}", settings.frontend_url, order.order_number),
    });
    if ctx.mailer.is_none() {
        return Err("no mail server is configured (EMAIL_HOST)".into());
    }
    ReminderMailer::mail_template(
        ctx,
        &TEMPLATES,
        Args {
            from: Some(settings.from_email.clone()),
            to: order.customer_email.clone(),
            locals,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| e.to_string())
}
