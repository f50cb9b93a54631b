//! `task reconcile_payments`: asks Transbank for the status of payments whose
//! commit got no answer and settles them (paid with tickets, or rejected). For
//! a Cloud Run Job on a schedule; safe to run concurrently.

use loco_rs::prelude::*;

use crate::{app::App, payments};

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
        let webpay = App::webpay(ctx)?;
        let settled = payments::reconcile(&ctx.db, &webpay).await?;
        println!("reconcile_payments: {settled} payments settled");
        Ok(())
    }
}
