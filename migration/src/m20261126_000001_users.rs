//! Users: the login identity for admins, buyers, organizers and validators.
//!
//! Email is the login and is unique regardless of case (a functional index on
//! `lower(email)`, which PostgreSQL and SQLite both support), so
//! `Ana@Tuki.cl` and `ana@tuki.cl` can never be two accounts.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table_auto_tz(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(string_len(Users::Email, 254))
                .col(string_len_uniq(Users::Username, 150))
                .col(string_len(Users::FirstName, 150).default(""))
                .col(string_len(Users::LastName, 150).default(""))
                .col(string_len(Users::Password, 255))
                .col(boolean(Users::IsActive).default(true))
                .col(boolean(Users::IsStaff).default(false))
                .col(boolean(Users::IsSuperuser).default(false))
                .col(boolean(Users::IsOrganizer).default(false))
                .col(boolean(Users::IsValidator).default(false))
                .col(timestamptz_null(Users::LastLogin))
                .col(timestamptz(Users::DateJoined).default(Expr::current_timestamp()))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Username,
    FirstName,
    LastName,
    Password,
    IsActive,
    IsStaff,
    IsSuperuser,
    IsOrganizer,
    IsValidator,
    LastLogin,
    DateJoined,
}
