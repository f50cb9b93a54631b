//! `task reconcile_payments`: asks Transbank for the status of payments whose
//! commit got no answer and settles them (paid with tickets, or rejected). For
//! a Cloud Run Job on a schedule; safe to run concurrently.

use loco_rs::prelude::*;

use crate::{mailers::order_confirmation, payments::flow};

pub struct ReconcilePayments;

#[async_trait]
impl Task for ReconcilePayments {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "reconcile_payments".to_string(),
            detail: "Settle Webpay payments whose outcome is unknown".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        match crate::platform::context::webpay(ctx).await? {
            Some(webpay) => {
                let settled = flow::reconcile(&ctx.db, &webpay).await?;
                super::say!(ctx, "reconcile_payments: {settled} payments settled");
            }
            None => super::say!(
                ctx,
                "reconcile_payments: 0 payments settled: Webpay is not configured (environment or admin)"
            ),
        }
        // Confirmations still owed (a failed send, or settled just now).
        let settings = crate::platform::context::settings(ctx)?;
        match &settings.backend_url {
            Some(base) => {
                let sent = order_confirmation::send_owed(ctx, base).await?;
                super::say!(ctx, "reconcile_payments: {sent} confirmations sent");
            }
            None => super::say!(
                ctx,
                "reconcile_payments: BACKEND_URL is not set; owed confirmations wait for it"
            ),
        }
        Ok(())
    }
}
