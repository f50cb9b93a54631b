//! One-time codes sent by email (six digits): what signs a buyer in without
//! a password, lets a guest reach their tickets, and resets a password.
//!
//! A code is stored only as an HMAC of the purpose, the email and the code
//! under the app's secret, so the table alone does not give a code away.
//! Issuing one supersedes the email's live code for that purpose. Checking
//! one counts the attempt in its row first (one guarded `UPDATE`: a burst
//! from any number of instances gets exactly `max_attempts` tries), then
//! uses it up once (another guarded `UPDATE`).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub use super::_entities::one_time_codes::{self, ActiveModel, Column, Entity, Model};
use crate::platform::tokens::hmac_sha256_hex;

/// What a code is for (backtuki's `purpose` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    EventCreation,
    Login,
    TicketAccess,
    PasswordReset,
    EmailVerification,
    AccountCreation,
}

impl Purpose {
    pub const ALL: [Self; 6] = [
        Self::EventCreation,
        Self::Login,
        Self::TicketAccess,
        Self::PasswordReset,
        Self::EmailVerification,
        Self::AccountCreation,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EventCreation => "event_creation",
            Self::Login => "login",
            Self::TicketAccess => "ticket_access",
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::AccountCreation => "account_creation",
        }
    }

    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// How long a code lives, in minutes.
    #[must_use]
    pub const fn minutes(self) -> i64 {
        match self {
            Self::EventCreation | Self::AccountCreation => 15,
            Self::Login | Self::TicketAccess => 10,
            Self::PasswordReset => 30,
            Self::EmailVerification => 60,
        }
    }

    /// How many times a code may be tried.
    #[must_use]
    pub const fn max_attempts(self) -> i32 {
        match self {
            Self::Login => 3,
            _ => 5,
        }
    }

    /// The mail's subject.
    #[must_use]
    pub const fn subject(self) -> &'static str {
        match self {
            Self::EventCreation => "Código para crear tu evento - Tuki",
            Self::Login => "Código de acceso - Tuki",
            Self::TicketAccess => "Accede a tus tickets - Tuki",
            Self::PasswordReset => "Recupera tu contraseña - Tuki",
            Self::EmailVerification => "Verifica tu email - Tuki",
            Self::AccountCreation => "Completa tu registro - Tuki",
        }
    }
}

/// What checking a code came to (backtuki's messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Right, and now used up.
    Valid(Box<Model>),
    NoActive,
    TooManyAttempts,
    AlreadyUsed,
    Expired,
    Invalid,
}

impl Checked {
    /// The message the frontends show for a refused code.
    #[must_use]
    pub const fn message(&self) -> &'static str {
        match self {
            Self::Valid(_) => "Código válido",
            Self::NoActive => "No hay código activo para este email",
            Self::TooManyAttempts => "Demasiados intentos. Solicita un nuevo código.",
            Self::AlreadyUsed => "Código ya utilizado",
            Self::Expired => "Código expirado",
            Self::Invalid => "Código inválido",
        }
    }
}

fn hash(secret: &str, purpose: Purpose, email: &str, code: &str) -> String {
    hmac_sha256_hex(secret, &format!("otp:{}:{email}:{code}", purpose.as_str()))
}

/// Six random decimal digits.
#[must_use]
pub fn new_code() -> String {
    let mut rng = rand::rng();
    (0..6)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// Codes issued to `email` since `since`, any purpose (what limits sending).
///
/// # Errors
/// The database error.
pub async fn issued_since<C: ConnectionTrait>(
    db: &C,
    email: &str,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::Email.eq(email))
        .filter(Column::CreatedAt.gt(since.fixed_offset()))
        .count(db)
        .await
}

/// Issues a new code for `email` (lower case) and `purpose`, superseding the
/// live one; returns the row and the code, which only the mail carries.
///
/// # Errors
/// The database error.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    email: &str,
    purpose: Purpose,
    user_id: Option<Uuid>,
    metadata: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(Model, String), DbErr> {
    let nowf = now.fixed_offset();
    Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(nowf))
        .filter(Column::Email.eq(email))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let code = new_code();
    let row = ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set(email.to_string()),
        purpose: Set(purpose.as_str().to_string()),
        code_hash: Set(hash(secret, purpose, email, &code)),
        user_id: Set(user_id),
        attempts: Set(0),
        max_attempts: Set(purpose.max_attempts()),
        metadata: Set(metadata.to_string()),
        expires_at: Set((now + Duration::minutes(purpose.minutes())).fixed_offset()),
        used_at: Set(None),
        created_at: Set(nowf),
    }
    .insert(db)
    .await?;
    Ok((row, code))
}

/// The live code of `email` for `purpose`, if any.
///
/// # Errors
/// The database error.
pub async fn live<C: ConnectionTrait>(
    db: &C,
    email: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::Email.eq(email))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::UsedAt.is_null())
        .filter(Column::ExpiresAt.gt(now.fixed_offset()))
        .order_by_desc(Column::CreatedAt)
        .one(db)
        .await
}

/// Checks `code` against the live code of `email` for `purpose`, counting
/// the attempt first; a right code is used up.
///
/// # Errors
/// The database error.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    email: &str,
    purpose: Purpose,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Checked, DbErr> {
    let nowf = now.fixed_offset();
    let Some(active) = live(db, email, purpose, now).await? else {
        return Ok(Checked::NoActive);
    };
    let counted = Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(active.id))
        .filter(Column::UsedAt.is_null())
        .filter(Expr::col(Column::Attempts).lt(Expr::col(Column::MaxAttempts)))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !counted {
        Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(nowf))
            .filter(Column::Id.eq(active.id))
            .filter(Column::UsedAt.is_null())
            .exec(db)
            .await?;
        return Ok(Checked::TooManyAttempts);
    }
    let given = hash(secret, purpose, email, code);
    if bool::from(given.as_bytes().ct_eq(active.code_hash.as_bytes())) {
        let used = Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(nowf))
            .filter(Column::Id.eq(active.id))
            .filter(Column::UsedAt.is_null())
            .exec(db)
            .await?
            .rows_affected
            == 1;
        return Ok(if used {
            Checked::Valid(Box::new(active))
        } else {
            Checked::AlreadyUsed
        });
    }
    // The code of an earlier row: say what became of it.
    let earlier = Entity::find()
        .filter(Column::Email.eq(email))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::CodeHash.eq(given))
        .order_by_desc(Column::CreatedAt)
        .one(db)
        .await?;
    Ok(match earlier {
        Some(row) if row.used_at.is_some() => Checked::AlreadyUsed,
        Some(row) if row.expires_at <= nowf => Checked::Expired,
        _ => Checked::Invalid,
    })
}

/// Deletes codes expired more than a day ago.
///
/// # Errors
/// The database error.
pub async fn sweep<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lt((now - Duration::days(1)).fixed_offset()))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_purposes_round_trip() {
        for _ in 0..100 {
            let c = new_code();
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|d| d.is_ascii_digit()));
        }
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("nope"), None);
        assert_eq!(Purpose::Login.max_attempts(), 3);
    }

    #[test]
    fn the_stored_hash_depends_on_secret_email_purpose_and_code() {
        let a = hash("s", Purpose::Login, "a@x.cl", "123456");
        assert_ne!(a, hash("t", Purpose::Login, "a@x.cl", "123456"));
        assert_ne!(a, hash("s", Purpose::TicketAccess, "a@x.cl", "123456"));
        assert_ne!(a, hash("s", Purpose::Login, "b@x.cl", "123456"));
        assert_ne!(a, hash("s", Purpose::Login, "a@x.cl", "123457"));
        assert!(!a.contains("123456"));
    }
}
