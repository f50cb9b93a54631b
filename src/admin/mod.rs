//! The admin at `/admin/`, declared per model (STYLE.md §9): [`site`] says what
//! each model shows and accepts, [`fields`] parses and formats values,
//! [`store`] reads and writes rows, [`audit`] keeps permissions and the log.
//! The pages are in `controllers::admin`.

pub mod audit;
pub mod fields;
pub mod site;
pub mod store;
