//! Courtesy tickets ("cortesías", backtuki's `ComplimentaryTicketInvitation`):
//! an invitation to one of an organizer's events, redeemed once through its
//! secret link (`public_token`) into a zero-priced paid order whose tickets
//! take seats of the invitation's tier like any sale.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .col(uuid(Invitations::Id).primary_key())
                .col(uuid(Invitations::EventId))
                .col(uuid(Invitations::TierId))
                .col(string_len(Invitations::FirstName, 100).default(""))
                .col(string_len(Invitations::LastName, 100).default(""))
                .col(string_len(Invitations::Email, 254).default(""))
                .col(
                    integer(Invitations::MaxTickets)
                        .check(Expr::col(Invitations::MaxTickets).between(1, 10)),
                )
                .col(
                    string_len(Invitations::Status, 20)
                        .default("pending")
                        .check(Expr::col(Invitations::Status).is_in([
                            "pending",
                            "redeemed",
                            "cancelled",
                        ])),
                )
                .col(string_len(Invitations::PublicToken, 64).unique_key())
                .col(timestamptz_null(Invitations::RedeemedAt))
                .col(string_len_null(Invitations::RedeemedByEmail, 254))
                .col(uuid_null(Invitations::CreatedBy))
                .col(uuid_null(Invitations::OrderId))
                .col(timestamptz(Invitations::CreatedAt))
                .col(timestamptz(Invitations::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Invitations::Table, Invitations::EventId)
                        .to(Events::Table, Events::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Invitations::Table, Invitations::TierId)
                        .to(TicketTiers::Table, TicketTiers::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX complimentary_invitations_event ON complimentary_invitations (event_id, created_at)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Invitations {
    #[sea_orm(iden = "complimentary_invitations")]
    Table,
    Id,
    EventId,
    TierId,
    FirstName,
    LastName,
    Email,
    MaxTickets,
    Status,
    PublicToken,
    RedeemedAt,
    RedeemedByEmail,
    CreatedBy,
    OrderId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TicketTiers {
    Table,
    Id,
}
