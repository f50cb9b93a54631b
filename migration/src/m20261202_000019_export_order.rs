//! The exports read an event's orders and tickets in creation order, 500 at
//! a time by keyset: an index in that order makes each read a range scan
//! (without it every read sorted the whole event's rows).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for sql in [
            "CREATE INDEX tickets_by_event_created ON tickets (event_id, created_at, id)",
            "CREATE INDEX orders_by_event_created ON orders (event_id, created_at, id)",
        ] {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for sql in [
            "DROP INDEX tickets_by_event_created",
            "DROP INDEX orders_by_event_created",
        ] {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
