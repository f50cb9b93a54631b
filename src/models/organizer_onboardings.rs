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

/// Turns a wizard's rows into an organizer (`pending`, its email not yet
/// proved) with the contact's account as its first admin, in one
/// transaction. A new account gets `password_hash` (or none: it signs in by
/// code); an existing account joins as it is — nothing about it changes
/// from an anonymous request but its organizer flag. The wizard is marked
/// completed by the same transaction's first statement, so a replay (or two
/// at once) completes it once.
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
        let mut active: users::ActiveModel = user.into();
        active.is_organizer = Set(true);
        (active.update(&txn).await?, false)
    } else {
        let (first, last) = split_name(&row.contact_name);
        let has_password = password_hash.is_some();
        let user = users::ActiveModel {
            id: Set(Uuid::new_v4()),
            email: Set(email.clone()),
            username: Set(email.clone()),
            first_name: Set(first),
            last_name: Set(last),
            password: Set(password_hash.unwrap_or_default()),
            is_active: Set(true),
            is_staff: Set(false),
            is_superuser: Set(false),
            is_organizer: Set(true),
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
    organizer_members::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(organizer.id),
        user_id: Set(user.id),
        is_admin: Set(true),
        can_manage_events: Set(true),
        can_view_reports: Set(true),
        can_manage_settings: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
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

/// After its member proved the email by a code: an organizer the wizard
/// made, still `pending` with its email never proved, becomes `active` when
/// the code went to its contact email.
/// Organizers staff made `pending` stay so, and `suspended` is never undone.
///
/// # Errors
/// The database error.
pub async fn email_proved<C: sea_orm::ConnectionTrait>(
    db: &C,
    organizer_id: Uuid,
    email: &str,
) -> Result<bool, DbErr> {
    let done = organizers::Entity::update_many()
        .col_expr(organizers::Column::EmailValidated, Expr::value(true))
        .col_expr(organizers::Column::Status, Expr::value("active"))
        .col_expr(
            organizers::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(organizers::Column::Id.eq(organizer_id))
        .filter(organizers::Column::EmailValidated.eq(false))
        .filter(organizers::Column::Status.eq("pending"))
        .filter(organizers::Column::ContactEmail.eq(email.trim().to_lowercase()))
        .filter(
            organizers::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(Column::OrganizerId)
                    .from(Entity)
                    .to_owned(),
            ),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
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
