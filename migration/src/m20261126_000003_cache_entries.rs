//! The shared cache when Redis is off (`USE_REDIS=false`, Cloud Run's default),
//! as Django's database cache: a key, its value and when it expires.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CacheEntries::Table)
                .if_not_exists()
                .col(string_len(CacheEntries::Key, 400).primary_key())
                .col(blob(CacheEntries::Value))
                .col(timestamptz(CacheEntries::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("cache_entries_expires_at")
                .table(CacheEntries::Table)
                .col(CacheEntries::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CacheEntries::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CacheEntries {
    Table,
    Key,
    Value,
    ExpiresAt,
}
