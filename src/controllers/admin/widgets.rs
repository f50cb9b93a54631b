//! How the change form draws things: a field as its widget, foreign keys by
//! their objects' names, and the inline rows of a model edited on its
//! parent's form.

use std::collections::HashMap;

use loco_rs::prelude::*;
use serde_json::{json, Value as Json};
use uuid::Uuid;

use super::page::Page;
use crate::admin::{
    fields::{Cell, Field, Kind},
    form::{self, FormState, InlineRow},
    site::{self, Action, ModelAdmin},
    store::{self, Row},
};

/// Options in a foreign-key select (bigger tables would want a search box).
const FK_OPTIONS: u64 = 500;

/// Display text of a cell, naming foreign keys by their objects.
pub fn shown(field: &Field, cell: &Cell, related: &HashMap<&str, HashMap<Uuid, String>>) -> String {
    if let (Kind::Fk(target), Some(id)) = (field.kind, cell.as_uuid()) {
        if let Some(title) = related.get(target).and_then(|t| t.get(&id)) {
            return title.clone();
        }
    }
    cell.display(field.kind)
}

/// The names of every object the rows' foreign keys point at.
pub async fn related_titles(
    ctx: &AppContext,
    m: &ModelAdmin,
    rows: &[Row],
) -> Result<HashMap<&'static str, HashMap<Uuid, String>>> {
    let mut out = HashMap::new();
    for f in m.fields {
        if let Kind::Fk(target) = f.kind {
            let ids: Vec<Uuid> = rows
                .iter()
                .filter_map(|r| r.get(m, f.name).as_uuid())
                .collect();
            if let Some(tm) = site::by_name(target) {
                let titles = store::titles(&ctx.db, tm, &ids).await?;
                out.entry(target)
                    .or_insert_with(HashMap::new)
                    .extend(titles);
            }
        }
    }
    Ok(out)
}

/// What a form page shows for foreign keys, fetched once per page: the
/// choices of each select, and the names of the objects read-only fields
/// point at.
#[derive(Default)]
pub struct Lookups {
    pub options: HashMap<&'static str, Vec<(Uuid, String)>>,
    pub titles: HashMap<&'static str, HashMap<Uuid, String>>,
}

/// A field as the form template draws it.
#[allow(clippy::too_many_arguments)]
pub async fn field_json(
    ctx: &AppContext,
    f: &Field,
    state: &FormState,
    prefix: &str,
    readonly: bool,
    row: Option<&Row>,
    m: &ModelAdmin,
    lookups: &mut Lookups,
) -> Result<Json> {
    let value = state.inputs.get(f.name).cloned().unwrap_or_default();
    let mut options = Vec::new();
    let mut autocomplete: Option<String> = None;
    if !readonly {
        match f.kind {
            Kind::Choice(cs) => {
                if f.null || f.blank {
                    options.push(
                        json!({ "value": "", "label": "---------", "selected": value.is_empty() }),
                    );
                }
                if !value.is_empty() && !cs.iter().any(|(v, _)| *v == value) {
                    // A stored value outside the choices is shown as it is
                    // (saving asks for a valid one), never silently replaced.
                    options.push(json!({ "value": value, "label": value, "selected": true }));
                }
                for (v, l) in cs {
                    options.push(json!({ "value": v, "label": l, "selected": *v == value }));
                }
            }
            Kind::Fk(target) if site::by_name(target).is_some_and(|tm| tm.large) => {
                // A search box over the target (admin.js), holding the
                // current object: nothing changes unless someone picks another.
                let tm = site::by_name(target).expect("checked");
                autocomplete = Some(format!("{}autocomplete/", tm.url()));
                options.push(
                    json!({ "value": "", "label": "---------", "selected": value.is_empty() }),
                );
                if let Ok(id) = Uuid::parse_str(&value) {
                    let title = store::titles(&ctx.db, tm, &[id])
                        .await?
                        .remove(&id)
                        .unwrap_or_else(|| value.clone());
                    options.push(json!({ "value": value, "label": title, "selected": true }));
                }
            }
            Kind::Fk(target) => {
                if let std::collections::hash_map::Entry::Vacant(e) = lookups.options.entry(target)
                {
                    let list = match site::by_name(target) {
                        Some(tm) => store::options(&ctx.db, tm, FK_OPTIONS).await?,
                        None => Vec::new(),
                    };
                    e.insert(list);
                }
                if f.null || f.blank {
                    options.push(
                        json!({ "value": "", "label": "---------", "selected": value.is_empty() }),
                    );
                } else if value.is_empty() {
                    options.push(json!({ "value": "", "label": "---------", "selected": true }));
                }
                let listed = lookups.options.get(target).into_iter().flatten();
                let mut seen = false;
                for (id, title) in listed {
                    let v = id.to_string();
                    seen |= v == value;
                    options.push(json!({ "value": v, "label": title, "selected": v == value }));
                }
                if !seen && !value.is_empty() {
                    // Past the list's length: still the chosen one.
                    let title = match (site::by_name(target), Uuid::parse_str(&value)) {
                        (Some(tm), Ok(id)) => store::titles(&ctx.db, tm, &[id]).await?.remove(&id),
                        _ => None,
                    };
                    options.push(json!({
                        "value": value,
                        "label": title.unwrap_or_else(|| value.clone()),
                        "selected": true,
                    }));
                }
            }
            _ => {}
        }
    }
    let display = match row {
        Some(row) if readonly => shown(f, &row.get(m, f.name), &lookups.titles),
        _ => String::new(),
    };
    let (min, max, step) = match f.kind {
        Kind::Int { min, max } => (
            Some(min.to_string()),
            Some(max.to_string()),
            Some("1".to_string()),
        ),
        Kind::Money => (Some("0".into()), None, Some("1".into())),
        Kind::Float { min, max } => (
            Some(min.to_string()),
            Some(max.to_string()),
            Some("any".into()),
        ),
        _ => (None, None, None),
    };
    Ok(json!({
        "name": format!("{prefix}{}", f.name),
        "id": format!("id_{prefix}{}", f.name),
        "label": f.label,
        "widget": f.widget(),
        "value": value,
        "checked": value == "on",
        "options": options,
        "autocomplete": autocomplete,
        "errors": state.errors.get(f.name).cloned().unwrap_or_default(),
        "help": f.help,
        "required": !f.blank && !f.null && f.kind != Kind::Bool,
        "readonly": readonly,
        "display": display,
        "maxlength": match f.kind { Kind::Text(n) | Kind::Slug(n) => Some(n), Kind::Email => Some(254), _ => None },
        "min": min, "max": max, "step": step,
    }))
}

/// The inline rows of `m`'s form: as submitted (`rows`), else as stored
/// with blank rows to add.
pub async fn inline_section(
    page: &Page,
    m: &'static ModelAdmin,
    row: Option<&Row>,
    writable: bool,
    submitted: Option<&[InlineRow]>,
    lookups: &mut Lookups,
) -> Result<Json> {
    let Some((inline, child)) = m.inline_model() else {
        return Ok(Json::Null);
    };
    let (ctx, perms) = (&page.ctx, &page.staff.perms);
    if !perms.can(child, Action::View) {
        return Ok(Json::Null);
    }
    let child_edit = writable && perms.can(child, Action::Change);
    let fields: Vec<&'static Field> = if child_edit {
        form::inline_fields(m, page.editor())
    } else {
        child
            .fields
            .iter()
            .filter(|f| f.name != inline.fk && f.name != "id")
            .collect()
    };
    let all_cols: Vec<&'static Field> = child
        .fields
        .iter()
        .filter(|f| f.name != inline.fk && f.name != "id" && f.name != "description")
        .collect();
    let built: Vec<(Option<Uuid>, bool, FormState, Option<Row>)> = match submitted {
        Some(rows) => rows
            .iter()
            .map(|r| (r.id, r.delete, r.state.shown(), r.existing.clone()))
            .collect(),
        None => {
            let mut out: Vec<(Option<Uuid>, bool, FormState, Option<Row>)> = match row {
                Some(r) => store::children(&ctx.db, child, inline.fk, r.id)
                    .await?
                    .into_iter()
                    .map(|c| (Some(c.id), false, FormState::from_row(child, &c), Some(c)))
                    .collect(),
                None => Vec::new(),
            };
            if child_edit && perms.can(child, Action::Add) {
                for _ in 0..inline.extra {
                    out.push((None, false, FormState::defaults(child), None));
                }
            }
            out
        }
    };
    let shown_rows: Vec<Row> = built.iter().filter_map(|b| b.3.clone()).collect();
    for (target, names) in related_titles(ctx, child, &shown_rows).await? {
        lookups.titles.entry(target).or_default().extend(names);
    }
    let mut rows_json = Vec::new();
    for (index, (id, delete, st, existing)) in built.iter().enumerate() {
        let prefix = format!("{}-{index}-", child.name);
        let mut cells = Vec::new();
        for f in &all_cols {
            let is_edit = child_edit && fields.iter().any(|e| e.name == f.name);
            if !is_edit && existing.is_none() {
                cells.push(json!({ "readonly": true, "display": "", "label": f.label }));
                continue;
            }
            cells.push(
                field_json(
                    ctx,
                    f,
                    st,
                    &prefix,
                    !is_edit,
                    existing.as_ref(),
                    child,
                    lookups,
                )
                .await?,
            );
        }
        rows_json.push(json!({
            "index": index,
            "prefix": prefix,
            "id": id,
            "delete": delete,
            "cells": cells,
            "non_field": st.non_field,
            "can_delete": id.is_some() && child_edit && perms.can(child, Action::Delete),
        }));
    }
    Ok(json!({
        "prefix": child.name,
        "label": child.plural,
        "verbose": child.verbose,
        "columns": all_cols.iter().map(|f| f.label).collect::<Vec<_>>(),
        "rows": rows_json,
        "total": built.len(),
        "editable": child_edit,
    }))
}
