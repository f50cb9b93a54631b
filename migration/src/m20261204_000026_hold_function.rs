//! The one-tier hold as one PostgreSQL function, called as one autocommit
//! statement: the tier's row is locked from its `UPDATE` to the commit that
//! ends the same statement, never across a round trip to the application (in
//! a surge every buyer queues on that one row). It does what the client-side
//! transaction did:
//! - serializes the client's holds on an advisory lock (the key and seed are
//!   the application's `lock_limit`), so a client's count and the hold that
//!   follows it are one step on any number of instances;
//! - counts the client's live holds in a snapshot taken after that lock (each
//!   statement of a `VOLATILE` PL/pgSQL function takes its own);
//! - takes the seats with the conditional `UPDATE` (`sold + reserved + n <=
//!   capacity`, re-checked on the latest row version when it had to wait);
//! - writes the reservation and its line only when the seats were taken;
//! - commits without waiting for the disk, as the transaction did (a hold lost
//!   to a crash only means the buyer reserves again).
//!
//! Returns `held`, `short` (nothing written) or `limit` (the client already
//! holds `max_holds` live reservations; nothing written). SQLite has no
//! functions: its single writer keeps the transaction path.
use sea_orm_migration::prelude::*;

/// The function, as created (the application checks it keeps its lock key).
pub const CREATE: &str = r"
CREATE OR REPLACE FUNCTION tuki_hold_one_tier(
    p_tier uuid, p_quantity integer, p_reservation uuid, p_event uuid,
    p_user uuid, p_expires timestamptz, p_now timestamptz, p_item uuid,
    p_unit_price bigint, p_client text, p_max_holds bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE
AS $fn$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_advisory_xact_lock(hashtextextended(p_client, 7));
    IF (SELECT count(*) FROM reservations
        WHERE client_key = p_client AND status IN ('active', 'ordered')
          AND expires_at > p_now) >= p_max_holds THEN
        RETURN 'limit';
    END IF;
    UPDATE ticket_tiers SET reserved = reserved + p_quantity
    WHERE id = p_tier AND (capacity IS NULL OR sold + reserved + p_quantity <= capacity);
    IF NOT FOUND THEN
        RETURN 'short';
    END IF;
    INSERT INTO reservations
        (id, event_id, user_id, status, expires_at, client_key, created_at, updated_at)
    VALUES (p_reservation, p_event, p_user, 'active', p_expires, p_client, p_now, p_now);
    INSERT INTO reservation_items
        (id, reservation_id, tier_id, quantity, unit_price, created_at, updated_at)
    VALUES (p_item, p_reservation, p_tier, p_quantity, p_unit_price, p_now, p_now);
    RETURN 'held';
END
$fn$";

const DROP: &str = "DROP FUNCTION IF EXISTS tuki_hold_one_tier(uuid, integer, uuid, uuid, uuid, \
     timestamptz, timestamptz, uuid, bigint, text, bigint)";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            m.get_connection().execute_unprepared(CREATE).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            m.get_connection().execute_unprepared(DROP).await?;
        }
        Ok(())
    }
}
