//! Webpay's credentials, for superusers (backtuki kept them in its
//! database): the commerce code in the open, the API key written once and
//! then shown only as its last four characters, sealed under a key derived
//! from `SECRET_KEY` (`payments::credentials`). When the environment sets
//! `TRANSBANK_COMMERCE_CODE` and `TRANSBANK_API_KEY` (or the sandbox), those
//! win and the page says so. Every save is in the object's history.

use async_trait::async_trait;
use loco_rs::prelude::*;
use sea_orm::{DatabaseTransaction, DbErr, Statement};
use serde_json::{json, Value as Json};

use crate::{
    admin::{
        error::AdminResult,
        fields::{Field, Kind},
        form::FormState,
        hooks::{Checked, Editor, Extension, Hooks, Shown, Submitted, Written},
        site::{ModelAdmin, CREATED, ID, UPDATED},
        store::Row,
    },
    payments::credentials,
};

pub static WEBPAY: ModelAdmin = ModelAdmin {
    app: "payments",
    name: "webpaysettings",
    table: "payment_settings",
    verbose: "Credencial de Webpay",
    plural: "Credenciales de Webpay",
    feminine: true,
    title: "commerce_code",
    fields: &[
        Field::new("commerce_code", "Código de comercio", Kind::Text(20))
            .help("El código de comercio de Webpay Plus que entrega Transbank (solo dígitos)."),
        Field::new("api_key_hint", "Llave secreta (API key)", Kind::Text(12))
            .blank()
            .readonly(),
        CREATED,
        UPDATED,
        ID,
    ],
    list: &["commerce_code", "api_key_hint", "updated_at"],
    search: &[],
    filters: &[],
    ordering: "updated_at",
    writable: true,
    children: &[],
    inline: None,
    hooks: &WebpayRules,
    extension: Some(&WebpayKey),
    actions: &[],
    large: false,
    date_hierarchy: None,
    bulk: &[],
};

/// Superusers only; a commerce code is digits.
pub struct WebpayRules;

impl Hooks for WebpayRules {
    fn clean(&self, _m: &ModelAdmin, form: &mut FormState, _existing: Option<&Row>) {
        let code = form
            .value("commerce_code")
            .map(|c| c.as_str().trim().to_string())
            .unwrap_or_default();
        if !code.is_empty() && (code.len() < 8 || !code.chars().all(|c| c.is_ascii_digit())) {
            form.error(
                "commerce_code",
                "Un código de comercio son de 8 a 20 dígitos.",
            );
        }
    }

    fn may_edit(&self, _field: &Field, editor: Editor<'_>) -> bool {
        editor.perms.is_superuser()
    }

    fn protected(&self, _m: &ModelAdmin, _row: &Row, editor: Editor<'_>) -> bool {
        !editor.perms.is_superuser()
    }
}

/// The API key's own input: write-only, sealed before it is stored.
pub struct WebpayKey;

/// The key as typed: no spaces, at most 200 characters.
fn typed_key(s: &Submitted<'_>) -> Result<Option<String>, String> {
    let key = s.input.get("api_key").unwrap_or("").trim();
    if key.is_empty() {
        return Ok(None);
    }
    if key.len() > 200 || key.chars().any(char::is_whitespace) {
        return Err("La llave secreta no puede tener espacios ni más de 200 caracteres.".into());
    }
    Ok(Some(key.to_string()))
}

#[async_trait]
impl Extension for WebpayKey {
    fn key(&self) -> &'static str {
        "webpay"
    }

    async fn section(&self, ctx: &AppContext, shown: Shown<'_>) -> Result<Json> {
        let gateway = crate::platform::context::gateway(ctx)?;
        let unreadable = shown.row.is_some() && gateway.stored_unreadable(&ctx.db).await?;
        Ok(json!({
            "new": shown.row.is_none(),
            "unreadable": unreadable,
            "editable": shown.can_change && shown.editor.perms.is_superuser(),
            "environment_wins": gateway.from_environment(),
            "errors": shown.errors,
        }))
    }

    async fn check(&self, s: Submitted<'_>) -> AdminResult<Checked> {
        let mut checked = Checked::default();
        if !s.editor.perms.is_superuser() {
            checked
                .errors
                .push("Solo un superusuario puede guardar las credenciales de Webpay.".into());
            return Ok(checked);
        }
        match typed_key(&s) {
            Err(problem) => checked.errors.push(problem),
            Ok(None) if s.row.is_none() => checked
                .errors
                .push("Escribe la llave secreta (API key) de Webpay.".into()),
            Ok(_) => {}
        }
        if s.row.is_none() {
            // One set of credentials: the second is a change of the first.
            let db = &s.ctx.db;
            let backend = db.get_database_backend();
            let existing = db
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT id FROM payment_settings",
                ))
                .await?;
            if existing.is_some() {
                checked.errors.push(
                    "Ya hay credenciales de Webpay guardadas: modifícalas en vez de añadir otras."
                        .into(),
                );
            }
        }
        Ok(checked)
    }

    /// The typed key, sealed, and its hint; the history says it changed
    /// (never what it is).
    async fn write(&self, txn: &DatabaseTransaction, w: Written<'_>) -> Result<Vec<String>, DbErr> {
        let key = w.input.get("api_key").unwrap_or("").trim();
        if key.is_empty() {
            return Ok(Vec::new());
        }
        let settings =
            crate::platform::context::settings(w.ctx).map_err(|e| DbErr::Custom(e.to_string()))?;
        let sealed = credentials::seal(&settings.secret_key, key)
            .ok_or_else(|| DbErr::Custom("the Webpay key could not be sealed".into()))?;
        txn.execute_raw(crate::models::sql::statement(
            txn.get_database_backend(),
            "UPDATE payment_settings SET api_key_sealed = $1, api_key_hint = $2 WHERE id = $3",
            [sealed.into(), credentials::hint(key).into(), w.id.into()],
        ))
        .await?;
        Ok(vec!["Cambiada la llave secreta (API key).".into()])
    }
}
