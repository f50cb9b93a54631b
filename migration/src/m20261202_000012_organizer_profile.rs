//! An organizer's profile as the dashboard edits it (backtuki's
//! `OrganizerSerializer`): website, address, size, representative, the
//! onboarding and sign-up flags; and the member flag for settings.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every column this migration adds, by table. SQLite alters one column per
/// statement.
fn columns() -> Vec<(DynIden, ColumnDef)> {
    let org = || Organizers::Table.into_iden();
    vec![
        (org(), string(Organizers::Website).default("").to_owned()),
        (org(), string(Organizers::Address).default("").to_owned()),
        (org(), string(Organizers::City).default("").to_owned()),
        (org(), string(Organizers::Country).default("").to_owned()),
        (
            org(),
            string(Organizers::OrganizationSize).default("").to_owned(),
        ),
        (
            org(),
            string(Organizers::RepresentativeName)
                .default("")
                .to_owned(),
        ),
        (
            org(),
            string(Organizers::RepresentativeEmail)
                .default("")
                .to_owned(),
        ),
        (
            org(),
            string(Organizers::RepresentativePhone)
                .default("")
                .to_owned(),
        ),
        (
            org(),
            boolean(Organizers::OnboardingCompleted)
                .default(false)
                .to_owned(),
        ),
        (
            org(),
            boolean(Organizers::IsTemporary).default(false).to_owned(),
        ),
        (
            org(),
            boolean(Organizers::EmailValidated)
                .default(false)
                .to_owned(),
        ),
        (
            OrganizerMembers::Table.into_iden(),
            boolean(OrganizerMembers::CanManageSettings)
                .default(false)
                .to_owned(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in columns() {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        // Organizers that already sell have finished their onboarding.
        m.get_connection()
            .execute_unprepared(
                "UPDATE organizers SET onboarding_completed = TRUE, email_validated = TRUE",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in columns().into_iter().rev() {
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
}

#[derive(DeriveIden)]
enum Organizers {
    Table,
    Website,
    Address,
    City,
    Country,
    OrganizationSize,
    RepresentativeName,
    RepresentativeEmail,
    RepresentativePhone,
    OnboardingCompleted,
    IsTemporary,
    EmailValidated,
}

#[derive(DeriveIden)]
enum OrganizerMembers {
    Table,
    CanManageSettings,
}
