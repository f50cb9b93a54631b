//! Checkout: reservations (holds with an expiry) and their lines, orders and
//! their lines, Webpay payments, tickets, and the refresh tokens of the buyers'
//! JWT sessions. A tier gains `reserved` (seats held by live reservations); the
//! database keeps `sold + reserved <= capacity`, so no interleaving of
//! instances can oversell.
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
        let db = m.get_connection();
        // A column constraint may name other columns in both databases; SQLite
        // cannot add a table constraint to an existing table.
        db.execute_unprepared(
            "ALTER TABLE ticket_tiers ADD COLUMN reserved integer NOT NULL DEFAULT 0 \
             CONSTRAINT ticket_tiers_reserved_within_capacity \
             CHECK (reserved >= 0 AND (capacity IS NULL OR sold + reserved <= capacity))",
        )
        .await?;

        m.create_table(
            table_auto_tz(Reservations::Table)
                .col(uuid(Reservations::Id).primary_key())
                .col(uuid(Reservations::EventId))
                .col(uuid_null(Reservations::UserId))
                .col(
                    string_len(Reservations::Status, 20)
                        .default("active")
                        .check(
                            Expr::col(Reservations::Status)
                                .is_in(["active", "ordered", "consumed", "released", "expired"]),
                        ),
                )
                .col(timestamptz(Reservations::ExpiresAt))
                .foreign_key(&mut fk(
                    "fk_reservations_event",
                    (Reservations::Table, Reservations::EventId),
                    (Events::Table, Events::Id),
                    Fk::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_reservations_user",
                    (Reservations::Table, Reservations::UserId),
                    (Users::Table, Users::Id),
                    Fk::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("reservations_live_by_expiry")
                .table(Reservations::Table)
                .col(Reservations::Status)
                .col(Reservations::ExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            table_auto_tz(ReservationItems::Table)
                .col(uuid(ReservationItems::Id).primary_key())
                .col(uuid(ReservationItems::ReservationId))
                .col(uuid(ReservationItems::TierId))
                .col(integer(ReservationItems::Quantity))
                .col(big_integer(ReservationItems::UnitPrice))
                .check(Expr::col(ReservationItems::Quantity).gt(0))
                .check(Expr::col(ReservationItems::UnitPrice).gte(0))
                .foreign_key(&mut fk(
                    "fk_reservation_items_reservation",
                    (ReservationItems::Table, ReservationItems::ReservationId),
                    (Reservations::Table, Reservations::Id),
                    Fk::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_reservation_items_tier",
                    (ReservationItems::Table, ReservationItems::TierId),
                    (TicketTiers::Table, TicketTiers::Id),
                    Fk::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("reservation_items_by_reservation")
                .table(ReservationItems::Table)
                .col(ReservationItems::ReservationId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            table_auto_tz(Orders::Table)
                .col(uuid(Orders::Id).primary_key())
                .col(string_len_uniq(Orders::OrderNumber, 26))
                .col(uuid(Orders::EventId))
                .col(uuid_null(Orders::UserId))
                .col(uuid_null(Orders::ReservationId).unique_key())
                .col(string_len(Orders::Status, 20).default("pending").check(
                    Expr::col(Orders::Status).is_in([
                        "pending",
                        "paid",
                        "cancelled",
                        "expired",
                        "failed",
                        "refunded",
                        "partially_refunded",
                    ]),
                ))
                .col(string_len(Orders::CustomerName, 200))
                .col(string_len(Orders::CustomerEmail, 254))
                .col(string_len(Orders::CustomerPhone, 40).default(""))
                .col(big_integer(Orders::Subtotal))
                .col(big_integer(Orders::ServiceFee))
                .col(big_integer(Orders::Total))
                .col(big_integer(Orders::RefundedAmount).default(0))
                // SHA-256 of the access token the buyer's frontend holds.
                .col(string_len(Orders::AccessTokenHash, 64))
                .col(timestamptz_null(Orders::PaidAt))
                .col(boolean(Orders::ConfirmationSent).default(false))
                .check(Expr::col(Orders::Subtotal).gte(0))
                .check(Expr::col(Orders::ServiceFee).gte(0))
                .check(
                    Expr::col(Orders::Total)
                        .eq(Expr::col(Orders::Subtotal).add(Expr::col(Orders::ServiceFee))),
                )
                .check(
                    Expr::col(Orders::RefundedAmount)
                        .gte(0)
                        .and(Expr::col(Orders::RefundedAmount).lte(Expr::col(Orders::Total))),
                )
                .foreign_key(&mut fk(
                    "fk_orders_event",
                    (Orders::Table, Orders::EventId),
                    (Events::Table, Events::Id),
                    Fk::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_orders_user",
                    (Orders::Table, Orders::UserId),
                    (Users::Table, Users::Id),
                    Fk::SetNull,
                ))
                .foreign_key(&mut fk(
                    "fk_orders_reservation",
                    (Orders::Table, Orders::ReservationId),
                    (Reservations::Table, Reservations::Id),
                    Fk::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("orders_by_user")
                .table(Orders::Table)
                .col(Orders::UserId)
                .col(Orders::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            table_auto_tz(OrderItems::Table)
                .col(uuid(OrderItems::Id).primary_key())
                .col(uuid(OrderItems::OrderId))
                .col(uuid(OrderItems::TierId))
                .col(string_len(OrderItems::TierName, 100))
                .col(integer(OrderItems::Quantity))
                .col(big_integer(OrderItems::UnitPrice))
                .check(Expr::col(OrderItems::Quantity).gt(0))
                .check(Expr::col(OrderItems::UnitPrice).gte(0))
                .foreign_key(&mut fk(
                    "fk_order_items_order",
                    (OrderItems::Table, OrderItems::OrderId),
                    (Orders::Table, Orders::Id),
                    Fk::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_order_items_tier",
                    (OrderItems::Table, OrderItems::TierId),
                    (TicketTiers::Table, TicketTiers::Id),
                    Fk::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("order_items_by_order")
                .table(OrderItems::Table)
                .col(OrderItems::OrderId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            table_auto_tz(Payments::Table)
                .col(uuid(Payments::Id).primary_key())
                .col(uuid(Payments::OrderId))
                .col(string_len_uniq(Payments::Token, 100))
                .col(string_len(Payments::BuyOrder, 26))
                .col(big_integer(Payments::Amount))
                .col(string_len(Payments::Status, 20).default("created").check(
                    Expr::col(Payments::Status).is_in([
                        "created",
                        "committing",
                        "authorized",
                        "rejected",
                        "aborted",
                        "timeout",
                        "failed",
                        "unknown",
                    ]),
                ))
                .col(integer_null(Payments::ResponseCode))
                .col(string_len(Payments::AuthorizationCode, 20).default(""))
                .col(string_len(Payments::CardLast4, 4).default(""))
                .col(string_len(Payments::PaymentTypeCode, 4).default(""))
                .col(big_integer(Payments::RefundedAmount).default(0))
                // The last answer from Transbank, for support (no secrets in it).
                .col(text(Payments::Detail).default(""))
                .check(Expr::col(Payments::Amount).gt(0))
                .foreign_key(&mut fk(
                    "fk_payments_order",
                    (Payments::Table, Payments::OrderId),
                    (Orders::Table, Orders::Id),
                    Fk::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("payments_by_order")
                .table(Payments::Table)
                .col(Payments::OrderId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            table_auto_tz(Tickets::Table)
                .col(uuid(Tickets::Id).primary_key())
                .col(uuid(Tickets::OrderId))
                .col(uuid(Tickets::EventId))
                .col(uuid(Tickets::TierId))
                // The QR code's secret: random, unguessable, unique.
                .col(string_len_uniq(Tickets::Code, 64))
                .col(string_len(Tickets::AttendeeName, 200).default(""))
                .col(
                    string_len(Tickets::Status, 20)
                        .default("valid")
                        .check(Expr::col(Tickets::Status).is_in(["valid", "used", "cancelled"])),
                )
                .col(timestamptz_null(Tickets::UsedAt))
                .col(uuid_null(Tickets::UsedBy))
                .foreign_key(&mut fk(
                    "fk_tickets_order",
                    (Tickets::Table, Tickets::OrderId),
                    (Orders::Table, Orders::Id),
                    Fk::Cascade,
                ))
                .foreign_key(&mut fk(
                    "fk_tickets_event",
                    (Tickets::Table, Tickets::EventId),
                    (Events::Table, Events::Id),
                    Fk::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_tickets_tier",
                    (Tickets::Table, Tickets::TierId),
                    (TicketTiers::Table, TicketTiers::Id),
                    Fk::Restrict,
                ))
                .foreign_key(&mut fk(
                    "fk_tickets_used_by",
                    (Tickets::Table, Tickets::UsedBy),
                    (Users::Table, Users::Id),
                    Fk::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("tickets_by_order")
                .table(Tickets::Table)
                .col(Tickets::OrderId)
                .to_owned(),
        )
        .await?;

        // Attempt counters (login throttling) when Redis is off.
        m.create_table(
            Table::create()
                .table(Counters::Table)
                .col(string_len(Counters::Key, 200).primary_key())
                .col(integer(Counters::Count))
                .col(timestamptz(Counters::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table_auto_tz(RefreshTokens::Table)
                .col(uuid(RefreshTokens::Id).primary_key())
                .col(uuid(RefreshTokens::UserId))
                .col(timestamptz(RefreshTokens::ExpiresAt))
                .col(timestamptz_null(RefreshTokens::RevokedAt))
                .foreign_key(&mut fk(
                    "fk_refresh_tokens_user",
                    (RefreshTokens::Table, RefreshTokens::UserId),
                    (Users::Table, Users::Id),
                    Fk::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Counters::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Tickets::Table.into_iden(),
            Payments::Table.into_iden(),
            OrderItems::Table.into_iden(),
            Orders::Table.into_iden(),
            ReservationItems::Table.into_iden(),
            Reservations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(TicketTiers::Table)
                .drop_column(Alias::new("reserved"))
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
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

#[derive(DeriveIden)]
enum Reservations {
    Table,
    Id,
    EventId,
    UserId,
    Status,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ReservationItems {
    Table,
    Id,
    ReservationId,
    TierId,
    Quantity,
    UnitPrice,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    OrderNumber,
    EventId,
    UserId,
    ReservationId,
    Status,
    CustomerName,
    CustomerEmail,
    CustomerPhone,
    Subtotal,
    ServiceFee,
    Total,
    RefundedAmount,
    AccessTokenHash,
    PaidAt,
    ConfirmationSent,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Id,
    OrderId,
    TierId,
    TierName,
    Quantity,
    UnitPrice,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    Token,
    BuyOrder,
    Amount,
    Status,
    ResponseCode,
    AuthorizationCode,
    CardLast4,
    PaymentTypeCode,
    RefundedAmount,
    Detail,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    OrderId,
    EventId,
    TierId,
    Code,
    AttendeeName,
    Status,
    UsedAt,
    UsedBy,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Counters {
    Table,
    Key,
    Count,
    ExpiresAt,
}
