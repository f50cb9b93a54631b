//! A draft may be made before its dates are known (backtuki's drafts had
//! null dates): `dates_pending` says the stored dates are placeholders, shown
//! as `null`, until the organizer sets both; such an event cannot be
//! published.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> crate::columns::Columns {
    vec![(
        Events::Table.into_iden(),
        boolean(Events::DatesPending).default(false).to_owned(),
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
enum Events {
    Table,
    DatesPending,
}
