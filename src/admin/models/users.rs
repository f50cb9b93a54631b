//! Users: the account fields, who may change whose account, and the
//! [`Accounts`] section of the form (a new user's password typed twice, the
//! permission grid for superusers, signing out a deactivated account).

use std::collections::HashSet;

use async_trait::async_trait;
use loco_rs::prelude::*;
use sea_orm::{DatabaseTransaction, DbErr, Value};
use serde_json::{json, Value as Json};

use crate::{
    admin::{
        audit,
        error::AdminResult,
        fields::{Cell, Field, Kind},
        hooks::{Checked, Editor, Extension, Hooks, Shown, Submitted, Written},
        site::{self, Action, Child, ModelAdmin, OnDelete, ID},
        store::Row,
    },
    models::users,
};

pub static USERS: ModelAdmin = ModelAdmin {
    app: "users",
    name: "user",
    table: "users",
    verbose: "Usuario",
    plural: "Usuarios",
    feminine: false,
    title: "email",
    fields: &[
        Field::new("email", "Correo electrónico", Kind::Email).unique(),
        Field::new("username", "Nombre de usuario", Kind::Text(150)).unique(),
        Field::new("first_name", "Nombre", Kind::Text(150)).blank(),
        Field::new("last_name", "Apellido", Kind::Text(150)).blank(),
        Field::new("is_active", "Activo", Kind::Bool)
            .default("on")
            .help("Desmárcalo en vez de eliminar la cuenta."),
        Field::new("is_staff", "Es staff", Kind::Bool)
            .help("Puede entrar a esta administración. Solo un superusuario lo cambia."),
        Field::new("is_superuser", "Es superusuario", Kind::Bool)
            .help("Tiene todos los permisos. Solo un superusuario lo cambia."),
        Field::new("is_organizer", "Es organizador", Kind::Bool),
        Field::new("is_validator", "Es validador", Kind::Bool)
            .help("Puede validar entradas en la puerta."),
        Field::new("last_login", "Último acceso", Kind::DateTime)
            .null()
            .readonly(),
        Field::new("date_joined", "Fecha de alta", Kind::DateTime).readonly(),
        ID,
    ],
    list: &[
        "email",
        "username",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
    ],
    search: &["email", "username", "first_name", "last_name"],
    filters: &["is_staff", "is_superuser", "is_active", "is_organizer"],
    ordering: "email",
    writable: true,
    children: &[
        Child {
            label: "Membresías de organizador",
            table: "organizer_members",
            fk: "user_id",
            title: "id",
            on_delete: OnDelete::Cascade,
        },
        Child {
            label: "Órdenes (se conservan sin usuario)",
            table: "orders",
            fk: "user_id",
            title: "order_number",
            on_delete: OnDelete::SetNull,
        },
    ],
    inline: None,
    hooks: &UserRules,
    extension: Some(&Accounts),
    actions: &[],
    large: true,
    date_hierarchy: None,
    bulk: &[],
};

/// Why a new password (typed twice) is refused, if it is.
#[must_use]
pub fn new_password_problem(first: &str, second: &str, email: &str) -> Option<String> {
    if first != second {
        return Some("Las dos contraseñas no coinciden.".to_string());
    }
    users::password_problem(first, email).map(str::to_string)
}

/// Only a superuser makes staff or superusers, or changes the account of one
/// (so staff with "change user" cannot take over an administrator's).
pub struct UserRules;

impl Hooks for UserRules {
    fn may_edit(&self, field: &Field, editor: Editor<'_>) -> bool {
        editor.perms.is_superuser() || !matches!(field.name, "is_staff" | "is_superuser")
    }

    fn protected(&self, m: &ModelAdmin, row: &Row, editor: Editor<'_>) -> bool {
        !editor.perms.is_superuser()
            && row.id != editor.user.id
            && (row.get(m, "is_staff") == Cell::Bool(true)
                || row.get(m, "is_superuser") == Cell::Bool(true))
    }
}

/// A user's password and permissions on their form.
pub struct Accounts;

#[async_trait]
impl Extension for Accounts {
    fn key(&self) -> &'static str {
        "user"
    }

    fn sets_passwords(&self) -> bool {
        true
    }

    async fn section(&self, ctx: &AppContext, shown: Shown<'_>) -> Result<Json> {
        let mut grid = Json::Null;
        if shown.editor.perms.is_superuser() {
            let granted: HashSet<String> = match shown.row {
                Some(r) => audit::granted(&ctx.db, r.id).await?,
                None => HashSet::new(),
            };
            grid = json!(site::MODELS.iter().map(|pm| json!({
                "model": pm.plural,
                "actions": Action::ALL.iter()
                    .filter(|a| pm.writable || **a == Action::View)
                    .map(|a| {
                        let code = pm.codename(*a);
                        json!({ "code": code, "label": a.label(), "checked": granted.contains(&code) })
                    }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>());
        }
        Ok(json!({
            "password_url": shown.row.filter(|_| shown.can_change).map(|r| format!("{}{}/password/", shown.m.url(), r.id)),
            "new": shown.row.is_none(),
            "perms": grid,
            "password_errors": shown.errors,
        }))
    }

    /// A new user's password, typed twice, hashed before the transaction.
    async fn check(&self, s: Submitted<'_>) -> AdminResult<Checked> {
        let mut checked = Checked::default();
        if s.row.is_some() {
            return Ok(checked);
        }
        let p1 = s.input.get("password1").unwrap_or("");
        let p2 = s.input.get("password2").unwrap_or("");
        let email = s.state.value("email").map_or("", Cell::as_str);
        match new_password_problem(p1, p2, email) {
            Some(problem) => checked.errors.push(problem),
            None => {
                let hash = crate::accounts::passwords::hash_async(p1).await?;
                checked
                    .columns
                    .push(("password", Value::String(Some(hash))));
            }
        }
        Ok(checked)
    }

    /// The permissions a superuser ticked; a deactivated account signed out
    /// everywhere, for good.
    async fn write(&self, txn: &DatabaseTransaction, w: Written<'_>) -> Result<Vec<String>, DbErr> {
        let mut messages = Vec::new();
        if w.editor.perms.is_superuser() {
            let valid: HashSet<String> = site::MODELS
                .iter()
                .flat_map(|pm| Action::ALL.iter().map(move |a| pm.codename(*a)))
                .collect();
            let wanted: HashSet<String> = w
                .input
                .all("perm")
                .filter(|p| valid.contains(*p))
                .map(str::to_string)
                .collect();
            let before = match w.before {
                Some(r) => audit::granted(txn, r.id).await?,
                None => HashSet::new(),
            };
            if before != wanted {
                audit::set_granted(txn, w.id, &wanted).await?;
                messages.push("Modificado permisos.".to_string());
            }
        }
        if w.before.is_some() {
            let inactive = users::Entity::find_by_id(w.id)
                .one(txn)
                .await?
                .is_some_and(|u| !u.is_active);
            if inactive {
                users::bump_auth_version(txn, w.id).await?;
                crate::accounts::auth::revoke_all(txn, w.id, chrono::Utc::now()).await?;
            }
        }
        Ok(messages)
    }
}
