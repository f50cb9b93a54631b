//! The sign-up wizard's progress (backtuki's `OrganizerOnboarding`): what a
//! future organizer typed at each step, until `complete` turns it into an
//! organizer with its first admin.

pub use super::_entities::organizer_onboardings::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);

/// The kinds of business a new organizer may say it runs (backtuki's
/// values, English and the Spanish ones its wizard sent).
pub const TYPES: [&str; 6] = [
    "events",
    "experiences",
    "accommodations",
    "eventos",
    "experiencias",
    "alojamientos",
];

use chrono::Utc;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, SqlErr, TransactionTrait,
};
use uuid::Uuid;

use super::{organizer_members, organizers, users};

/// Why a wizard could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    #[error("no such onboarding")]
    NotFound,
    #[error("the onboarding was completed already")]
    Completed,
    #[error("the slug is taken")]
    SlugTaken,
    /// Another request took the slug or the email at the same moment.
    #[error("a concurrent sign-up took the slug or the email")]
    Race,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What completing a wizard made.
pub struct Completed {
    pub organizer: organizers::Model,
    pub user: users::Model,
    /// Whether the account was made now (else an existing account joined).
    pub new_account: bool,
}

fn split_name(full: &str) -> (String, String) {
    let mut parts = full.trim().splitn(2, char::is_whitespace);
    let first = parts.next().unwrap_or("").chars().take(150).collect();
    let last = parts
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(150)
        .collect();
    (first, last)
}

/// Turns a wizard's rows into an organizer, `pending` with its email not
/// yet proved, in one transaction. Nobody is its member yet: the contact
/// becomes its admin by signing in with a code sent to the contact email
/// ([`claim_signups`]), so an anonymous wizard never gives anyone access to
/// anything, nor touches an existing account. An email without an account
/// gets one (with `password_hash`, or none: it signs in by code). The wizard
/// is marked completed by the transaction's first statement, so a replay (or
/// two at once) completes it once.
///
/// # Errors
/// [`CompleteError`].
pub async fn complete(
    db: &DatabaseConnection,
    id: Uuid,
    password_hash: Option<String>,
) -> Result<Completed, CompleteError> {
    let txn = db.begin().await?;
    let claimed = Entity::update_many()
        .col_expr(Column::IsCompleted, Expr::value(true))
        .filter(Column::Id.eq(id))
        .filter(Column::IsCompleted.eq(false))
        .exec(&txn)
        .await?;
    let Some(row) = Entity::find_by_id(id).one(&txn).await? else {
        return Err(CompleteError::NotFound);
    };
    if claimed.rows_affected != 1 {
        return Err(CompleteError::Completed);
    }
    let slug = row.organization_slug.trim().to_lowercase();
    if organizers::Entity::find()
        .filter(organizers::Column::Slug.eq(slug.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(CompleteError::SlugTaken);
    }
    let race = |e: DbErr| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => CompleteError::Race,
        _ => CompleteError::Db(e),
    };
    let now = Utc::now().fixed_offset();
    let email = row.contact_email.trim().to_lowercase();
    let existing = users::Entity::find()
        .filter(users::email_is(&email))
        .one(&txn)
        .await?;
    let (user, new_account) = if let Some(user) = existing {
        (user, false)
    } else {
        let (first, last) = split_name(&row.contact_name);
        let has_password = password_hash.is_some();
        let username_free = users::Entity::find()
            .filter(users::users::Column::Username.eq(email.as_str()))
            .one(&txn)
            .await?
            .is_none();
        let username = if username_free && email.chars().count() <= 150 {
            email.clone()
        } else {
            let local: String = email
                .split('@')
                .next()
                .unwrap_or("")
                .chars()
                .take(100)
                .collect();
            format!("{local}-{}", &Uuid::new_v4().simple().to_string()[..8])
        };
        let user = users::ActiveModel {
            id: Set(Uuid::new_v4()),
            email: Set(email.clone()),
            username: Set(username),
            first_name: Set(first),
            last_name: Set(last),
            password: Set(password_hash.unwrap_or_default()),
            is_active: Set(true),
            is_staff: Set(false),
            is_superuser: Set(false),
            is_organizer: Set(false),
            is_validator: Set(false),
            last_login: Set(None),
            date_joined: Set(now),
            auth_version: Set(0),
            phone_number: Set(Some(row.contact_phone.clone()).filter(|p| !p.is_empty())),
            is_guest: Set(false),
            profile_completed_at: Set(Some(now)),
            last_password_change: Set(has_password.then_some(now)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(race)?;
        (user, true)
    };
    let organizer = organizers::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(row.organization_name.clone()),
        slug: Set(slug),
        contact_email: Set(email.clone()),
        contact_phone: Set(row.contact_phone.clone()),
        status: Set("pending".into()),
        description: Set(String::new()),
        logo: Set(String::new()),
        website: Set(String::new()),
        address: Set(String::new()),
        city: Set(String::new()),
        country: Set(String::new()),
        organization_size: Set(if row.organization_size.is_empty() {
            "small".into()
        } else {
            row.organization_size.clone()
        }),
        representative_name: Set(row.contact_name.clone()),
        representative_email: Set(email),
        representative_phone: Set(row.contact_phone.clone()),
        onboarding_completed: Set(true),
        is_temporary: Set(false),
        email_validated: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(race)?;
    let mut done: ActiveModel = row.into();
    done.organizer_id = Set(Some(organizer.id));
    done.update(&txn).await?;
    txn.commit().await?;
    Ok(Completed {
        organizer,
        user,
        new_account,
    })
}

/// The organizers the wizard made for `email` that nobody has claimed yet:
/// `pending`, email not proved, without members.
fn unclaimed(email: &str) -> sea_orm::Condition {
    use sea_orm::sea_query::Query;
    sea_orm::Condition::all()
        .add(
            organizers::Column::Id.in_subquery(
                Query::select()
                    .column(Column::OrganizerId)
                    .from(Entity)
                    .and_where(Column::IsCompleted.eq(true))
                    .and_where(Column::OrganizerId.is_not_null())
                    .to_owned(),
            ),
        )
        .add(organizers::Column::ContactEmail.eq(email.trim().to_lowercase()))
        .add(organizers::Column::Status.eq("pending"))
        .add(organizers::Column::EmailValidated.eq(false))
        .add(
            organizers::Column::Id.not_in_subquery(
                Query::select()
                    .column(organizer_members::Column::OrganizerId)
                    .from(organizer_members::Entity)
                    .to_owned(),
            ),
        )
}

/// Whether the wizard made an organizer for `email` that waits to be
/// claimed by a sign-in with a code.
///
/// # Errors
/// The database error.
pub async fn has_unclaimed<C: sea_orm::ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<bool, DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(organizers::Entity::find()
        .filter(unclaimed(email))
        .count(db)
        .await?
        > 0)
}

/// After `user` proved their email by a code: each organizer the wizard made
/// for that email and nobody claimed becomes `active` with them as its
/// admin. Returns how many.
///
/// # Errors
/// The database error.
pub async fn claim_signups(db: &DatabaseConnection, user: &users::Model) -> Result<u64, DbErr> {
    let found = organizers::Entity::find()
        .filter(unclaimed(&user.email))
        .all(db)
        .await?;
    let mut claimed = 0;
    for organizer in found {
        let txn = db.begin().await?;
        let now = Utc::now().fixed_offset();
        let activated = organizers::Entity::update_many()
            .col_expr(organizers::Column::EmailValidated, Expr::value(true))
            .col_expr(organizers::Column::Status, Expr::value("active"))
            .col_expr(organizers::Column::UpdatedAt, Expr::value(now))
            .filter(organizers::Column::Id.eq(organizer.id))
            .filter(unclaimed(&user.email))
            .exec(&txn)
            .await?;
        if activated.rows_affected != 1 {
            continue;
        }
        let member = organizer_members::ActiveModel {
            id: Set(Uuid::new_v4()),
            organizer_id: Set(organizer.id),
            user_id: Set(user.id),
            is_admin: Set(true),
            can_manage_events: Set(true),
            can_view_reports: Set(true),
            can_manage_settings: Set(true),
            invitation_pending: Set(false),
            can_validate_tickets: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await;
        match member {
            Ok(_) => {
                txn.commit().await?;
                claimed += 1;
            }
            // A concurrent sign-in claimed it first.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(e),
        }
    }
    if claimed > 0 && !user.is_organizer {
        users::Entity::update_many()
            .col_expr(users::users::Column::IsOrganizer, Expr::value(true))
            .filter(users::users::Column::Id.eq(user.id))
            .exec(db)
            .await?;
    }
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_split_on_the_first_space() {
        assert_eq!(
            super::split_name(" Ana María  Pérez "),
            ("Ana".into(), "María  Pérez".into())
        );
        assert_eq!(super::split_name("Ana"), ("Ana".into(), String::new()));
    }
}
