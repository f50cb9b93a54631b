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
    let (mut query, bad_filter, hierarchy) = build_query(ctx, m, &params).await?;
    let (mut rows, mut count) = store::list(&ctx.db, m, &query).await?;
    let pages = count.div_ceil(PER_PAGE).max(1);
    if query.page > pages {
        query.page = pages;
        (rows, count) = store::list(&ctx.db, m, &query).await?;
    }
    let filtered = !query.search.is_empty() || !query.filters.is_empty() || query.within.is_some();
    // A large model's listing skips the second count when filtered (Django's
    // show_full_result_count=False) and, unfiltered, may show PostgreSQL's
    // estimate of its size.
    let approximate = !filtered && m.large && store::estimated_rows(&ctx.db, m).await?.is_some();
    let total = if !filtered {
        Some(count)
    } else if m.large {
        None
    } else {
        Some(store::count(&ctx.db, m, &ListQuery::default()).await?)
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
    // What the ticked rows (or all listed) can be put through.
    let mut actions = vec![
        json!({ "name": "export_csv", "label": format!("Exportar {} seleccionados a CSV", m.plural.to_lowercase()) }),
    ];
    for bulk in m.bulk {
        if bulk.allowed(page.editor()) {
            actions.push(json!({ "name": bulk.name(), "label": bulk.label() }));
        }
    }
    if staff.perms.can(m, Action::Delete) {
        actions.push(json!({ "name": "delete_selected", "label": format!("Eliminar {} seleccionados", m.plural.to_lowercase()) }));
    }
    Ok(page.render(
        "admin/change_list.html",
        json!({
            "model": { "verbose": m.verbose, "plural": m.plural, "url": m.url(), "key": m.name },
            "columns": columns,
            "rows": body,
            "count": count,
            "total": total,
            "approximate": approximate,
            "filtered": filtered,
            "q": q,
            "searchable": !m.search.is_empty(),
            "filters": filters,
            "hierarchy": hierarchy,
            "bad_filter": bad_filter,
            "pages": page_links,
            "page": query.page,
            "num_pages": pages,
            "can_add": staff.perms.can(m, Action::Add),
            "can_delete": staff.perms.can(m, Action::Delete),
            "actions": actions,
            "query_string": raw.as_deref().map(|r| format!("?{r}")).unwrap_or_default(),
            "across": count > u64::try_from(body.len()).unwrap_or(0),
            "can_change": can_change,
            "hidden_params": params.iter().filter(|(k, _)| k != "q" && k != "p").map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
        }),
        StatusCode::OK,
    ))
}

const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// The first instant of a day in Chile (midnight, or 01:00 on the day
/// clocks skip midnight), as stored: UTC.
fn day_start(date: chrono::NaiveDate) -> chrono::DateTime<chrono::FixedOffset> {
    use chrono::TimeZone as _;
    (0..3)
        .find_map(|h| {
            chrono_tz::America::Santiago
                .from_local_datetime(&date.and_hms_opt(h, 0, 0)?)
                .earliest()
        })
        .map(|t| t.with_timezone(&chrono::Utc).fixed_offset())
        .unwrap_or_else(|| {
            date.and_time(chrono::NaiveTime::MIN)
                .and_utc()
                .fixed_offset()
        })
}

/// A period to drill into: its label, the parameters that choose it, and
/// its bounds.
type Period<'k> = (
    String,
    Vec<(&'k str, Option<String>)>,
    chrono::DateTime<chrono::FixedOffset>,
    chrono::DateTime<chrono::FixedOffset>,
);

type Within<'a> = Option<(
    &'a fields::Field,
    chrono::DateTime<chrono::FixedOffset>,
    chrono::DateTime<chrono::FixedOffset>,
)>;

/// Django's `date_hierarchy`: the period chosen by `{field}__year`,
/// `__month` and `__day` (in Chile's time), the links to the periods inside
/// it that have rows (counted by one statement, with the other filters and
/// the search applied) and back out of it. The third value: a malformed part.
#[allow(clippy::too_many_lines)]
async fn drill_down<'a>(
    ctx: &loco_rs::app::AppContext,
    m: &site::ModelAdmin,
    query: &ListQuery<'a>,
    field: &'a fields::Field,
    params: &[(String, String)],
) -> AdminResult<(Json, Within<'a>, bool)> {
    use chrono::{Datelike as _, NaiveDate};
    let key = |part: &str| format!("{}__{part}", field.name);
    let (year_key, month_key, day_key) = (key("year"), key("month"), key("day"));
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut bad = false;
    let mut number = |k: &str, range: std::ops::RangeInclusive<u32>| match get(k) {
        None => None,
        Some(v) => {
            let n = v.parse::<u32>().ok().filter(|n| range.contains(n));
            bad |= n.is_none();
            n
        }
    };
    let year = number(&year_key, 1900..=2200);
    let month = year.and_then(|_| number(&month_key, 1..=12));
    let day = month.and_then(|_| number(&day_key, 1..=31));
    let year = year.and_then(|y| i32::try_from(y).ok());
    let date = |y: i32, mo: u32, d: u32| NaiveDate::from_ymd_opt(y, mo, d);
    let day = match (year, month, day) {
        (Some(y), Some(mo), Some(d)) if date(y, mo, d).is_none() => {
            bad = true;
            None
        }
        (_, _, d) => d,
    };
    let next_month = |y: i32, mo: u32| if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
    let within: Within<'a> = match (year, month, day) {
        (Some(y), Some(mo), Some(d)) => date(y, mo, d).map(|start| {
            (
                field,
                day_start(start),
                day_start(start + chrono::Days::new(1)),
            )
        }),
        (Some(y), Some(mo), None) => {
            let (ny, nm) = next_month(y, mo);
            date(y, mo, 1)
                .zip(date(ny, nm, 1))
                .map(|(a, b)| (field, day_start(a), day_start(b)))
        }
        (Some(y), None, _) => date(y, 1, 1)
            .zip(date(y + 1, 1, 1))
            .map(|(a, b)| (field, day_start(a), day_start(b))),
        _ => None,
    };
    let others = ListQuery {
        search: query.search.clone(),
        filters: query.filters.clone(),
        ..ListQuery::default()
    };
    let parts = [year_key.as_str(), month_key.as_str(), day_key.as_str()];
    let link = |set: &[(&str, Option<String>)]| {
        let mut all: Vec<(&str, Option<String>)> = parts.iter().map(|p| (*p, None)).collect();
        for (k, v) in set {
            if let Some(slot) = all.iter_mut().find(|(n, _)| n == k) {
                slot.1.clone_from(v);
            }
        }
        all.push(("p", None));
        query_with(params, &all)
    };
    let mut periods: Vec<Period<'_>> = Vec::new();
    let mut back = Vec::new();
    match (year, month, day) {
        (None, _, _) => {
            if let Some((lo, hi)) = store::date_span(&ctx.db, m, &others, field.name).await? {
                let santiago = chrono_tz::America::Santiago;
                let (first, last) = (
                    lo.with_timezone(&santiago).year(),
                    hi.with_timezone(&santiago).year(),
                );
                for y in first..=last.min(first + 60) {
                    if let (Some(a), Some(b)) = (date(y, 1, 1), date(y + 1, 1, 1)) {
                        periods.push((
                            y.to_string(),
                            vec![(year_key.as_str(), Some(y.to_string()))],
                            day_start(a),
                            day_start(b),
                        ));
                    }
                }
            }
        }
        (Some(y), None, _) => {
            back.push(json!({ "label": "Todas las fechas", "url": link(&[]) }));
            for mo in 1..=12u32 {
                let (ny, nm) = next_month(y, mo);
                if let (Some(a), Some(b)) = (date(y, mo, 1), date(ny, nm, 1)) {
                    periods.push((
                        format!("{} {y}", MONTHS[mo as usize - 1]),
                        vec![
                            (year_key.as_str(), Some(y.to_string())),
                            (month_key.as_str(), Some(mo.to_string())),
                        ],
                        day_start(a),
                        day_start(b),
                    ));
                }
            }
        }
        (Some(y), Some(mo), None) => {
            back.push(json!({ "label": "Todas las fechas", "url": link(&[]) }));
            back.push(json!({ "label": y.to_string(), "url": link(&[(year_key.as_str(), Some(y.to_string()))]) }));
            for d in 1..=31u32 {
                if let Some(a) = date(y, mo, d) {
                    periods.push((
                        format!("{d} de {}", MONTHS[mo as usize - 1]),
                        vec![
                            (year_key.as_str(), Some(y.to_string())),
                            (month_key.as_str(), Some(mo.to_string())),
                            (day_key.as_str(), Some(d.to_string())),
                        ],
                        day_start(a),
                        day_start(a + chrono::Days::new(1)),
                    ));
                }
            }
        }
        (Some(y), Some(mo), Some(_)) => {
            back.push(json!({ "label": "Todas las fechas", "url": link(&[]) }));
            back.push(json!({ "label": y.to_string(), "url": link(&[(year_key.as_str(), Some(y.to_string()))]) }));
            back.push(json!({
                "label": format!("{} {y}", MONTHS[mo as usize - 1]),
                "url": link(&[(year_key.as_str(), Some(y.to_string())), (month_key.as_str(), Some(mo.to_string()))]),
            }));
        }
    }
    let ranges: Vec<_> = periods.iter().map(|(_, _, a, b)| (*a, *b)).collect();
    let counts = store::count_within(&ctx.db, m, &others, field.name, &ranges).await?;
    let buckets: Vec<Json> = periods
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|((label, set, _, _), n)| json!({ "label": label, "url": link(set), "count": n }))
        .collect();
    let json = json!({ "label": field.label, "back": back, "buckets": buckets });
    Ok((json, within, bad))
}

/// What the changelist's address asks for (search `q`, filters, sort `o`,
/// page `p`, the date drill-down), as a query; whether a part was
/// malformed (and ignored); the drill-down's links. The bulk actions read
/// the same address, so "all the listed rows" are the rows listed.
///
/// # Errors
/// Database errors (the drill-down counts).
pub async fn build_query(
    ctx: &loco_rs::app::AppContext,
    m: &'static site::ModelAdmin,
    params: &[(String, String)],
) -> AdminResult<(ListQuery<'static>, bool, Json)> {
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
    let hierarchy = match m.date_hierarchy.and_then(|name| m.field(name)) {
        Some(field) => {
            let (json, within, bad) = drill_down(ctx, m, &query, field, params).await?;
            query.within = within;
            bad_filter |= bad;
            json
        }
        None => Json::Null,
    };
    Ok((query, bad_filter, hierarchy))
}
