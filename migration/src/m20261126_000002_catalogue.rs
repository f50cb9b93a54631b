//! The event catalogue: organizers and their members, categories, locations,
//! events (soft delete), their images and ticket tiers. Invariants live in the
//! database: unique slugs, non-negative prices, `0 <= sold <= capacity`.
use loco_rs::schema::*;
use sea_orm_migration::{prelude::*, sea_query::ForeignKeyAction as Fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: Fk,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)]
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table_auto_tz(Organizers::Table)
                .col(uuid(Organizers::Id).primary_key())
                .col(string_len(Organizers::Name, 200))
                .col(string_len_uniq(Organizers::Slug, 220))
                .col(string_len(Organizers::ContactEmail, 254).default(""))
                .col(string_len(Organizers::ContactPhone, 40).default(""))
                .col(
                    string_len(Organizers::Status, 20).default("active").check(
                        Expr::col(Organizers::Status).is_in(["active", "pending", "suspended"]),
                    ),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            table_auto_tz(OrganizerMembers::Table)
                .col(uuid(OrganizerMembers::Id).primary_key())
                .col(uuid(OrganizerMembers::OrganizerId))
                .col(uuid(OrganizerMembers::UserId))
                .col(boolean(OrganizerMembers::IsAdmin).default(false))
                .col(boolean(OrganizerMembers::CanManageEvents).default(false))
                .col(boolean(OrganizerMembers::CanViewReports).default(false))
                .foreign_key(&mut fk(
                    "fk_organizer_members_organizer",
                    (OrganizerMembers::Table, OrganizerMembers::OrganizerId),
                    (Organizers::Table, Organizers::Id),
                    Fk::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_organizer_members_user",
                    (OrganizerMembers::Table, OrganizerMembers::UserId),
                    (Users::Table, Users::Id),
                    Fk::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("organizer_members_unique")
                .table(OrganizerMembers::Table)
                .col(OrganizerMembers::OrganizerId)
                .col(OrganizerMembers::UserId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            table_auto_tz(EventCategories::Table)
                .col(uuid(EventCategories::Id).primary_key())
                .col(string_len(EventCategories::Name, 100))
                .col(string_len_uniq(EventCategories::Slug, 120))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table_auto_tz(Locations::Table)
                .col(uuid(Locations::Id).primary_key())
                .col(string_len(Locations::Name, 200))
                .col(string_len(Locations::Address, 255).default(""))
                .col(string_len(Locations::City, 100).default(""))
                .col(string_len(Locations::Country, 100).default(""))
                .col(double_null(Locations::Latitude))
                .col(double_null(Locations::Longitude))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table_auto_tz(Events::Table)
                .col(uuid(Events::Id).primary_key())
                .col(string_len(Events::Title, 200))
                .col(string_len_uniq(Events::Slug, 220))
                .col(string_len(Events::ShortDescription, 255).default(""))
                .col(text(Events::Description).default(""))
                .col(string_len(Events::Type, 20).default(""))
                .col(string_len(Events::Status, 20).default("draft").check(
                    Expr::col(Events::Status).is_in([
                        "draft",
                        "published",
                        "cancelled",
                        "completed",
                    ]),
                ))
                .col(
                    string_len(Events::Visibility, 20)
                        .default("public")
                        .check(Expr::col(Events::Visibility).is_in(["public", "private"])),
                )
                .col(boolean(Events::Featured).default(false))
                .col(timestamptz(Events::StartDate))
                .col(timestamptz(Events::EndDate))
                .col(timestamptz_null(Events::TicketSalesStart))
                .col(timestamptz_null(Events::TicketSalesEnd))
                .col(integer_null(Events::MaxTicketsPerPurchase))
                // Service fee in basis points (1000 = 10 %): integer money math.
                .col(
                    integer(Events::ServiceFeeBps)
                        .default(0)
                        .check(Expr::col(Events::ServiceFeeBps).between(0, 10_000)),
                )
                .col(uuid(Events::OrganizerId))
                .col(uuid_null(Events::CategoryId))
                .col(uuid_null(Events::LocationId))
                .col(timestamptz_null(Events::DeletedAt))
                .check(Expr::col(Events::EndDate).gte(Expr::col(Events::StartDate)))
                .foreign_key(&mut fk(
                    "fk_events_organizer",
                    (Events::Table, Events::OrganizerId),
                    (Organizers::Table, Organizers::Id),
                    Fk::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_events_category",
                    (Events::Table, Events::CategoryId),
                    (EventCategories::Table, EventCategories::Id),
                    Fk::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_events_location",
                    (Events::Table, Events::LocationId),
                    (Locations::Table, Locations::Id),
                    Fk::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        // The public listing's filter and order.
        m.create_index(
            Index::create()
                .name("events_public_listing")
                .table(Events::Table)
                .col(Events::Status)
                .col(Events::Featured)
                .col(Events::StartDate)
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("events_organizer", Events::OrganizerId),
            ("events_category", Events::CategoryId),
            ("events_location", Events::LocationId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Events::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            table_auto_tz(EventImages::Table)
                .col(uuid(EventImages::Id).primary_key())
                .col(uuid(EventImages::EventId))
                .col(string_len(EventImages::Path, 500))
                .col(string_len(EventImages::Alt, 255).default(""))
                .col(integer(EventImages::Position).default(0))
                .foreign_key(&mut fk(
                    "fk_event_images_event",
                    (EventImages::Table, EventImages::EventId),
                    (Events::Table, Events::Id),
                    Fk::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_images_event_position")
                .table(EventImages::Table)
                .col(EventImages::EventId)
                .col(EventImages::Position)
                .to_owned(),
        )
        .await?;
        m.create_table(
            table_auto_tz(TicketTiers::Table)
                .col(uuid(TicketTiers::Id).primary_key())
                .col(uuid(TicketTiers::EventId))
                .col(string_len(TicketTiers::Name, 100))
                .col(text(TicketTiers::Description).default(""))
                // CLP has no minor unit: whole pesos.
                .col(big_integer(TicketTiers::Price).check(Expr::col(TicketTiers::Price).gte(0)))
                // NULL: unlimited.
                .col(integer_null(TicketTiers::Capacity))
                .col(integer(TicketTiers::Sold).default(0))
                .col(integer(TicketTiers::MinPerOrder).default(1))
                .col(integer_null(TicketTiers::MaxPerOrder))
                .col(timestamptz_null(TicketTiers::SaleStart))
                .col(timestamptz_null(TicketTiers::SaleEnd))
                .col(boolean(TicketTiers::IsPublic).default(true))
                .col(integer(TicketTiers::DisplayOrder).default(0))
                .check(Expr::col(TicketTiers::Sold).gte(0))
                .check(
                    Expr::col(TicketTiers::Capacity)
                        .is_null()
                        .or(Expr::col(TicketTiers::Capacity).gte(0).and(
                            Expr::col(TicketTiers::Sold).lte(Expr::col(TicketTiers::Capacity)),
                        )),
                )
                .check(Expr::col(TicketTiers::MinPerOrder).gte(1))
                .check(Expr::col(TicketTiers::MaxPerOrder).is_null().or(
                    Expr::col(TicketTiers::MaxPerOrder).gte(Expr::col(TicketTiers::MinPerOrder)),
                ))
                .foreign_key(&mut fk(
                    "fk_ticket_tiers_event",
                    (TicketTiers::Table, TicketTiers::EventId),
                    (Events::Table, Events::Id),
                    Fk::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ticket_tiers_event_public")
                .table(TicketTiers::Table)
                .col(TicketTiers::EventId)
                .col(TicketTiers::IsPublic)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TicketTiers::Table.into_iden(),
            EventImages::Table.into_iden(),
            Events::Table.into_iden(),
            Locations::Table.into_iden(),
            EventCategories::Table.into_iden(),
            OrganizerMembers::Table.into_iden(),
            Organizers::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizers {
    Table,
    Id,
    Name,
    Slug,
    ContactEmail,
    ContactPhone,
    Status,
}

#[derive(DeriveIden)]
enum OrganizerMembers {
    Table,
    Id,
    OrganizerId,
    UserId,
    IsAdmin,
    CanManageEvents,
    CanViewReports,
}

#[derive(DeriveIden)]
enum EventCategories {
    Table,
    Id,
    Name,
    Slug,
}

#[derive(DeriveIden)]
enum Locations {
    Table,
    Id,
    Name,
    Address,
    City,
    Country,
    Latitude,
    Longitude,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Title,
    Slug,
    ShortDescription,
    Description,
    Type,
    Status,
    Visibility,
    Featured,
    StartDate,
    EndDate,
    TicketSalesStart,
    TicketSalesEnd,
    MaxTicketsPerPurchase,
    ServiceFeeBps,
    OrganizerId,
    CategoryId,
    LocationId,
    DeletedAt,
}

#[derive(DeriveIden)]
enum EventImages {
    Table,
    Id,
    EventId,
    Path,
    Alt,
    Position,
}

#[derive(DeriveIden)]
enum TicketTiers {
    Table,
    Id,
    EventId,
    Name,
    Description,
    Price,
    Capacity,
    Sold,
    MinPerOrder,
    MaxPerOrder,
    SaleStart,
    SaleEnd,
    IsPublic,
    DisplayOrder,
}
