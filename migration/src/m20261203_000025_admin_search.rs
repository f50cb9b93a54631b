//! The admin at Tuki's size: orders and payments listed newest first from an
//! index on (created_at, id), and on PostgreSQL the changelist searches of
//! the big tables answered from trigram indexes (`pg_trgm`) on the exact
//! expression the admin searches (`admin::store::search_expression`; a test
//! keeps the two equal). Where the extension may not be created (a role
//! without the privilege), the migration says so and the searches scan.
use sea_orm_migration::prelude::*;

/// (index, table, the searched expression) for each trigram index.
pub const SEARCH_INDEXES: [(&str, &str, &str); 6] = [
    (
        "admin_search_orders",
        "orders",
        "lower(COALESCE(order_number, '') || ' ' || COALESCE(customer_email, '') || ' ' || COALESCE(customer_name, ''))",
    ),
    (
        "admin_search_tickets",
        "tickets",
        "lower(COALESCE(code, '') || ' ' || COALESCE(attendee_name, ''))",
    ),
    (
        "admin_search_users",
        "users",
        "lower(COALESCE(email, '') || ' ' || COALESCE(username, '') || ' ' || COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))",
    ),
    (
        "admin_search_events",
        "events",
        "lower(COALESCE(title, '') || ' ' || COALESCE(slug, '') || ' ' || COALESCE(short_description, ''))",
    ),
    (
        "admin_search_organizers",
        "organizers",
        "lower(COALESCE(name, '') || ' ' || COALESCE(slug, '') || ' ' || COALESCE(contact_email, ''))",
    ),
    (
        "admin_search_ticket_tiers",
        "ticket_tiers",
        "lower(COALESCE(name, ''))",
    ),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["orders", "payments"] {
            m.create_index(
                Index::create()
                    .name(format!("{table}_by_created"))
                    .table(Alias::new(table))
                    .col(Alias::new("created_at"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await?;
        }
        if m.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "DO $$ BEGIN
               CREATE EXTENSION IF NOT EXISTS pg_trgm;
             EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
               RAISE NOTICE 'pg_trgm cannot be created here: admin searches scan their tables';
             END $$",
        )
        .await?;
        for (name, table, expr) in SEARCH_INDEXES {
            db.execute_unprepared(&format!(
                "DO $$ BEGIN
                   IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                     EXECUTE $idx$CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expr}) gin_trgm_ops)$idx$;
                   END IF;
                 END $$"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            for (name, _, _) in SEARCH_INDEXES {
                m.get_connection()
                    .execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                    .await?;
            }
        }
        for table in ["orders", "payments"] {
            m.drop_index(
                Index::drop()
                    .name(format!("{table}_by_created"))
                    .table(Alias::new(table))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
