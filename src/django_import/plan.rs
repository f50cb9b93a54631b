//! From backtuki's rows to this schema's, table by table, with every rule of
//! `docs/contract/django_import.md`; then the write, in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::{TimeZone, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, Statement,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    money::{self, DjangoOrder},
    report::Report,
    source::{self, Snapshot, Time},
    ImportError,
};
use crate::{
    models::{_entities as e, sql::statement},
    platform::tokens,
};

/// The id a Django user (bigint) has here: a UUIDv8 of the SHA-256 of its
/// Django id, the same on every run.
#[must_use]
pub fn user_uuid(django_id: i64) -> Uuid {
    let digest = Sha256::digest(format!("backtuki:users_user:{django_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// `text` cut to `max` characters.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn too_long(text: &str, max: usize) -> bool {
    text.chars().count() > max
}

/// What this database already has: the ids an earlier run wrote and the
/// unique keys another row here holds.
#[derive(Debug, Default)]
pub struct Existing {
    ids: HashMap<&'static str, HashSet<Uuid>>,
    /// What earlier runs imported (`django_imports`), deleted since or not.
    imported: HashMap<String, HashSet<Uuid>>,
    /// The target database's `lower()` of e-mails that are not plain ASCII
    /// (its unique index on `lower(email)` is what must not collide).
    lowered: HashMap<String, String>,
    user_by_email: HashMap<String, Uuid>,
    usernames: HashMap<String, Uuid>,
    organizer_slugs: HashMap<String, Uuid>,
    category_slugs: HashMap<String, Uuid>,
    event_slugs: HashMap<String, Uuid>,
    order_numbers: HashMap<String, Uuid>,
    ticket_codes: HashMap<String, Uuid>,
    payment_tokens: HashMap<String, Uuid>,
    coupon_codes: HashMap<(Uuid, String), Uuid>,
    members: HashSet<(Uuid, Uuid)>,
    /// Orders here: event and status now.
    orders: HashMap<Uuid, (Uuid, String)>,
    /// Order lines here: order and tier.
    items: HashMap<Uuid, (Uuid, Uuid)>,
}

async fn keyed<C: ConnectionTrait>(
    db: &C,
    sql: &str,
) -> Result<Vec<(Uuid, String, Option<Uuid>)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.into_iter()
        .map(|row| {
            let id: Uuid = row.try_get("", "id")?;
            let key: String = row.try_get("", "k")?;
            let other: Option<Uuid> = row.try_get("", "o")?;
            Ok((id, key, other))
        })
        .collect()
}

impl Existing {
    /// Reads the target's ids and unique keys (in the import's transaction).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn load<C: ConnectionTrait>(db: &C, src: &Snapshot) -> Result<Self, DbErr> {
        let mut existing = Self::default();
        for user in &src.users {
            let email = user.email.trim();
            if !email.is_ascii() && !existing.lowered.contains_key(email) {
                let row = db
                    .query_one_raw(statement(
                        db.get_database_backend(),
                        "SELECT lower($1) AS k",
                        [email.into()],
                    ))
                    .await?;
                let lowered: String = match row {
                    Some(row) => row.try_get("", "k")?,
                    None => email.to_lowercase(),
                };
                existing.lowered.insert(email.to_string(), lowered);
            }
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT table_name, row_id FROM django_imports",
            ))
            .await?;
        for row in rows {
            let table: String = row.try_get("", "table_name")?;
            let id: Uuid = row.try_get("", "row_id")?;
            existing.imported.entry(table).or_default().insert(id);
        }
        let null = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            "CAST(NULL AS uuid)"
        } else {
            "NULL"
        };
        for table in super::report::ORDER {
            let rows = keyed(db, &format!("SELECT id, '' AS k, {null} AS o FROM {table}")).await?;
            existing
                .ids
                .insert(table, rows.into_iter().map(|(id, _, _)| id).collect());
        }
        let unique_keys: [(&str, &str, &mut HashMap<String, Uuid>); 8] = [
            ("users", "lower(email)", &mut existing.user_by_email),
            ("users", "username", &mut existing.usernames),
            ("organizers", "slug", &mut existing.organizer_slugs),
            ("event_categories", "slug", &mut existing.category_slugs),
            ("events", "slug", &mut existing.event_slugs),
            ("orders", "order_number", &mut existing.order_numbers),
            ("tickets", "code", &mut existing.ticket_codes),
            ("payments", "token", &mut existing.payment_tokens),
        ];
        for (table, key, map) in unique_keys {
            let sql = format!("SELECT id, {key} AS k, {null} AS o FROM {table}");
            for (id, k, _) in keyed(db, &sql).await? {
                map.insert(k, id);
            }
        }
        let sql = "SELECT id, code AS k, organizer_id AS o FROM coupons WHERE deleted_at IS NULL";
        for (id, k, o) in keyed(db, sql).await? {
            if let Some(org) = o {
                existing.coupon_codes.insert((org, k), id);
            }
        }
        for (id, status, event) in
            keyed(db, "SELECT id, status AS k, event_id AS o FROM orders").await?
        {
            if let Some(event) = event {
                existing.orders.insert(id, (event, status));
            }
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT id, order_id, tier_id FROM order_items",
            ))
            .await?;
        for row in rows {
            let id: Uuid = row.try_get("", "id")?;
            let order: Uuid = row.try_get("", "order_id")?;
            let tier: Uuid = row.try_get("", "tier_id")?;
            existing.items.insert(id, (order, tier));
        }
        let sql = "SELECT organizer_id AS id, '' AS k, user_id AS o FROM organizer_members";
        for (org, _, user) in keyed(db, sql).await? {
            if let Some(user) = user {
                existing.members.insert((org, user));
            }
        }
        Ok(existing)
    }

    /// Whether the row is here or an earlier run imported it (the app may
    /// have deleted it since: it stays deleted).
    fn has(&self, table: &'static str, id: Uuid) -> bool {
        self.ids.get(table).is_some_and(|ids| ids.contains(&id))
            || self
                .imported
                .get(table)
                .is_some_and(|ids| ids.contains(&id))
    }

    /// Imported by an earlier run and deleted here since: its children of
    /// this run have no parent to point at.
    fn gone(&self, table: &'static str, id: Uuid) -> bool {
        self.imported
            .get(table)
            .is_some_and(|ids| ids.contains(&id))
            && !self.ids.get(table).is_some_and(|ids| ids.contains(&id))
    }

    /// The key of an e-mail in the target's unique index `lower(email)`.
    fn email_key(&self, email: &str) -> String {
        let email = email.trim();
        self.lowered
            .get(email)
            .cloned()
            .unwrap_or_else(|| email.to_ascii_lowercase())
    }
}

/// Counts increments for rows an earlier run wrote (seats sold and coupon
/// uses of orders this run adds).
#[derive(Debug, Default)]
pub struct Planned {
    users: Vec<e::users::ActiveModel>,
    organizers: Vec<e::organizers::ActiveModel>,
    members: Vec<e::organizer_members::ActiveModel>,
    categories: Vec<e::event_categories::ActiveModel>,
    locations: Vec<e::locations::ActiveModel>,
    events: Vec<e::events::ActiveModel>,
    images: Vec<e::event_images::ActiveModel>,
    ticket_categories: Vec<e::ticket_categories::ActiveModel>,
    tiers: Vec<e::ticket_tiers::ActiveModel>,
    coupons: Vec<e::coupons::ActiveModel>,
    orders: Vec<e::orders::ActiveModel>,
    items: Vec<e::order_items::ActiveModel>,
    tickets: Vec<e::tickets::ActiveModel>,
    payments: Vec<e::payments::ActiveModel>,
    /// Seats sold by this run's orders in tiers an earlier run wrote.
    sold_in_present_tiers: HashMap<Uuid, i64>,
    /// Uses by this run's orders of coupons an earlier run wrote.
    uses_of_present_coupons: HashMap<Uuid, i64>,
}

/// Rows per INSERT: well under both databases' parameter limits.
const CHUNK: usize = 400;

async fn insert_all<A>(
    txn: &DatabaseTransaction,
    table: &'static str,
    rows: Vec<A>,
    report: &mut Report,
) -> Result<(), ImportError>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let backend = txn.get_database_backend();
    let now = chrono::Utc::now().fixed_offset();
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(CHUNK));
        let chunk = std::mem::replace(&mut rows, rest);
        let ids: Vec<Uuid> = chunk
            .iter()
            .filter_map(|row| match row.get_primary_key_value() {
                Some(sea_orm::sea_query::ValueTuple::One(sea_orm::Value::Uuid(Some(id)))) => {
                    Some(id)
                }
                _ => None,
            })
            .collect();
        let planned = chunk.len() as u64;
        // On a conflict of the primary key only (any other unique key is
        // checked before, and a violation ends the import whole).
        let written = A::Entity::insert_many(chunk)
            .on_conflict_do_nothing()
            .exec_without_returning(txn)
            .await
            .map_err(|source| ImportError::Write { table, source })?;
        let n = match written {
            sea_orm::TryInsertResult::Inserted(n) => n,
            _ => 0,
        };
        let count = report.table(table);
        count.written += n;
        // Written by someone else since this run looked: left as it is.
        count.present += planned.saturating_sub(n);
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(ids.len() * 3);
        let mut tuples = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            tuples.push(format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
            values.extend([table.into(), (*id).into(), now.into()]);
        }
        if !tuples.is_empty() {
            let sql = format!(
                "INSERT INTO django_imports (table_name, row_id, imported_at) VALUES {} \
                 ON CONFLICT (table_name, row_id) DO NOTHING",
                tuples.join(", ")
            );
            txn.execute_raw(statement(backend, &sql, values))
                .await
                .map_err(|source| ImportError::Write {
                    table: "django_imports",
                    source,
                })?;
        }
    }
    Ok(())
}

impl Planned {
    /// Writes every planned row, then the counts of rows already here.
    ///
    /// # Errors
    /// [`ImportError::Write`] naming the table.
    pub async fn write(
        self,
        txn: &DatabaseTransaction,
        report: &mut Report,
    ) -> Result<(), ImportError> {
        insert_all(txn, "users", self.users, report).await?;
        insert_all(txn, "organizers", self.organizers, report).await?;
        insert_all(txn, "organizer_members", self.members, report).await?;
        insert_all(txn, "event_categories", self.categories, report).await?;
        insert_all(txn, "locations", self.locations, report).await?;
        insert_all(txn, "events", self.events, report).await?;
        insert_all(txn, "event_images", self.images, report).await?;
        insert_all(txn, "ticket_categories", self.ticket_categories, report).await?;
        insert_all(txn, "ticket_tiers", self.tiers, report).await?;
        insert_all(txn, "coupons", self.coupons, report).await?;
        insert_all(txn, "orders", self.orders, report).await?;
        insert_all(txn, "order_items", self.items, report).await?;
        insert_all(txn, "tickets", self.tickets, report).await?;
        insert_all(txn, "payments", self.payments, report).await?;
        let backend = txn.get_database_backend();
        for (tier, n) in self.sold_in_present_tiers {
            // A tier sold past its capacity is sold out (as on first import).
            txn.execute_raw(statement(
                backend,
                "UPDATE ticket_tiers SET sold = sold + $1, \
                 capacity = CASE WHEN capacity IS NOT NULL AND capacity < sold + reserved + $1 \
                   THEN sold + reserved + $1 ELSE capacity END \
                 WHERE id = $2",
                [n.into(), tier.into()],
            ))
            .await
            .map_err(|source| ImportError::Write {
                table: "ticket_tiers",
                source,
            })?;
        }
        for (coupon, n) in self.uses_of_present_coupons {
            txn.execute_raw(statement(
                backend,
                "UPDATE coupons SET used_count = used_count + $1, \
                 usage_limit = CASE WHEN usage_limit IS NOT NULL AND usage_limit < used_count + $1 \
                   THEN used_count + $1 ELSE usage_limit END \
                 WHERE id = $2",
                [n.into(), coupon.into()],
            ))
            .await
            .map_err(|source| ImportError::Write {
                table: "coupons",
                source,
            })?;
        }
        Ok(())
    }
}

/// Placeholder dates of an event whose dates backtuki left empty (as a draft
/// here has until its organizer sets them).
fn placeholder_date() -> Time {
    Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
        .fixed_offset()
}

/// The plan of the whole import. Every source row ends in the plan, in the
/// "already here" count, or in a report line.
#[allow(clippy::too_many_lines)]
pub fn plan(src: &Snapshot, existing: &Existing, report: &mut Report) -> Planned {
    let mut out = Planned::default();
    let users = plan_users(src, existing, report, &mut out);
    let organizers = plan_organizers(src, existing, report, &mut out);
    let members_ok = plan_members(src, existing, report, &mut out, &users, &organizers);
    let _ = members_ok;
    let categories = plan_categories(src, existing, report, &mut out);
    let locations = plan_locations(src, existing, report, &mut out);
    let events = plan_events(
        src,
        existing,
        report,
        &mut out,
        &organizers,
        &categories,
        &locations,
    );
    plan_images(src, existing, report, &mut out, &events);
    let ticket_categories = plan_ticket_categories(src, existing, report, &mut out, &events);
    let tiers = check_tiers(src, existing, report, &events);
    let coupons = check_coupons(src, existing, report, &organizers, &events);
    let orders = plan_orders(
        src, existing, report, &mut out, &users, &events, &tiers, &coupons,
    );
    write_tiers(
        src,
        existing,
        report,
        &mut out,
        &tiers,
        &ticket_categories,
        &orders,
    );
    write_coupons(src, existing, report, &mut out, &coupons, &orders);
    plan_tickets(src, existing, report, &mut out, &users, &orders);
    plan_payments(src, existing, report, &mut out, &orders);
    out
}

/// Django user id → the user id here (the user's own, or the account its
/// orders and memberships go to).
type UserMap = HashMap<i64, Uuid>;

fn password_verifiable(hash: &str) -> bool {
    hash.starts_with("pbkdf2_sha256$")
        || hash.starts_with("argon2$argon2id$")
        || hash.starts_with('!')
}

/// The scheme of a password hash Django would name (`pbkdf2_sha1`,
/// `bcrypt_sha256`…), never any part of the hash or password itself.
fn hash_scheme(hash: &str) -> &str {
    match hash.split_once('$') {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme.len() <= 30
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            scheme
        }
        _ if hash.is_empty() => "empty",
        _ => "unrecognised",
    }
}

/// The Django user's flags, OR-ed over the accounts merged into one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Flags {
    staff: bool,
    superuser: bool,
    organizer: bool,
    validator: bool,
}

impl Flags {
    const fn of(u: &source::User) -> Self {
        Self {
            staff: u.is_staff,
            superuser: u.is_superuser,
            organizer: u.is_organizer,
            validator: u.is_validator,
        }
    }

    const fn or(self, other: Self) -> Self {
        Self {
            staff: self.staff || other.staff,
            superuser: self.superuser || other.superuser,
            organizer: self.organizer || other.organizer,
            validator: self.validator || other.validator,
        }
    }
}

#[allow(clippy::too_many_lines)]
fn plan_users(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
) -> UserMap {
    const T: &str = "users";
    report.read(T, src.users.len());
    // E-mails equal in this database's lower() are one account here: the
    // one last signed in (else the oldest) is kept, with the flags of all.
    let mut kept: HashMap<String, &source::User> = HashMap::new();
    let mut flags: HashMap<String, Flags> = HashMap::new();
    for user in &src.users {
        let key = existing.email_key(&user.email);
        let better = |current: &source::User| {
            (user.last_login, std::cmp::Reverse(user.id))
                > (current.last_login, std::cmp::Reverse(current.id))
        };
        let merged = flags
            .get(&key)
            .copied()
            .unwrap_or_default()
            .or(Flags::of(user));
        flags.insert(key.clone(), merged);
        match kept.get(&key) {
            Some(current) if !better(current) => {}
            _ => {
                kept.insert(key, user);
            }
        }
    }
    // Every username the import or this database holds, so a renamed one
    // is free of both.
    let mut usernames: HashMap<String, Uuid> = existing.usernames.clone();
    for user in &src.users {
        usernames
            .entry(user.username.clone())
            .or_insert_with(|| user_uuid(user.id));
    }
    let mut map = UserMap::new();
    for user in &src.users {
        let email = user.email.trim().to_string();
        let key = existing.email_key(&email);
        let keeper = kept[&key];
        let own = user_uuid(user.id);
        let keeper_here = match existing.user_by_email.get(&key) {
            Some(id) => *id,
            None => user_uuid(keeper.id),
        };
        if existing.gone("users", keeper_here) {
            // Imported before and deleted here since: its new orders keep
            // no account.
            report.skip(
                T,
                user.id,
                "deleted_here",
                "an earlier import's account, deleted since",
            );
            continue;
        }
        map.insert(user.id, keeper_here);
        if keeper.id != user.id {
            report.skip(
                T,
                user.id,
                "email_case_duplicate",
                format!(
                    "the same e-mail (case aside) as Django user {} (kept); its orders and memberships go to that account",
                    keeper.id
                ),
            );
            continue;
        }
        if keeper_here != own {
            report.skip(
                T,
                user.id,
                "account_exists_here",
                "an account with this e-mail is already here; its orders and memberships go to it",
            );
            continue;
        }
        if existing.has(T, own) {
            report.table(T).present += 1;
            continue;
        }
        let mut username = user.username.clone();
        if usernames.get(&username).is_some_and(|id| *id != own) {
            let renamed = (0..)
                .map(|n| {
                    let suffix = if n == 0 {
                        format!("-dj{}", user.id)
                    } else {
                        format!("-dj{}-{n}", user.id)
                    };
                    let base = cut(&user.username, 150 - suffix.chars().count());
                    format!("{base}{suffix}")
                })
                .find(|name| !usernames.contains_key(name))
                .unwrap_or_default();
            report.fix(
                T,
                user.id,
                "username_taken",
                format!("its username is another account's here; imported as {renamed:?}"),
            );
            usernames.insert(renamed.clone(), own);
            username = renamed;
        }
        if !password_verifiable(&user.password) {
            report.note(
                T,
                user.id,
                "password_unverifiable",
                format!(
                    "a {:?} hash: this user must reset the password",
                    hash_scheme(&user.password)
                ),
            );
        }
        let all = flags.get(&key).copied().unwrap_or_default();
        if all != Flags::of(user) {
            report.note(
                T,
                user.id,
                "flags_merged",
                format!(
                    "staff {}, superuser {}, organizer {}, validator {}: also those of the accounts merged into it",
                    all.staff, all.superuser, all.organizer, all.validator
                ),
            );
        }
        if all.superuser {
            report.note(T, user.id, "superuser", "a superuser here too (admin)");
        }
        if email.is_empty() || !email.contains('@') {
            report.note(
                T,
                user.id,
                "email_invalid",
                "not an e-mail address: cannot sign in by e-mail",
            );
        }
        out.users.push(e::users::ActiveModel {
            id: Set(own),
            created_at: Set(user.created_at),
            updated_at: Set(user.updated_at),
            email: Set(cut(&email, 254)),
            username: Set(username),
            first_name: Set(cut(&user.first_name, 150)),
            last_name: Set(cut(&user.last_name, 150)),
            password: Set(user.password.clone()),
            is_active: Set(user.is_active),
            is_staff: Set(all.staff),
            is_superuser: Set(all.superuser),
            is_organizer: Set(all.organizer),
            is_validator: Set(all.validator),
            last_login: Set(user.last_login),
            date_joined: Set(user.date_joined),
            auth_version: Set(0),
            phone_number: Set(user.phone_number.as_deref().map(|p| cut(p, 30))),
            is_guest: Set(user.is_guest),
            profile_completed_at: Set(user.profile_completed_at),
            last_password_change: Set(user.last_password_change),
        });
    }
    map
}

fn plan_organizers(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
) -> HashSet<Uuid> {
    const T: &str = "organizers";
    report.read(T, src.organizers.len());
    let publishing: HashSet<Uuid> = src
        .events
        .iter()
        .filter(|e| e.status == "published" && e.deleted_at.is_none())
        .map(|e| e.organizer_id)
        .collect();
    let mut ok = HashSet::new();
    for org in &src.organizers {
        if existing.gone(T, org.id) {
            report.deleted_here(T, org.id);
            continue;
        }
        if existing.has(T, org.id) {
            report.table(T).present += 1;
            ok.insert(org.id);
            continue;
        }
        if existing
            .organizer_slugs
            .get(&org.slug)
            .is_some_and(|id| *id != org.id)
        {
            report.skip(
                T,
                org.id,
                "slug_taken",
                format!("{:?} is another organizer's here", org.slug),
            );
            continue;
        }
        let status = match org.status.as_str() {
            "active" => "active",
            "suspended" => "suspended",
            "pending_validation" => "pending",
            other => {
                let active = org.onboarding_completed || publishing.contains(&org.id);
                let status = if active { "active" } else { "pending" };
                report.note(
                    T,
                    org.id,
                    "status_mapped",
                    format!("{other:?} becomes {status:?} (only active organizers publish here)"),
                );
                status
            }
        };
        let mut name = org.name.clone();
        if too_long(&name, 200) {
            name = cut(&name, 200);
            report.fix(T, org.id, "name_too_long", org.name.clone());
        }
        ok.insert(org.id);
        out.organizers.push(e::organizers::ActiveModel {
            id: Set(org.id),
            created_at: Set(org.created_at),
            updated_at: Set(org.updated_at),
            name: Set(name),
            slug: Set(org.slug.clone()),
            contact_email: Set(cut(&org.contact_email, 254)),
            contact_phone: Set(cut(&org.contact_phone, 40)),
            status: Set(status.to_string()),
            description: Set(org.description.clone()),
            logo: Set(org.logo.clone().unwrap_or_default()),
            website: Set(org.website.clone()),
            address: Set(org.address.clone()),
            city: Set(org.city.clone()),
            country: Set(org.country.clone()),
            organization_size: Set(org.organization_size.clone()),
            representative_name: Set(org.representative_name.clone()),
            representative_email: Set(org.representative_email.clone()),
            representative_phone: Set(org.representative_phone.clone()),
            onboarding_completed: Set(org.onboarding_completed),
            is_temporary: Set(org.is_temporary),
            email_validated: Set(org.email_validated),
        });
    }
    ok
}

fn plan_members(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    users: &UserMap,
    organizers: &HashSet<Uuid>,
) -> usize {
    const T: &str = "organizer_members";
    report.read(T, src.members.len());
    let flags = |m: &source::Member| {
        [
            m.is_admin,
            m.can_manage_events,
            m.can_view_reports,
            m.can_manage_settings,
        ]
        .iter()
        .filter(|f| **f)
        .count()
    };
    // After an e-mail merge two memberships may name one account: the one
    // with more permissions is kept.
    let mut best: HashMap<(Uuid, Uuid), &source::Member> = HashMap::new();
    for m in &src.members {
        if let Some(user) = users.get(&m.user_id) {
            let key = (m.organizer_id, *user);
            if best.get(&key).is_none_or(|b| flags(m) > flags(b)) {
                best.insert(key, m);
            }
        }
    }
    for m in &src.members {
        let Some(user) = users.get(&m.user_id).copied() else {
            report.parent_skipped(T, m.id, "user", m.user_id);
            continue;
        };
        if !organizers.contains(&m.organizer_id) {
            report.parent_skipped(T, m.id, "organizer", m.organizer_id);
            continue;
        }
        if existing.has(T, m.id) {
            report.table(T).present += 1;
            continue;
        }
        let key = (m.organizer_id, user);
        if best.get(&key).is_some_and(|b| b.id != m.id) || existing.members.contains(&key) {
            report.skip(
                T,
                m.id,
                "member_duplicate",
                "the account is already a member of this organizer (after an e-mail merge)",
            );
            continue;
        }
        out.members.push(e::organizer_members::ActiveModel {
            id: Set(m.id),
            created_at: Set(m.created_at),
            updated_at: Set(m.updated_at),
            organizer_id: Set(m.organizer_id),
            user_id: Set(user),
            is_admin: Set(m.is_admin),
            can_manage_events: Set(m.can_manage_events),
            can_view_reports: Set(m.can_view_reports),
            can_manage_settings: Set(m.can_manage_settings),
            invitation_pending: Set(false),
            can_validate_tickets: Set(false),
        });
    }
    out.members.len()
}

/// Django category id → the category here.
fn plan_categories(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
) -> HashMap<Uuid, Uuid> {
    const T: &str = "event_categories";
    report.read(T, src.categories.len());
    let mut map = HashMap::new();
    for c in &src.categories {
        if existing.gone(T, c.id) {
            report.deleted_here(T, c.id);
            continue;
        }
        if existing.has(T, c.id) {
            report.table(T).present += 1;
            map.insert(c.id, c.id);
            continue;
        }
        if let Some(here) = existing
            .category_slugs
            .get(&c.slug)
            .filter(|id| **id != c.id)
        {
            report.skip(
                T,
                c.id,
                "slug_exists_here",
                format!(
                    "{:?} is a category here already; its events go to it",
                    c.slug
                ),
            );
            map.insert(c.id, *here);
            continue;
        }
        map.insert(c.id, c.id);
        out.categories.push(e::event_categories::ActiveModel {
            id: Set(c.id),
            created_at: Set(c.created_at),
            updated_at: Set(c.updated_at),
            name: Set(cut(&c.name, 100)),
            slug: Set(c.slug.clone()),
            description: Set(c.description.clone()),
        });
    }
    map
}

fn plan_locations(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
) -> HashSet<Uuid> {
    const T: &str = "locations";
    report.read(T, src.locations.len());
    let mut ok = HashSet::new();
    for l in &src.locations {
        if existing.gone(T, l.id) {
            report.deleted_here(T, l.id);
            continue;
        }
        ok.insert(l.id);
        if existing.has(T, l.id) {
            report.table(T).present += 1;
            continue;
        }
        if too_long(&l.name, 200) {
            report.fix(
                T,
                l.id,
                "name_too_long",
                format!("{} characters cut to 200", l.name.chars().count()),
            );
        }
        if too_long(&l.address, 255) {
            report.fix(T, l.id, "address_too_long", l.address.clone());
        }
        out.locations.push(e::locations::ActiveModel {
            id: Set(l.id),
            created_at: Set(l.created_at),
            updated_at: Set(l.updated_at),
            name: Set(cut(&l.name, 200)),
            address: Set(cut(&l.address, 255)),
            city: Set(String::new()),
            country: Set(String::new()),
            latitude: Set(None),
            longitude: Set(None),
        });
    }
    ok
}

/// An event's fee in basis points: the rate its paid tiers charged in
/// backtuki (tier → event → organizer → 15 %), the most frequent if they differ.
fn event_bps(
    event: &source::Event,
    src: &Snapshot,
    org_rate: Option<&str>,
    report: &mut Report,
) -> i32 {
    let fallback = event
        .service_fee_rate
        .as_deref()
        .or(org_rate)
        .and_then(money::basis_points)
        .unwrap_or(1500);
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for tier in src.tiers.iter().filter(|t| t.event_id == event.id) {
        if money::pesos(&tier.price).is_some_and(|p| p.value > 0) {
            let bps = tier
                .service_fee_rate
                .as_deref()
                .and_then(money::basis_points)
                .unwrap_or(fallback);
            *counts.entry(bps).or_default() += 1;
        }
    }
    let bps = if counts.is_empty() {
        fallback
    } else {
        let (bps, _) = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(b, n)| (*b, *n))
            .unwrap_or((fallback, 0));
        if counts.len() > 1 {
            let mut rates: Vec<_> = counts.keys().copied().collect();
            rates.sort_unstable();
            report.note(
                "events",
                event.id,
                "mixed_fee_rates",
                format!("the tiers charged {rates:?} basis points; the event charges {bps}"),
            );
        }
        bps
    };
    if (0..=10_000).contains(&bps) {
        i32::try_from(bps).unwrap_or(1500)
    } else {
        report.fix(
            "events",
            event.id,
            "fee_out_of_range",
            format!("{bps} basis points"),
        );
        if bps < 0 {
            0
        } else {
            10_000
        }
    }
}

#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn plan_events(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    organizers: &HashSet<Uuid>,
    categories: &HashMap<Uuid, Uuid>,
    locations: &HashSet<Uuid>,
) -> HashMap<Uuid, Uuid> {
    const T: &str = "events";
    report.read(T, src.events.len());
    let org_rates: HashMap<Uuid, Option<&str>> = src
        .organizers
        .iter()
        .map(|o| (o.id, o.default_service_fee_rate.as_deref()))
        .collect();
    // Event id → its organizer, for the events imported or already here.
    let mut ok = HashMap::new();
    for ev in &src.events {
        if !organizers.contains(&ev.organizer_id) {
            report.parent_skipped(T, ev.id, "organizer", ev.organizer_id);
            continue;
        }
        if existing.gone(T, ev.id) {
            report.deleted_here(T, ev.id);
            continue;
        }
        if existing.has(T, ev.id) {
            report.table(T).present += 1;
            ok.insert(ev.id, ev.organizer_id);
            continue;
        }
        if existing
            .event_slugs
            .get(&ev.slug)
            .is_some_and(|id| *id != ev.id)
        {
            report.skip(
                T,
                ev.id,
                "slug_taken",
                format!("{:?} is another event's here", ev.slug),
            );
            continue;
        }
        let status = match ev.status.as_str() {
            s @ ("draft" | "published" | "cancelled" | "completed") => s,
            other => {
                report.note(
                    T,
                    ev.id,
                    "status_mapped",
                    format!("{other:?} becomes \"draft\""),
                );
                "draft"
            }
        };
        let visibility = match ev.visibility.as_str() {
            "public" => "public",
            other => {
                if other != "private" {
                    report.note(
                        T,
                        ev.id,
                        "visibility_mapped",
                        format!("{other:?} becomes \"private\" (no event passwords here)"),
                    );
                }
                "private"
            }
        };
        let (start, end, dates_pending) = match (ev.start_date, ev.end_date) {
            (Some(start), Some(end)) if end >= start => (start, end, false),
            (Some(start), Some(end)) => {
                report.fix(
                    T,
                    ev.id,
                    "ends_before_start",
                    format!("start {start}, end {end}"),
                );
                (start, start, false)
            }
            _ => {
                if status != "draft" {
                    report.note(
                        T,
                        ev.id,
                        "dates_missing",
                        format!("a {status} event without dates: dated 2100-01-01, dates pending"),
                    );
                }
                (placeholder_date(), placeholder_date(), true)
            }
        };
        let mut title = ev.title.clone();
        if too_long(&title, 200) {
            title = cut(&title, 200);
            report.fix(T, ev.id, "title_too_long", ev.title.clone());
        }
        let bps = event_bps(
            ev,
            src,
            org_rates.get(&ev.organizer_id).copied().flatten(),
            report,
        );
        let location_id = ev.location_id.filter(|l| locations.contains(l));
        ok.insert(ev.id, ev.organizer_id);
        out.events.push(e::events::ActiveModel {
            id: Set(ev.id),
            created_at: Set(ev.created_at),
            updated_at: Set(ev.updated_at),
            title: Set(title),
            slug: Set(ev.slug.clone()),
            short_description: Set(cut(&ev.short_description, 255)),
            description: Set(ev.description.clone()),
            r#type: Set(cut(&ev.r#type, 20)),
            status: Set(status.to_string()),
            visibility: Set(visibility.to_string()),
            featured: Set(ev.featured),
            start_date: Set(start),
            end_date: Set(end),
            ticket_sales_start: Set(ev.ticket_sales_start),
            ticket_sales_end: Set(ev.ticket_sales_end),
            max_tickets_per_purchase: Set(Some(ev.max_tickets_per_purchase)),
            service_fee_bps: Set(bps),
            organizer_id: Set(ev.organizer_id),
            category_id: Set(ev.category_id.and_then(|c| categories.get(&c).copied())),
            location_id: Set(location_id),
            deleted_at: Set(ev.deleted_at),
            tags: Set(ev.tags.clone()),
            age_restriction: Set(ev.age_restriction.clone()),
            dresscode: Set(ev.dresscode.clone()),
            accessibility: Set(ev.accessibility.clone()),
            parking: Set(ev.parking.clone()),
            views_count: Set(ev.views_count),
            dates_pending: Set(dates_pending),
        });
    }
    ok
}

/// An image's storage key from what backtuki stored (a key, or sometimes
/// the URL a client sent): a known media URL is reduced to its key.
fn image_key(stored: &str) -> Result<String, String> {
    let stored = stored.trim();
    if !stored.starts_with("http://") && !stored.starts_with("https://") {
        return Ok(stored.trim_start_matches("/media/").to_string());
    }
    let url = url::Url::parse(stored).map_err(|_| stored.to_string())?;
    let path = url.path().trim_start_matches('/');
    if url.host_str() == Some("storage.googleapis.com") {
        // /<bucket>/<key>
        if let Some((_, key)) = path.split_once('/') {
            if !key.is_empty() {
                return Ok(percent_encoding::percent_decode_str(key)
                    .decode_utf8_lossy()
                    .into_owned());
            }
        }
    }
    if let Some(key) = path.strip_prefix("media/").filter(|k| !k.is_empty()) {
        return Ok(key.to_string());
    }
    Err(stored.to_string())
}

fn plan_images(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    events: &HashMap<Uuid, Uuid>,
) {
    const T: &str = "event_images";
    report.read(T, src.images.len());
    for img in &src.images {
        if !events.contains_key(&img.event_id) {
            report.parent_skipped(T, img.id, "event", img.event_id);
            continue;
        }
        if existing.has(T, img.id) {
            report.table(T).present += 1;
            continue;
        }
        let path = match image_key(&img.image) {
            Ok(key) => key,
            Err(url) => {
                let shown = url.split(['?', '#']).next().unwrap_or_default();
                report.note(
                    T,
                    img.id,
                    "image_not_a_key",
                    format!("{shown}: copied as is"),
                );
                url
            }
        };
        out.images.push(e::event_images::ActiveModel {
            id: Set(img.id),
            created_at: Set(img.created_at),
            updated_at: Set(img.updated_at),
            event_id: Set(img.event_id),
            path: Set(cut(&path, 500)),
            alt: Set(cut(&img.alt, 255)),
            position: Set(img.position),
            kind: Set(img.kind.clone()),
        });
    }
}

/// `(min, max)` per purchase or order as this schema's checks want them:
/// at least one, the maximum not under the minimum.
fn per_order_limits(
    table: &'static str,
    id: Uuid,
    min: i32,
    max: i32,
    report: &mut Report,
) -> (i32, i32) {
    let mut fixed_min = min;
    if min < 1 {
        report.fix(table, id, "min_below_one", format!("min {min} becomes 1"));
        fixed_min = 1;
    }
    let mut fixed_max = max;
    if max < fixed_min {
        report.fix(
            table,
            id,
            "max_below_min",
            format!("max {max} becomes {fixed_min}"),
        );
        fixed_max = fixed_min;
    }
    (fixed_min, fixed_max)
}

fn plan_ticket_categories(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    events: &HashMap<Uuid, Uuid>,
) -> HashSet<Uuid> {
    const T: &str = "ticket_categories";
    report.read(T, src.ticket_categories.len());
    let mut ok = HashSet::new();
    for c in &src.ticket_categories {
        if !events.contains_key(&c.event_id) {
            report.parent_skipped(T, c.id, "event", c.event_id);
            continue;
        }
        if existing.gone(T, c.id) {
            report.deleted_here(T, c.id);
            continue;
        }
        ok.insert(c.id);
        if existing.has(T, c.id) {
            report.table(T).present += 1;
            continue;
        }
        let (min, max) = per_order_limits(T, c.id, c.min_per_purchase, c.max_per_purchase, report);
        let status = if ["active", "hidden", "sold_out"].contains(&c.status.as_str()) {
            c.status.clone()
        } else {
            report.fix(
                T,
                c.id,
                "status_unknown",
                format!("{:?} becomes \"hidden\"", c.status),
            );
            "hidden".to_string()
        };
        let visibility = if ["public", "private", "password"].contains(&c.visibility.as_str()) {
            c.visibility.clone()
        } else {
            report.fix(
                T,
                c.id,
                "visibility_unknown",
                format!("{:?} becomes \"private\"", c.visibility),
            );
            "private".to_string()
        };
        out.ticket_categories
            .push(e::ticket_categories::ActiveModel {
                id: Set(c.id),
                event_id: Set(c.event_id),
                name: Set(cut(&c.name, 100)),
                description: Set(c.description.clone()),
                capacity: Set(c.capacity),
                status: Set(status),
                visibility: Set(visibility),
                color: Set(cut(&c.color, 20)),
                display_order: Set(c.position),
                max_per_purchase: Set(max),
                min_per_purchase: Set(min),
                sale_start_date: Set(c.sale_start_date.clone()),
                sale_end_date: Set(c.sale_end_date.clone()),
                sale_start_time: Set(c.sale_start_time.clone()),
                sale_end_time: Set(c.sale_end_time.clone()),
                access_start_date: Set(c.access_start_date.clone()),
                access_end_date: Set(c.access_end_date.clone()),
                access_start_time: Set(c.access_start_time.clone()),
                access_end_time: Set(c.access_end_time.clone()),
                requires_approval: Set(c.requires_approval),
                created_at: Set(c.created_at),
                updated_at: Set(c.updated_at),
            });
    }
    ok
}

/// A tier that passed its checks: its price here, and its event.
#[derive(Debug, Clone, Copy)]
struct TierOk {
    price: i64,
    event_id: Uuid,
}

fn check_tiers(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    events: &HashMap<Uuid, Uuid>,
) -> HashMap<Uuid, TierOk> {
    const T: &str = "ticket_tiers";
    report.read(T, src.tiers.len());
    let mut ok = HashMap::new();
    for t in &src.tiers {
        if !events.contains_key(&t.event_id) {
            report.parent_skipped(T, t.id, "event", t.event_id);
            continue;
        }
        if existing.gone(T, t.id) {
            report.deleted_here(T, t.id);
            continue;
        }
        if existing.has(T, t.id) {
            // Checked when it was imported; counted as already here later.
            let price = money::pesos(&t.price).map_or(0, |p| p.value);
            ok.insert(
                t.id,
                TierOk {
                    price,
                    event_id: t.event_id,
                },
            );
            continue;
        }
        if t.currency != "CLP" {
            report.skip(T, t.id, "not_clp", format!("priced in {:?}", t.currency));
            continue;
        }
        let Some(price) = money::pesos(&t.price) else {
            report.skip(T, t.id, "price_unreadable", t.price.clone());
            continue;
        };
        if price.value < 0 {
            report.skip(T, t.id, "negative_price", t.price.clone());
            continue;
        }
        if !price.exact {
            report.fix(
                T,
                t.id,
                "price_rounded",
                format!("{} becomes {}", t.price, price.value),
            );
        }
        ok.insert(
            t.id,
            TierOk {
                price: price.value,
                event_id: t.event_id,
            },
        );
    }
    ok
}

/// Seats sold per tier and uses per coupon by the orders this run writes.
#[derive(Debug, Default)]
struct OrdersPlanned {
    /// Order id → (event, status here): orders imported or already here.
    orders: HashMap<Uuid, (Uuid, &'static str)>,
    /// Order item id → (order, tier).
    items: HashMap<Uuid, (Uuid, Uuid)>,
    sold: HashMap<Uuid, i64>,
    coupon_uses: HashMap<Uuid, i64>,
    /// Order id → its total, for the orders this run writes.
    totals: HashMap<Uuid, i64>,
}

/// An order status read back from this database, as the import's own.
fn known_status(status: &str) -> &'static str {
    match status {
        "pending" => "pending",
        "paid" => "paid",
        "expired" => "expired",
        "failed" => "failed",
        "refunded" => "refunded",
        "partially_refunded" => "partially_refunded",
        _ => "cancelled",
    }
}

#[allow(clippy::too_many_arguments)]
fn write_tiers(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    tiers: &HashMap<Uuid, TierOk>,
    ticket_categories: &HashSet<Uuid>,
    orders: &OrdersPlanned,
) {
    const T: &str = "ticket_tiers";
    for t in &src.tiers {
        let Some(checked) = tiers.get(&t.id) else {
            continue;
        };
        let sold = orders.sold.get(&t.id).copied().unwrap_or(0);
        if existing.has(T, t.id) {
            report.table(T).present += 1;
            if sold > 0 {
                report.note(
                    T,
                    t.id,
                    "sold_added",
                    format!("imported earlier: {sold} seats of this run's paid orders added to its sold count (its capacity raised to fit if needed)"),
                );
                out.sold_in_present_tiers.insert(t.id, sold);
            }
            continue;
        }
        let sold = i32::try_from(sold).unwrap_or(i32::MAX);
        let (min, max) = per_order_limits(T, t.id, t.min_per_order, t.max_per_order, report);
        let mut capacity = t.capacity;
        let mut is_public = t.is_public;
        if t.is_complimentary {
            report.note(
                T,
                t.id,
                "complimentary_tier",
                "imported hidden and unlimited",
            );
            capacity = None;
            is_public = false;
        } else if !t.is_active && t.is_public {
            report.note(
                T,
                t.id,
                "inactive_tier",
                "inactive in backtuki: imported hidden",
            );
            is_public = false;
        }
        if let Some(cap) = capacity {
            if sold > cap {
                report.fix(
                    T,
                    t.id,
                    "sold_over_capacity",
                    format!("capacity {cap}, {sold} sold: capacity becomes {sold} (sold out)"),
                );
                capacity = Some(sold);
            }
            if let Some(available) = t.available {
                if i64::from(cap) - i64::from(available) != i64::from(sold)
                    && available != 9_999_999
                {
                    report.note(
                        T,
                        t.id,
                        "available_disagrees",
                        format!("backtuki had {available} of {cap} left; {sold} seats were sold by paid orders"),
                    );
                }
            }
        }
        if t.max_quantity.is_some() && t.capacity.is_none() {
            report.note(
                T,
                t.id,
                "max_quantity_ignored",
                format!("max_quantity {:?}", t.max_quantity),
            );
        }
        let category_id = t.category_id.filter(|c| ticket_categories.contains(c));
        if t.category_id.is_some() && category_id.is_none() {
            report.note(
                T,
                t.id,
                "category_missing",
                "its ticket category was not imported",
            );
        }
        out.tiers.push(e::ticket_tiers::ActiveModel {
            id: Set(t.id),
            created_at: Set(t.created_at),
            updated_at: Set(t.updated_at),
            event_id: Set(checked.event_id),
            name: Set(cut(&t.name, 100)),
            description: Set(t.description.clone()),
            price: Set(checked.price),
            capacity: Set(capacity),
            sold: Set(sold),
            min_per_order: Set(min),
            max_per_order: Set(Some(max)),
            sale_start: Set(t.available_from),
            sale_end: Set(None),
            is_public: Set(is_public),
            display_order: Set(t.position),
            reserved: Set(0),
            tier_type: Set(cut(&t.tier_type, 50)),
            benefits: Set(t.benefits.clone()),
            is_highlighted: Set(t.is_highlighted),
            category_id: Set(category_id),
        });
    }
}

/// A coupon that passed its checks, with its code here.
#[derive(Debug, Clone)]
struct CouponOk {
    code: String,
    model: Option<e::coupons::ActiveModel>,
    usage_limit: Option<i32>,
}

#[allow(clippy::too_many_lines)]
fn check_coupons(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    organizers: &HashSet<Uuid>,
    events: &HashMap<Uuid, Uuid>,
) -> HashMap<Uuid, CouponOk> {
    const T: &str = "coupons";
    report.read(T, src.coupons.len());
    let mut ok = HashMap::new();
    let mut codes: HashSet<(Uuid, String)> = HashSet::new();
    let upper_codes: HashSet<(Uuid, String)> = src
        .coupons
        .iter()
        .map(|c| (c.organizer_id, cut(c.code.trim(), 50)))
        .filter(|(_, code)| *code == code.to_uppercase())
        .collect();
    for c in &src.coupons {
        if !organizers.contains(&c.organizer_id) {
            report.parent_skipped(T, c.id, "organizer", c.organizer_id);
            continue;
        }
        if existing.gone(T, c.id) {
            report.deleted_here(T, c.id);
            continue;
        }
        // An earlier run's coupon: its code is worked out again, quietly.
        let present = existing.has(T, c.id);
        let mut scratch = Report::default();
        let rep: &mut Report = if present { &mut scratch } else { &mut *report };
        let trimmed = cut(c.code.trim(), 50);
        let upper = cut(&trimmed.to_uppercase(), 50);
        let mut code = trimmed.clone();
        if upper != trimmed {
            // A code already upper case is the one buyers could type: it
            // keeps its code, whichever coupon came first.
            let clash = upper_codes.contains(&(c.organizer_id, upper.clone()))
                || codes.contains(&(c.organizer_id, upper.clone()))
                || existing
                    .coupon_codes
                    .get(&(c.organizer_id, upper.clone()))
                    .is_some_and(|id| *id != c.id);
            if clash {
                rep.note(
                    T,
                    c.id,
                    "code_case_kept",
                    format!("{trimmed:?}: its upper case is another coupon's"),
                );
            } else {
                rep.fix(
                    T,
                    c.id,
                    "code_upper_case",
                    format!("{trimmed:?} becomes {upper:?} (codes are typed upper case)"),
                );
                code = upper;
            }
        }
        if present {
            report.table(T).present += 1;
            codes.insert((c.organizer_id, code.clone()));
            ok.insert(
                c.id,
                CouponOk {
                    code,
                    model: None,
                    usage_limit: c.usage_limit,
                },
            );
            continue;
        }
        if codes.contains(&(c.organizer_id, code.clone()))
            || existing
                .coupon_codes
                .contains_key(&(c.organizer_id, code.clone()))
        {
            report.skip(
                T,
                c.id,
                "code_taken",
                format!("{code:?} is another coupon's of this organizer"),
            );
            continue;
        }
        codes.insert((c.organizer_id, code.clone()));
        let discount_type = match c.discount_type.as_str() {
            t @ ("percentage" | "fixed") => t,
            other => {
                report.fix(
                    T,
                    c.id,
                    "type_unknown",
                    format!("{other:?} becomes \"fixed\""),
                );
                "fixed"
            }
        };
        let value = money::pesos(&c.discount_value);
        let mut discount_value = value.map_or(0, |v| v.value);
        if value.is_some_and(|v| !v.exact) {
            report.fix(
                T,
                c.id,
                "value_rounded",
                format!("{} becomes {discount_value}", c.discount_value),
            );
        }
        let mut is_active = c.is_active;
        let mut status = match c.status.as_str() {
            s @ ("active" | "expired" | "used" | "inactive") => s.to_string(),
            other => {
                report.fix(
                    T,
                    c.id,
                    "status_unknown",
                    format!("{other:?} becomes \"inactive\""),
                );
                is_active = false;
                "inactive".to_string()
            }
        };
        let out_of_range =
            discount_value <= 0 || (discount_type == "percentage" && discount_value > 100);
        if out_of_range {
            let clamped = discount_value.clamp(
                1,
                if discount_type == "percentage" {
                    100
                } else {
                    i64::MAX
                },
            );
            report.fix(
                T,
                c.id,
                "value_out_of_range",
                format!("{}: imported inactive with {clamped}", c.discount_value),
            );
            discount_value = clamped;
            is_active = false;
            status = "inactive".to_string();
        }
        let min_purchase = c
            .min_purchase
            .as_deref()
            .and_then(money::pesos)
            .map_or(0, |v| v.value);
        if min_purchase < 0 {
            report.fix(
                T,
                c.id,
                "min_purchase_negative",
                format!("{min_purchase} becomes 0"),
            );
        }
        let min_purchase = min_purchase.max(0);
        if min_purchase > 0 {
            report.note(
                T,
                c.id,
                "min_purchase_on_tickets",
                format!("minimum {min_purchase}: counted on the tickets here, on tickets and fee in backtuki"),
            );
        }
        let max_discount = c
            .max_discount
            .as_deref()
            .and_then(money::pesos)
            .map(|v| v.value);
        if max_discount.is_some_and(|v| v <= 0) {
            report.fix(
                T,
                c.id,
                "max_discount_not_positive",
                format!("{max_discount:?}: no maximum"),
            );
        }
        let max_discount = max_discount.filter(|v| *v > 0);
        let event_ids = match c
            .events_list
            .as_deref()
            .map(serde_json::from_str::<serde_json::Value>)
        {
            None | Some(Ok(serde_json::Value::Null)) => None,
            Some(Ok(serde_json::Value::Array(list))) => {
                let kept: Vec<String> = list
                    .iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(|s| Uuid::parse_str(s).ok())
                    .filter(|id| events.get(id) == Some(&c.organizer_id))
                    .map(|id| id.to_string())
                    .collect();
                if kept.len() != list.len() {
                    report.note(
                        T,
                        c.id,
                        "events_dropped",
                        format!(
                            "{} of {} listed events are not this organizer's imported events",
                            list.len() - kept.len(),
                            list.len()
                        ),
                    );
                }
                Some(serde_json::to_string(&kept).unwrap_or_else(|_| "[]".to_string()))
            }
            Some(_) => {
                report.fix(
                    T,
                    c.id,
                    "events_unreadable",
                    "its event list is not a list: valid for no event (as an empty list)",
                );
                Some("[]".to_string())
            }
        };
        if c.tier_links > 0 {
            report.note(
                T,
                c.id,
                "tiers_not_applied",
                format!(
                    "{} tiers listed, never applied by backtuki: valid for every tier",
                    c.tier_links
                ),
            );
        }
        let usage_limit = c.usage_limit.filter(|n| *n > 0);
        let model = e::coupons::ActiveModel {
            id: Set(c.id),
            organizer_id: Set(c.organizer_id),
            code: Set(cut(&code, 50)),
            description: Set(c.description.clone().unwrap_or_default()),
            discount_type: Set(discount_type.to_string()),
            discount_value: Set(discount_value),
            min_purchase: Set(min_purchase),
            max_discount: Set(max_discount),
            start_date: Set(c.start_date),
            end_date: Set(c.end_date),
            usage_limit: Set(usage_limit),
            per_buyer_limit: Set(None),
            used_count: Set(0),
            status: Set(status),
            is_active: Set(is_active),
            event_ids: Set(event_ids),
            tier_ids: Set("[]".to_string()),
            deleted_at: Set(None),
            created_at: Set(c.created_at),
            updated_at: Set(c.updated_at),
        };
        ok.insert(
            c.id,
            CouponOk {
                code,
                model: Some(model),
                usage_limit,
            },
        );
    }
    ok
}

fn write_coupons(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    coupons: &HashMap<Uuid, CouponOk>,
    orders: &OrdersPlanned,
) {
    const T: &str = "coupons";
    for c in &src.coupons {
        let Some(checked) = coupons.get(&c.id) else {
            continue;
        };
        let uses = orders.coupon_uses.get(&c.id).copied().unwrap_or(0);
        let Some(mut model) = checked.model.clone() else {
            if uses > 0 && existing.has(T, c.id) {
                report.note(
                    T,
                    c.id,
                    "uses_added",
                    format!("imported earlier: {uses} uses by this run's paid orders added (its limit raised to fit if needed)"),
                );
                out.uses_of_present_coupons.insert(c.id, uses);
            }
            continue;
        };
        let used = i32::try_from(uses).unwrap_or(i32::MAX);
        model.used_count = Set(used);
        if let Some(limit) = checked.usage_limit {
            if used > limit {
                report.fix(
                    T,
                    c.id,
                    "used_over_limit",
                    format!("limit {limit}, used by {used} paid orders: limit becomes {used}"),
                );
                model.usage_limit = Set(Some(used));
            }
        }
        out.coupons.push(model);
    }
}

fn pesos_of(
    table: &'static str,
    id: Uuid,
    field: &str,
    text: &str,
    report: &mut Report,
) -> Option<i64> {
    let value = money::pesos(text)?;
    if !value.exact {
        report.fix(
            table,
            id,
            "amount_rounded",
            format!("{field} {text} becomes {}", value.value),
        );
    }
    Some(value.value)
}

fn order_money(
    o: &source::Order,
    lines: i64,
    report: &mut Report,
) -> Result<(money::OurOrder, i64), String> {
    const T: &str = "orders";
    let get = |field: &str, text: &str, report: &mut Report| {
        pesos_of(T, o.id, field, text, report)
            .ok_or_else(|| format!("{field} {text:?} is not a number"))
    };
    let subtotal = get("subtotal", &o.subtotal, report)?;
    let service_fee = get("service_fee", &o.service_fee, report)?;
    let discount = get("discount", &o.discount, report)?;
    let total = get("total", &o.total, report)?;
    let refunded = get("refunded_amount", &o.refunded_amount, report)?;
    let subtotal_effective = match &o.subtotal_effective {
        Some(s) => Some(get("subtotal_effective", s, report)?),
        None => None,
    };
    let service_fee_effective = match &o.service_fee_effective {
        Some(s) => Some(get("service_fee_effective", s, report)?),
        None => None,
    };
    let ours = money::split(&DjangoOrder {
        subtotal,
        service_fee,
        discount,
        total,
        subtotal_effective,
        service_fee_effective,
        lines,
    })?;
    if refunded < 0 {
        return Err(format!("refunded_amount {refunded} is negative"));
    }
    Ok((ours, refunded))
}

/// Payment statuses that mean Transbank took the money.
fn charged(status: &str) -> bool {
    matches!(
        status,
        "completed" | "captured" | "authorized" | "refunded" | "partially_refunded"
    )
}

#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn plan_orders(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    users: &UserMap,
    events: &HashMap<Uuid, Uuid>,
    tiers: &HashMap<Uuid, TierOk>,
    coupons: &HashMap<Uuid, CouponOk>,
) -> OrdersPlanned {
    const T: &str = "orders";
    const I: &str = "order_items";
    report.read(T, src.orders.len());
    report.read(I, src.items.len());
    let mut items_of: HashMap<Uuid, Vec<&source::Item>> = HashMap::new();
    for item in &src.items {
        items_of.entry(item.order_id).or_default().push(item);
    }
    // Orders Webpay charged, with when the charge completed (if recorded).
    let mut charged_at: HashMap<Uuid, Option<Time>> = HashMap::new();
    for p in src.payments.iter().filter(|p| charged(&p.status)) {
        let entry = charged_at.entry(p.order_id).or_insert(p.completed_at);
        if p.completed_at > *entry {
            *entry = p.completed_at;
        }
    }
    let tier_names: HashMap<Uuid, &str> =
        src.tiers.iter().map(|t| (t.id, t.name.as_str())).collect();
    let mut planned = OrdersPlanned::default();
    for o in &src.orders {
        let lines = items_of.get(&o.id).map(Vec::as_slice).unwrap_or_default();
        let skip_lines = |report: &mut Report, why: &str| {
            for item in lines {
                report.skip(
                    I,
                    item.id,
                    "parent_skipped",
                    format!("order {}: {why}", o.order_number),
                );
            }
        };
        if existing.gone(T, o.id) {
            report.deleted_here(T, o.id);
            skip_lines(report, "deleted_here");
            continue;
        }
        if let Some((event_id, status)) = existing.orders.get(&o.id) {
            // Imported earlier: as it is here now.
            report.table(T).present += 1;
            planned
                .orders
                .insert(o.id, (*event_id, known_status(status)));
            for item in lines {
                if let Some(here) = existing.items.get(&item.id) {
                    report.table(I).present += 1;
                    planned.items.insert(item.id, *here);
                } else if item.quantity > 0 {
                    report.skip(
                        I,
                        item.id,
                        "order_imported_earlier",
                        format!(
                            "order {}: a line added in backtuki after the order was imported",
                            o.order_number
                        ),
                    );
                } else {
                    report.skip(
                        I,
                        item.id,
                        "zero_quantity",
                        format!(
                            "order {}: a line of {} tickets",
                            o.order_number, item.quantity
                        ),
                    );
                }
            }
            continue;
        }
        let reason: Option<(&'static str, String)> = if o.deleted_at.is_some() {
            Some(("deleted", "in backtuki's trash".to_string()))
        } else if o.is_sandbox {
            Some(("sandbox", "a Webpay integration (test) order".to_string()))
        } else if o.order_kind != "event" || o.event_id.is_none() {
            Some(("not_an_event_order", format!("a {:?} order", o.order_kind)))
        } else if !o.event_id.is_some_and(|e| events.contains_key(&e)) {
            Some((
                "parent_skipped",
                format!("event {:?} was not imported", o.event_id),
            ))
        } else if o.currency != "CLP" {
            Some(("not_clp", format!("in {:?}", o.currency)))
        } else if too_long(&o.order_number, 26) {
            Some(("order_number_too_long", o.order_number.clone()))
        } else if existing
            .order_numbers
            .get(&o.order_number)
            .is_some_and(|id| *id != o.id)
        {
            Some((
                "order_number_taken",
                format!("{} is another order's here", o.order_number),
            ))
        } else if let Some(item) = lines.iter().find(|i| !tiers.contains_key(&i.tier_id)) {
            Some((
                "tier_skipped",
                format!("its tier {} was not imported", item.tier_id),
            ))
        } else if lines.iter().all(|i| i.quantity <= 0) {
            Some(("order_without_lines", "no line with tickets".to_string()))
        } else {
            None
        };
        if let Some((rule, detail)) = reason {
            report.skip(T, o.id, rule, format!("{}: {detail}", o.order_number));
            skip_lines(report, rule);
            continue;
        }
        let event_id = o.event_id.unwrap_or_default();
        let kept: Vec<&source::Item> = lines.iter().copied().filter(|i| i.quantity > 0).collect();
        let mut prices = Vec::with_capacity(kept.len());
        let mut bad_price = None;
        for item in &kept {
            match pesos_of(I, item.id, "unit_price", &item.unit_price, report) {
                Some(p) if p >= 0 => prices.push(p),
                _ => bad_price = Some(item.unit_price.clone()),
            }
        }
        let listed: i64 = kept
            .iter()
            .zip(&prices)
            .map(|(i, p)| i64::from(i.quantity) * p)
            .sum();
        let money = match bad_price {
            Some(price) => Err(format!("a line's unit price is {price}")),
            None => order_money(o, listed, report),
        };
        let (ours, refunded) = match money {
            Ok(m) => m,
            Err(why) => {
                report.skip(
                    T,
                    o.id,
                    "money_inconsistent",
                    format!("{}: {why}", o.order_number),
                );
                skip_lines(report, "money_inconsistent");
                continue;
            }
        };
        let was_charged = charged_at.contains_key(&o.id);
        let paid_at_charge = charged_at.get(&o.id).copied().flatten();
        let (status, refunded_amount): (&'static str, i64) = match o.status.as_str() {
            "paid" if refunded > 0 => {
                report.note(
                    T,
                    o.id,
                    "paid_with_refund",
                    format!("paid with {refunded} of {} refunded", ours.total),
                );
                if refunded >= ours.total {
                    ("refunded", ours.total)
                } else {
                    ("partially_refunded", refunded)
                }
            }
            "paid" => ("paid", 0),
            "refunded" if refunded >= ours.total => {
                if refunded > ours.total {
                    report.fix(
                        T,
                        o.id,
                        "refund_over_total",
                        format!("{refunded} refunded of {}", ours.total),
                    );
                }
                ("refunded", ours.total)
            }
            "refunded" if refunded > 0 => {
                report.note(
                    T,
                    o.id,
                    "partially_refunded",
                    format!(
                        "{refunded} of {} refunded: its tickets stay sold here",
                        ours.total
                    ),
                );
                ("partially_refunded", refunded)
            }
            "refunded" => {
                report.fix(
                    T,
                    o.id,
                    "refund_amount_missing",
                    format!("refunded with no amount: {} taken as refunded", ours.total),
                );
                ("refunded", ours.total)
            }
            "cancelled" => {
                if was_charged {
                    report.note(
                        T,
                        o.id,
                        "cancelled_but_charged",
                        "cancelled in backtuki after Webpay charged it, without a refund",
                    );
                }
                ("cancelled", 0)
            }
            "failed" | "pending" => {
                if was_charged {
                    report.note(
                        T,
                        o.id,
                        "charged_but_not_paid",
                        format!("{} in backtuki although Webpay charged it", o.status),
                    );
                }
                if o.status == "failed" {
                    ("failed", 0)
                } else {
                    ("expired", 0)
                }
            }
            other => {
                report.skip(
                    T,
                    o.id,
                    "status_unknown",
                    format!("{}: status {other:?}", o.order_number),
                );
                skip_lines(report, "status_unknown");
                continue;
            }
        };
        if o.status == "refunded" {
            report.note(
                T,
                o.id,
                "refunded_outside_webpay",
                "backtuki's refunds never went through Webpay",
            );
        }
        let was_paid = matches!(status, "paid" | "refunded" | "partially_refunded");
        if was_paid && ours.total > 0 && !was_charged {
            report.note(
                T,
                o.id,
                "paid_without_payment",
                "paid in backtuki with no Webpay charge recorded",
            );
        }
        if o.exclude_from_revenue {
            report.note(
                T,
                o.id,
                "excluded_from_revenue",
                "counted in the sales figures here",
            );
        }
        let paid_at = if was_paid {
            if ours.total == 0 {
                Some(o.created_at)
            } else {
                Some(paid_at_charge.or(o.payment_date).unwrap_or(o.updated_at))
            }
        } else {
            None
        };
        let (coupon_id, coupon_code) =
            match o.coupon_id.and_then(|c| coupons.get(&c).map(|k| (c, k))) {
                Some((id, c)) => (Some(id), c.code.clone()),
                None => {
                    if o.coupon_id.is_some() {
                        report.note(
                            T,
                            o.id,
                            "coupon_missing",
                            "its coupon was not imported: the discount is kept",
                        );
                    }
                    (None, String::new())
                }
            };
        let name = format!("{} {}", o.first_name.trim(), o.last_name.trim())
            .trim()
            .to_string();
        if too_long(&name, 200) {
            report.fix(
                T,
                o.id,
                "name_too_long",
                format!("{} characters cut to 200", name.chars().count()),
            );
        }
        let token_hash = tokens::sha256_hex(
            &o.access_token
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| tokens::random_urlsafe(32)),
        );
        planned.orders.insert(o.id, (event_id, status));
        for item in &kept {
            planned.items.insert(item.id, (o.id, item.tier_id));
        }
        for item in lines.iter().filter(|i| i.quantity <= 0) {
            report.skip(
                I,
                item.id,
                "zero_quantity",
                format!(
                    "order {}: a line of {} tickets",
                    o.order_number, item.quantity
                ),
            );
        }
        planned.totals.insert(o.id, ours.total);
        // Seats and coupon uses of the orders this run writes (an earlier
        // run's orders are already counted).
        if matches!(status, "paid" | "partially_refunded") {
            for item in &kept {
                *planned.sold.entry(item.tier_id).or_default() += i64::from(item.quantity);
            }
            if let Some(c) = coupon_id {
                *planned.coupon_uses.entry(c).or_default() += 1;
            }
        }
        let weights: Vec<i64> = kept
            .iter()
            .zip(&prices)
            .map(|(i, p)| i64::from(i.quantity) * p)
            .collect();
        let shares = money::apportion(ours.discount, &weights);
        for ((item, price), share) in kept.iter().zip(&prices).zip(shares) {
            if tiers
                .get(&item.tier_id)
                .is_some_and(|t| t.event_id != event_id)
            {
                report.note(
                    I,
                    item.id,
                    "tier_of_another_event",
                    format!("tier {}", item.tier_id),
                );
            }
            if existing.has(I, item.id) {
                report.table(I).present += 1;
                continue;
            }
            out.items.push(e::order_items::ActiveModel {
                id: Set(item.id),
                created_at: Set(item.created_at),
                updated_at: Set(item.updated_at),
                order_id: Set(o.id),
                tier_id: Set(item.tier_id),
                tier_name: Set(cut(
                    tier_names.get(&item.tier_id).copied().unwrap_or_default(),
                    100,
                )),
                quantity: Set(item.quantity),
                unit_price: Set(*price),
                discount: Set(share),
            });
        }
        out.orders.push(e::orders::ActiveModel {
            id: Set(o.id),
            created_at: Set(o.created_at),
            updated_at: Set(o.updated_at),
            order_number: Set(o.order_number.clone()),
            event_id: Set(event_id),
            user_id: Set(o.user_id.and_then(|u| users.get(&u).copied())),
            reservation_id: Set(None),
            status: Set(status.to_string()),
            customer_name: Set(cut(&name, 200)),
            customer_email: Set(cut(o.email.trim(), 254)),
            customer_phone: Set(cut(&o.phone, 40)),
            subtotal: Set(ours.subtotal),
            service_fee: Set(ours.service_fee),
            total: Set(ours.total),
            refunded_amount: Set(refunded_amount),
            access_token_hash: Set(token_hash),
            paid_at: Set(paid_at),
            confirmation_sent: Set(true),
            ticket_holders: Set("[]".to_string()),
            coupon_id: Set(coupon_id),
            coupon_code: Set(coupon_code),
            discount: Set(ours.discount),
        });
    }
    planned
}

fn plan_tickets(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    users: &UserMap,
    orders: &OrdersPlanned,
) {
    const T: &str = "tickets";
    report.read(T, src.tickets.len());
    let mut codes: HashSet<&str> = HashSet::new();
    for t in &src.tickets {
        if existing.has(T, t.id) {
            report.table(T).present += 1;
            continue;
        }
        let Some((order_id, tier_id)) = orders.items.get(&t.order_item_id).copied() else {
            report.skip(
                T,
                t.id,
                "parent_skipped",
                format!("{}: its order line was not imported", t.ticket_number),
            );
            continue;
        };
        let Some((event_id, order_status)) = orders.orders.get(&order_id).copied() else {
            report.skip(
                T,
                t.id,
                "parent_skipped",
                format!("{}: its order was not imported", t.ticket_number),
            );
            continue;
        };
        if too_long(&t.ticket_number, 64) || t.ticket_number.is_empty() {
            report.skip(
                T,
                t.id,
                "ticket_number_unusable",
                format!("{:?}", t.ticket_number),
            );
            continue;
        }
        if existing
            .ticket_codes
            .get(&t.ticket_number)
            .is_some_and(|id| *id != t.id)
            || !codes.insert(t.ticket_number.as_str())
        {
            report.skip(
                T,
                t.id,
                "ticket_number_taken",
                format!("{} is another ticket's here", t.ticket_number),
            );
            continue;
        }
        let order_valid = matches!(order_status, "paid" | "partially_refunded");
        let checked_in = t.status == "used" || t.check_in_status == "checked_in" || t.checked_in;
        let status = if !order_valid {
            if matches!(t.status.as_str(), "active" | "used") {
                report.note(
                    T,
                    t.id,
                    "ticket_of_unpaid_order",
                    format!(
                        "{}: {:?} in an order imported as {order_status}: cancelled",
                        t.ticket_number, t.status
                    ),
                );
            }
            "cancelled"
        } else if checked_in {
            // Scanned at the door, whatever happened to it after.
            "used"
        } else if matches!(t.status.as_str(), "cancelled" | "refunded") {
            "cancelled"
        } else {
            "valid"
        };
        let used_at = if status == "used" {
            if t.check_in_time.is_none() {
                report.fix(
                    T,
                    t.id,
                    "check_in_time_missing",
                    format!("{}: checked in at its last change", t.ticket_number),
                );
            }
            Some(t.check_in_time.unwrap_or(t.updated_at))
        } else {
            None
        };
        let name = format!("{} {}", t.first_name.trim(), t.last_name.trim())
            .trim()
            .to_string();
        if too_long(&name, 200) {
            report.fix(
                T,
                t.id,
                "name_too_long",
                format!("{} characters cut to 200", name.chars().count()),
            );
        }
        out.tickets.push(e::tickets::ActiveModel {
            id: Set(t.id),
            created_at: Set(t.created_at),
            updated_at: Set(t.updated_at),
            order_id: Set(order_id),
            event_id: Set(event_id),
            tier_id: Set(tier_id),
            code: Set(t.ticket_number.clone()),
            attendee_name: Set(cut(&name, 200)),
            status: Set(status.to_string()),
            used_at: Set(used_at),
            used_by: Set(if status == "used" {
                t.check_in_by_id.and_then(|u| users.get(&u).copied())
            } else {
                None
            }),
        });
    }
}

/// What backtuki kept of Transbank's answer: response code, authorization
/// code, card's last digits and payment type.
struct Answer {
    response_code: Option<i32>,
    authorization_code: String,
    card_last4: String,
    payment_type_code: String,
    detail: String,
}

fn answer(metadata: &str) -> Answer {
    let meta: serde_json::Value = serde_json::from_str(metadata).unwrap_or_default();
    let body = ["confirmation_response", "failure_response"]
        .iter()
        .find_map(|k| meta.get(*k).filter(|v| v.is_object()))
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let response_code = body
        .get("response_code")
        .or_else(|| meta.get("response_code"))
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .and_then(|n| i32::try_from(n).ok());
    let authorization_code = {
        let code = text(body.get("authorization_code"));
        if code.is_empty() {
            text(meta.get("authorization_code"))
        } else {
            code
        }
    };
    let card = text(body.get("card_detail").and_then(|c| c.get("card_number")));
    let card_last4: String = {
        let chars: Vec<char> = card.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    Answer {
        response_code,
        authorization_code: cut(&authorization_code, 20),
        card_last4,
        payment_type_code: cut(&text(body.get("payment_type_code")), 4),
        detail: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    }
}

#[allow(clippy::too_many_lines)]
fn plan_payments(
    src: &Snapshot,
    existing: &Existing,
    report: &mut Report,
    out: &mut Planned,
    orders: &OrdersPlanned,
) {
    const T: &str = "payments";
    report.read(T, src.payments.len());
    // First every check but the token's uniqueness…
    let mut candidates: Vec<(&source::Payment, &'static str, i64)> = Vec::new();
    for p in &src.payments {
        if existing.has(T, p.id) {
            report.table(T).present += 1;
            continue;
        }
        if !orders.orders.contains_key(&p.order_id) {
            report.parent_skipped(T, p.id, "order", p.order_id);
            continue;
        }
        let status = match p.status.as_str() {
            s if charged(s) => "authorized",
            "failed" => {
                if answer(&p.metadata).response_code.is_some_and(|c| c != 0) {
                    "rejected"
                } else {
                    "failed"
                }
            }
            "processing" => "timeout",
            "cancelled" => "aborted",
            "pending" => {
                report.skip(T, p.id, "never_sent", "pending: never reached Transbank");
                continue;
            }
            other => {
                report.skip(T, p.id, "status_unknown", format!("status {other:?}"));
                continue;
            }
        };
        if p.token.is_empty() {
            report.skip(
                T,
                p.id,
                "no_transbank_token",
                format!("{}: no token", p.status),
            );
            continue;
        }
        if too_long(&p.token, 100) {
            report.skip(
                T,
                p.id,
                "token_too_long",
                format!("a token of {} characters", p.token.chars().count()),
            );
            continue;
        }
        if p.currency != "CLP" {
            report.skip(T, p.id, "not_clp", format!("in {:?}", p.currency));
            continue;
        }
        let amount = match pesos_of(T, p.id, "amount", &p.amount, report) {
            Some(a) if a > 0 => a,
            _ => {
                report.skip(T, p.id, "amount_not_positive", p.amount.clone());
                continue;
            }
        };
        candidates.push((p, status, amount));
    }
    // …then one payment a Transbank token: the charged one, else the latest.
    let mut by_token: HashMap<&str, &source::Payment> = HashMap::new();
    for (p, _, _) in &candidates {
        let rank = |p: &source::Payment| (charged(&p.status), p.created_at);
        if by_token
            .get(p.token.as_str())
            .is_none_or(|b| rank(p) > rank(b))
        {
            by_token.insert(p.token.as_str(), p);
        }
    }
    for (p, status, amount) in candidates {
        if by_token.get(p.token.as_str()).is_some_and(|b| b.id != p.id)
            || existing
                .payment_tokens
                .get(&p.token)
                .is_some_and(|id| *id != p.id)
        {
            report.skip(
                T,
                p.id,
                "token_duplicate",
                "another payment has this Webpay token",
            );
            continue;
        }
        if status == "authorized" {
            if let Some(total) = orders.totals.get(&p.order_id) {
                if *total != amount {
                    report.note(
                        T,
                        p.id,
                        "amount_not_total",
                        format!("charged {amount}, the order's total is {total}"),
                    );
                }
            }
        }
        let a = answer(&p.metadata);
        out.payments.push(e::payments::ActiveModel {
            id: Set(p.id),
            created_at: Set(p.created_at),
            updated_at: Set(p.updated_at),
            order_id: Set(p.order_id),
            token: Set(p.token.clone()),
            buy_order: Set(cut(&p.buy_order, 26)),
            amount: Set(amount),
            status: Set(status.to_string()),
            response_code: Set(a.response_code),
            authorization_code: Set(a.authorization_code),
            card_last4: Set(a.card_last4),
            payment_type_code: Set(a.payment_type_code),
            refunded_amount: Set(0),
            detail: Set(a.detail),
            refund_in_flight: Set(None),
            refund_started_at: Set(None),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_django_user_has_the_same_id_here_on_every_run() {
        assert_eq!(user_uuid(42), user_uuid(42));
        assert_ne!(user_uuid(42), user_uuid(43));
        assert_eq!(user_uuid(42).get_version_num(), 8);
    }

    #[test]
    fn a_password_finding_names_the_scheme_and_never_the_hash() {
        assert_eq!(
            hash_scheme("pbkdf2_sha1$260000$salt$aGFzaA=="),
            "pbkdf2_sha1"
        );
        assert_eq!(hash_scheme("bcrypt_sha256$$2b$12$abc"), "bcrypt_sha256");
        // An unsalted MD5 or a password stored as it was: nothing of it.
        assert_eq!(
            hash_scheme("5f4dcc3b5aa765d61d8327deb882cf99"),
            "unrecognised"
        );
        assert_eq!(hash_scheme("Hunter2$isMyPassword"), "unrecognised");
        assert_eq!(hash_scheme(""), "empty");
    }

    #[test]
    fn image_urls_become_storage_keys() {
        assert_eq!(
            image_key("event_images/ab.jpg").unwrap(),
            "event_images/ab.jpg"
        );
        assert_eq!(
            image_key("https://storage.googleapis.com/tuki-media/event_images/ab.jpg").unwrap(),
            "event_images/ab.jpg"
        );
        assert_eq!(
            image_key("https://api.tuki.live/media/eventimage/x.png").unwrap(),
            "eventimage/x.png"
        );
        assert!(image_key("https://cdn.example.com/x.png").is_err());
    }

    #[test]
    fn transbanks_answer_is_read_from_the_metadata() {
        let a = answer(
            r#"{"confirmation_response": {"response_code": 0, "authorization_code": "1213",
                "card_detail": {"card_number": "6623"}, "payment_type_code": "VN"}}"#,
        );
        assert_eq!(a.response_code, Some(0));
        assert_eq!(a.authorization_code, "1213");
        assert_eq!(a.card_last4, "6623");
        assert_eq!(a.payment_type_code, "VN");
        let failed = answer(r#"{"failure_response": {"response_code": -1}}"#);
        assert_eq!(failed.response_code, Some(-1));
        assert_eq!(answer("{}").response_code, None);
    }
}
