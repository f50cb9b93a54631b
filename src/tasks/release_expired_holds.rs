//! `task release_expired_holds`: returns the seats of expired reservations to
//! sale. For a Cloud Run Job on a schedule; safe to run on any number of
//! instances at once (each reservation is released by one guarded UPDATE).

use chrono::Utc;
use loco_rs::prelude::*;

use crate::models::reservations;

pub struct ReleaseExpiredHolds;

#[async_trait]
impl Task for ReleaseExpiredHolds {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "release_expired_holds".to_string(),
            detail: "Return the seats of expired reservations to sale".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        let mut total = 0;
        loop {
            let n = reservations::release_expired(&ctx.db, Utc::now(), None, 500).await?;
            total += n;
            if n < 500 {
                break;
            }
        }
        super::say!(ctx, "release_expired_holds: {total} reservations released");
        Ok(())
    }
}
