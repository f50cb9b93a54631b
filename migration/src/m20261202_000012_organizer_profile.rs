//! An organizer's profile as the dashboard edits it (backtuki's
//! `OrganizerSerializer`): website, address, size, representative, the
//! onboarding and sign-up flags; and the member flag for settings.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every column this migration adds, by table.
fn columns() -> crate::columns::Columns {
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
        crate::columns::add(m, columns()).await?;
        // Organizers that already sell have finished their onboarding.
        m.get_connection()
            .execute_unprepared(
                "UPDATE organizers SET onboarding_completed = TRUE, email_validated = TRUE",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::columns::drop(m, columns()).await
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
