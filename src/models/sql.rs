//! Statements written by hand for both backends: in PostgreSQL's `$n`
//! parameters, which become SQLite's numbered `?n` (a number may be used
//! more than once).

use sea_orm::{DbBackend, Statement, Value};

/// `sql` with its parameters `values` (`$1` first), for `backend`.
#[must_use]
pub fn statement(
    backend: DbBackend,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_string()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}
