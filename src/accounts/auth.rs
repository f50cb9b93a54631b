//! Buyer sessions for the frontends: JSON Web Tokens in djangorestframework-
//! simplejwt's shapes, signed (HS256) with `SECRET_KEY`.
//!
//! An access token lives 8 hours, a refresh token 30 days. Every refresh token
//! is a row (`refresh_tokens`, its `jti`): refreshing revokes it and issues a
//! new pair, and presenting a revoked one again revokes every refresh token of
//! that user (a stolen token that was already used is useless to both sides,
//! and the owner signs in again).

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::models::_entities::{refresh_tokens, users};

pub const ACCESS_LIFETIME: Duration = Duration::hours(8);
pub const REFRESH_LIFETIME: Duration = Duration::days(30);

/// simplejwt's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: Uuid,
    /// The user's credentials version when issued: a password change or a
    /// deactivation moves it on and every earlier token stops working.
    /// Tokens from before versions existed read as 0.
    #[serde(default)]
    pub ver: i32,
}

/// An access and a refresh token, as `/api/v1/auth/token/` answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}

fn sign(secret: &str, claims: &Claims) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// Checks signature, expiry and type.
#[must_use]
pub fn verify(secret: &str, token: &str, token_type: &str) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .ok()?;
    (data.claims.token_type == token_type).then_some(data.claims)
}

/// Issues a new pair for `user_id` and records the refresh token.
///
/// # Errors
/// The database error.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    user: &users::Model,
    now: DateTime<Utc>,
) -> Result<TokenPair, DbErr> {
    let user_id = user.id;
    let refresh_id = Uuid::new_v4();
    let refresh_exp = now + REFRESH_LIFETIME;
    refresh_tokens::ActiveModel {
        id: Set(refresh_id),
        user_id: Set(user_id),
        expires_at: Set(refresh_exp.fixed_offset()),
        revoked_at: Set(None),
        created_at: Set(now.fixed_offset()),
        updated_at: Set(now.fixed_offset()),
    }
    .insert(db)
    .await?;
    let access = Claims {
        token_type: "access".into(),
        exp: (now + ACCESS_LIFETIME).timestamp(),
        iat: now.timestamp(),
        jti: Uuid::new_v4().simple().to_string(),
        user_id,
        ver: user.auth_version,
    };
    let refresh = Claims {
        token_type: "refresh".into(),
        exp: refresh_exp.timestamp(),
        iat: now.timestamp(),
        jti: refresh_id.simple().to_string(),
        user_id,
        ver: user.auth_version,
    };
    Ok(TokenPair {
        access: sign(secret, &access),
        refresh: sign(secret, &refresh),
    })
}

/// What a refresh attempt came to.
#[derive(Debug)]
pub enum Refreshed {
    Pair(TokenPair),
    /// Bad signature, expired, unknown or already used.
    Invalid,
}

/// Rotates a refresh token: the old one is revoked in the same statement that
/// checks it, so two concurrent uses cannot both succeed.
///
/// # Errors
/// The database error.
pub async fn refresh<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Refreshed, DbErr> {
    let Some(claims) = verify(secret, token, "refresh") else {
        return Ok(Refreshed::Invalid);
    };
    let Ok(jti) = Uuid::parse_str(&claims.jti) else {
        return Ok(Refreshed::Invalid);
    };
    let revoked = refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            Expr::value(now.fixed_offset()),
        )
        .filter(refresh_tokens::Column::Id.eq(jti))
        .filter(refresh_tokens::Column::UserId.eq(claims.user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(now.fixed_offset()))
        .exec(db)
        .await?;
    if revoked.rows_affected == 0 {
        // A valid signature on a token already used: revoke the whole family.
        revoke_all(db, claims.user_id, now).await?;
        return Ok(Refreshed::Invalid);
    }
    // Only a live account, under the credentials it was issued with.
    let Some(user) = users::Entity::find_by_id(claims.user_id)
        .one(db)
        .await?
        .filter(|u| u.is_active && u.auth_version == claims.ver)
    else {
        return Ok(Refreshed::Invalid);
    };
    Ok(Refreshed::Pair(issue(db, secret, &user, now).await?))
}

/// Whether a refresh token is still good: signed, unexpired, neither used
/// nor revoked.
///
/// # Errors
/// The database error.
pub async fn refresh_is_live<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some((claims, jti)) =
        verify(secret, token, "refresh").and_then(|c| Uuid::parse_str(&c.jti).ok().map(|j| (c, j)))
    else {
        return Ok(false);
    };
    Ok(refresh_tokens::Entity::find_by_id(jti)
        .one(db)
        .await?
        .is_some_and(|t| {
            t.user_id == claims.user_id
                && t.revoked_at.is_none()
                && t.expires_at > now.fixed_offset()
        }))
}

/// Revokes one refresh token of `user_id` (sign-out); false when it was not
/// a live token of theirs.
///
/// # Errors
/// The database error.
pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    user_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(jti) = verify(secret, token, "refresh")
        .filter(|c| c.user_id == user_id)
        .and_then(|c| Uuid::parse_str(&c.jti).ok())
    else {
        return Ok(false);
    };
    Ok(refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            Expr::value(now.fixed_offset()),
        )
        .filter(refresh_tokens::Column::Id.eq(jti))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Revokes every live refresh token of a user (password change, reuse).
///
/// # Errors
/// The database error.
pub async fn revoke_all<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            Expr::value(now.fixed_offset()),
        )
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_the_key_and_type_they_were_made_with() {
        let now = Utc::now();
        let claims = Claims {
            token_type: "access".into(),
            exp: (now + ACCESS_LIFETIME).timestamp(),
            iat: now.timestamp(),
            jti: "j".into(),
            user_id: Uuid::new_v4(),
            ver: 0,
        };
        let token = sign("key-one", &claims);
        assert!(verify("key-one", &token, "access").is_some());
        assert!(verify("key-two", &token, "access").is_none());
        assert!(verify("key-one", &token, "refresh").is_none());
        let expired = Claims {
            exp: (now - Duration::seconds(1)).timestamp(),
            ..claims
        };
        assert!(verify("key-one", &sign("key-one", &expired), "access").is_none());
        assert!(verify("key-one", "not.a.token", "access").is_none());
    }
}
