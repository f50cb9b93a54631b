//! `task seed_demo [seed:42] [base_date:YYYY-MM-DD]`: the demo and benchmark
//! data set (see `models::demo`); safe to run again.

use chrono::NaiveDate;
use loco_rs::prelude::*;

use crate::models::demo;

pub struct SeedDemo;

#[async_trait]
impl Task for SeedDemo {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "seed_demo".to_string(),
            detail: "Write the demo catalogue (2,000 events; replaces the previous demo rows)"
                .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, vars: &task::Vars) -> Result<()> {
        let seed = match vars.cli.get("seed") {
            Some(s) => s
                .parse::<u64>()
                .map_err(|_| Error::Message(format!("seed: {s:?} is not a number")))?,
            None => 42,
        };
        let base = match vars.cli.get("base_date") {
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| Error::Message(format!("base_date: {d:?} is not YYYY-MM-DD")))?,
            None => demo::default_base(),
        };
        let s = demo::seed(&ctx.db, seed, base).await?;
        // The images the demo events point at, in media storage.
        for (key, svg) in demo::posters() {
            ctx.storage
                .upload(std::path::Path::new(&key), &svg.into_bytes().into())
                .await
                .map_err(|e| Error::Message(format!("media storage: {key}: {e}")))?;
        }
        super::say!(
            ctx,
            "seed_demo: {} organizers, {} categories, {} locations, {} events, {} tiers (future events from {base})",
            s.organizers, s.categories, s.locations, s.events, s.tiers
        );
        Ok(())
    }
}
