//! `task rebuild_sales`: sums the organizer dashboard's sales figures again
//! from the orders. The app keeps them as orders are paid and refunded;
//! run this after orders were written by other means (an import, a manual
//! correction in SQL). Safe to run while serving: readers see the old sums
//! until the new ones are committed.

use loco_rs::prelude::*;

use crate::models::sales;

pub struct RebuildSales;

#[async_trait]
impl Task for RebuildSales {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "rebuild_sales".to_string(),
            detail: "Sum the sales figures (dashboard, analytics) again from the orders"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        sales::rebuild(&ctx.db).await?;
        super::say!(
            ctx,
            "rebuild_sales: sales figures summed again from the orders"
        );
        Ok(())
    }
}
