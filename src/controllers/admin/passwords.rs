//! `/admin/{app}/{model}/{id}/password/`: an administrator sets a user's
//! password (never shown, only replaced), on models whose extension has
//! passwords; the user's API sessions end.

use axum::http::StatusCode;
use loco_rs::prelude::*;
use serde_json::json;

use super::{
    page::{Change, OnObject, Posted},
    password_page, PasswordForm,
};
use crate::{
    admin::{
        audit::{self, Change as Logged},
        error::AdminResult,
        models::users::new_password_problem,
    },
    models::users,
};

/// The object of a password URL: a user the editor may change.
fn account(on: &OnObject<Change>) -> AdminResult<PasswordForm> {
    if !on.m.extension.is_some_and(|e| e.sets_passwords()) {
        return Err(on.page.not_found("Esta página no existe."));
    }
    let (m, row) = (on.m, &on.row);
    Ok(PasswordForm {
        title: format!("Cambiar la contraseña de {}", row.title(m)),
        own: false,
        action: format!("{}{}/password/", m.url(), row.id),
        back: format!("{}{}/change/", m.url(), row.id),
    })
}

/// `GET /admin/users/user/{id}/password/`
pub async fn password_form(on: OnObject<Change>) -> AdminResult {
    let form = account(&on)?;
    let p = &on.page;
    Ok(password_page(
        &p.v,
        &p.staff,
        &p.jar,
        &form,
        &json!({}),
        StatusCode::OK,
    ))
}

/// `POST /admin/users/user/{id}/password/`: the new password, typed twice.
pub async fn password(Posted(on, input): Posted<OnObject<Change>>) -> AdminResult {
    let form = account(&on)?;
    let OnObject { page, m, row, .. } = on;
    let email = row.get(m, "email").as_str().to_string();
    let p1 = input.get("new_password1").unwrap_or("");
    let p2 = input.get("new_password2").unwrap_or("");
    if let Some(problem) = new_password_problem(p1, p2, &email) {
        let errors = json!({ "new_password2": problem });
        let status = StatusCode::BAD_REQUEST;
        return Ok(password_page(
            &page.v,
            &page.staff,
            &page.jar,
            &form,
            &errors,
            status,
        ));
    }
    let Some(user) = users::Entity::find_by_id(row.id).one(&page.ctx.db).await? else {
        return Err(page.not_found("El usuario ya no existe."));
    };
    let active: users::ActiveModel = user.into();
    active.set_password(&page.ctx.db, p1).await?;
    crate::accounts::auth::revoke_all(&page.ctx.db, row.id, chrono::Utc::now()).await?;
    let title = row.title(m);
    let editor = page.editor();
    audit::record(
        &page.ctx.db,
        editor.user,
        m,
        row.id,
        &title,
        Logged::Changed,
        "Contraseña cambiada.",
    )
    .await?;
    Ok(page.redirect(&form.back, "La contraseña fue cambiada correctamente."))
}
