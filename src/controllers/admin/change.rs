//! The add and change forms: `GET` draws them (read-only without the change
//! permission), `POST` saves through `admin::save` and goes back to the
//! list, or redraws the form with its errors in place (400).

use std::collections::HashMap;

use axum::{extract::Path, http::StatusCode, response::Response};
use serde_json::json;

use super::{
    page::{can_change, Add, Change, OnModel, OnObject, Page, Posted, View},
    see_other, widgets, Staff,
};
use crate::admin::{
    error::AdminResult,
    form::{self, FormData, FormState, InlineRow},
    hooks::Shown,
    save::{self, Submission},
    site::{Action, ModelAdmin},
    store::Row,
};

/// What a form shows besides its fields: the submitted inline rows and the
/// extension's errors.
#[derive(Default)]
struct Redraw<'a> {
    inline: Option<&'a [InlineRow]>,
    extra_errors: Option<&'a HashMap<&'static str, Vec<String>>>,
}

/// Everything the change form template needs.
async fn form_page(
    page: &Page,
    m: &'static ModelAdmin,
    row: Option<&Row>,
    state: &FormState,
    redraw: Redraw<'_>,
    status: StatusCode,
) -> AdminResult {
    let (ctx, perms) = (&page.ctx, &page.staff.perms);
    let can_change = row.is_none_or(|r| can_change(page, m, r));
    let writable = row.map_or(perms.can(m, Action::Add), |_| can_change);
    let edit = if writable {
        form::editable(m, page.editor())
    } else {
        Vec::new()
    };
    let mut lookups = widgets::Lookups {
        titles: match row {
            Some(r) => widgets::related_titles(ctx, m, std::slice::from_ref(r)).await?,
            None => HashMap::new(),
        },
        ..widgets::Lookups::default()
    };
    let mut fields = Vec::new();
    for f in m.fields {
        let is_edit = edit.iter().any(|e| e.name == f.name);
        if (!is_edit && row.is_none()) || f.name == "id" {
            continue;
        }
        fields.push(widgets::field_json(ctx, f, state, "", !is_edit, row, m, &mut lookups).await?);
    }
    let inline =
        widgets::inline_section(page, m, row, writable, redraw.inline, &mut lookups).await?;
    let no_errors = HashMap::new();
    let extra_errors = redraw.extra_errors.unwrap_or(&no_errors);
    let mut data = json!({
        "model": { "verbose": m.verbose, "plural": m.plural, "url": m.url(), "key": m.name },
        "fields": fields,
        "non_field": state.non_field,
        "has_errors": state.has_errors() || !extra_errors.is_empty()
            || redraw.inline.is_some_and(|rs| rs.iter().any(|r| r.state.has_errors())),
        "writable": writable,
        "can_add": perms.can(m, Action::Add),
        "inline": inline,
        "multipart": m.multipart(),
    });
    let title = row.map(|r| r.title(m));
    data["object"] = json!(row.map(|r| json!({
        "id": r.id,
        "title": title,
        "history_url": format!("{}{}/history/", m.url(), r.id),
        "delete_url": perms.can(m, Action::Delete).then(|| format!("{}{}/delete/", m.url(), r.id)),
    })));
    data["title"] = json!(match (&title, writable) {
        (None, _) => format!("Añadir {}", m.verbose.to_lowercase()),
        (Some(_), true) => format!("Modificar {}", m.verbose.to_lowercase()),
        (Some(_), false) => format!("Ver {}", m.verbose.to_lowercase()),
    });
    if let Some(ext) = m.extension {
        let errors = extra_errors.get(ext.key()).map_or(&[][..], Vec::as_slice);
        let shown = Shown {
            m,
            row,
            editor: page.editor(),
            writable,
            can_change,
            errors,
        };
        data[ext.key()] = ext.section(ctx, shown).await?;
    }
    if let Some(r) = row {
        for action in m.actions.iter().filter(|a| a.allowed(page.editor())) {
            data[action.name()] = json!(action.section(m, r));
        }
    }
    Ok(page.render("admin/change_form.html", data, status))
}

/// `GET /admin/{app}/{model}/add/`
pub async fn add_form(on: OnModel<Add>) -> AdminResult {
    let state = FormState::defaults(on.m);
    form_page(
        &on.page,
        on.m,
        None,
        &state,
        Redraw::default(),
        StatusCode::OK,
    )
    .await
}

/// `GET /admin/{app}/{model}/{id}/change/` (a read-only view without the
/// change permission).
pub async fn change_form(on: OnObject<View>) -> AdminResult {
    let state = FormState::from_row(on.m, &on.row);
    let redraw = Redraw::default();
    form_page(
        &on.page,
        on.m,
        Some(&on.row),
        &state,
        redraw,
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct ObjectUrl {
    app: String,
    model: String,
    id: String,
}

/// `GET /admin/{app}/{model}/{id}/`: Django's old object URL.
pub async fn object_root(_: Staff, Path(path): Path<ObjectUrl>) -> Response {
    see_other(&format!(
        "/admin/{}/{}/{}/change/",
        path.app, path.model, path.id
    ))
}

/// `POST /admin/{app}/{model}/add/`
pub async fn add(Posted(on, input): Posted<OnModel<Add>>) -> AdminResult {
    submit(&on.page, on.m, None, &input).await
}

/// `POST /admin/{app}/{model}/{id}/change/`
pub async fn change(Posted(on, input): Posted<OnObject<Change>>) -> AdminResult {
    submit(&on.page, on.m, Some(&on.row), &input).await
}

/// The form redrawn with what was wrong (400).
async fn refused(
    page: &Page,
    m: &'static ModelAdmin,
    row: Option<&Row>,
    sub: &Submission,
) -> AdminResult {
    let redraw = Redraw {
        inline: Some(&sub.inline),
        extra_errors: Some(&sub.extra_errors),
    };
    form_page(page, m, row, &sub.state, redraw, StatusCode::BAD_REQUEST).await
}

/// Validates and saves an add or change form with its inline rows, in one
/// transaction; then the extension's after-commit work (images); then back
/// to the list (or per the button).
async fn submit(
    page: &Page,
    m: &'static ModelAdmin,
    row: Option<&Row>,
    input: &FormData,
) -> AdminResult {
    let ctx = &page.ctx;
    let sub = save::submit(ctx, m, row, input, page.editor()).await?;
    if !sub.is_valid() {
        return refused(page, m, row, &sub).await;
    }
    let (id, title) = match save::save(ctx, m, row, sub, input, page.editor()).await? {
        Ok(saved) => saved,
        Err(sub) => return refused(page, m, row, &sub).await,
    };
    let note = match m.extension {
        Some(ext) => ext.after(ctx, id, input).await?,
        None => String::new(),
    };
    if let Ok(cache) = crate::platform::context::cache(ctx) {
        cache.invalidate();
    }
    let the = format!("{} «{title}»", m.the());
    let done = match (row.is_some(), m.feminine) {
        (true, false) => "fue modificado",
        (true, true) => "fue modificada",
        (false, false) => "fue agregado",
        (false, true) => "fue agregada",
    };
    let (to, message) = if input.has("_continue") {
        (
            format!("{}{id}/change/", m.url()),
            format!("{the} {done} correctamente. Puedes editarlo de nuevo abajo.{note}"),
        )
    } else if input.has("_addanother") {
        (
            format!("{}add/", m.url()),
            format!("{the} {done} correctamente. Puedes agregar otro abajo.{note}"),
        )
    } else {
        (m.url(), format!("{the} {done} correctamente.{note}"))
    };
    Ok(page.redirect(&to, &capitalize(&message)))
}

/// The first letter in upper case ("el evento …" → "El evento …").
#[must_use]
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}
