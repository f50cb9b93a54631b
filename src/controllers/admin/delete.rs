//! Deleting: one object (`/{id}/delete/`, a confirmation then the delete)
//! or the ticked rows of a list (the "delete selected" bulk action), each
//! listing what goes with it and refusing while something protects it.

use axum::{extract::RawQuery, http::StatusCode};
use serde_json::json;
use uuid::Uuid;

use super::{
    change::capitalize,
    export,
    page::{Delete, OnModel, OnObject, Page, Posted, View},
};
use crate::admin::{
    delete::{consequences, delete_rows},
    error::AdminResult,
    site::{Action, ModelAdmin},
    store::{self, Row},
};

/// The confirmation: each object with what goes with it and what protects
/// it (409 when the delete was refused).
async fn delete_page(
    page: &Page,
    m: &'static ModelAdmin,
    rows: &[Row],
    bulk: bool,
    status: StatusCode,
) -> AdminResult {
    let mut objects = Vec::new();
    let mut blocked = false;
    for r in rows {
        let (goes, blocks) = consequences(&page.ctx, m, &[r.id]).await?;
        blocked |= !blocks.is_empty();
        objects.push(json!({
            "id": r.id,
            "title": r.title(m),
            "url": format!("{}{}/change/", m.url(), r.id),
            "goes": goes,
            "blocks": blocks,
        }));
    }
    let first = rows.first().map(|r| r.id).unwrap_or_default();
    Ok(page.render(
        "admin/delete_confirmation.html",
        json!({
            "model": { "verbose": m.verbose, "plural": m.plural, "url": m.url(), "key": m.name, "the": m.the() },
            "objects": objects,
            "blocked": blocked,
            "bulk": bulk,
            "action": if bulk { m.url() } else { format!("{}{first}/delete/", m.url()) },
        }),
        status,
    ))
}

/// `GET /admin/{app}/{model}/{id}/delete/`: what goes with it, then confirm.
pub async fn delete_form(on: OnObject<Delete>) -> AdminResult {
    delete_page(&on.page, on.m, &[on.row], false, StatusCode::OK).await
}

/// `POST /admin/{app}/{model}/{id}/delete/`
pub async fn delete(Posted(on, _): Posted<OnObject<Delete>>) -> AdminResult {
    let OnObject { page, m, row, .. } = on;
    let rows = std::slice::from_ref(&row);
    if delete_rows(&page.ctx, page.editor(), m, rows)
        .await?
        .is_err()
    {
        return delete_page(&page, m, rows, false, StatusCode::CONFLICT).await;
    }
    let message = format!(
        "{} «{}» fue eliminad{} correctamente.",
        m.the(),
        row.title(m),
        if m.feminine { "a" } else { "o" }
    );
    Ok(page.redirect(&m.url(), &capitalize(&message)))
}

pub const NOTHING_CHOSEN: &str =
    "Debes seleccionar elementos para realizar acciones sobre ellos. No se modificó ningún elemento.";

/// `POST /admin/{app}/{model}/`: an action on the ticked rows (or, with
/// `select_across=1`, on every row the changelist's address lists): export
/// to CSV (whoever may view the model), the model's own actions (each its
/// permission), or delete (first a confirmation page, then with `post=yes`
/// the delete).
pub async fn bulk_action(
    RawQuery(raw): RawQuery,
    Posted(on, input): Posted<OnModel<View>>,
) -> AdminResult {
    let OnModel { page, m, .. } = on;
    let action = input.get("action").unwrap_or_default();
    if action == "export_csv" {
        return export::csv(&page, m, raw.as_deref(), &input).await;
    }
    if let Some(bulk) = m.bulk.iter().find(|b| b.name() == action) {
        if !bulk.allowed(page.editor()) {
            return Err(page.denied());
        }
        let rows = export::chosen(&page, m, raw.as_deref(), &input).await?;
        if rows.is_empty() {
            return Ok(page.redirect(&m.url(), NOTHING_CHOSEN));
        }
        let message = bulk.run(&page.ctx, m, page.editor(), &rows).await?;
        return Ok(page.redirect(&m.url(), &message));
    }
    if action != "delete_selected" {
        return Ok(page.redirect(&m.url(), "Elige una acción."));
    }
    if !page.staff.perms.can(m, Action::Delete) {
        return Err(page.denied());
    }
    let ids: Vec<Uuid> = input
        .all("_selected_action")
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    let rows = store::get_many(&page.ctx.db, m, &ids).await?;
    if rows.is_empty() {
        return Ok(page.redirect(&m.url(), NOTHING_CHOSEN));
    }
    if rows.iter().any(|r| m.hooks.protected(m, r, page.editor())) {
        return Err(page.denied());
    }
    if input.get("post") != Some("yes") {
        return delete_page(&page, m, &rows, true, StatusCode::OK).await;
    }
    if delete_rows(&page.ctx, page.editor(), m, &rows)
        .await?
        .is_err()
    {
        return delete_page(&page, m, &rows, true, StatusCode::CONFLICT).await;
    }
    let message = format!(
        "Se eliminaron {} {} correctamente.",
        rows.len(),
        m.plural.to_lowercase()
    );
    Ok(page.redirect(&m.url(), &message))
}
