//! `task import_django`: the cut-over's data step. Reads backtuki's database
//! (`DJANGO_DATABASE_URL`, or `DJANGO_DB_NAME`/`_USER`/`_PASSWORD`/`_HOST`/
//! `_PORT`) and writes this one's, in one transaction; prints a line for every
//! source row skipped, fixed or noted, then the counts per table. Run it
//! again at will: rows already imported are left as they are.
//!
//! `dry_run:true` (or `--dry-run`) does every check and counts what would be
//! written, and writes nothing.

use loco_rs::prelude::*;

use crate::{
    django_import::{self, report::Action, Options, Report},
    platform::settings::{self, ProcessEnv},
};

pub struct ImportDjango;

fn dry_run(vars: &task::Vars) -> Result<bool> {
    match vars
        .cli
        .get("dry_run")
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => Ok(false),
        Some(v) if ["true", "1", "yes"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["false", "0", "no"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(Error::Message(format!(
            "dry_run: {v:?} is not true or false"
        ))),
    }
}

#[async_trait]
impl Task for ImportDjango {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "import_django".to_string(),
            detail: "Import backtuki's users, events, orders, tickets and payments from DJANGO_DATABASE_URL (dry_run:true to only check)"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &task::Vars) -> Result<()> {
        let dry_run = dry_run(vars)?;
        let url = settings::django_database_url(&ProcessEnv)
            .map_err(|e| Error::Message(e.to_string()))?;
        let source = django_import::connect_source(&url)
            .await
            .map_err(|e| Error::Message(e.to_string()))?;
        let outcome = django_import::run(&ctx.db, &source, Options { dry_run }).await;
        source.close().await.ok();
        let report = outcome.map_err(|e| Error::Message(e.to_string()))?;
        let logger = &ctx.config.logger;
        if logger.enable && matches!(logger.format, loco_rs::logger::Format::Json) {
            // One Cloud Logging entry a finding, its parts as fields to
            // filter on (`jsonPayload.rule="money_inconsistent"`); skips
            // are warnings.
            for f in &report.findings {
                let line = Report::finding_line(f);
                let (table, id, action, rule) = (f.table, &f.source_id, f.action.as_str(), f.rule);
                if f.action == Action::Skip {
                    tracing::warn!(target: "tuki_backend::tasks", table, source_id = %id, action, rule, "{line}");
                } else {
                    tracing::info!(target: "tuki_backend::tasks", table, source_id = %id, action, rule, "{line}");
                }
            }
            for line in report.summary_lines() {
                super::say_line(ctx, &line);
            }
        } else {
            print!("{}", report.render());
        }
        Ok(())
    }
}
