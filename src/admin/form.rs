//! A submitted admin form: its raw data ([`FormData`], urlencoded or
//! multipart), the typed state of a model's form ([`FormState`]: inputs as
//! typed, errors, parsed values), the rows of an inline formset, and the
//! checks against the database (uniqueness, foreign keys, refused writes).

use std::collections::HashMap;

use axum::{
    extract::{FromRequest, Multipart, Request},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use loco_rs::prelude::AppContext;
use sea_orm::{DbErr, SqlErr};
use uuid::Uuid;

use super::{
    fields::{self, Cell, Field, Kind},
    hooks::Editor,
    site::{self, ModelAdmin},
    store::{self, Row},
};

/// A submitted admin form, urlencoded or multipart (files kept apart).
#[derive(Debug, Default)]
pub struct FormData {
    pub values: Vec<(String, String)>,
    pub files: HashMap<String, (String, Bytes)>,
}

impl FormData {
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let bad = |msg: &str| (StatusCode::BAD_REQUEST, msg.to_string()).into_response();
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let mut data = Self::default();
        if is_multipart {
            let mut parts = Multipart::from_request(req, state)
                .await
                .map_err(IntoResponse::into_response)?;
            while let Some(field) = parts
                .next_field()
                .await
                .map_err(|_| bad("Formulario incompleto o demasiado grande."))?
            {
                let name = field.name().unwrap_or("").to_string();
                if let Some(file_name) = field.file_name().map(str::to_string) {
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|_| bad("Formulario incompleto o demasiado grande."))?;
                    if !bytes.is_empty() {
                        data.files.insert(name, (file_name, bytes));
                    }
                } else {
                    let text = field
                        .text()
                        .await
                        .map_err(|_| bad("Formulario incompleto o demasiado grande."))?;
                    if text.contains('\0') || name.contains('\0') {
                        return Err(bad("Un campo contiene el carácter nulo (\\u0000)."));
                    }
                    data.values.push((name, text));
                }
            }
        } else {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(IntoResponse::into_response)?;
            data.values = url::form_urlencoded::parse(&body).into_owned().collect();
        }
        Ok(data)
    }
}

/// One form's inputs as typed (or as stored), its errors, and what parsed.
#[derive(Debug, Default, Clone)]
pub struct FormState {
    pub inputs: HashMap<&'static str, String>,
    pub errors: HashMap<&'static str, Vec<String>>,
    pub non_field: Vec<String>,
    pub values: Vec<(&'static Field, Cell)>,
}

impl FormState {
    #[must_use]
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || !self.non_field.is_empty()
    }

    pub fn error(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.entry(field).or_default().push(message.into());
    }

    #[must_use]
    pub fn value(&self, name: &str) -> Option<&Cell> {
        self.values
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, c)| c)
    }

    /// A typed date and time, when it parsed.
    #[must_use]
    pub fn time(&self, name: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        self.value(name).and_then(Cell::as_time)
    }

    /// A typed integer, when it parsed.
    #[must_use]
    pub fn int(&self, name: &str) -> Option<i64> {
        self.value(name).and_then(Cell::as_int)
    }

    /// Adds `message` on `later` when both times parsed and `later` is before
    /// `earlier`.
    pub fn ordered(&mut self, earlier: &str, later: &'static str, message: &str) {
        if let (Some(a), Some(b)) = (self.time(earlier), self.time(later)) {
            if b < a {
                self.error(later, message);
            }
        }
    }

    /// The inputs of a stored object.
    #[must_use]
    pub fn from_row(m: &ModelAdmin, row: &Row) -> Self {
        Self {
            inputs: m
                .fields
                .iter()
                .map(|f| (f.name, row.get(m, f.name).input()))
                .collect(),
            ..Self::default()
        }
    }

    /// The inputs of a blank form.
    #[must_use]
    pub fn defaults(m: &ModelAdmin) -> Self {
        Self {
            inputs: m
                .fields
                .iter()
                .map(|f| (f.name, f.default.to_string()))
                .collect(),
            ..Self::default()
        }
    }

    /// The inputs and errors only (what a page redraws).
    #[must_use]
    pub fn shown(&self) -> Self {
        Self {
            values: Vec::new(),
            ..self.clone()
        }
    }
}

/// The fields this editor may edit on this model's form.
#[must_use]
pub fn editable(m: &'static ModelAdmin, editor: Editor<'_>) -> Vec<&'static Field> {
    m.fields
        .iter()
        .filter(|f| f.editable && m.hooks.may_edit(f, editor))
        .collect()
}

/// Parses the submitted inputs named `{prefix}{field}`.
#[must_use]
pub fn parse_inputs(fields: &[&'static Field], form: &FormData, prefix: &str) -> FormState {
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

/// Uniqueness and foreign keys, checked against the database.
///
/// # Errors
/// Database errors.
pub async fn check_db(
    ctx: &AppContext,
    m: &ModelAdmin,
    state: &mut FormState,
    except: Option<Uuid>,
) -> Result<(), DbErr> {
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
#[must_use]
pub fn db_problem(m: &ModelAdmin, err: &DbErr) -> Option<(Option<&'static str>, String)> {
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

/// A row of an inline formset (`{prefix}-{i}-{field}`, Django's names).
#[derive(Debug)]
pub struct InlineRow {
    pub id: Option<Uuid>,
    pub delete: bool,
    pub state: FormState,
    /// A blank extra row: ignored.
    pub empty: bool,
    pub existing: Option<Row>,
}

/// The fields of the inline model edited on its parent's form.
#[must_use]
pub fn inline_fields(parent: &ModelAdmin, editor: Editor<'_>) -> Vec<&'static Field> {
    let Some((inline, child)) = parent.inline_model() else {
        return Vec::new();
    };
    editable(child, editor)
        .into_iter()
        .filter(|f| f.name != inline.fk)
        .collect()
}

/// Parses, cleans and checks the submitted rows of `parent`'s inline model.
/// Only the parent's own rows may be changed: other ids are taken as new.
///
/// # Errors
/// Database errors.
pub async fn parse_inline(
    ctx: &AppContext,
    parent: &ModelAdmin,
    parent_id: Option<Uuid>,
    form: &FormData,
    editor: Editor<'_>,
) -> Result<Vec<InlineRow>, DbErr> {
    let Some((inline, child)) = parent.inline_model() else {
        return Ok(Vec::new());
    };
    let fields = inline_fields(parent, editor);
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
            .filter(|id| existing.contains_key(id));
        let delete = form.has(&format!("{prefix}DELETE"));
        let mut state = parse_inputs(&fields, form, &prefix);
        let empty = id.is_none()
            && fields
                .iter()
                .all(|f| state.inputs.get(f.name).map_or("", String::as_str).trim() == f.default);
        let row = id.and_then(|i| existing.get(&i).cloned());
        if !empty && !delete {
            child.hooks.clean(child, &mut state, row.as_ref());
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
