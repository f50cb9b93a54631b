//! Hardening: what lets the database count each client's holds and each
//! buyer's pending orders (so a hundred instances agree on the limits), the
//! one-refund-at-a-time slot of a payment, and
//! the per-user credentials version that ends every session and access token
//! issued before a password change or a deactivation.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(integer(Users::AuthVersion).default(0))
                .to_owned(),
        )
        .await?;
        // Who holds a reservation: `user:{id}` or `ip:{address}`.
        m.alter_table(
            Table::alter()
                .table(Reservations::Table)
                .add_column(string_len_null(Reservations::ClientKey, 80))
                .to_owned(),
        )
        .await?;
        // One refund at a time per payment: the amount being refunded and
        // since when (a refund Transbank did not confirm stays here until
        // `task reconcile_payments` settles it from Transbank's balance).
        m.alter_table(
            Table::alter()
                .table(Payments::Table)
                .add_column(big_integer_null(Payments::RefundInFlight))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Payments::Table)
                .add_column(timestamptz_null(Payments::RefundStartedAt))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // Live holds of a client (held or booked and unpaid), counted at
        // every reserve.
        db.execute_unprepared(
            "CREATE INDEX reservations_live_by_client ON reservations (client_key, expires_at) \
             WHERE status IN ('active', 'ordered')",
        )
        .await?;
        // Attempt counters now hold one row per client that reserved in the
        // last 15 minutes: their sweep deletes by expiry, not by a scan.
        db.execute_unprepared("CREATE INDEX counters_expires_at ON counters (expires_at)")
            .await?;
        // A buyer's orders by email (pending orders, free tickets per event).
        db.execute_unprepared(
            "CREATE INDEX orders_by_customer_email ON orders (lower(customer_email), event_id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS orders_by_customer_email")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS counters_expires_at")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS reservations_live_by_client")
            .await?;
        m.alter_table(
            Table::alter()
                .table(Reservations::Table)
                .drop_column(Reservations::ClientKey)
                .to_owned(),
        )
        .await?;
        for column in [Payments::RefundInFlight, Payments::RefundStartedAt] {
            m.alter_table(
                Table::alter()
                    .table(Payments::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::AuthVersion)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    AuthVersion,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    RefundInFlight,
    RefundStartedAt,
}

#[derive(DeriveIden)]
enum Reservations {
    Table,
    ClientKey,
}
