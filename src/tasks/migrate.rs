//! `task migrate`: applies pending migrations (the Cloud Run Job `tuki-migrate`).
//! Safe to run twice: applied migrations are recorded and skipped.

use loco_rs::prelude::*;
use migration::{Migrator, MigratorTrait};

pub struct Migrate;

#[async_trait]
impl Task for Migrate {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "migrate".to_string(),
            detail: "Apply pending database migrations (safe to run again)".to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        let pending = Migrator::get_pending_migrations(&ctx.db).await?;
        if pending.is_empty() {
            super::say!(
                ctx,
                "migrate: no pending migrations; the database is up to date"
            );
            return Ok(());
        }
        Migrator::up(&ctx.db, None).await?;
        for migration in &pending {
            super::say!(ctx, "migrate: applied {}", migration.name());
        }
        super::say!(ctx, "migrate: {} migration(s) applied", pending.len());
        Ok(())
    }
}
