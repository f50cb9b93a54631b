//! The order confirmation with its tickets, sent once per paid order.
//!
//! "Once" is held by the order's `confirmation_sent` flag, claimed in one
//! guarded `UPDATE` before sending: concurrent confirmations (two instances
//! settling the same payment) send one mail. A send that fails puts the flag
//! back, and `task reconcile_payments` sends what is still owed. The mail is
//! sent inline, not in a background task: Cloud Run may starve a process's CPU
//! once its response is out.

use crate::models::status::OrderStatus;
use include_dir::{include_dir, Dir};
use loco_rs::{
    app::AppContext,
    mailer::{Args, Mailer},
};
use sea_orm::{sea_query::Expr, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use crate::{
    models::_entities::{events, orders, ticket_tiers, tickets},
    views::events::{date_es, time_hm},
};

static TEMPLATES: Dir<'_> = include_dir!("src/mailers/order_confirmation");

/// Loco's mailer for the confirmation (workers run in the foreground, so the
/// send happens, or fails, inside this call).
pub struct OrderMailer;

impl Mailer for OrderMailer {}

/// How long after its event a mailed QR link keeps working.
pub const QR_LINK_DAYS_AFTER_EVENT: i64 = 30;

/// The signature that lets a ticket's QR link work without signing in until
/// `expires` (unix seconds; the link is in the buyer's mail only).
#[must_use]
pub fn qr_signature(secret: &str, ticket_id: Uuid, expires: i64) -> String {
    crate::platform::tokens::hmac_sha256_hex(secret, &format!("ticket-qr:{ticket_id}:{expires}"))
}

/// A value for a subject or a greeting: control characters (newlines among
/// them) become spaces, so nothing can start a new header or line.
#[must_use]
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// `$22.000`: Chilean pesos as buyers read them.
#[must_use]
pub fn clp(amount: i64) -> String {
    let digits = amount.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}${out}", if amount < 0 { "-" } else { "" })
}

/// Sends the confirmation of a paid order unless it was sent already.
/// `base_url` is this API's public origin (for the QR links). Returns whether
/// this call sent it.
///
/// # Errors
/// Database errors; mail errors are logged and leave the mail owed.
pub async fn send(ctx: &AppContext, order_id: Uuid, base_url: &str) -> Result<bool, DbErr> {
    let claimed = orders::Entity::update_many()
        .col_expr(orders::Column::ConfirmationSent, Expr::value(true))
        .filter(orders::Column::Id.eq(order_id))
        .filter(orders::Column::Status.eq(OrderStatus::Paid))
        .filter(orders::Column::ConfirmationSent.eq(false))
        .exec(&ctx.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    match compose_and_send(ctx, order_id, base_url).await {
        Ok(()) => Ok(true),
        Err(err) => {
            if ctx.mailer.is_none() {
                tracing::warn!(order = %order_id, error = %err, "order confirmation owed: no mail server");
            } else {
                tracing::error!(order = %order_id, error = %err, "order confirmation not sent; will retry");
            }
            orders::Entity::update_many()
                .col_expr(orders::Column::ConfirmationSent, Expr::value(false))
                .filter(orders::Column::Id.eq(order_id))
                .exec(&ctx.db)
                .await?;
            Ok(false)
        }
    }
}

/// Sends a paid order's confirmation again (its buyer asked, or staff did),
/// whether or not it was sent before.
///
/// # Errors
/// The reason it was not sent (not paid, no mail server, the mail refused).
pub async fn resend(ctx: &AppContext, order_id: Uuid, base_url: &str) -> Result<(), String> {
    let order = orders::Entity::find_by_id(order_id)
        .one(&ctx.db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no such order")?;
    if !OrderStatus::is_paid(&order.status) {
        return Err("not paid".to_string());
    }
    compose_and_send(ctx, order_id, base_url).await
}

async fn compose_and_send(ctx: &AppContext, order_id: Uuid, base_url: &str) -> Result<(), String> {
    let settings = crate::platform::context::settings(ctx).map_err(|e| e.to_string())?;
    let order = orders::Entity::find_by_id(order_id)
        .one(&ctx.db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("order vanished")?;
    let event = events::Entity::find_by_id(order.event_id)
        .one(&ctx.db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("event vanished")?;
    let issued = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .find_also_related(ticket_tiers::Entity)
        .order_by_asc(tickets::Column::CreatedAt)
        .order_by_asc(tickets::Column::Id)
        .all(&ctx.db)
        .await
        .map_err(|e| e.to_string())?;
    let expires = (event.end_date + chrono::Duration::days(QR_LINK_DAYS_AFTER_EVENT)).timestamp();
    let tickets: Vec<_> = issued
        .iter()
        .map(|(t, tier)| {
            json!({
                "tier_name": tier.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                "code": t.code,
                "qr_url": format!(
                    "{base_url}/api/v1/tickets/{}/qr/?exp={expires}&sig={}",
                    t.id,
                    qr_signature(&settings.secret_key, t.id, expires)
                ),
            })
        })
        .collect();
    let locals = json!({
        "customer_name": one_line(&order.customer_name),
        "event_title": one_line(&event.title),
        "event_date": format!("{} · {}", date_es(event.start_date), time_hm(event.start_date)),
        "order_number": order.order_number,
        "total": clp(order.total),
        "tickets": tickets,
        "order_url": format!("{}/orders/{}", settings.frontend_url, order.order_number),
    });
    if ctx.mailer.is_none() {
        return Err("no mail server is configured (EMAIL_HOST)".into());
    }
    OrderMailer::mail_template(
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

/// Sends every confirmation still owed (a failed send, a crash in between).
///
/// # Errors
/// Database errors.
pub async fn send_owed(ctx: &AppContext, base_url: &str) -> Result<u64, DbErr> {
    let owed: Vec<Uuid> = orders::Entity::find()
        .filter(orders::Column::Status.eq(OrderStatus::Paid))
        .filter(orders::Column::ConfirmationSent.eq(false))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let mut sent = 0;
    for id in owed {
        if send(ctx, id, base_url).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_in_an_html_mail_is_escaped() {
        // Loco's mailer names its templates `html.t`, which Tera does not
        // autoescape: each value must say so itself.
        let templates = [
            include_str!("order_confirmation/html.t"),
            include_str!("password_reset/html.t"),
            include_str!("one_time_code/html.t"),
        ];
        for t in templates {
            for value in t.split("{{").skip(1) {
                let value = value.split("}}").next().unwrap_or_default();
                assert!(value.trim_end().ends_with("| escape"), "{value}");
            }
        }
        assert_eq!(
            one_line("Gran\r\nBcc: x@y.z\tShow "),
            "Gran  Bcc: x@y.z Show"
        );
    }

    #[test]
    fn pesos_are_grouped_by_thousands_with_dots() {
        assert_eq!(clp(0), "$0");
        assert_eq!(clp(990), "$990");
        assert_eq!(clp(22_000), "$22.000");
        assert_eq!(clp(1_234_567), "$1.234.567");
    }

    #[test]
    fn qr_signatures_depend_on_the_key_and_the_ticket() {
        let id = Uuid::new_v4();
        assert_eq!(qr_signature("k", id, 5), qr_signature("k", id, 5));
        assert_ne!(qr_signature("k", id, 5), qr_signature("j", id, 5));
        assert_ne!(
            qr_signature("k", id, 5),
            qr_signature("k", Uuid::new_v4(), 5)
        );
        assert_ne!(qr_signature("k", id, 5), qr_signature("k", id, 6));
    }
}
