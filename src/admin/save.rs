//! Saving an add or change form: every input checked first (fields, the
//! model's `clean`, the database, the extension's inputs, the inline rows and
//! the editor's permission on each), then the object, its inline rows, its
//! extension's writes and the history entry in one transaction.

use std::collections::HashMap;

use loco_rs::prelude::AppContext;
use sea_orm::{DbErr, TransactionTrait, Value};
use uuid::Uuid;

use super::{
    audit::{self, Change},
    error::AdminResult,
    fields::Cell,
    form::{self, FormData, FormState, InlineRow},
    hooks::{Editor, Submitted, Written},
    site::{Action, ModelAdmin},
    store::{self, Row},
};

/// A checked submission.
#[derive(Debug)]
pub struct Submission {
    pub state: FormState,
    pub inline: Vec<InlineRow>,
    /// The extension's errors, under its key.
    pub extra_errors: HashMap<&'static str, Vec<String>>,
    columns: Vec<(&'static str, Value)>,
}

impl Submission {
    #[must_use]
    pub fn is_valid(&self) -> bool {
        !(self.state.has_errors()
            || !self.extra_errors.is_empty()
            || self
                .inline
                .iter()
                .any(|r| !r.empty && !r.delete && r.state.has_errors())
            || self.inline.iter().any(|r| !r.state.non_field.is_empty()))
    }
}

/// Parses and checks a submitted form of `m` (`row` is the object changed,
/// `None` when adding). Nothing is written.
///
/// # Errors
/// Database errors; [`super::error::AdminError::Busy`] when an extension
/// could not hash a password.
pub async fn submit(
    ctx: &AppContext,
    m: &'static ModelAdmin,
    row: Option<&Row>,
    input: &FormData,
    editor: Editor<'_>,
) -> AdminResult<Submission> {
    let fields = form::editable(m, editor);
    let mut state = form::parse_inputs(&fields, input, "");
    m.hooks.clean(m, &mut state, row);
    if !state.has_errors() {
        form::check_db(ctx, m, &mut state, row.map(|r| r.id)).await?;
    }
    let mut extra_errors = HashMap::new();
    let mut columns = Vec::new();
    if let Some(ext) = m.extension {
        let checked = ext
            .check(Submitted {
                ctx,
                m,
                row,
                input,
                state: &state,
                editor,
            })
            .await?;
        if !checked.errors.is_empty() {
            extra_errors.insert(ext.key(), checked.errors);
        }
        columns = checked.columns;
    }
    let mut inline = form::parse_inline(ctx, m, row.map(|r| r.id), input, editor).await?;
    let child = m.inline_model().map(|(_, c)| c);
    let child_can = |a: Action| child.is_some_and(|c| editor.perms.can(c, a));
    for r in inline.iter_mut().filter(|r| !r.empty) {
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
    Ok(Submission {
        state,
        inline,
        extra_errors,
        columns,
    })
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

/// Writes a valid submission in one transaction with its history entry: the
/// object's id and title, or the submission back with the database's refusal
/// on it (a unique or check constraint that a concurrent write broke).
///
/// # Errors
/// Database errors other than a refusal.
pub async fn save(
    ctx: &AppContext,
    m: &'static ModelAdmin,
    row: Option<&Row>,
    mut sub: Submission,
    input: &FormData,
    editor: Editor<'_>,
) -> AdminResult<Result<(Uuid, String), Submission>> {
    let txn = ctx.db.begin().await?;
    let result: Result<(Uuid, String), DbErr> = async {
        let mut messages = Vec::new();
        let id = match row {
            Some(r) => {
                let labels = changed_labels(m, &sub.state, r);
                store::update(&txn, m, r.id, &sub.state.values).await?;
                if !labels.is_empty() {
                    messages.push(format!("Modificado {}.", join_labels(&labels)));
                }
                r.id
            }
            None => store::insert(&txn, m, &sub.state.values, &sub.columns).await?,
        };
        if let Some((inline, child)) = m.inline_model() {
            let fk = child
                .field(inline.fk)
                .ok_or_else(|| DbErr::Custom("inline fk".into()))?;
            for r in sub.inline.iter().filter(|r| !r.empty) {
                let name = r
                    .state
                    .value(child.title)
                    .map(|c| c.as_str().to_string())
                    .or_else(|| r.existing.as_ref().map(|e| e.title(child)))
                    .unwrap_or_default();
                let verbose = child.verbose.to_lowercase();
                match (r.id, r.delete) {
                    (Some(cid), true) => {
                        store::delete(&txn, child, &[cid]).await?;
                        messages.push(format!("Eliminado {verbose} «{name}»."));
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
                                "Modificado {} de {verbose} «{name}».",
                                join_labels(&labels)
                            ));
                        }
                    }
                    (None, true) => {}
                    (None, false) => {
                        let mut values = r.state.values.clone();
                        values.push((fk, Cell::Uuid(id)));
                        store::insert(&txn, child, &values, &[]).await?;
                        messages.push(format!("Añadido {verbose} «{name}»."));
                    }
                }
            }
        }
        if let Some(ext) = m.extension {
            let written = Written {
                ctx,
                m,
                before: row,
                id,
                input,
                editor,
            };
            messages.extend(ext.write(&txn, written).await?);
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
        audit::record(&txn, editor.user, m, id, &title, change, &message).await?;
        Ok((id, title))
    }
    .await;
    match result {
        Ok(saved) => {
            txn.commit().await?;
            Ok(Ok(saved))
        }
        Err(err) => {
            txn.rollback().await?;
            let Some((field, message)) = form::db_problem(m, &err) else {
                return Err(err.into());
            };
            match field {
                Some(f) => sub.state.error(f, message),
                None => sub.state.non_field.push(message),
            }
            Ok(Err(sub))
        }
    }
}
