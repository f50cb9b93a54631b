//! What the event page shows beyond the checkout's needs, as backtuki's
//! `EventDetailSerializer` lists it: the event's tags and visitor notes (age,
//! dress code, accessibility, parking) and its view counter; the organizer's
//! description and logo; a category's description; an image's kind; a tier's
//! type, benefits and highlight.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every column this migration adds, by table.
fn columns() -> crate::columns::Columns {
    let events = || Events::Table.into_iden();
    vec![
        (events(), text(Events::Tags).default("").to_owned()),
        (
            events(),
            string(Events::AgeRestriction).default("").to_owned(),
        ),
        (events(), string(Events::Dresscode).default("").to_owned()),
        (
            events(),
            string(Events::Accessibility).default("").to_owned(),
        ),
        (events(), string(Events::Parking).default("").to_owned()),
        (events(), integer(Events::ViewsCount).default(0).to_owned()),
        (
            Organizers::Table.into_iden(),
            text(Organizers::Description).default("").to_owned(),
        ),
        (
            Organizers::Table.into_iden(),
            string(Organizers::Logo).default("").to_owned(),
        ),
        (
            EventCategories::Table.into_iden(),
            text(EventCategories::Description).default("").to_owned(),
        ),
        (
            EventImages::Table.into_iden(),
            string(EventImages::Kind).default("image").to_owned(),
        ),
        (
            TicketTiers::Table.into_iden(),
            string(TicketTiers::TierType).default("").to_owned(),
        ),
        (
            TicketTiers::Table.into_iden(),
            text(TicketTiers::Benefits).default("").to_owned(),
        ),
        (
            TicketTiers::Table.into_iden(),
            boolean(TicketTiers::IsHighlighted)
                .default(false)
                .to_owned(),
        ),
    ]
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
    Tags,
    AgeRestriction,
    Dresscode,
    Accessibility,
    Parking,
    ViewsCount,
}

#[derive(DeriveIden)]
enum Organizers {
    Table,
    Description,
    Logo,
}

#[derive(DeriveIden)]
enum EventCategories {
    Table,
    Description,
}

#[derive(DeriveIden)]
enum EventImages {
    Table,
    Kind,
}

#[derive(DeriveIden)]
enum TicketTiers {
    Table,
    TierType,
    Benefits,
    IsHighlighted,
}
