//! Accounts as Tuki's frontends know them: a phone number, guest accounts
//! made at purchase (no password until claimed) and when a profile was
//! completed or a password last changed; and one-time codes sent by email
//! (six digits, stored only as a keyed hash, single use, expiring, with a
//! bounded number of attempts counted in the row).
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_len_null(Users::PhoneNumber, 30),
            boolean(Users::IsGuest).default(false).to_owned(),
            timestamptz_null(Users::ProfileCompletedAt),
            timestamptz_null(Users::LastPasswordChange),
        ] {
            let mut column = column;
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(OneTimeCodes::Table)
                .col(uuid(OneTimeCodes::Id).primary_key())
                .col(string_len(OneTimeCodes::Email, 254))
                .col(string_len(OneTimeCodes::Purpose, 20))
                .col(string_len(OneTimeCodes::CodeHash, 64))
                .col(uuid_null(OneTimeCodes::UserId))
                .col(integer(OneTimeCodes::Attempts).default(0))
                .col(integer(OneTimeCodes::MaxAttempts))
                .col(text(OneTimeCodes::Metadata).default("{}"))
                .col(timestamptz(OneTimeCodes::ExpiresAt))
                .col(timestamptz_null(OneTimeCodes::UsedAt))
                .col(timestamptz(OneTimeCodes::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OneTimeCodes::Table, OneTimeCodes::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .check(Expr::col(OneTimeCodes::Attempts).gte(0))
                .to_owned(),
        )
        .await?;
        // The live code of an email for a purpose, and the codes an email
        // asked for lately (sending is limited per email).
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX one_time_codes_by_email ON one_time_codes (email, purpose, created_at)",
            )
            .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX one_time_codes_expires_at ON one_time_codes (expires_at)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OneTimeCodes::Table).to_owned())
            .await?;
        for column in [
            Users::PhoneNumber,
            Users::IsGuest,
            Users::ProfileCompletedAt,
            Users::LastPasswordChange,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    PhoneNumber,
    IsGuest,
    ProfileCompletedAt,
    LastPasswordChange,
}

#[derive(DeriveIden)]
enum OneTimeCodes {
    Table,
    Id,
    Email,
    Purpose,
    CodeHash,
    UserId,
    Attempts,
    MaxAttempts,
    Metadata,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}
