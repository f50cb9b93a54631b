//! SQLite's per-connection copy of the schema.
//!
//! Each SQLite connection keeps its own copy of the schema until a statement
//! finds the file's schema cookie changed. A connection of the pool opened
//! before the migrations (Loco runs its start-up pragmas on one before they
//! run) can prepare an `INSERT … RETURNING *` against the old copy: the
//! statement is re-prepared by SQLite when it runs, but the driver keeps the
//! old column list, and the new columns come back missing ("Missing value for
//! column …", seen right after a migration added columns). Touching the
//! schema on every idle connection once the migrations are done reloads it.

use sea_orm::{DatabaseConnection, DbBackend, DbErr};

/// Makes every idle SQLite connection of the pool read the current schema
/// (nothing to do on PostgreSQL).
///
/// # Errors
/// The database error.
pub async fn reload_schema(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let pool = db.get_sqlite_connection_pool();
    let mut held = Vec::new();
    while let Some(conn) = pool.try_acquire() {
        held.push(conn);
    }
    for conn in &mut held {
        sea_orm::sqlx::query("SELECT count(*) FROM sqlite_master")
            .execute(&mut **conn)
            .await
            .map_err(|e| DbErr::Custom(format!("reloading the SQLite schema: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::{self, sqlite::SqlitePoolOptions, Row};

    /// What a connection opened before a migration answers to
    /// `INSERT … RETURNING *`, with and without reading the schema first.
    async fn returned_columns(reload_first: bool) -> usize {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("t.sqlite").display()
        );
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (a INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        let mut old = pool.acquire().await.unwrap();
        let mut migrator = pool.acquire().await.unwrap();
        sqlx::query("SELECT * FROM t")
            .execute(&mut *old)
            .await
            .unwrap();
        sqlx::query("ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7")
            .execute(&mut *migrator)
            .await
            .unwrap();
        if reload_first {
            sqlx::query("SELECT count(*) FROM sqlite_master")
                .execute(&mut *old)
                .await
                .unwrap();
        }
        let row = sqlx::query("INSERT INTO t (a) VALUES (1) RETURNING *")
            .fetch_one(&mut *old)
            .await
            .unwrap();
        row.columns().len()
    }

    /// Without the read first, sqlx's SQLite worker indexes past the old
    /// column list (a panic, seen with sqlx-sqlite 0.9): the flaky "Missing
    /// value for column" of inserts right after boot.
    #[tokio::test]
    async fn a_connection_reads_the_new_schema_after_touching_it() {
        assert_eq!(returned_columns(true).await, 2);
    }
}
