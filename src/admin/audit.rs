//! Who may do what in the admin, and the log of what was done (Django's
//! `auth_permission` grants and `django_admin_log`).

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Order, Query},
    ConnectionTrait, DbErr, Value,
};
use uuid::Uuid;

use super::site::{Action, ModelAdmin};
use crate::models::users;

/// The three kinds of log entry, as Django numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added = 1,
    Changed = 2,
    Deleted = 3,
}

/// What a staff user may do.
#[derive(Debug, Clone)]
pub struct Perms {
    superuser: bool,
    granted: HashSet<String>,
}

impl Perms {
    /// A user's grants (a superuser has them all).
    ///
    /// # Errors
    /// Database errors.
    pub async fn load<C: ConnectionTrait>(db: &C, user: &users::Model) -> Result<Self, DbErr> {
        if user.is_superuser {
            return Ok(Self {
                superuser: true,
                granted: HashSet::new(),
            });
        }
        Ok(Self {
            superuser: false,
            granted: granted(db, user.id).await?,
        })
    }

    #[must_use]
    pub fn can(&self, m: &ModelAdmin, action: Action) -> bool {
        if self.superuser {
            return m.writable || action == Action::View;
        }
        if !m.writable && action != Action::View {
            return false;
        }
        // As Django: whoever may change may also view.
        self.granted.contains(&m.codename(action))
            || (action == Action::View && self.granted.contains(&m.codename(Action::Change)))
    }

    #[must_use]
    pub const fn is_superuser(&self) -> bool {
        self.superuser
    }
}

/// The codenames granted to a user.
///
/// # Errors
/// Database errors.
pub async fn granted<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<HashSet<String>, DbErr> {
    let mut q = Query::select();
    q.from(Alias::new("admin_permissions"))
        .column(Alias::new("codename"))
        .and_where(Expr::col(Alias::new("user_id")).eq(user_id));
    Ok(db
        .query_all(&q)
        .await?
        .iter()
        .filter_map(|r| r.try_get::<String>("", "codename").ok())
        .collect())
}

/// Replaces a user's grants.
///
/// # Errors
/// Database errors.
pub async fn set_granted<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    codenames: &HashSet<String>,
) -> Result<(), DbErr> {
    let mut del = Query::delete();
    del.from_table(Alias::new("admin_permissions"))
        .and_where(Expr::col(Alias::new("user_id")).eq(user_id));
    db.execute(&del).await?;
    if codenames.is_empty() {
        return Ok(());
    }
    let mut ins = Query::insert();
    ins.into_table(Alias::new("admin_permissions"))
        .columns([Alias::new("user_id"), Alias::new("codename")]);
    let mut sorted: Vec<&String> = codenames.iter().collect();
    sorted.sort();
    for c in sorted {
        ins.values([Expr::val(user_id), Expr::val(c.clone())])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    db.execute(&ins).await?;
    Ok(())
}

/// One line of the admin log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    pub time: String,
    pub user: String,
    pub model: String,
    pub object_id: String,
    pub object: String,
    pub action: i16,
    pub message: String,
}

/// Writes a log line.
///
/// # Errors
/// Database errors.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    user: &users::Model,
    m: &ModelAdmin,
    object_id: Uuid,
    object: &str,
    change: Change,
    message: &str,
) -> Result<(), DbErr> {
    record_many(
        db,
        user,
        m,
        &[(object_id, object.to_string())],
        change,
        message,
    )
    .await
}

/// Writes the same log line for many objects, a few hundred per statement
/// (a whole listing exported).
///
/// # Errors
/// Database errors.
pub async fn record_many<C: ConnectionTrait>(
    db: &C,
    user: &users::Model,
    m: &ModelAdmin,
    objects: &[(Uuid, String)],
    change: Change,
    message: &str,
) -> Result<(), DbErr> {
    let now = Utc::now().fixed_offset();
    for chunk in objects.chunks(500) {
        let mut q = Query::insert();
        q.into_table(Alias::new("admin_log")).columns(
            [
                "id",
                "action_time",
                "user_id",
                "user_email",
                "model",
                "object_id",
                "object_repr",
                "action",
                "message",
            ]
            .map(Alias::new),
        );
        for (id, repr) in chunk {
            q.values([
                Expr::val(Uuid::new_v4()),
                Expr::val(Value::ChronoDateTimeWithTimeZone(Some(now))),
                Expr::val(user.id),
                Expr::val(user.email.clone()),
                Expr::val(m.name),
                Expr::val(id.to_string()),
                Expr::val(repr.chars().take(200).collect::<String>()),
                Expr::val(change as i16),
                Expr::val(message),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        db.execute(&q).await?;
    }
    Ok(())
}

async fn entries<C: ConnectionTrait>(
    db: &C,
    filter: impl FnOnce(&mut sea_orm::sea_query::SelectStatement),
    limit: u64,
) -> Result<Vec<Entry>, DbErr> {
    let mut q = Query::select();
    q.from(Alias::new("admin_log")).columns(
        [
            "action_time",
            "user_email",
            "model",
            "object_id",
            "object_repr",
            "action",
            "message",
        ]
        .map(Alias::new),
    );
    filter(&mut q);
    q.order_by(Alias::new("action_time"), Order::Desc)
        .limit(limit);
    Ok(db
        .query_all(&q)
        .await?
        .iter()
        .map(|r| Entry {
            time: r
                .try_get::<DateTime<FixedOffset>>("", "action_time")
                .map(super::fields::local_display)
                .unwrap_or_default(),
            user: r.try_get("", "user_email").unwrap_or_default(),
            model: r.try_get("", "model").unwrap_or_default(),
            object_id: r.try_get("", "object_id").unwrap_or_default(),
            object: r.try_get("", "object_repr").unwrap_or_default(),
            action: r.try_get("", "action").unwrap_or_default(),
            message: r.try_get("", "message").unwrap_or_default(),
        })
        .collect())
}

/// An object's history, newest first.
///
/// # Errors
/// Database errors.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    m: &ModelAdmin,
    id: Uuid,
) -> Result<Vec<Entry>, DbErr> {
    entries(
        db,
        |q| {
            q.and_where(Expr::col(Alias::new("model")).eq(m.name))
                .and_where(Expr::col(Alias::new("object_id")).eq(id.to_string()));
        },
        500,
    )
    .await
}

/// A user's latest actions (the index's "Mis acciones").
///
/// # Errors
/// Database errors.
pub async fn recent<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Vec<Entry>, DbErr> {
    entries(
        db,
        |q| {
            q.and_where(Expr::col(Alias::new("user_id")).eq(user_id));
        },
        10,
    )
    .await
}
