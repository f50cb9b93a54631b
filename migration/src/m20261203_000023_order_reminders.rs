//! The reminder mailed to a paid order's buyer the day before its event,
//! once: a row per order reminded, claimed before the mail is sent (the
//! primary key makes two runs at once send one).
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OrderReminders::Table)
                .col(uuid(OrderReminders::OrderId).primary_key())
                .col(timestamptz(OrderReminders::SentAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OrderReminders::Table, OrderReminders::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OrderReminders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OrderReminders {
    Table,
    OrderId,
    SentAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}
