//! Webpay's credentials when the environment does not give them (backtuki
//! kept them in its database): one row, saved by a superuser in the admin,
//! the API key sealed under a key derived from `SECRET_KEY`.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PaymentSettings::Table)
                .col(uuid(PaymentSettings::Id).primary_key())
                // One row: a second one would break this unique constant.
                .col(
                    string_len(PaymentSettings::Slot, 10)
                        .default("webpay")
                        .unique_key()
                        .check(Expr::col(PaymentSettings::Slot).eq("webpay")),
                )
                .col(string_len(PaymentSettings::CommerceCode, 20).default(""))
                .col(text(PaymentSettings::ApiKeySealed).default(""))
                .col(string_len(PaymentSettings::ApiKeyHint, 12).default(""))
                .col(timestamptz(PaymentSettings::CreatedAt))
                .col(timestamptz(PaymentSettings::UpdatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PaymentSettings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PaymentSettings {
    Table,
    Id,
    Slot,
    CommerceCode,
    ApiKeySealed,
    ApiKeyHint,
    CreatedAt,
    UpdatedAt,
}
