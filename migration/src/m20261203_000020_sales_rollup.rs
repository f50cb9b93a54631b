//! What each event sold per UTC hour, kept beside the orders so the
//! organizer dashboard reads a few hundred sums instead of every order:
//! `sales_hourly` holds an event's paid orders (statuses `paid` and
//! `partially_refunded`) summed by the hour they were paid in, and
//! `sales_tier_hourly` the same orders' lines per tier. The app adds an
//! order when it is paid and takes it out again when it is wholly refunded,
//! in the same transaction (`models::sales`); this migration fills both from
//! the orders already there.
use loco_rs::schema::*;
use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Hourly::Table)
                .col(uuid(Hourly::EventId))
                .col(big_integer(Hourly::PaidHour))
                .col(big_integer(Hourly::Orders).default(0))
                .col(big_integer(Hourly::Tickets).default(0))
                .col(big_integer(Hourly::Total).default(0))
                .col(big_integer(Hourly::Subtotal).default(0))
                .col(big_integer(Hourly::ServiceFee).default(0))
                .col(big_integer(Hourly::Discount).default(0))
                .col(big_integer(Hourly::Refunded).default(0))
                .primary_key(Index::create().col(Hourly::EventId).col(Hourly::PaidHour))
                .foreign_key(
                    ForeignKey::create()
                        .from(Hourly::Table, Hourly::EventId)
                        .to(Events::Table, Events::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TierHourly::Table)
                .col(uuid(TierHourly::EventId))
                .col(big_integer(TierHourly::PaidHour))
                .col(uuid(TierHourly::TierId))
                .col(big_integer(TierHourly::Tickets).default(0))
                .col(big_integer(TierHourly::Revenue).default(0))
                .col(big_integer(TierHourly::ServiceFees).default(0))
                .primary_key(
                    Index::create()
                        .col(TierHourly::EventId)
                        .col(TierHourly::PaidHour)
                        .col(TierHourly::TierId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TierHourly::Table, TierHourly::EventId)
                        .to(Events::Table, Events::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TierHourly::Table, TierHourly::TierId)
                        .to(TicketTiers::Table, TicketTiers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // The hour as whole hours since 1970 (UTC).
        let hour = if db.get_database_backend() == DbBackend::Postgres {
            "CAST(floor(extract(epoch FROM o.paid_at) / 3600) AS BIGINT)"
        } else {
            "CAST(strftime('%s', o.paid_at) AS INTEGER) / 3600"
        };
        let paid = "o.status IN ('paid', 'partially_refunded') AND o.paid_at IS NOT NULL";
        db.execute_unprepared(&format!(
            "INSERT INTO sales_hourly \
               (event_id, paid_hour, orders, tickets, total, subtotal, service_fee, discount, refunded) \
             SELECT o.event_id, {hour}, COUNT(*), \
               COALESCE(SUM((SELECT SUM(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0), \
               SUM(o.total), SUM(o.subtotal), SUM(o.service_fee), SUM(o.discount), SUM(o.refunded_amount) \
             FROM orders o WHERE {paid} GROUP BY o.event_id, {hour}"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO sales_tier_hourly \
               (event_id, paid_hour, tier_id, tickets, revenue, service_fees) \
             SELECT o.event_id, {hour}, i.tier_id, SUM(i.quantity), \
               SUM(i.quantity * i.unit_price - i.discount), \
               SUM(CASE WHEN o.subtotal + o.discount > 0 \
                 THEN o.service_fee * i.quantity * i.unit_price / (o.subtotal + o.discount) ELSE 0 END) \
             FROM order_items i JOIN orders o ON o.id = i.order_id \
             WHERE {paid} GROUP BY o.event_id, {hour}, i.tier_id"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TierHourly::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Hourly::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Hourly {
    #[sea_orm(iden = "sales_hourly")]
    Table,
    EventId,
    PaidHour,
    Orders,
    Tickets,
    Total,
    Subtotal,
    ServiceFee,
    Discount,
    Refunded,
}

#[derive(DeriveIden)]
enum TierHourly {
    #[sea_orm(iden = "sales_tier_hourly")]
    Table,
    EventId,
    PaidHour,
    TierId,
    Tickets,
    Revenue,
    ServiceFees,
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
