//! Users: email is the login (unique whatever its case), username is unique too.

use chrono::Utc;
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func, SimpleExpr},
    ActiveValue::Set,
    Condition, SqlErr,
};
use uuid::Uuid;
use validator::ValidateEmail;

pub use super::_entities::users::{self, ActiveModel, Entity, Model};
use crate::accounts::passwords;

/// An email address as the login: trimmed, syntactically valid, at most 254
/// characters. Comparison is case-insensitive (the database index is on
/// `lower(email)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// When the text is not a valid email address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        if email.len() > 254 || !email.validate_email() {
            return Err(format!("{email:?} is not a valid email address"));
        }
        Ok(Self(email.to_string()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What it takes to create a user.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub username: &'a str,
    pub password: &'a str,
    pub is_staff: bool,
    pub is_superuser: bool,
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with that email or username already exists")]
    Exists,
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("could not hash the password")]
    Hash,
    #[error(transparent)]
    Busy(#[from] passwords::Busy),
}

/// `lower(email) = lower(<email>)`: the lookup the unique index serves.
pub fn email_is(email: &str) -> SimpleExpr {
    Expr::expr(Func::lower(Expr::col(users::Column::Email))).eq(email.trim().to_lowercase())
}

crate::touch_updated_at!(ActiveModel);

impl Model {
    /// Finds a user by email, whatever its case.
    ///
    /// # Errors
    /// Database errors.
    pub async fn find_by_email(
        db: &DatabaseConnection,
        email: &str,
    ) -> Result<Option<Self>, DbErr> {
        Entity::find().filter(email_is(email)).one(db).await
    }

    /// Finds a user holding this email (any case) or this username.
    ///
    /// # Errors
    /// Database errors.
    pub async fn find_by_email_or_username(
        db: &DatabaseConnection,
        email: &str,
        username: &str,
    ) -> Result<Option<Self>, DbErr> {
        Entity::find()
            .filter(
                Condition::any()
                    .add(email_is(email))
                    .add(users::Column::Username.eq(username)),
            )
            .one(db)
            .await
    }

    /// Checks a password against the stored hash (argon2id, or a Django
    /// `pbkdf2_sha256` hash that should then be upgraded). Blocking: request
    /// handlers use `passwords::verify_async`.
    #[must_use]
    pub fn verify_password(&self, password: &str) -> passwords::Verified {
        passwords::verify(password, &self.password)
    }

    /// Creates a user with an argon2id hash. A duplicate email or username —
    /// including one inserted concurrently — is [`CreateUserError::Exists`].
    ///
    /// # Errors
    /// Duplicate, database or hashing errors.
    pub async fn create(
        db: &DatabaseConnection,
        new: &NewUser<'_>,
    ) -> Result<Self, CreateUserError> {
        let hash = passwords::hash_async(new.password)
            .await
            .map_err(|e| match e {
                passwords::HashError::Busy => CreateUserError::Busy(passwords::Busy),
                passwords::HashError::Failed => CreateUserError::Hash,
            })?;
        let now = Utc::now().into();
        let user = ActiveModel {
            id: Set(Uuid::new_v4()),
            email: Set(new.email.as_str().to_string()),
            username: Set(new.username.to_string()),
            first_name: Set(String::new()),
            last_name: Set(String::new()),
            password: Set(hash),
            is_active: Set(true),
            is_staff: Set(new.is_staff),
            is_superuser: Set(new.is_superuser),
            is_organizer: Set(false),
            is_validator: Set(false),
            last_login: Set(None),
            date_joined: Set(now),
            auth_version: Set(0),
            phone_number: Set(None),
            is_guest: Set(false),
            profile_completed_at: Set(None),
            last_password_change: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        user.insert(db).await.map_err(|err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => CreateUserError::Exists,
            _ => CreateUserError::Db(err),
        })
    }
}

/// The account of `email` (any case), or a new guest account for it: no
/// password (it signs in by emailed codes until its owner sets one), a
/// username made unique from the email's local part (`ana`, `ana1`, …).
/// Returns whether it was created. Safe under concurrent calls for the
/// same email: the unique index decides, the loser reads the winner's row.
///
/// # Errors
/// Database errors.
pub async fn find_or_create_guest(
    db: &DatabaseConnection,
    email: &str,
    first_name: &str,
    last_name: &str,
) -> Result<(Model, bool), DbErr> {
    let email = email.trim().to_lowercase();
    if let Some(user) = Model::find_by_email(db, &email).await? {
        return Ok((user, false));
    }
    let base: String = email
        .split('@')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        .take(140)
        .collect();
    let base = if base.is_empty() {
        "usuario".to_string()
    } else {
        base
    };
    for n in 0..50u32 {
        let username = if n == 0 {
            base.clone()
        } else if n < 40 {
            format!("{base}{n}")
        } else {
            format!("{base}{}", &Uuid::new_v4().simple().to_string()[..8])
        };
        let now = Utc::now().fixed_offset();
        let row = ActiveModel {
            id: Set(Uuid::new_v4()),
            email: Set(email.clone()),
            username: Set(username),
            first_name: Set(first_name.chars().take(150).collect()),
            last_name: Set(last_name.chars().take(150).collect()),
            password: Set(String::new()),
            is_active: Set(true),
            is_staff: Set(false),
            is_superuser: Set(false),
            is_organizer: Set(false),
            is_validator: Set(false),
            last_login: Set(None),
            date_joined: Set(now),
            auth_version: Set(0),
            phone_number: Set(None),
            is_guest: Set(true),
            profile_completed_at: Set(None),
            last_password_change: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        match row.insert(db).await {
            Ok(user) => return Ok((user, true)),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                if let Some(user) = Model::find_by_email(db, &email).await? {
                    return Ok((user, false));
                }
            }
            Err(err) => return Err(err),
        }
    }
    Err(DbErr::Custom("no free username for a guest account".into()))
}

/// Why a new password is refused, if it is (the rules of every place a
/// password is set: the API, the reset link and the admin).
#[must_use]
pub fn password_problem(password: &str, email: &str) -> Option<&'static str> {
    if password.chars().count() < 8 {
        Some("La contraseña debe tener al menos 8 caracteres.")
    } else if password.chars().all(|c| c.is_ascii_digit()) {
        Some("La contraseña no puede ser solo números.")
    } else if email.split('@').next().is_some_and(|local| {
        local.len() >= 4 && password.to_lowercase().contains(&local.to_lowercase())
    }) {
        Some("La contraseña es demasiado parecida al correo.")
    } else {
        None
    }
}

impl ActiveModel {
    /// Replaces the password hash with a fresh argon2id one and ends every
    /// session and access token issued before (the credentials version moves
    /// on; refresh tokens are the caller's to revoke).
    ///
    /// # Errors
    /// Database or hashing errors; [`passwords::Busy`] inside
    /// [`ModelError::Any`] when hashing is at capacity.
    pub async fn set_password(self, db: &DatabaseConnection, password: &str) -> ModelResult<Model> {
        let id = *self.id.as_ref();
        let hash = hash_or_busy(password).await?;
        // The hash and the version move together, in one statement.
        Entity::update_many()
            .col_expr(users::Column::Password, Expr::value(hash))
            .col_expr(
                users::Column::AuthVersion,
                Expr::col(users::Column::AuthVersion).add(1),
            )
            .col_expr(
                users::Column::UpdatedAt,
                Expr::value(Utc::now().fixed_offset()),
            )
            .col_expr(
                users::Column::LastPasswordChange,
                Expr::value(Utc::now().fixed_offset()),
            )
            .filter(users::Column::Id.eq(id))
            .exec(db)
            .await?;
        Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ModelError::EntityNotFound)
    }

    /// Gives an account without a password (a guest, or one made by an
    /// emailed code) its first one. Nothing is replaced, so the sessions it
    /// has stay valid; the write only happens while it still has none (two
    /// set-ups at once: the first wins, the second changes nothing).
    ///
    /// # Errors
    /// As [`Self::set_password`]; [`ModelError::EntityNotFound`] when the
    /// account has a password by now.
    pub async fn set_first_password(
        self,
        db: &DatabaseConnection,
        password: &str,
    ) -> ModelResult<Model> {
        let id = *self.id.as_ref();
        let hash = hash_or_busy(password).await?;
        let now = Utc::now().fixed_offset();
        let done = Entity::update_many()
            .col_expr(users::Column::Password, Expr::value(hash))
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .col_expr(users::Column::LastPasswordChange, Expr::value(now))
            .filter(users::Column::Id.eq(id))
            .filter(
                sea_orm::Condition::any()
                    .add(users::Column::Password.eq(""))
                    .add(users::Column::Password.starts_with("!")),
            )
            .exec(db)
            .await?;
        if done.rows_affected == 0 {
            return Err(ModelError::EntityNotFound);
        }
        Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ModelError::EntityNotFound)
    }

    /// Stores a new hash of the same password (a legacy hash upgraded):
    /// sessions stay valid.
    ///
    /// # Errors
    /// As [`Self::set_password`].
    pub async fn rehash_password(
        mut self,
        db: &DatabaseConnection,
        password: &str,
    ) -> ModelResult<Model> {
        let hash = passwords::hash_async(password).await.map_err(|e| match e {
            passwords::HashError::Busy => ModelError::Any(Box::new(passwords::Busy)),
            passwords::HashError::Failed => ModelError::Any(e.to_string().into()),
        })?;
        self.password = Set(hash);
        self.updated_at = Set(Utc::now().into());
        Ok(self.update(db).await?)
    }
}

/// An argon2id hash through the hashing gate; [`passwords::Busy`] inside
/// [`ModelError::Any`] when it is at capacity.
async fn hash_or_busy(password: &str) -> ModelResult<String> {
    passwords::hash_async(password).await.map_err(|e| match e {
        passwords::HashError::Busy => ModelError::Any(Box::new(passwords::Busy)),
        passwords::HashError::Failed => ModelError::Any(e.to_string().into()),
    })
}

/// Ends every admin session and access token of a user issued before now:
/// they carry the credentials version they were issued under, checked on
/// every request (password set or reset, deactivation).
///
/// # Errors
/// The database error.
pub async fn bump_auth_version<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(
            users::Column::AuthVersion,
            Expr::col(users::Column::AuthVersion).add(1),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_checked() {
        assert_eq!(
            Email::parse("  ana@tuki.cl ").unwrap().as_str(),
            "ana@tuki.cl"
        );
        assert!(Email::parse("ana").is_err());
        assert!(Email::parse("ana@").is_err());
        assert!(Email::parse("").is_err());
        assert!(Email::parse(&format!("{}@tuki.cl", "a".repeat(250))).is_err());
    }
}
