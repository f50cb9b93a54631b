//! Server-side sessions for the admin: in Redis when `USE_REDIS=true`, else in
//! the database's cache table (as Django's cache-backed sessions). The cookie
//! holds only a random token; the store keys it by its SHA-256, so a leaked
//! store does not leak live cookies. Sessions last 24 hours, survive restarts
//! and work on every instance.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::models::{_entities::users, cache_entries};

pub const COOKIE: &str = "tuki_session";
pub const AGE: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user_id: Uuid,
    /// The CSRF token of this session's forms.
    pub csrf: String,
    /// The user's credentials version at sign-in (see `users::bump_auth_version`).
    #[serde(default)]
    pub ver: i32,
}

pub enum SessionStore {
    Redis(std::sync::Arc<crate::platform::redis_conn::RedisConn>),
    Database(DatabaseConnection),
}

fn key(token: &str) -> String {
    format!("session:{}", crate::platform::tokens::sha256_hex(token))
}

impl SessionStore {
    /// Starts a new session (a new token: the id rotates at every sign-in).
    ///
    /// # Errors
    /// The store cannot be written.
    pub async fn create(&self, user: &users::Model) -> Result<(String, Session), String> {
        let token = crate::platform::tokens::random_urlsafe(32);
        let session = Session {
            user_id: user.id,
            csrf: crate::platform::tokens::random_urlsafe(24),
            ver: user.auth_version,
        };
        let value = serde_json::to_vec(&session).map_err(|e| e.to_string())?;
        match self {
            Self::Redis(redis) => {
                let mut conn = redis.get().await.ok_or("redis unavailable")?;
                redis::cmd("SET")
                    .arg(key(&token))
                    .arg(value)
                    .arg("EX")
                    .arg(AGE.as_secs())
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Self::Database(db) => {
                let expires = Utc::now() + chrono::Duration::from_std(AGE).unwrap_or_default();
                cache_entries::put(db, key(&token), value, expires)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok((token, session))
    }

    /// The live session of a cookie token, if any.
    pub async fn get(&self, token: &str) -> Option<Session> {
        let raw: Option<Vec<u8>> = match self {
            Self::Redis(redis) => {
                let mut conn = redis.get().await?;
                redis::cmd("GET")
                    .arg(key(token))
                    .query_async(&mut conn)
                    .await
                    .ok()?
            }
            Self::Database(db) => cache_entries::Entity::find_by_id(key(token))
                .filter(cache_entries::Column::ExpiresAt.gt(Utc::now()))
                .one(db)
                .await
                .ok()?
                .map(|row| row.value),
        };
        serde_json::from_slice(&raw?).ok()
    }

    /// Ends a session (sign-out).
    pub async fn delete(&self, token: &str) {
        match self {
            Self::Redis(redis) => {
                if let Some(mut conn) = redis.get().await {
                    let _: redis::RedisResult<()> = redis::cmd("DEL")
                        .arg(key(token))
                        .query_async(&mut conn)
                        .await;
                }
            }
            Self::Database(db) => {
                let _ = cache_entries::Entity::delete_by_id(key(token))
                    .exec(db)
                    .await;
            }
        }
    }
}
