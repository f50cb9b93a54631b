//! Who each ticket is for: the ticket holders a buyer names at booking
//! (backtuki's `ticketHolders`, per tier), kept on the order until its
//! tickets are issued with their names.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Orders::Table)
                .add_column(text(Orders::TicketHolders).default("[]"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Orders::Table)
                .drop_column(Orders::TicketHolders)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    TicketHolders,
}
