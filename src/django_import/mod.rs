//! `task import_django`: brings backtuki's data (the Django backend this one
//! replaces) into this schema, keeping every id, slug, ticket number and
//! Webpay token the frontends, search engines, printed tickets and
//! Transbank hold. The mapping, rule by rule, is `docs/contract/django_import.md`.
//!
//! The whole import is one transaction on this database: it is written
//! whole or not at all, so a failed run is resumed by running it again.
//! Rows an earlier run wrote (same id) are left as they are, so a second run
//! writes nothing. `--dry-run` does the same work and rolls it back. Every
//! source row that breaks a rule here is in the report (skipped, fixed or
//! noted, with its rule and source value), never dropped silently.

pub mod money;
mod plan;
pub mod report;
pub mod source;

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, TransactionTrait};

pub use self::{plan::user_uuid as user_id_of, report::Report};

/// How to run an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Check and count everything, write nothing.
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("DJANGO_DATABASE_URL: cannot connect to the Django database ({0})")]
    Connect(String),
    #[error(
        "DJANGO_DATABASE_URL: the database has no table {0}: it is not backtuki's, or not migrated to its latest version"
    )]
    NotBacktuki(String),
    #[error("import_django: reading the Django database failed: {0}")]
    Read(DbErr),
    #[error("import_django: reading this database failed: {0}")]
    Target(DbErr),
    #[error("import_django: writing {table} failed, nothing was written: {source}")]
    Write {
        table: &'static str,
        #[source]
        source: DbErr,
    },
    #[error("import_django: summing the sales figures failed (run `task rebuild_sales`): {0}")]
    Rollup(DbErr),
}

/// Connects to the Django database (PostgreSQL): two connections at most,
/// a short connect timeout, no statement logging.
///
/// # Errors
/// [`ImportError::Connect`], naming `DJANGO_DATABASE_URL`.
pub async fn connect_source(url: &str) -> Result<DatabaseConnection, ImportError> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(2)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(20))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .map_err(|e| ImportError::Connect(first_line(&e.to_string())))?;
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Err(ImportError::Connect(
            "not a PostgreSQL database".to_string(),
        ));
    }
    Ok(db)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

/// Imports everything from `source` into `target` and returns the report.
///
/// # Errors
/// When the source is not backtuki's, or a database fails; nothing is
/// written then.
pub async fn run(
    target: &DatabaseConnection,
    source_db: &DatabaseConnection,
    options: Options,
) -> Result<Report, ImportError> {
    let missing = source::missing_tables(source_db)
        .await
        .map_err(ImportError::Read)?;
    if let Some(table) = missing.iter().find(|t| **t != source::PAYMENTS_TABLE) {
        return Err(ImportError::NotBacktuki((*table).to_string()));
    }
    let with_payments = !missing.contains(&source::PAYMENTS_TABLE);
    let snapshot = source::read(source_db, with_payments)
        .await
        .map_err(ImportError::Read)?;

    let mut report = Report {
        dry_run: options.dry_run,
        ..Report::default()
    };
    if !with_payments {
        report.note(
            "payments",
            source::PAYMENTS_TABLE,
            "table_missing",
            "the Django database has no payments table: no payment imported",
        );
    }
    // Everything from here in one transaction: what is already here is read
    // in it, and what is written is all or nothing.
    let txn = target.begin().await.map_err(ImportError::Target)?;
    let existing = plan::Existing::load(&txn, &snapshot)
        .await
        .map_err(ImportError::Target)?;
    let planned = plan::plan(&snapshot, &existing, &mut report);
    planned.write(&txn, &mut report).await?;
    if options.dry_run {
        txn.rollback().await.map_err(ImportError::Target)?;
    } else {
        txn.commit().await.map_err(ImportError::Target)?;
        if report.tables.get("orders").is_some_and(|t| t.written > 0) {
            crate::models::sales::rebuild(target)
                .await
                .map_err(ImportError::Rollup)?;
        }
    }
    Ok(report)
}
