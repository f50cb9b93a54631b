//! `GET /admin/{app}/{model}/autocomplete/?term=…&page=N`: the objects of a
//! large model matching a search, for the search boxes of foreign keys and
//! changelist filters that point at it (Django's `autocomplete_fields`, same
//! answer: `{results: [{id, text}], pagination: {more}}`). Whoever may view
//! the model may search it; anyone else gets what the admin answers them.

use axum::{
    extract::RawQuery,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::page::{OnModel, View};
use crate::admin::{error::AdminResult, store};

/// Results per page.
const PER_PAGE: u64 = 20;
/// Longest search term taken (the rest is ignored).
const MAX_TERM: usize = 100;

pub async fn autocomplete(on: OnModel<View>, RawQuery(raw): RawQuery) -> AdminResult<Response> {
    let OnModel { page, m, .. } = on;
    if m.search.is_empty() {
        return Err(page.not_found("Este modelo no tiene búsqueda."));
    }
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let term: String = get("term")
        .unwrap_or("")
        .trim()
        .chars()
        .take(MAX_TERM)
        .collect();
    let number = get("page")
        .and_then(|p| p.parse::<u64>().ok())
        .filter(|p| (1..=1000).contains(p))
        .unwrap_or(1);
    let (found, more) =
        store::search_options(&page.ctx.db, m, &term, (number - 1) * PER_PAGE, PER_PAGE).await?;
    let results: Vec<_> = found
        .into_iter()
        .map(|(id, text)| json!({ "id": id, "text": text }))
        .collect();
    let mut res =
        axum::Json(json!({ "results": results, "pagination": { "more": more } })).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}
