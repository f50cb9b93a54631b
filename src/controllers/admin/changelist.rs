//! `GET /admin/{app}/{model}/`: the list of a model's objects, with search,
//! filters, sorting and pages of 100 (the bulk delete posts back here, see
//! `delete`).

use axum::{extract::RawQuery, http::StatusCode};
use serde_json::{json, Value as Json};

use super::{
    page::{OnModel, View},
    widgets::{related_titles, shown},
};
use crate::admin::{
    error::AdminResult,
    fields::{self, Cell, Kind},
    site::{self, Action},
    store::{self, ListQuery, PER_PAGE},
};

/// `?a=1&b=2` with some keys replaced (`None` removes one).
fn query_with(params: &[(String, String)], set: &[(&str, Option<String>)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if set.iter().all(|(s, _)| s != k) {
            out.append_pair(k, v);
        }
    }
    for (k, v) in set {
        if let Some(v) = v {
            out.append_pair(k, v);
        }
    }
    let s = out.finish();
    if s.is_empty() {
        "?".to_string()
    } else {
        format!("?{s}")
    }
}

/// `GET /admin/{app}/{model}/`: search (`q`), filters, sorting (`o`), pages
/// of 100 (`p`), and the bulk delete.
pub async fn changelist(on: OnModel<View>, RawQuery(raw): RawQuery) -> AdminResult {
    let OnModel { page, m, .. } = on;
    let ctx = &page.ctx;
    let staff = &page.staff;
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let q = param("q").unwrap_or("").trim().to_string();
    let mut query = ListQuery {
        search: q.split_whitespace().map(str::to_string).collect(),
        ..ListQuery::default()
    };
    let mut bad_filter = false;
    for name in m.filters {
        if let (Some(raw), Some(field)) = (param(name), m.field(name)) {
            let parsed = if field.kind == Kind::Bool {
                match raw {
                    "1" => Ok(Cell::Bool(true)),
                    "0" => Ok(Cell::Bool(false)),
                    _ => Err(String::new()),
                }
            } else {
                fields::parse(field, Some(raw))
            };
            match parsed {
                Ok(cell) => query.filters.push((field, cell)),
                Err(_) => bad_filter = true,
            }
        }
    }
    if let Some(o) = param("o") {
        let (name, desc) = o.strip_prefix('-').map_or((o, false), |n| (n, true));
        if m.list.contains(&name) {
            query.order = m.field(name).map(|f| (f, desc));
        }
    }
    query.page = param("p").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let (mut rows, mut count) = store::list(&ctx.db, m, &query).await?;
    let pages = count.div_ceil(PER_PAGE).max(1);
    if query.page > pages {
        query.page = pages;
        (rows, count) = store::list(&ctx.db, m, &query).await?;
    }
    let filtered = !query.search.is_empty() || !query.filters.is_empty();
    let total = if filtered {
        store::count(&ctx.db, m, &ListQuery::default()).await?
    } else {
        count
    };
    let related = related_titles(ctx, m, &rows).await?;
    let can_change = staff.perms.can(m, Action::Change);
    let columns: Vec<Json> = m
        .list
        .iter()
        .filter_map(|name| m.field(name))
        .map(|f| {
            let (current, desc) = match query.order {
                Some((of, d)) if of.name == f.name => (true, d),
                _ => (false, false),
            };
            let next = if current && !desc {
                format!("-{}", f.name)
            } else {
                f.name.to_string()
            };
            json!({
                "label": f.label,
                "url": query_with(&params, &[("o", Some(next)), ("p", None)]),
                "sorted": if current { if desc { "desc" } else { "asc" } } else { "" },
            })
        })
        .collect();
    let body: Vec<Json> = rows
        .iter()
        .map(|row| {
            let cells: Vec<Json> = m
                .list
                .iter()
                .filter_map(|name| m.field(name))
                .map(|f| {
                    let cell = row.get(m, f.name);
                    json!({
                        "text": shown(f, &cell, &related),
                        "bool": if f.kind == Kind::Bool { Some(cell == Cell::Bool(true)) } else { None },
                    })
                })
                .collect();
            json!({
                "id": row.id,
                "url": format!("{}{}/change/", m.url(), row.id),
                "cells": cells,
            })
        })
        .collect();
    let mut filters = Vec::new();
    for name in m.filters {
        let Some(f) = m.field(name) else { continue };
        let current = param(name);
        let mut options = vec![json!({
            "label": "Todos",
            "url": query_with(&params, &[(name, None), ("p", None)]),
            "selected": current.is_none(),
        })];
        let choices: Vec<(String, String)> = match f.kind {
            Kind::Bool => vec![("1".into(), "Sí".into()), ("0".into(), "No".into())],
            Kind::Choice(cs) => cs
                .iter()
                .map(|(v, l)| ((*v).to_string(), (*l).to_string()))
                .collect(),
            Kind::Fk(target) => match site::by_name(target) {
                Some(tm) if tm.large => {
                    // A search box, not a list of every object: the one
                    // chosen (if any) and the endpoint that finds others.
                    let chosen = match current.and_then(|c| uuid::Uuid::parse_str(c).ok()) {
                        Some(id) => store::titles(&ctx.db, tm, &[id])
                            .await?
                            .into_iter()
                            .next()
                            .map(|(id, t)| json!({ "value": id, "label": t })),
                        None => None,
                    };
                    filters.push(json!({
                        "label": f.label,
                        "autocomplete": format!("{}autocomplete/", tm.url()),
                        "name": name,
                        "chosen": chosen,
                        "all_url": query_with(&params, &[(name, None), ("p", None)]),
                        "hidden": params.iter().filter(|(k, _)| k != name && k != "p").map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
                    }));
                    continue;
                }
                Some(tm) => store::options(&ctx.db, tm, 50)
                    .await?
                    .into_iter()
                    .map(|(id, t)| (id.to_string(), t))
                    .collect(),
                None => Vec::new(),
            },
            _ => {
                // Distinct values of a text column (a city, say).
                store::distinct(&ctx.db, m, name, 50)
                    .await?
                    .into_iter()
                    .map(|v| (v.clone(), v))
                    .collect()
            }
        };
        for (value, label) in choices {
            options.push(json!({
                "label": label,
                "url": query_with(&params, &[(name, Some(value.clone())), ("p", None)]),
                "selected": current == Some(value.as_str()),
            }));
        }
        filters.push(json!({ "label": f.label, "options": options }));
    }
    let page_links: Vec<Json> = (1..=pages)
        .filter(|p| pages <= 12 || *p <= 2 || *p + 2 > pages || p.abs_diff(query.page) <= 2)
        .map(|p| json!({ "n": p, "url": query_with(&params, &[("p", Some(p.to_string()))]), "current": p == query.page }))
        .collect();
    Ok(page.render(
        "admin/change_list.html",
        json!({
            "model": { "verbose": m.verbose, "plural": m.plural, "url": m.url(), "key": m.name },
            "columns": columns,
            "rows": body,
            "count": count,
            "total": total,
            "filtered": filtered,
            "q": q,
            "searchable": !m.search.is_empty(),
            "filters": filters,
            "bad_filter": bad_filter,
            "pages": page_links,
            "page": query.page,
            "num_pages": pages,
            "can_add": staff.perms.can(m, Action::Add),
            "can_delete": staff.perms.can(m, Action::Delete),
            "can_change": can_change,
            "hidden_params": params.iter().filter(|(k, _)| k != "q" && k != "p").map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
        }),
        StatusCode::OK,
    ))
}
