//! `POST /admin/{app}/{model}/{id}/{action}/`: a button of the object's
//! page declared as one of its model's actions (an order's refund), run and
//! back to the object with what happened.

use axum::extract::Path;
use serde::Deserialize;

use super::page::{OnObject, Posted, View};
use crate::admin::{error::AdminResult, hooks::Run};

#[derive(Deserialize)]
pub struct ActionUrl {
    action: String,
}

pub async fn run(
    Path(url): Path<ActionUrl>,
    Posted(on, input): Posted<OnObject<View>>,
) -> AdminResult {
    let OnObject { page, m, row, .. } = on;
    let Some(action) = m.action(&url.action) else {
        return Err(page.not_found("Esta página no existe."));
    };
    if !action.allowed(page.editor()) {
        return Err(page.denied());
    }
    let run = Run {
        m,
        row: &row,
        input: &input,
        editor: page.editor(),
    };
    let message = action.run(&page.ctx, run).await?;
    Ok(page.redirect(&format!("{}{}/change/", m.url(), row.id), &message))
}
