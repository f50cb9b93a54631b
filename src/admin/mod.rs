//! The admin at `/admin/`, declared per model (STYLE.md §9), as Django's:
//! [`models`] holds each model's declaration and hooks (one file per app),
//! [`site`] the declaration's shape and the registry, [`hooks`] what a
//! declaration may add to the shared pages. The engine: [`fields`] parses
//! and formats values, [`form`] a submitted form, [`save`] and [`delete`]
//! the transactional writes with their history, [`store`] reads and writes
//! rows, [`audit`] keeps permissions and the log, [`error`] the pages' one
//! error. The pages are in `controllers::admin`.

pub mod audit;
pub mod delete;
pub mod error;
pub mod fields;
pub mod form;
pub mod hooks;
pub mod models;
pub mod save;
pub mod site;
pub mod store;
