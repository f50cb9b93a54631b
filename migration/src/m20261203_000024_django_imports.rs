//! What `task import_django` wrote, a row per imported row (its table here
//! and its id): a later run leaves alone what an earlier one imported even
//! when the app has since deleted it (a member removed from a team, a tier
//! or image taken down), so running the import again never brings it back.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DjangoImports::Table)
                .col(string_len(DjangoImports::TableName, 40))
                .col(uuid(DjangoImports::RowId))
                .col(timestamptz(DjangoImports::ImportedAt))
                .primary_key(
                    Index::create()
                        .col(DjangoImports::TableName)
                        .col(DjangoImports::RowId),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DjangoImports::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DjangoImports {
    Table,
    TableName,
    RowId,
    ImportedAt,
}
