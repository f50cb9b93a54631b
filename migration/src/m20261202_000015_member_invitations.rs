//! A team member invited by email is pending until they sign in by an
//! emailed code (which proves the address is theirs): pending memberships
//! give no access. Every other membership (the admin's, those made before)
//! is not pending.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> crate::columns::Columns {
    vec![(
        OrganizerMembers::Table.into_iden(),
        boolean(OrganizerMembers::InvitationPending)
            .default(false)
            .to_owned(),
    )]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::columns::add(m, columns()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::columns::drop(m, columns()).await
    }
}

#[derive(DeriveIden)]
enum OrganizerMembers {
    Table,
    InvitationPending,
}
