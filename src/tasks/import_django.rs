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
    django_import::{self, Options},
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
        print!("{}", report.render());
        Ok(())
    }
}
