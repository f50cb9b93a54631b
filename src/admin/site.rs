//! What a model's admin declares: a [`ModelAdmin`] (columns, search,
//! filters, form fields, what goes with a delete, and its hooks) that the
//! shared list, form, delete and history pages render, and the registry of
//! every declared model (in `super::models`). URLs follow Django's
//! `/admin/{app}/{model}/`, so staff bookmarks keep working.

use super::{
    fields::{Field, Kind},
    hooks::{Extension, Hooks, ObjectAction},
    models::{events, orders, organizers, payments, users},
};

/// What happens to a row pointing at a deleted object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// Deleted with it.
    Cascade,
    /// Forbids the delete while it exists.
    Protect,
    /// Kept, with the reference cleared.
    SetNull,
}

/// Rows of another table that point at this model.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    pub label: &'static str,
    pub table: &'static str,
    pub fk: &'static str,
    /// The column that names a row of it.
    pub title: &'static str,
    pub on_delete: OnDelete,
}

/// Rows of another admin model edited on this model's form.
#[derive(Debug, Clone, Copy)]
pub struct Inline {
    /// The admin model's name (`tickettier`).
    pub model: &'static str,
    /// Its column pointing at this model.
    pub fk: &'static str,
    /// Blank rows offered for new objects.
    pub extra: usize,
}

pub struct ModelAdmin {
    pub app: &'static str,
    /// The URL segment, Django's `model_name`.
    pub name: &'static str,
    pub table: &'static str,
    pub verbose: &'static str,
    pub plural: &'static str,
    /// Feminine noun (for "la" / "nueva" in messages).
    pub feminine: bool,
    /// The column that names an object (Django's `__str__`).
    pub title: &'static str,
    pub fields: &'static [Field],
    pub list: &'static [&'static str],
    pub search: &'static [&'static str],
    pub filters: &'static [&'static str],
    /// Default order: a column, `-` first for descending.
    pub ordering: &'static str,
    /// `false` for records of what people paid (orders, payments, tickets):
    /// viewable, never added, edited or deleted by hand.
    pub writable: bool,
    pub children: &'static [Child],
    pub inline: Option<Inline>,
    /// Its rules (`clean`, fields only some editors change, protected objects).
    pub hooks: &'static dyn Hooks,
    /// A section of its change form with inputs of its own.
    pub extension: Option<&'static dyn Extension>,
    /// Buttons that do something to one object.
    pub actions: &'static [&'static dyn ObjectAction],
    /// Too many objects for a list (Django's `autocomplete_fields`): foreign
    /// keys to it and changelist filters by it are a search box over its
    /// `search` fields, fed by its `autocomplete/` endpoint.
    pub large: bool,
    /// A date column to drill down by (Django's `date_hierarchy`): years,
    /// then months, then days above the changelist, in Chile's time.
    pub date_hierarchy: Option<&'static str>,
    /// Changelist actions of its own (every model also exports to CSV).
    pub bulk: &'static [&'static dyn crate::admin::hooks::BulkAction],
}

impl std::fmt::Debug for ModelAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelAdmin")
            .field("app", &self.app)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ModelAdmin {
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    #[must_use]
    pub fn url(&self) -> String {
        format!("/admin/{}/{}/", self.app, self.name)
    }

    /// The permission codename for an action (`events.change`).
    #[must_use]
    pub fn codename(&self, action: Action) -> String {
        format!("{}.{}", self.name, action.as_str())
    }

    /// The inline model edited on this model's form, with its declaration.
    #[must_use]
    pub fn inline_model(&self) -> Option<(Inline, &'static Self)> {
        let inline = self.inline?;
        Some((inline, by_name(inline.model)?))
    }

    /// The form sends files.
    #[must_use]
    pub fn multipart(&self) -> bool {
        self.extension.is_some_and(|e| e.multipart())
    }

    /// The action posted to `/{app}/{model}/{id}/{name}/`.
    #[must_use]
    pub fn action(&self, name: &str) -> Option<&'static dyn ObjectAction> {
        self.actions.iter().copied().find(|a| a.name() == name)
    }

    /// "el evento" / "la categoría".
    #[must_use]
    pub fn the(&self) -> String {
        format!(
            "{} {}",
            if self.feminine { "la" } else { "el" },
            self.verbose.to_lowercase()
        )
    }
}

/// What a user may do with a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    View,
    Add,
    Change,
    Delete,
}

impl Action {
    pub const ALL: [Self; 4] = [Self::View, Self::Add, Self::Change, Self::Delete];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Add => "add",
            Self::Change => "change",
            Self::Delete => "delete",
        }
    }

    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::View => "Ver",
            Self::Add => "Añadir",
            Self::Change => "Modificar",
            Self::Delete => "Eliminar",
        }
    }
}

pub const CREATED: Field = Field::new("created_at", "Creado", Kind::DateTime).readonly();
pub const UPDATED: Field = Field::new("updated_at", "Modificado", Kind::DateTime).readonly();
pub const ID: Field = Field::new("id", "ID", Kind::Uuid).readonly();

/// Every model, in the order the index lists them.
pub static MODELS: &[&ModelAdmin] = &[
    &users::USERS,
    &organizers::ORGANIZERS,
    &organizers::MEMBERS,
    &events::CATEGORIES,
    &events::LOCATIONS,
    &events::EVENTS,
    &events::TIERS,
    &orders::ORDERS,
    &orders::TICKETS,
    &orders::PAYMENTS,
    &payments::WEBPAY,
];

/// The model at `/admin/{app}/{name}/`.
#[must_use]
pub fn find(app: &str, name: &str) -> Option<&'static ModelAdmin> {
    MODELS
        .iter()
        .copied()
        .find(|m| m.app == app && m.name == name)
}

/// The model with this name (foreign keys and inlines name models this way).
#[must_use]
pub fn by_name(name: &str) -> Option<&'static ModelAdmin> {
    MODELS.iter().copied().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_trigram_indexes_index_what_the_admin_searches() {
        use migration::m20261203_000025_admin_search::SEARCH_INDEXES;
        for (index, table, expr) in SEARCH_INDEXES {
            let m = MODELS
                .iter()
                .find(|m| m.table == table)
                .unwrap_or_else(|| panic!("{index}: no admin model on {table}"));
            assert_eq!(
                crate::admin::store::search_expression(m),
                expr,
                "{index} must index the expression the {table} changelist searches"
            );
        }
        for m in MODELS.iter().filter(|m| m.large) {
            assert!(
                SEARCH_INDEXES.iter().any(|(_, t, _)| *t == m.table),
                "{} is large: its search needs a trigram index",
                m.table
            );
        }
    }

    use super::*;

    #[test]
    fn every_reference_names_a_declared_column_or_model() {
        for m in MODELS {
            for name in m.list.iter().chain(m.search).chain(m.filters) {
                assert!(m.field(name).is_some(), "{}: no field {name}", m.name);
            }
            for f in m.fields {
                if let Kind::Fk(target) = f.kind {
                    assert!(
                        by_name(target).is_some(),
                        "{}.{}: no model {target}",
                        m.name,
                        f.name
                    );
                }
            }
            for s in m.search {
                assert!(m.field(s).unwrap().is_text(), "{}: {s} is not text", m.name);
            }
            if let Some(inline) = m.inline {
                let child = by_name(inline.model).unwrap();
                assert!(child.field(inline.fk).is_some());
            }
            let order = m.ordering.trim_start_matches('-');
            assert!(m.field(order).is_some(), "{}: ordering {order}", m.name);
            assert!(m.field(m.title).is_some(), "{}: title {}", m.name, m.title);
        }
    }
}
