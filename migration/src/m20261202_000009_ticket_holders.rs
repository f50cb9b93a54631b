//! Who each ticket is for: the ticket holders a buyer names at booking
//! (backtuki's `ticketHolders`, per tier), kept on the order until its
//! tickets are issued with their names; and an order found by its access
//! token (a magic sign-in link carries only the token).
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
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE INDEX orders_by_access_token ON orders (access_token_hash)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS orders_by_access_token")
            .await?;
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
