//! The rows a changelist action works on, and the action every model has:
//! export to CSV (the listed columns, as the changelist shows them, with
//! each row's id; formulas neutralised as in the organizers' exports).

use axum::{
    http::{header, HeaderValue},
    response::IntoResponse,
};
use uuid::Uuid;

use super::{
    changelist::build_query,
    delete::NOTHING_CHOSEN,
    page::Page,
    widgets::{related_titles, shown},
};
use crate::{
    admin::{
        audit::{self, Change},
        error::AdminResult,
        form::FormData,
        site::ModelAdmin,
        store::{self, Row},
    },
    controllers::api::organizer_exports::csv_line,
};

/// The most rows an action takes when every listed row is chosen.
pub const CAP: u64 = 100_000;

/// The ticked rows, or with `select_across=1` every row the changelist's
/// address (`raw`) lists, in its order.
///
/// # Errors
/// Database errors.
pub async fn chosen(
    page: &Page,
    m: &'static ModelAdmin,
    raw: Option<&str>,
    input: &FormData,
) -> AdminResult<Vec<Row>> {
    if input.get("select_across") == Some("1") {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let (query, _, _) = build_query(&page.ctx, m, &params).await?;
        return Ok(store::list_all(&page.ctx.db, m, &query, CAP).await?);
    }
    let ids: Vec<Uuid> = input
        .all("_selected_action")
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    Ok(store::get_many(&page.ctx.db, m, &ids).await?)
}

/// `action=export_csv`: the chosen rows as a CSV download (a whole listing:
/// up to [`CAP`] rows), each written to its history.
///
/// # Errors
/// Database errors.
pub async fn csv(
    page: &Page,
    m: &'static ModelAdmin,
    raw: Option<&str>,
    input: &FormData,
) -> AdminResult {
    let rows = chosen(page, m, raw, input).await?;
    if rows.is_empty() {
        return Ok(page.redirect(&m.url(), NOTHING_CHOSEN));
    }
    let related = related_titles(&page.ctx, m, &rows).await?;
    let columns: Vec<_> = m.list.iter().filter_map(|name| m.field(name)).collect();
    let mut out = String::from("\u{feff}");
    let mut head = vec!["id".to_string()];
    head.extend(columns.iter().map(|f| f.label.to_string()));
    csv_line(&mut out, &head);
    for row in &rows {
        let mut cells = vec![row.id.to_string()];
        cells.extend(
            columns
                .iter()
                .map(|f| shown(f, &row.get(m, f.name), &related)),
        );
        csv_line(&mut out, &cells);
    }
    // Every exported object's history says so (a whole listing in a few
    // statements), and the log names who took a whole listing.
    if input.get("select_across") == Some("1") {
        tracing::info!(
            staff = %page.staff.user.email,
            model = m.name,
            rows = rows.len(),
            "admin export of a whole listing to CSV"
        );
    }
    let objects: Vec<(Uuid, String)> = rows.iter().map(|r| (r.id, r.title(m))).collect();
    audit::record_many(
        &page.ctx.db,
        &page.staff.user,
        m,
        &objects,
        Change::Changed,
        "Exportado a CSV.",
    )
    .await?;
    let file = format!(
        "{}-{}.csv",
        m.name,
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    let mut res = out.into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
