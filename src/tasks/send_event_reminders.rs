//! `task send_event_reminders`: mails each paid order's buyer a reminder the
//! day before the event (backtuki's Celery reminder), once per order. For a
//! Cloud Run Job on a schedule (hourly); safe to run twice at once.

use chrono::Utc;
use loco_rs::prelude::*;

use crate::mailers::event_reminder;

pub struct SendEventReminders;

#[async_trait]
impl Task for SendEventReminders {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "send_event_reminders".to_string(),
            detail: "Mail buyers a reminder the day before their event (once per order)"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        if ctx.mailer.is_none() {
            super::say!(
                ctx,
                "send_event_reminders: 0 reminders sent: no mail server (EMAIL_HOST is not set)"
            );
            return Ok(());
        }
        let done = event_reminder::send_due(ctx, Utc::now()).await?;
        super::say!(
            ctx,
            "send_event_reminders: {} reminders sent, {} failed (retried next run)",
            done.sent,
            done.failed
        );
        Ok(())
    }
}
