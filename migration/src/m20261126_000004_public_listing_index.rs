//! The public listing's own index: only published, public, live events, in
//! the listing's order, so the page is read in order and `COUNT(*)` scans
//! nothing else. (PostgreSQL and SQLite both have partial indexes.)
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX events_public_listed ON events (featured DESC, start_date DESC, id) \
                 WHERE status = 'published' AND visibility = 'public' AND deleted_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("events_public_listed")
                .table(Alias::new("events"))
                .to_owned(),
        )
        .await
    }
}
