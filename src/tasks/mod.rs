//! `cargo loco task …`: the Cloud Run Jobs and the operators' one-offs.

use loco_rs::app::AppContext;

/// A task's outcome line: one Cloud Logging JSON line where the logger writes
/// JSON (production, like the server), a plain line otherwise.
macro_rules! say {
    ($ctx:expr, $($arg:tt)*) => {
        $crate::tasks::say_line($ctx, &format!($($arg)*))
    };
}
pub(crate) use say;

/// See [`say!`].
pub fn say_line(ctx: &AppContext, line: &str) {
    let logger = &ctx.config.logger;
    if logger.enable && matches!(logger.format, loco_rs::logger::Format::Json) {
        tracing::info!(target: "tuki_backend::tasks", "{line}");
    } else {
        println!("{line}");
    }
}

pub mod create_initial_superuser;
pub mod expire_abandoned_orders;
pub mod import_django;
pub mod migrate;
pub mod rebuild_sales;
pub mod reconcile_payments;
pub mod release_expired_holds;
pub mod seed_demo;
pub mod send_confirmations;
pub mod send_event_reminders;
