//! What a model's declaration adds to the shared pages, as Django's
//! `ModelAdmin` methods: [`Hooks`] for rules on its fields and objects, an
//! [`Extension`] for a section of its change form with inputs of its own
//! (users' passwords and permissions, events' images), and [`ObjectAction`]s
//! for buttons that do something to one object (an order's refund). The
//! engine calls them and knows no model by name.

use async_trait::async_trait;
use loco_rs::prelude::AppContext;
use sea_orm::{DatabaseTransaction, DbErr, Value};
use serde_json::Value as Json;
use uuid::Uuid;

use super::{
    audit::Perms,
    error::AdminResult,
    fields::Field,
    form::{FormData, FormState},
    site::ModelAdmin,
    store::Row,
};
use crate::models::users;

/// Who is acting: the signed-in staff user and their permissions.
#[derive(Clone, Copy)]
pub struct Editor<'a> {
    pub user: &'a users::Model,
    pub perms: &'a Perms,
}

/// Rules of a model on its fields and objects.
pub trait Hooks: Sync {
    /// Rules between fields (Django's `clean()`): errors go on the form.
    fn clean(&self, _m: &ModelAdmin, _form: &mut FormState, _existing: Option<&Row>) {}

    /// Whether the editor may change this field (else it is shown read-only).
    fn may_edit(&self, _field: &Field, _editor: Editor<'_>) -> bool {
        true
    }

    /// An object the editor may see but neither change nor delete, whatever
    /// their permissions on the model.
    fn protected(&self, _m: &ModelAdmin, _row: &Row, _editor: Editor<'_>) -> bool {
        false
    }
}

/// No rules beyond the fields' own.
pub struct Plain;

impl Hooks for Plain {}

/// What an extension's section is drawn from.
pub struct Shown<'a> {
    pub m: &'a ModelAdmin,
    /// `None` on the add form.
    pub row: Option<&'a Row>,
    pub editor: Editor<'a>,
    /// The form saves (the editor may add or change).
    pub writable: bool,
    /// The editor may change this object (not only view it).
    pub can_change: bool,
    /// The section's errors from the last submission.
    pub errors: &'a [String],
}

/// A submission, for an extension to check its own inputs.
pub struct Submitted<'a> {
    pub ctx: &'a AppContext,
    pub m: &'a ModelAdmin,
    pub row: Option<&'a Row>,
    pub input: &'a FormData,
    pub state: &'a FormState,
    pub editor: Editor<'a>,
}

/// What an extension found in a submission.
#[derive(Debug, Default)]
pub struct Checked {
    /// Shown in its section; nothing is saved while there are any.
    pub errors: Vec<String>,
    /// Columns written with a new object (a user's password hash).
    pub columns: Vec<(&'static str, Value)>,
}

/// A saved object, for an extension to write what goes with it.
pub struct Written<'a> {
    pub ctx: &'a AppContext,
    pub m: &'a ModelAdmin,
    /// The object as it was before (`None` when added).
    pub before: Option<&'a Row>,
    pub id: Uuid,
    pub input: &'a FormData,
    pub editor: Editor<'a>,
}

/// A section of a model's change form with inputs of its own.
#[async_trait]
pub trait Extension: Sync {
    /// The change form template's name for the section (`user`, `images`).
    fn key(&self) -> &'static str;

    /// The form carries files.
    fn multipart(&self) -> bool {
        false
    }

    /// The objects have passwords, set on their own page.
    fn sets_passwords(&self) -> bool {
        false
    }

    /// What the section shows.
    async fn section(&self, ctx: &AppContext, shown: Shown<'_>) -> loco_rs::Result<Json>;

    /// Checks the section's inputs before anything is written.
    async fn check(&self, _submitted: Submitted<'_>) -> AdminResult<Checked> {
        Ok(Checked::default())
    }

    /// Writes in the save's transaction; returns lines for the history.
    async fn write(
        &self,
        _txn: &DatabaseTransaction,
        _written: Written<'_>,
    ) -> Result<Vec<String>, DbErr> {
        Ok(Vec::new())
    }

    /// After the commit (media storage, outside the transaction): a note
    /// added to the message when something could not be done.
    async fn after(
        &self,
        _ctx: &AppContext,
        _id: Uuid,
        _input: &FormData,
    ) -> loco_rs::Result<String> {
        Ok(String::new())
    }
}

/// What an action runs on.
pub struct Run<'a> {
    pub m: &'a ModelAdmin,
    pub row: &'a Row,
    pub input: &'a FormData,
    pub editor: Editor<'a>,
}

/// A button on one object's page, posted to `/{app}/{model}/{id}/{name}/`.
#[async_trait]
pub trait ObjectAction: Sync {
    /// Its URL segment and the change form template's name for it.
    fn name(&self) -> &'static str;

    /// Whether the editor may run it at all.
    fn allowed(&self, editor: Editor<'_>) -> bool;

    /// What the change form shows for it on this object; `None` hides it.
    fn section(&self, m: &ModelAdmin, row: &Row) -> Option<Json>;

    /// Runs it; the message shown on the object's page after.
    async fn run(&self, ctx: &AppContext, run: Run<'_>) -> AdminResult<String>;
}

/// An action on the ticked rows of a changelist (Django's admin actions),
/// beside "delete selected" and "export to CSV", which every model has.
#[async_trait]
pub trait BulkAction: Sync {
    /// The value posted as `action`.
    fn name(&self) -> &'static str;

    /// What the action menu says.
    fn label(&self) -> &'static str;

    /// Whether the editor may run it at all.
    fn allowed(&self, editor: Editor<'_>) -> bool;

    /// Runs it on the rows; the message shown on the changelist after. Each
    /// object it changes is written to the history.
    async fn run(
        &self,
        ctx: &AppContext,
        m: &ModelAdmin,
        editor: Editor<'_>,
        rows: &[Row],
    ) -> AdminResult<String>;
}
