//! Organizers on their own: the sign-up wizard's rows (backtuki's
//! `OrganizerOnboarding`), the ticket categories an organizer groups tiers
//! into (backtuki's `TicketCategory`), and a tier's category.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OrganizerOnboardings::Table)
                .col(uuid(OrganizerOnboardings::Id).primary_key())
                .col(uuid_null(OrganizerOnboardings::OrganizerId))
                .col(text(OrganizerOnboardings::SelectedTypes).default("[]"))
                .col(string_len(OrganizerOnboardings::OrganizationName, 255).default(""))
                .col(string_len(OrganizerOnboardings::OrganizationSlug, 255).default(""))
                .col(string_len(OrganizerOnboardings::OrganizationSize, 10).default(""))
                .col(string_len(OrganizerOnboardings::ContactName, 255).default(""))
                .col(string_len(OrganizerOnboardings::ContactEmail, 254).default(""))
                .col(string_len(OrganizerOnboardings::ContactPhone, 30).default(""))
                .col(integer(OrganizerOnboardings::CompletedStep).default(0))
                .col(boolean(OrganizerOnboardings::IsCompleted).default(false))
                .col(timestamptz(OrganizerOnboardings::CreatedAt))
                .col(timestamptz(OrganizerOnboardings::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            OrganizerOnboardings::Table,
                            OrganizerOnboardings::OrganizerId,
                        )
                        .to(Organizers::Table, Organizers::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .check(Expr::col(OrganizerOnboardings::CompletedStep).between(0, 3))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX organizer_onboardings_created_at ON organizer_onboardings (created_at)",
            )
            .await?;
        m.create_table(
            Table::create()
                .table(TicketCategories::Table)
                .col(uuid(TicketCategories::Id).primary_key())
                .col(uuid(TicketCategories::EventId))
                .col(string_len(TicketCategories::Name, 100))
                .col(text(TicketCategories::Description).default(""))
                .col(integer_null(TicketCategories::Capacity))
                .col(
                    string_len(TicketCategories::Status, 10)
                        .default("active")
                        .check(
                            Expr::col(TicketCategories::Status)
                                .is_in(["active", "hidden", "sold_out"]),
                        ),
                )
                .col(
                    string_len(TicketCategories::Visibility, 10)
                        .default("public")
                        .check(
                            Expr::col(TicketCategories::Visibility)
                                .is_in(["public", "private", "password"]),
                        ),
                )
                .col(string_len(TicketCategories::Color, 20).default("#3b82f6"))
                .col(integer(TicketCategories::DisplayOrder).default(0))
                .col(integer(TicketCategories::MaxPerPurchase).default(10))
                .col(integer(TicketCategories::MinPerPurchase).default(1))
                .col(string_len_null(TicketCategories::SaleStartDate, 10))
                .col(string_len_null(TicketCategories::SaleEndDate, 10))
                .col(string_len_null(TicketCategories::SaleStartTime, 8))
                .col(string_len_null(TicketCategories::SaleEndTime, 8))
                .col(string_len_null(TicketCategories::AccessStartDate, 10))
                .col(string_len_null(TicketCategories::AccessEndDate, 10))
                .col(string_len_null(TicketCategories::AccessStartTime, 8))
                .col(string_len_null(TicketCategories::AccessEndTime, 8))
                .col(boolean(TicketCategories::RequiresApproval).default(false))
                .col(timestamptz(TicketCategories::CreatedAt))
                .col(timestamptz(TicketCategories::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TicketCategories::Table, TicketCategories::EventId)
                        .to(Events::Table, Events::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .check(
                    Expr::col(TicketCategories::Capacity)
                        .is_null()
                        .or(Expr::col(TicketCategories::Capacity).gte(0)),
                )
                .check(Expr::col(TicketCategories::MinPerPurchase).gte(1))
                .check(
                    Expr::col(TicketCategories::MaxPerPurchase)
                        .gte(Expr::col(TicketCategories::MinPerPurchase)),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ticket_categories_by_event ON ticket_categories (event_id, display_order)",
            )
            .await?;
        // SQLite adds a column with a reference (not a table constraint);
        // PostgreSQL takes the same words.
        m.alter_table(
            Table::alter()
                .table(TicketTiers::Table)
                .add_column(
                    uuid_null(TicketTiers::CategoryId)
                        .extra("REFERENCES ticket_categories (id) ON DELETE SET NULL"),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ticket_tiers_by_category ON ticket_tiers (category_id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ticket_tiers_by_category")
            .await?;
        m.alter_table(
            Table::alter()
                .table(TicketTiers::Table)
                .drop_column(TicketTiers::CategoryId)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(TicketCategories::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(OrganizerOnboardings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OrganizerOnboardings {
    Table,
    Id,
    OrganizerId,
    SelectedTypes,
    OrganizationName,
    OrganizationSlug,
    OrganizationSize,
    ContactName,
    ContactEmail,
    ContactPhone,
    CompletedStep,
    IsCompleted,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TicketCategories {
    Table,
    Id,
    EventId,
    Name,
    Description,
    Capacity,
    Status,
    Visibility,
    Color,
    DisplayOrder,
    MaxPerPurchase,
    MinPerPurchase,
    SaleStartDate,
    SaleEndDate,
    SaleStartTime,
    SaleEndTime,
    AccessStartDate,
    AccessEndDate,
    AccessStartTime,
    AccessEndTime,
    RequiresApproval,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TicketTiers {
    Table,
    CategoryId,
}

#[derive(DeriveIden)]
enum Organizers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
}
