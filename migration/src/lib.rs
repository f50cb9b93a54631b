#![allow(elided_lifetimes_in_paths)]
#![allow(clippy::wildcard_imports)]
pub use sea_orm_migration::prelude::*;
mod columns;
mod m20261126_000001_users;
mod m20261126_000002_catalogue;
mod m20261126_000003_cache_entries;
mod m20261126_000004_public_listing_index;
mod m20261126_000005_checkout;
mod m20261126_000006_admin;
mod m20261202_000007_hardening;
mod m20261202_000008_accounts;
mod m20261202_000009_ticket_holders;
mod m20261202_000010_event_page;
mod m20261202_000011_orders_by_event;
mod m20261202_000012_organizer_profile;
mod m20261202_000013_organizer_signup;
mod m20261202_000014_draft_dates;
mod m20261202_000015_member_invitations;
mod m20261202_000016_coupons;
mod m20261202_000017_door;
mod m20261202_000018_courtesy;
mod m20261202_000019_export_order;
mod m20261203_000020_sales_rollup;
mod m20261203_000021_door_counts;
mod m20261203_000022_payment_settings;
mod m20261203_000023_order_reminders;
mod m20261203_000024_django_imports;
pub mod m20261203_000025_admin_search;
pub mod m20261204_000026_hold_function;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_users::Migration),
            Box::new(m20261126_000002_catalogue::Migration),
            Box::new(m20261126_000003_cache_entries::Migration),
            Box::new(m20261126_000004_public_listing_index::Migration),
            Box::new(m20261126_000005_checkout::Migration),
            Box::new(m20261126_000006_admin::Migration),
            Box::new(m20261202_000007_hardening::Migration),
            Box::new(m20261202_000008_accounts::Migration),
            Box::new(m20261202_000009_ticket_holders::Migration),
            Box::new(m20261202_000010_event_page::Migration),
            Box::new(m20261202_000011_orders_by_event::Migration),
            Box::new(m20261202_000012_organizer_profile::Migration),
            Box::new(m20261202_000013_organizer_signup::Migration),
            Box::new(m20261202_000014_draft_dates::Migration),
            Box::new(m20261202_000015_member_invitations::Migration),
            Box::new(m20261202_000016_coupons::Migration),
            Box::new(m20261202_000017_door::Migration),
            Box::new(m20261202_000018_courtesy::Migration),
            Box::new(m20261202_000019_export_order::Migration),
            Box::new(m20261203_000020_sales_rollup::Migration),
            Box::new(m20261203_000021_door_counts::Migration),
            Box::new(m20261203_000022_payment_settings::Migration),
            Box::new(m20261203_000023_order_reminders::Migration),
            Box::new(m20261203_000024_django_imports::Migration),
            Box::new(m20261203_000025_admin_search::Migration),
            Box::new(m20261204_000026_hold_function::Migration),
            // inject-above (do not remove this comment)
        ]
    }
}
