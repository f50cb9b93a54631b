//! Adding columns to existing tables, one statement per column (SQLite
//! alters one column at a time), and taking them away again in reverse.

use sea_orm_migration::prelude::*;

/// Columns by table, as a migration adds them.
pub type Columns = Vec<(DynIden, ColumnDef)>;

/// Adds each column to its table, in order.
///
/// # Errors
/// The database error.
pub async fn add(m: &SchemaManager<'_>, columns: Columns) -> Result<(), DbErr> {
    for (table, mut column) in columns {
        m.alter_table(
            Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// Drops each column, last first.
///
/// # Errors
/// The database error.
pub async fn drop(m: &SchemaManager<'_>, columns: Columns) -> Result<(), DbErr> {
    for (table, column) in columns.into_iter().rev() {
        m.alter_table(
            Table::alter()
                .table(table)
                .drop_column(Alias::new(column.get_column_name()))
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}
