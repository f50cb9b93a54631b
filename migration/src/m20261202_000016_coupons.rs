//! Discount codes (backtuki's `Coupon`): an organizer's code, a percentage
//! or a fixed amount, on all its events or chosen ones (and optionally
//! chosen tiers), within dates, with a total and a per-buyer number of
//! uses. `used_count` is the uses taken by live orders (pending with seats
//! held, or paid): taken by one guarded `UPDATE` at booking, given back
//! when the order ends unpaid. Orders keep the code and the discount, and
//! each line its share of it; an order's `subtotal` is what its tickets
//! cost after the discount (so `total = subtotal + service_fee` still
//! holds, checked by the table) and the listed price is `subtotal +
//! discount`.
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> crate::columns::Columns {
    vec![
        (
            Orders::Table.into_iden(),
            uuid_null(Orders::CouponId).to_owned(),
        ),
        (
            Orders::Table.into_iden(),
            string_len(Orders::CouponCode, 50).default("").to_owned(),
        ),
        (
            Orders::Table.into_iden(),
            big_integer(Orders::Discount)
                .default(0)
                .check(Expr::col(Orders::Discount).gte(0))
                .to_owned(),
        ),
        (
            OrderItems::Table.into_iden(),
            big_integer(OrderItems::Discount).default(0).to_owned(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Coupons::Table)
                .col(uuid(Coupons::Id).primary_key())
                .col(uuid(Coupons::OrganizerId))
                .col(string_len(Coupons::Code, 50))
                .col(text(Coupons::Description).default(""))
                .col(
                    string_len(Coupons::DiscountType, 20)
                        .default("percentage")
                        .check(Expr::col(Coupons::DiscountType).is_in(["percentage", "fixed"])),
                )
                .col(
                    big_integer(Coupons::DiscountValue)
                        .check(Expr::col(Coupons::DiscountValue).gt(0)),
                )
                .col(big_integer(Coupons::MinPurchase).default(0))
                .col(big_integer_null(Coupons::MaxDiscount))
                .col(timestamptz_null(Coupons::StartDate))
                .col(timestamptz_null(Coupons::EndDate))
                .col(integer_null(Coupons::UsageLimit))
                .col(integer_null(Coupons::PerBuyerLimit))
                .col(integer(Coupons::UsedCount).default(0))
                .col(string_len(Coupons::Status, 20).default("active").check(
                    Expr::col(Coupons::Status).is_in(["active", "expired", "used", "inactive"]),
                ))
                .col(boolean(Coupons::IsActive).default(true))
                .col(text_null(Coupons::EventIds))
                .col(text(Coupons::TierIds).default("[]"))
                .col(timestamptz_null(Coupons::DeletedAt))
                .col(timestamptz(Coupons::CreatedAt))
                .col(timestamptz(Coupons::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Coupons::Table, Coupons::OrganizerId)
                        .to(Organizers::Table, Organizers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                // Uses never go below zero nor above the limit, whoever
                // takes them.
                .check(Expr::col(Coupons::UsedCount).gte(0))
                .check(
                    Expr::col(Coupons::UsageLimit)
                        .is_null()
                        .or(Expr::col(Coupons::UsedCount).lte(Expr::col(Coupons::UsageLimit))),
                )
                .check(
                    Expr::col(Coupons::DiscountType)
                        .ne("percentage")
                        .or(Expr::col(Coupons::DiscountValue).lte(100)),
                )
                .to_owned(),
        )
        .await?;
        // A code is unique within its organizer (live ones: a deleted
        // code can be made again).
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX coupons_organizer_code ON coupons (organizer_id, code) \
                 WHERE deleted_at IS NULL",
            )
            .await?;
        crate::columns::add(m, columns()).await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX orders_coupon ON orders (coupon_id) WHERE coupon_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX orders_coupon")
            .await?;
        crate::columns::drop(m, columns()).await?;
        m.drop_table(Table::drop().table(Coupons::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Coupons {
    Table,
    Id,
    OrganizerId,
    Code,
    Description,
    DiscountType,
    DiscountValue,
    MinPurchase,
    MaxDiscount,
    StartDate,
    EndDate,
    UsageLimit,
    PerBuyerLimit,
    UsedCount,
    Status,
    IsActive,
    EventIds,
    TierIds,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Organizers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    CouponId,
    CouponCode,
    Discount,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Discount,
}
