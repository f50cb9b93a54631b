//! PostgreSQL's connection pool without a round trip on every checkout.
//!
//! Loco builds the pool with SeaORM's defaults, under which sqlx pings a
//! connection each time it is taken from the pool: one more round trip per
//! request, answered by the PostgreSQL core that every instance shares (the
//! uncached catalogue spent it on every page). A connection that was in use
//! in the last seconds is alive; only one idle for [`PING_AFTER_IDLE`] is
//! pinged before use, which still catches the ones a restart or a proxy
//! dropped while they slept.

use std::time::Duration;

use loco_rs::config::Database as DatabaseConfig;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

/// A connection idle at least this long is pinged before it is used.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// The options Loco's `db::connect` gives the pool, with the ping only after
/// [`PING_AFTER_IDLE`]; the pool opens its first connection on first use
/// (Loco's own pool has already shown the database answers).
#[must_use]
pub fn options(config: &DatabaseConfig) -> ConnectOptions {
    let mut opt = ConnectOptions::new(&config.uri);
    opt.max_connections(config.max_connections)
        .min_connections(config.min_connections)
        .connect_timeout(Duration::from_millis(config.connect_timeout))
        .idle_timeout(Duration::from_millis(config.idle_timeout))
        .sqlx_logging(config.enable_logging)
        .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
        .connect_lazy(true);
    if let Some(acquire) = config.acquire_timeout {
        opt.acquire_timeout(Duration::from_millis(acquire));
    }
    opt
}

/// On PostgreSQL, the pool of [`options`] in place of `db` (whose
/// connections close as it is dropped); SQLite's pool, in process, is kept,
/// and so is Loco's when the config has statements to run on start.
///
/// # Errors
/// The URL cannot be used (it already was by Loco, so not in practice).
pub async fn without_checkout_ping(
    db: DatabaseConnection,
    config: &DatabaseConfig,
) -> Result<DatabaseConnection, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres || config.run_on_start.is_some() {
        return Ok(db);
    }
    Database::connect(options(config)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_idle_connections_are_pinged() {
        let config: DatabaseConfig = serde_json::from_value(serde_json::json!({
            "uri": "postgres://tuki@localhost/tuki",
            "enable_logging": false,
            "min_connections": 0,
            "max_connections": 4,
            "connect_timeout": 5_000,
            "idle_timeout": 300_000,
            "acquire_timeout": 5_000,
        }))
        .unwrap();
        let opt = options(&config);
        assert!(!opt.get_test_before_acquire());
        assert_eq!(
            opt.get_test_before_acquire_if_idle_for(),
            Some(PING_AFTER_IDLE)
        );
        assert_eq!(opt.get_max_connections(), Some(4));
        assert_eq!(opt.get_acquire_timeout(), Some(Duration::from_secs(5)));
        assert!(opt.get_connect_lazy());
    }
}
