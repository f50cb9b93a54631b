//! A one-time code by email (`models::one_time_codes`): the subject names
//! what it is for; the text is backtuki's, so buyers see the same mail.

use include_dir::{include_dir, Dir};
use loco_rs::{
    app::AppContext,
    mailer::{Args, Mailer},
};
use serde_json::json;

use crate::models::one_time_codes::Purpose;

static TEMPLATES: Dir<'_> = include_dir!("src/mailers/one_time_code");

pub struct CodeMailer;

impl Mailer for CodeMailer {}

/// Mails `code` to `email`.
///
/// # Errors
/// The mail could not be sent (or no mail server is configured).
pub async fn send(
    ctx: &AppContext,
    email: &str,
    purpose: Purpose,
    code: &str,
) -> Result<(), String> {
    let settings = crate::platform::context::settings(ctx).map_err(|e| e.to_string())?;
    if ctx.mailer.is_none() {
        return Err("no mail server is configured (EMAIL_HOST)".into());
    }
    CodeMailer::mail_template(
        ctx,
        &TEMPLATES,
        Args {
            from: Some(settings.from_email.clone()),
            to: email.to_string(),
            locals: json!({ "subject": purpose.subject(), "code": code, "minutes": purpose.minutes().to_string() }),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| e.to_string())
}
