//! The per-model pages, rendered from each model's declaration: changelist
//! (search, filters, sorting, 100 per page, bulk delete), add and change forms
//! (errors in place, input kept, inline rows, event images), delete with
//! confirmation, history, and a user's password form.

// A page (`Response`) is the early answer of many steps here.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet};

use axum::{
    extract::{Path, RawQuery},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use axum_extra::extract::cookie::CookieJar;
use loco_rs::prelude::*;
use sea_orm::{DbErr, SqlErr, TransactionTrait, Value};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use uuid::Uuid;

use super::{
    csrf_ok, forbidden, password_page, redirect_with_message, see_other, staff_page, FormData,
    PasswordForm, Staff, CSRF_FAILED,
};
use crate::{
    admin::{
        audit::{self, Change},
        fields::{self, Cell, Field, Kind},
        site::{self, Action, ModelAdmin, OnDelete},
        store::{self, ListQuery, Row, PER_PAGE},
    },
    models::{event_images, users},
};

/// Options in a foreign-key select (bigger tables would want a search box).
const FK_OPTIONS: u64 = 500;

#[derive(Deserialize)]
pub struct ModelPath {
    app: String,
    model: String,
}

#[derive(Deserialize)]
pub struct ObjectPath {
    app: String,
    model: String,
    id: String,
}

fn not_found(v: &TeraView, staff: &Staff, jar: &CookieJar, what: &str) -> Response {
    staff_page(
        v,
        staff,
        jar,
        "admin/not_found.html",
        json!({ "what": what }),
        StatusCode::NOT_FOUND,
    )
}

fn denied(v: &TeraView) -> Response {
    forbidden(
        v,
        "No tienes permiso para hacer esto. Pide a un superusuario que te lo asigne.",
    )
}

/// The model of a URL, and whether the user may do `action` with it.
fn resolve(
    v: &TeraView,
    staff: &Staff,
    jar: &CookieJar,
    app: &str,
    model: &str,
    action: Action,
) -> Result<&'static ModelAdmin, Response> {
    let Some(m) = site::find(app, model) else {
        return Err(not_found(v, staff, jar, "Esta página no existe."));
    };
    if !staff.perms.can(m, action) {
        return Err(denied(v));
    }
    Ok(m)
}

/// The object of a URL.
async fn object(
    ctx: &AppContext,
    v: &TeraView,
    staff: &Staff,
    jar: &CookieJar,
    m: &ModelAdmin,
    id: &str,
) -> Result<Result<Row, Response>> {
    let missing = || {
        not_found(
            v,
            staff,
            jar,
            &format!(
                "No existe {} con el ID «{id}». ¿Quizás fue eliminado?",
                m.the()
            ),
        )
    };
    let Ok(uuid) = Uuid::parse_str(id) else {
        return Ok(Err(missing()));
    };
    Ok(store::get(&ctx.db, m, uuid).await?.ok_or_else(missing))
}

/// Whether a page only shows an object or may change it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    /// Also refused for accounts only a superuser may touch.
    Edit,
}

/// The model and object of a URL the user may `action`, or the page saying
/// why not (404 for an unknown model or object, 403 without permission).
async fn target(
    ctx: &AppContext,
    v: &TeraView,
    staff: &Staff,
    jar: &CookieJar,
    path: &ObjectPath,
    action: Action,
    access: Access,
) -> Result<std::result::Result<(&'static ModelAdmin, Row), Response>> {
    let m = match resolve(v, staff, jar, &path.app, &path.model, action) {
        Ok(m) => m,
        Err(res) => return Ok(Err(res)),
    };
    let row = match object(ctx, v, staff, jar, m, &path.id).await? {
        Ok(row) => row,
        Err(res) => return Ok(Err(res)),
    };
    if access == Access::Edit && protected_account(m, &row, staff) {
        return Ok(Err(denied(v)));
    }
    Ok(Ok((m, row)))
}

/// A user account that only a superuser may edit: staff and superusers (so
/// staff with "change user" cannot take over an administrator's account).
fn protected_account(m: &ModelAdmin, row: &Row, staff: &Staff) -> bool {
    m.name == "user"
        && !staff.perms.is_superuser()
        && row.id != staff.user.id
        && (row.get(m, "is_staff") == Cell::Bool(true)
            || row.get(m, "is_superuser") == Cell::Bool(true))
}

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

/// Display text of a cell, naming foreign keys by their objects.
fn shown(field: &Field, cell: &Cell, related: &HashMap<&str, HashMap<Uuid, String>>) -> String {
    if let (Kind::Fk(target), Some(id)) = (field.kind, cell.as_uuid()) {
        if let Some(title) = related.get(target).and_then(|t| t.get(&id)) {
            return title.clone();
        }
    }
    cell.display(field.kind)
}

/// The names of every object the rows' foreign keys point at.
async fn related_titles(
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

// ---------------------------------------------------------------- changelist

/// `GET /admin/{app}/{model}/`: search (`q`), filters, sorting (`o`), pages
/// of 100 (`p`), and the bulk delete.
pub async fn changelist(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ModelPath>,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let m = match resolve(&v, &staff, &jar, &path.app, &path.model, Action::View) {
        Ok(m) => m,
        Err(res) => return Ok(res),
    };
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
    let related = related_titles(&ctx, m, &rows).await?;
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
    Ok(staff_page(
        &v,
        &staff,
        &jar,
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

// -------------------------------------------------------------------- forms

/// One form's inputs as typed (or as stored), its errors, and what parsed.
#[derive(Debug, Default)]
struct FormState {
    inputs: HashMap<&'static str, String>,
    errors: HashMap<&'static str, Vec<String>>,
    non_field: Vec<String>,
    values: Vec<(&'static Field, Cell)>,
}

impl FormState {
    fn has_errors(&self) -> bool {
        !self.errors.is_empty() || !self.non_field.is_empty()
    }

    fn error(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.entry(field).or_default().push(message.into());
    }

    fn value(&self, name: &str) -> Option<&Cell> {
        self.values
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, c)| c)
    }

    fn from_row(m: &ModelAdmin, row: &Row) -> Self {
        Self {
            inputs: m
                .fields
                .iter()
                .map(|f| (f.name, row.get(m, f.name).input()))
                .collect(),
            ..Self::default()
        }
    }

    fn defaults(m: &ModelAdmin) -> Self {
        Self {
            inputs: m
                .fields
                .iter()
                .map(|f| (f.name, f.default.to_string()))
                .collect(),
            ..Self::default()
        }
    }
}

/// The fields this user may edit on this model's form.
fn editable(m: &'static ModelAdmin, staff: &Staff) -> Vec<&'static Field> {
    m.fields
        .iter()
        .filter(|f| f.editable)
        .filter(|f| {
            !(m.name == "user"
                && !staff.perms.is_superuser()
                && matches!(f.name, "is_staff" | "is_superuser"))
        })
        .collect()
}

/// Parses the submitted inputs named `{prefix}{field}`.
fn parse_inputs(fields: &[&'static Field], form: &FormData, prefix: &str) -> FormState {
    let mut state = FormState::default();
    for f in fields {
        let raw = form.get(&format!("{prefix}{}", f.name));
        state.inputs.insert(
            f.name,
            if f.kind == Kind::Bool {
                if raw.is_some() {
                    "on".into()
                } else {
                    String::new()
                }
            } else {
                raw.unwrap_or("").to_string()
            },
        );
        match fields::parse(f, raw) {
            Ok(cell) => state.values.push((f, cell)),
            Err(e) => state.error(f.name, e),
        }
    }
    state
}

/// Rules between fields, as a model's `clean()`.
fn clean(m: &ModelAdmin, state: &mut FormState, existing: Option<&Row>) {
    let time = |s: &FormState, n: &str| s.value(n).and_then(Cell::as_time);
    let int = |s: &FormState, n: &str| s.value(n).and_then(Cell::as_int);
    match m.name {
        "event" => {
            if let (Some(a), Some(b)) = (time(state, "start_date"), time(state, "end_date")) {
                if b < a {
                    state.error("end_date", "El término debe ser posterior al inicio.");
                }
            }
            if let (Some(a), Some(b)) = (
                time(state, "ticket_sales_start"),
                time(state, "ticket_sales_end"),
            ) {
                if b < a {
                    state.error(
                        "ticket_sales_end",
                        "El fin de venta debe ser posterior a su inicio.",
                    );
                }
            }
        }
        "tickettier" => {
            if let (Some(min), Some(max)) =
                (int(state, "min_per_order"), int(state, "max_per_order"))
            {
                if max < min {
                    state.error(
                        "max_per_order",
                        "El máximo por compra no puede ser menor que el mínimo.",
                    );
                }
            }
            if let (Some(a), Some(b)) = (time(state, "sale_start"), time(state, "sale_end")) {
                if b < a {
                    state.error(
                        "sale_end",
                        "El fin de venta debe ser posterior a su inicio.",
                    );
                }
            }
            if let (Some(cap), Some(row)) = (int(state, "capacity"), existing) {
                let taken = row.get(m, "sold").as_int().unwrap_or(0)
                    + row.get(m, "reserved").as_int().unwrap_or(0);
                if cap < taken {
                    state.error(
                        "capacity",
                        format!("La capacidad no puede ser menor que las {taken} entradas ya vendidas o reservadas."),
                    );
                }
            }
        }
        _ => {}
    }
}

/// Uniqueness and foreign keys, checked against the database.
async fn check_db(
    ctx: &AppContext,
    m: &ModelAdmin,
    state: &mut FormState,
    except: Option<Uuid>,
) -> Result<()> {
    let values = state.values.clone();
    for (f, cell) in &values {
        if f.unique && *cell != Cell::Null && store::taken(&ctx.db, m, f, cell, except).await? {
            state.error(
                f.name,
                format!("Ya existe {} con este {}.", m.the(), f.label.to_lowercase()),
            );
        }
        if let (Kind::Fk(target), Some(id)) = (f.kind, cell.as_uuid()) {
            if let Some(tm) = site::by_name(target) {
                if !store::exists(&ctx.db, tm, id).await? {
                    state.error(
                        f.name,
                        "Escoja una opción válida. Esa opción no está entre las disponibles.",
                    );
                }
            }
        }
    }
    Ok(())
}

/// The message for a write the database refused, and the field it concerns.
fn db_problem(m: &ModelAdmin, err: &DbErr) -> Option<(Option<&'static str>, String)> {
    let text = err.to_string();
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => {
            let field = m.fields.iter().find(|f| f.unique && msg.contains(f.name));
            Some((
                field.map(|f| f.name),
                field.map_or_else(
                    || format!("Ya existe {} con esos datos.", m.the()),
                    |f| format!("Ya existe {} con este {}.", m.the(), f.label.to_lowercase()),
                ),
            ))
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => Some((
            None,
            "No se pudo guardar: hay registros relacionados que lo impiden (por ejemplo, órdenes o entradas vendidas).".to_string(),
        )),
        _ if text.to_lowercase().contains("check constraint") => Some((
            None,
            "Los datos no cumplen una regla del sistema (por ejemplo, una capacidad menor que lo vendido o fechas invertidas).".to_string(),
        )),
        _ => None,
    }
}

/// Rows of an inline formset (`{prefix}-{i}-{field}`, Django's names).
#[derive(Debug)]
struct InlineRow {
    id: Option<Uuid>,
    delete: bool,
    state: FormState,
    /// A blank extra row: ignored.
    empty: bool,
    existing: Option<Row>,
}

async fn parse_inline(
    ctx: &AppContext,
    parent: &ModelAdmin,
    parent_id: Option<Uuid>,
    form: &FormData,
    staff: &Staff,
) -> Result<Vec<InlineRow>> {
    let Some(inline) = parent.inline else {
        return Ok(Vec::new());
    };
    let Some(child) = site::by_name(inline.model) else {
        return Ok(Vec::new());
    };
    let fields: Vec<&'static Field> = editable(child, staff)
        .into_iter()
        .filter(|f| f.name != inline.fk)
        .collect();
    let total: usize = form
        .get(&format!("{}-TOTAL_FORMS", child.name))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
        .min(1000);
    let existing: HashMap<Uuid, Row> = match parent_id {
        Some(pid) => store::children(&ctx.db, child, inline.fk, pid)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect(),
        None => HashMap::new(),
    };
    let mut rows = Vec::new();
    for index in 0..total {
        let prefix = format!("{}-{index}-", child.name);
        let id = form
            .get(&format!("{prefix}id"))
            .and_then(|s| Uuid::parse_str(s).ok())
            // Only this object's own rows may be changed from its form.
            .filter(|id| existing.contains_key(id));
        let delete = form.has(&format!("{prefix}DELETE"));
        let mut state = parse_inputs(&fields, form, &prefix);
        let empty = id.is_none()
            && fields
                .iter()
                .all(|f| state.inputs.get(f.name).map_or("", String::as_str).trim() == f.default);
        let row = id.and_then(|i| existing.get(&i).cloned());
        if !empty && !delete {
            clean(child, &mut state, row.as_ref());
            if !state.has_errors() {
                check_db(ctx, child, &mut state, id).await?;
            }
        }
        rows.push(InlineRow {
            id,
            delete,
            state,
            empty,
            existing: row,
        });
    }
    Ok(rows)
}

/// What a form page shows for foreign keys, fetched once per page: the
/// choices of each select, and the names of the objects read-only fields
/// point at.
#[derive(Default)]
struct Lookups {
    options: HashMap<&'static str, Vec<(Uuid, String)>>,
    titles: HashMap<&'static str, HashMap<Uuid, String>>,
}

/// A field as the form template draws it.
#[allow(clippy::too_many_arguments)]
async fn field_json(
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
    if !readonly {
        match f.kind {
            Kind::Choice(cs) => {
                for (v, l) in cs {
                    options.push(json!({ "value": v, "label": l, "selected": *v == value }));
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
                for (id, title) in lookups.options.get(target).into_iter().flatten() {
                    let v = id.to_string();
                    options.push(json!({ "value": v, "label": title, "selected": v == value }));
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
        "errors": state.errors.get(f.name).cloned().unwrap_or_default(),
        "help": f.help,
        "required": !f.blank && !f.null && f.kind != Kind::Bool,
        "readonly": readonly,
        "display": display,
        "maxlength": match f.kind { Kind::Text(n) | Kind::Slug(n) => Some(n), Kind::Email => Some(254), _ => None },
        "min": min, "max": max, "step": step,
    }))
}

/// Everything the change form template needs.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    ctx: &AppContext,
    v: &TeraView,
    staff: &Staff,
    jar: &CookieJar,
    m: &'static ModelAdmin,
    row: Option<&Row>,
    state: &FormState,
    inline_rows: Option<&[InlineRow]>,
    extra_errors: &HashMap<&'static str, Vec<String>>,
    status: StatusCode,
) -> Result<Response> {
    let can_change =
        staff.perms.can(m, Action::Change) && !row.is_some_and(|r| protected_account(m, r, staff));
    let writable = row.map_or(staff.perms.can(m, Action::Add), |_| can_change);
    let edit: Vec<&'static Field> = if writable {
        editable(m, staff)
    } else {
        Vec::new()
    };
    let mut lookups = Lookups {
        titles: match row {
            Some(r) => related_titles(ctx, m, std::slice::from_ref(r)).await?,
            None => HashMap::new(),
        },
        ..Lookups::default()
    };
    let mut form_fields = Vec::new();
    for f in m.fields {
        let is_edit = edit.iter().any(|e| e.name == f.name);
        if !is_edit && row.is_none() {
            continue;
        }
        if f.name == "id" {
            continue;
        }
        form_fields.push(field_json(ctx, f, state, "", !is_edit, row, m, &mut lookups).await?);
    }
    let mut inline_json = Json::Null;
    if let (Some(inline), Some(child)) = (m.inline, m.inline.and_then(|i| site::by_name(i.model))) {
        if staff.perms.can(child, Action::View) {
            let child_edit = writable && staff.perms.can(child, Action::Change);
            let fields: Vec<&'static Field> = if child_edit {
                editable(child, staff)
                    .into_iter()
                    .filter(|f| f.name != inline.fk)
                    .collect()
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
            let mut rows_json = Vec::new();
            let built: Vec<(Option<Uuid>, bool, FormState, Option<Row>)> = match inline_rows {
                Some(rows) => rows
                    .iter()
                    .map(|r| {
                        (
                            r.id,
                            r.delete,
                            FormState {
                                inputs: r.state.inputs.clone(),
                                errors: r.state.errors.clone(),
                                non_field: r.state.non_field.clone(),
                                values: Vec::new(),
                            },
                            r.existing.clone(),
                        )
                    })
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
                    if child_edit && staff.perms.can(child, Action::Add) {
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
                            &mut lookups,
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
                    "can_delete": id.is_some() && child_edit && staff.perms.can(child, Action::Delete),
                }));
            }
            inline_json = json!({
                "prefix": child.name,
                "label": child.plural,
                "verbose": child.verbose,
                "columns": all_cols.iter().map(|f| f.label).collect::<Vec<_>>(),
                "rows": rows_json,
                "total": built.len(),
                "editable": child_edit,
            });
        }
    }
    let mut images = Json::Null;
    if m.images {
        if let Some(r) = row {
            let settings = crate::context::settings(ctx)?;
            let base = settings
                .media
                .public_base
                .clone()
                .unwrap_or_else(|| "/media/".to_string());
            let list = event_images::Entity::find()
                .filter(event_images::Column::EventId.eq(r.id))
                .order_by_asc(event_images::Column::Position)
                .all(&ctx.db)
                .await?;
            images = json!({
                "list": list.iter().map(|i| json!({
                    "id": i.id,
                    "url": format!("{base}{}", i.path),
                    "alt": i.alt,
                })).collect::<Vec<_>>(),
                "editable": writable,
                "errors": extra_errors.get("images").cloned().unwrap_or_default(),
            });
        } else if writable {
            images = json!({ "list": [], "editable": true,
                "errors": extra_errors.get("images").cloned().unwrap_or_default() });
        }
    }
    let user_extra = if m.name == "user" {
        let mut perms_grid = Json::Null;
        if staff.perms.is_superuser() {
            let granted: HashSet<String> = match row {
                Some(r) => audit::granted(&ctx.db, r.id).await?,
                None => HashSet::new(),
            };
            perms_grid = json!(site::MODELS.iter().map(|pm| json!({
                "model": pm.plural,
                "actions": Action::ALL.iter()
                    .filter(|a| pm.writable || **a == Action::View)
                    .map(|a| {
                        let code = pm.codename(*a);
                        json!({ "code": code, "label": a.label(), "checked": granted.contains(&code) })
                    }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>());
        }
        json!({
            "password_url": row.filter(|_| can_change).map(|r| format!("{}{}/password/", m.url(), r.id)),
            "new": row.is_none(),
            "perms": perms_grid,
            "password_errors": extra_errors.get("password").cloned().unwrap_or_default(),
        })
    } else {
        Json::Null
    };
    let refund = match row {
        Some(r) if m.name == "order" && staff.perms.is_superuser() => {
            let status = r.get(m, "status");
            let left = r.get(m, "total").as_int().unwrap_or(0)
                - r.get(m, "refunded_amount").as_int().unwrap_or(0);
            crate::models::status::OrderStatus::is_paid(status.as_str())
                .then(|| json!({ "url": format!("{}{}/refund/", m.url(), r.id), "left": left, "left_clp": fields::clp(left) }))
        }
        _ => None,
    };
    let title = row.map(|r| r.title(m));
    Ok(staff_page(
        v,
        staff,
        jar,
        "admin/change_form.html",
        json!({
            "model": { "verbose": m.verbose, "plural": m.plural, "url": m.url(), "key": m.name },
            "object": row.map(|r| json!({
                "id": r.id,
                "title": title,
                "history_url": format!("{}{}/history/", m.url(), r.id),
                "delete_url": staff.perms.can(m, Action::Delete).then(|| format!("{}{}/delete/", m.url(), r.id)),
            })),
            "title": match (&title, writable) {
                (None, _) => format!("Añadir {}", m.verbose.to_lowercase()),
                (Some(_), true) => format!("Modificar {}", m.verbose.to_lowercase()),
                (Some(_), false) => format!("Ver {}", m.verbose.to_lowercase()),
            },
            "fields": form_fields,
            "non_field": state.non_field,
            "has_errors": state.has_errors() || !extra_errors.is_empty()
                || inline_rows.is_some_and(|rs| rs.iter().any(|r| r.state.has_errors())),
            "writable": writable,
            "can_add": staff.perms.can(m, Action::Add),
            "inline": inline_json,
            "images": images,
            "user": user_extra,
            "multipart": m.images,
            "refund": refund,
        }),
        status,
    ))
}

/// `GET /admin/{app}/{model}/add/`
pub async fn add_form(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ModelPath>,
) -> Result<Response> {
    let m = match resolve(&v, &staff, &jar, &path.app, &path.model, Action::Add) {
        Ok(m) => m,
        Err(res) => return Ok(res),
    };
    form_page(
        &ctx,
        &v,
        &staff,
        &jar,
        m,
        None,
        &FormState::defaults(m),
        None,
        &HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `GET /admin/{app}/{model}/{id}/change/` (a read-only view without the
/// change permission).
pub async fn change_form(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ObjectPath>,
) -> Result<Response> {
    let (m, row) = match target(&ctx, &v, &staff, &jar, &path, Action::View, Access::Read).await? {
        Ok(found) => found,
        Err(res) => return Ok(res),
    };
    form_page(
        &ctx,
        &v,
        &staff,
        &jar,
        m,
        Some(&row),
        &FormState::from_row(m, &row),
        None,
        &HashMap::new(),
        StatusCode::OK,
    )
    .await
}

/// `GET /admin/{app}/{model}/{id}/`: Django's old object URL.
pub async fn object_root(_: Staff, Path(path): Path<ObjectPath>) -> Response {
    see_other(&format!(
        "/admin/{}/{}/{}/change/",
        path.app, path.model, path.id
    ))
}

/// `POST /admin/{app}/{model}/add/`
pub async fn add(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ModelPath>,
    form: FormData,
) -> Result<Response> {
    let m = match resolve(&v, &staff, &jar, &path.app, &path.model, Action::Add) {
        Ok(m) => m,
        Err(res) => return Ok(res),
    };
    save(&ctx, &v, &headers, jar, &staff, m, None, &form).await
}

/// `POST /admin/{app}/{model}/{id}/change/`
pub async fn change(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ObjectPath>,
    form: FormData,
) -> Result<Response> {
    let (m, row) = match target(&ctx, &v, &staff, &jar, &path, Action::Change, Access::Edit).await?
    {
        Ok(found) => found,
        Err(res) => return Ok(res),
    };
    save(&ctx, &v, &headers, jar, &staff, m, Some(row), &form).await
}

/// "Título y Estado": the labels of what changed.
fn changed_labels(m: &ModelAdmin, state: &FormState, row: &Row) -> Vec<&'static str> {
    state
        .values
        .iter()
        .filter(|(f, cell)| row.get(m, f.name) != *cell)
        .map(|(f, _)| f.label)
        .collect()
}

fn join_labels(labels: &[&str]) -> String {
    match labels {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} y {last}", rest.join(", ")),
    }
}

/// Validates and saves an add or change form with its inline rows, in one
/// transaction; then the images; then back to the list (or per the button).
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
async fn save(
    ctx: &AppContext,
    v: &TeraView,
    headers: &HeaderMap,
    jar: CookieJar,
    staff: &Staff,
    m: &'static ModelAdmin,
    row: Option<Row>,
    form: &FormData,
) -> Result<Response> {
    let settings = crate::context::settings(ctx)?;
    if !csrf_ok(staff, headers, &settings, form) {
        return Ok(forbidden(v, CSRF_FAILED));
    }
    let fields = editable(m, staff);
    let mut state = parse_inputs(&fields, form, "");
    clean(m, &mut state, row.as_ref());
    if !state.has_errors() {
        check_db(ctx, m, &mut state, row.as_ref().map(|r| r.id)).await?;
    }
    let mut extra_errors: HashMap<&'static str, Vec<String>> = HashMap::new();
    // A new user's password, typed twice.
    let mut password_hash = None;
    if m.name == "user" && row.is_none() {
        let p1 = form.get("password1").unwrap_or("");
        let p2 = form.get("password2").unwrap_or("");
        let email = state.value("email").map_or("", Cell::as_str).to_string();
        match super::auth::new_password_problem(p1, p2, &email) {
            Some(problem) => {
                extra_errors.insert("password", vec![problem]);
            }
            None => {
                let hash = match crate::passwords::hash_async(p1).await {
                    Ok(hash) => hash,
                    Err(crate::passwords::HashError::Busy) => return Ok(super::busy()),
                    Err(e) => return Err(Error::string(&e.to_string())),
                };
                password_hash = Some(hash);
            }
        }
    }
    // A new image is checked before anything is saved.
    let new_image = if m.images {
        form.files.get("images-new")
    } else {
        None
    };
    if let Some((_, bytes)) = new_image {
        if bytes.len() > event_images::MAX_IMAGE_BYTES {
            extra_errors.insert(
                "images",
                vec![event_images::ImageError::TooLarge.to_string()],
            );
        } else if crate::storage::ImageKind::sniff(bytes).is_none() {
            extra_errors.insert(
                "images",
                vec![event_images::ImageError::NotAnImage.to_string()],
            );
        }
    }
    let mut inline_rows = parse_inline(ctx, m, row.as_ref().map(|r| r.id), form, staff).await?;
    let child = m.inline.and_then(|i| site::by_name(i.model));
    let child_can = |a: Action| child.is_some_and(|c| staff.perms.can(c, a));
    for r in &mut inline_rows {
        if r.empty {
            continue;
        }
        let allowed = match (r.id, r.delete) {
            (Some(_), true) => child_can(Action::Delete),
            (Some(_), false) => child_can(Action::Change),
            (None, _) => child_can(Action::Add),
        };
        if !allowed {
            r.state
                .non_field
                .push("No tienes permiso para este cambio.".to_string());
        }
    }
    let invalid = state.has_errors()
        || !extra_errors.is_empty()
        || inline_rows
            .iter()
            .any(|r| !r.empty && !r.delete && r.state.has_errors())
        || inline_rows.iter().any(|r| !r.state.non_field.is_empty());
    if invalid {
        return form_page(
            ctx,
            v,
            staff,
            &jar,
            m,
            row.as_ref(),
            &state,
            Some(&inline_rows),
            &extra_errors,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }

    // Everything checked: one transaction for the object, its rows and the log.
    let txn = ctx.db.begin().await?;
    let result: std::result::Result<(Uuid, String), DbErr> = async {
        let mut messages = Vec::new();
        let id = match &row {
            Some(r) => {
                let labels = changed_labels(m, &state, r);
                store::update(&txn, m, r.id, &state.values).await?;
                if !labels.is_empty() {
                    messages.push(format!("Modificado {}.", join_labels(&labels)));
                }
                r.id
            }
            None => {
                let extra: Vec<(&str, Value)> = password_hash
                    .iter()
                    .map(|h| ("password", Value::String(Some(h.clone()))))
                    .collect();
                store::insert(&txn, m, &state.values, &extra).await?
            }
        };
        if let (Some(inline), Some(child)) = (m.inline, child) {
            let fk = child
                .field(inline.fk)
                .ok_or_else(|| DbErr::Custom("inline fk".into()))?;
            for r in inline_rows.iter().filter(|r| !r.empty) {
                let name = r
                    .state
                    .value(child.title)
                    .map(|c| c.as_str().to_string())
                    .or_else(|| r.existing.as_ref().map(|e| e.title(child)))
                    .unwrap_or_default();
                match (r.id, r.delete) {
                    (Some(cid), true) => {
                        store::delete(&txn, child, &[cid]).await?;
                        messages.push(format!(
                            "Eliminado {} «{name}».",
                            child.verbose.to_lowercase()
                        ));
                    }
                    (Some(cid), false) => {
                        let labels = r
                            .existing
                            .as_ref()
                            .map(|e| changed_labels(child, &r.state, e))
                            .unwrap_or_default();
                        if !labels.is_empty() {
                            store::update(&txn, child, cid, &r.state.values).await?;
                            messages.push(format!(
                                "Modificado {} de {} «{name}».",
                                join_labels(&labels),
                                child.verbose.to_lowercase()
                            ));
                        }
                    }
                    (None, true) => {}
                    (None, false) => {
                        let mut values = r.state.values.clone();
                        values.push((fk, Cell::Uuid(id)));
                        store::insert(&txn, child, &values, &[]).await?;
                        messages.push(format!(
                            "Añadido {} «{name}».",
                            child.verbose.to_lowercase()
                        ));
                    }
                }
            }
        }
        if m.name == "user" && staff.perms.is_superuser() {
            let wanted: HashSet<String> = form.all("perm").map(str::to_string).collect();
            let valid: HashSet<String> = site::MODELS
                .iter()
                .flat_map(|pm| Action::ALL.iter().map(move |a| pm.codename(*a)))
                .collect();
            let wanted: HashSet<String> = wanted.intersection(&valid).cloned().collect();
            let before = match &row {
                Some(r) => audit::granted(&txn, r.id).await?,
                None => HashSet::new(),
            };
            if before != wanted {
                audit::set_granted(&txn, id, &wanted).await?;
                messages.push("Modificado permisos.".to_string());
            }
        }
        if m.name == "user" && row.is_some() {
            // A deactivated account is signed out everywhere, for good.
            let inactive = users::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .is_some_and(|u| !u.is_active);
            if inactive {
                users::bump_auth_version(&txn, id).await?;
                crate::auth::revoke_all(&txn, id, chrono::Utc::now()).await?;
            }
        }
        let title = store::get(&txn, m, id)
            .await?
            .map(|r| r.title(m))
            .unwrap_or_default();
        let change = if row.is_some() {
            Change::Changed
        } else {
            Change::Added
        };
        let message = if messages.is_empty() {
            "No ha cambiado ningún campo.".to_string()
        } else {
            messages.join(" ")
        };
        audit::record(&txn, &staff.user, m, id, &title, change, &message).await?;
        Ok((id, title))
    }
    .await;
    let (id, title) = match result {
        Ok(ok) => {
            txn.commit().await?;
            ok
        }
        Err(err) => {
            txn.rollback().await?;
            let Some((field, message)) = db_problem(m, &err) else {
                return Err(err.into());
            };
            match field {
                Some(f) => state.error(f, message),
                None => state.non_field.push(message),
            }
            return form_page(
                ctx,
                v,
                staff,
                &jar,
                m,
                row.as_ref(),
                &state,
                Some(&inline_rows),
                &extra_errors,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    // Images live in media storage, outside the transaction.
    let mut image_note = String::new();
    if m.images {
        let ids: Vec<Uuid> = form
            .values
            .iter()
            .filter_map(|(k, _)| k.strip_prefix("images-")?.strip_suffix("-DELETE"))
            .filter_map(|s| Uuid::parse_str(s).ok())
            .collect();
        for image in ids {
            let mine = event_images::Entity::find_by_id(image)
                .one(&ctx.db)
                .await?
                .is_some_and(|i| i.event_id == id);
            if mine {
                if let Err(e) = event_images::remove(ctx, image).await {
                    tracing::warn!(error = %e, "an image could not be removed");
                    image_note = " Una imagen no se pudo eliminar; inténtalo de nuevo.".to_string();
                }
            }
        }
        if let Some((_, bytes)) = new_image {
            let alt = form.get("images-new-alt").unwrap_or("").trim().to_string();
            match event_images::add(ctx, id, bytes.clone(), &alt).await {
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "an image could not be stored");
                    image_note = " La imagen no se pudo guardar; inténtalo de nuevo.".to_string();
                }
            }
        }
    }
    if let Ok(cache) = crate::context::cache(ctx) {
        cache.invalidate();
    }
    let the = format!("{} «{title}»", m.the());
    let done = if row.is_some() {
        "fue modificado"
    } else {
        "fue agregado"
    };
    let done = if m.feminine {
        done.replace("do", "da")
    } else {
        done.to_string()
    };
    let (to, message) = if form.has("_continue") {
        (
            format!("{}{id}/change/", m.url()),
            format!("{the} {done} correctamente. Puedes editarlo de nuevo abajo.{image_note}"),
        )
    } else if form.has("_addanother") {
        (
            format!("{}add/", m.url()),
            format!("{the} {done} correctamente. Puedes agregar otro abajo.{image_note}"),
        )
    } else {
        (m.url(), format!("{the} {done} correctamente.{image_note}"))
    };
    let message = capitalize(&message);
    Ok(redirect_with_message(jar, &to, &message, &settings))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

// ------------------------------------------------------------------- delete

/// What deleting these objects takes with it, and what forbids it.
async fn consequences(
    ctx: &AppContext,
    m: &ModelAdmin,
    ids: &[Uuid],
) -> Result<(Vec<Json>, Vec<Json>)> {
    let mut goes = Vec::new();
    let mut blocks = Vec::new();
    for child in m.children {
        let (n, names) = store::dependents(&ctx.db, child, ids).await?;
        if n == 0 {
            continue;
        }
        let entry = json!({ "label": child.label, "count": n, "names": names, "more": n > names.len() as u64 });
        match child.on_delete {
            OnDelete::Protect => blocks.push(entry),
            OnDelete::Cascade | OnDelete::SetNull => goes.push(entry),
        }
    }
    Ok((goes, blocks))
}

#[allow(clippy::too_many_arguments)]
async fn delete_page(
    ctx: &AppContext,
    v: &TeraView,
    staff: &Staff,
    jar: &CookieJar,
    m: &'static ModelAdmin,
    rows: &[Row],
    bulk: bool,
    status: StatusCode,
) -> Result<Response> {
    // Each object with what goes with it and what protects it, as Django's
    // confirmation lists them.
    let mut objects = Vec::new();
    let mut blocked = false;
    for r in rows {
        let (goes, blocks) = consequences(ctx, m, &[r.id]).await?;
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
    Ok(staff_page(
        v,
        staff,
        jar,
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

/// Deletes and logs; `Err` with the reason when something protects them.
async fn delete_rows(
    ctx: &AppContext,
    staff: &Staff,
    m: &'static ModelAdmin,
    rows: &[Row],
) -> Result<std::result::Result<(), String>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let (_, blocks) = consequences(ctx, m, &ids).await?;
    if !blocks.is_empty() {
        return Ok(Err(
            "No se puede eliminar: hay registros protegidos que dependen de esto.".to_string(),
        ));
    }
    let txn = ctx.db.begin().await?;
    let outcome: std::result::Result<(), DbErr> = async {
        for r in rows {
            audit::record(&txn, &staff.user, m, r.id, &r.title(m), Change::Deleted, "").await?;
        }
        store::delete(&txn, m, &ids).await?;
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => txn.commit().await?,
        Err(err) => {
            txn.rollback().await?;
            return match db_problem(m, &err) {
                Some((_, msg)) => Ok(Err(msg)),
                None => Err(err.into()),
            };
        }
    }
    // Media files of deleted event images are left in storage under unique
    // keys; nothing links to them any more.
    if let Ok(cache) = crate::context::cache(ctx) {
        cache.invalidate();
    }
    Ok(Ok(()))
}

/// `GET /admin/{app}/{model}/{id}/delete/`: what goes with it, then confirm.
pub async fn delete_form(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ObjectPath>,
) -> Result<Response> {
    let (m, row) = match target(&ctx, &v, &staff, &jar, &path, Action::Delete, Access::Edit).await?
    {
        Ok(found) => found,
        Err(res) => return Ok(res),
    };
    delete_page(&ctx, &v, &staff, &jar, m, &[row], false, StatusCode::OK).await
}

/// `POST /admin/{app}/{model}/{id}/delete/`
pub async fn delete(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ObjectPath>,
    form: FormData,
) -> Result<Response> {
    let (m, row) = match target(&ctx, &v, &staff, &jar, &path, Action::Delete, Access::Edit).await?
    {
        Ok(found) => found,
        Err(res) => return Ok(res),
    };
    let settings = crate::context::settings(&ctx)?;
    if !csrf_ok(&staff, &headers, &settings, &form) {
        return Ok(forbidden(&v, CSRF_FAILED));
    }
    match delete_rows(&ctx, &staff, m, std::slice::from_ref(&row)).await? {
        Ok(()) => Ok(redirect_with_message(
            jar,
            &m.url(),
            &capitalize(&format!(
                "{} «{}» fue eliminad{} correctamente.",
                m.the(),
                row.title(m),
                if m.feminine { "a" } else { "o" }
            )),
            &settings,
        )),
        Err(_) => {
            delete_page(
                &ctx,
                &v,
                &staff,
                &jar,
                m,
                &[row],
                false,
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

/// `POST /admin/{app}/{model}/`: a bulk action on the ticked rows. Only
/// "delete selected": first a confirmation page, then (`post=yes`) the delete.
pub async fn bulk_action(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ModelPath>,
    form: FormData,
) -> Result<Response> {
    let m = match resolve(&v, &staff, &jar, &path.app, &path.model, Action::View) {
        Ok(m) => m,
        Err(res) => return Ok(res),
    };
    let settings = crate::context::settings(&ctx)?;
    if !csrf_ok(&staff, &headers, &settings, &form) {
        return Ok(forbidden(&v, CSRF_FAILED));
    }
    if form.get("action") != Some("delete_selected") {
        return Ok(redirect_with_message(
            jar,
            &m.url(),
            "Elige una acción.",
            &settings,
        ));
    }
    if !staff.perms.can(m, Action::Delete) {
        return Ok(denied(&v));
    }
    let ids: Vec<Uuid> = form
        .all("_selected_action")
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect();
    let rows = store::get_many(&ctx.db, m, &ids).await?;
    if rows.is_empty() {
        return Ok(redirect_with_message(
            jar,
            &m.url(),
            "Debes seleccionar elementos para realizar acciones sobre ellos. No se modificó ningún elemento.",
            &settings,
        ));
    }
    if rows.iter().any(|r| protected_account(m, r, &staff)) {
        return Ok(denied(&v));
    }
    if form.get("post") != Some("yes") {
        return delete_page(&ctx, &v, &staff, &jar, m, &rows, true, StatusCode::OK).await;
    }
    match delete_rows(&ctx, &staff, m, &rows).await? {
        Ok(()) => Ok(redirect_with_message(
            jar,
            &m.url(),
            &format!(
                "Se eliminaron {} {} correctamente.",
                rows.len(),
                m.plural.to_lowercase()
            ),
            &settings,
        )),
        Err(_) => delete_page(&ctx, &v, &staff, &jar, m, &rows, true, StatusCode::CONFLICT).await,
    }
}

// ------------------------------------------------------------------ history

/// `GET /admin/{app}/{model}/{id}/history/`: who changed what, and when.
pub async fn history(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ObjectPath>,
) -> Result<Response> {
    let (m, row) = match target(&ctx, &v, &staff, &jar, &path, Action::View, Access::Read).await? {
        Ok(found) => found,
        Err(res) => return Ok(res),
    };
    let mut entries = audit::history(&ctx.db, m, row.id).await?;
    entries.reverse();
    Ok(staff_page(
        &v,
        &staff,
        &jar,
        "admin/history.html",
        json!({
            "model": { "verbose": m.verbose, "plural": m.plural, "url": m.url() },
            "object": { "id": row.id, "title": row.title(m), "url": format!("{}{}/change/", m.url(), row.id) },
            "entries": entries,
        }),
        StatusCode::OK,
    ))
}

// ------------------------------------------------------------ user password

async fn user_for_password(
    ctx: &AppContext,
    v: &TeraView,
    staff: &Staff,
    jar: &CookieJar,
    path: &ObjectPath,
) -> Result<std::result::Result<(&'static ModelAdmin, Row), Response>> {
    if site::find(&path.app, &path.model).is_some_and(|m| m.name != "user") {
        return Ok(Err(not_found(v, staff, jar, "Esta página no existe.")));
    }
    target(ctx, v, staff, jar, path, Action::Change, Access::Edit).await
}

fn user_form(m: &ModelAdmin, row: &Row) -> PasswordForm {
    PasswordForm {
        title: format!("Cambiar la contraseña de {}", row.title(m)),
        own: false,
        action: format!("{}{}/password/", m.url(), row.id),
        back: format!("{}{}/change/", m.url(), row.id),
    }
}

/// `GET /admin/users/user/{id}/password/`: sets a user's password (it is
/// never shown, only replaced).
pub async fn password_form(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ObjectPath>,
) -> Result<Response> {
    Ok(
        match user_for_password(&ctx, &v, &staff, &jar, &path).await? {
            Ok((m, row)) => password_page(
                &v,
                &staff,
                &jar,
                &user_form(m, &row),
                &json!({}),
                StatusCode::OK,
            ),
            Err(res) => res,
        },
    )
}

/// `POST /admin/users/user/{id}/password/`: the new password, typed twice;
/// the user's API sessions end.
pub async fn password(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ObjectPath>,
    form: FormData,
) -> Result<Response> {
    let settings = crate::context::settings(&ctx)?;
    if !csrf_ok(&staff, &headers, &settings, &form) {
        return Ok(forbidden(&v, CSRF_FAILED));
    }
    let (m, row) = match user_for_password(&ctx, &v, &staff, &jar, &path).await? {
        Ok(found) => found,
        Err(res) => return Ok(res),
    };
    let email = row.get(m, "email").as_str().to_string();
    let p1 = form.get("new_password1").unwrap_or("");
    let p2 = form.get("new_password2").unwrap_or("");
    if let Some(problem) = super::auth::new_password_problem(p1, p2, &email) {
        return Ok(password_page(
            &v,
            &staff,
            &jar,
            &user_form(m, &row),
            &json!({ "new_password2": problem }),
            StatusCode::BAD_REQUEST,
        ));
    }
    let Some(user) = users::Entity::find_by_id(row.id).one(&ctx.db).await? else {
        return Ok(not_found(&v, &staff, &jar, "El usuario ya no existe."));
    };
    let active: users::ActiveModel = user.into();
    match active.set_password(&ctx.db, p1).await {
        Ok(_) => {}
        Err(ModelError::Any(e)) if e.is::<crate::passwords::Busy>() => return Ok(super::busy()),
        Err(e) => return Err(e.into()),
    }
    crate::auth::revoke_all(&ctx.db, row.id, chrono::Utc::now()).await?;
    audit::record(
        &ctx.db,
        &staff.user,
        m,
        row.id,
        &row.title(m),
        Change::Changed,
        "Contraseña cambiada.",
    )
    .await?;
    Ok(redirect_with_message(
        jar,
        &format!("{}{}/change/", m.url(), row.id),
        "La contraseña fue cambiada correctamente.",
        &settings,
    ))
}

// ------------------------------------------------------------------- refund

/// `POST /admin/events/order/{id}/refund/`: refunds part or all of a paid
/// order through Webpay (superusers; a full refund gives the seats back).
pub async fn refund(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    jar: CookieJar,
    staff: Staff,
    Path(path): Path<ObjectPath>,
    form: FormData,
) -> Result<Response> {
    if site::find(&path.app, &path.model).is_some_and(|m| m.name != "order") {
        return Ok(not_found(&v, &staff, &jar, "Esta página no existe."));
    }
    if !staff.perms.is_superuser() {
        return Ok(denied(&v));
    }
    let settings = crate::context::settings(&ctx)?;
    if !csrf_ok(&staff, &headers, &settings, &form) {
        return Ok(forbidden(&v, CSRF_FAILED));
    }
    let (m, row) = match target(&ctx, &v, &staff, &jar, &path, Action::View, Access::Read).await? {
        Ok(found) => found,
        Err(res) => return Ok(res),
    };
    let back = format!("{}{}/change/", m.url(), row.id);
    let Some(order) = crate::models::orders::Entity::find_by_id(row.id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(not_found(&v, &staff, &jar, "La orden ya no existe."));
    };
    let left = order.total - order.refunded_amount;
    let say = |message: String| redirect_with_message(jar.clone(), &back, &message, &settings);
    if !crate::models::status::OrderStatus::is_paid(&order.status) {
        return Ok(say("Solo se reembolsan órdenes pagadas.".to_string()));
    }
    let amount_field = Field::new("amount", "Monto", Kind::Money);
    let amount = match form.get("amount").filter(|a| !a.trim().is_empty()) {
        None => left,
        Some(raw) => match fields::parse(&amount_field, Some(raw)) {
            Ok(Cell::Int(a)) => a,
            _ => {
                return Ok(say(
                    "El monto no es válido; nada fue reembolsado.".to_string()
                ))
            }
        },
    };
    if amount <= 0 || amount > left {
        return Ok(say(format!(
            "El monto debe estar entre $1 y {}; nada fue reembolsado.",
            fields::clp(left)
        )));
    }
    let webpay = crate::context::webpay(&ctx)?;
    match crate::payments::refund_order(&ctx.db, &webpay, &order, amount).await? {
        crate::payments::Refunded::Done => {}
        crate::payments::Refunded::TooMuch => {
            return Ok(say(
                "El monto supera lo que queda por reembolsar; nada fue reembolsado.".to_string(),
            ))
        }
        crate::payments::Refunded::NoPayment => {
            return Ok(say(
                "La orden no tiene un pago de Webpay que reembolsar.".to_string(),
            ))
        }
        crate::payments::Refunded::InProgress => {
            return Ok(say(
                "Ya hay un reembolso en curso para esta orden; nada fue reembolsado.".to_string(),
            ))
        }
        crate::payments::Refunded::Refused => {
            return Ok(say(
                "Webpay no aceptó el reembolso; nada fue reembolsado. Revisa la transacción e inténtalo de nuevo.".to_string(),
            ))
        }
        crate::payments::Refunded::Unknown => {
            return Ok(say(
                "Webpay no confirmó el reembolso: el pago quedó «en reembolso» para revisarlo con Transbank; no se repetirá.".to_string(),
            ))
        }
    }
    let note = format!("Reembolsado {}.", fields::clp(amount));
    audit::record(
        &ctx.db,
        &staff.user,
        m,
        order.id,
        &order.order_number,
        Change::Changed,
        &note,
    )
    .await?;
    if let Ok(cache) = crate::context::cache(&ctx) {
        cache.invalidate();
    }
    Ok(say(format!("Orden {}: {note}", order.order_number)))
}
