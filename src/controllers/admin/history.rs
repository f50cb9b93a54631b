//! `GET /admin/{app}/{model}/{id}/history/`: who changed what, and when.

use axum::http::StatusCode;
use serde_json::json;

use super::page::{OnObject, View};
use crate::admin::{audit, error::AdminResult};

pub async fn history(on: OnObject<View>) -> AdminResult {
    let OnObject { page, m, row, .. } = on;
    let mut entries = audit::history(&page.ctx.db, m, row.id).await?;
    entries.reverse();
    Ok(page.render(
        "admin/history.html",
        json!({
            "model": { "verbose": m.verbose, "plural": m.plural, "url": m.url() },
            "object": { "id": row.id, "title": row.title(m), "url": format!("{}{}/change/", m.url(), row.id) },
            "entries": entries,
        }),
        StatusCode::OK,
    ))
}
