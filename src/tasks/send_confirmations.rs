//! `task send_confirmations`: sends the order confirmations still owed (a
//! send that failed, a mail server set up late). For a Cloud Run Job on a
//! schedule; safe to run twice at once (each mail is claimed first). The
//! QR links need the API's public origin: `BACKEND_URL`.

use loco_rs::prelude::*;

use crate::mailers::order_confirmation;

pub struct SendConfirmations;

#[async_trait]
impl Task for SendConfirmations {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "send_confirmations".to_string(),
            detail: "Send the order confirmations still owed".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        let settings = crate::platform::context::settings(ctx)?;
        match &settings.backend_url {
            Some(base) => {
                let sent = order_confirmation::send_owed(ctx, base).await?;
                super::say!(ctx, "send_confirmations: {sent} confirmations sent");
            }
            None => super::say!(
                ctx,
                "send_confirmations: 0 confirmations sent: BACKEND_URL is not set; owed confirmations wait for it"
            ),
        }
        Ok(())
    }
}
