//! The mail an organizer's new team member gets: who invited them, to which
//! organizer, and how to come in (sign in by an emailed code).

use include_dir::{include_dir, Dir};
use loco_rs::{
    app::AppContext,
    mailer::{Args, Mailer},
};
use serde_json::json;

static TEMPLATES: Dir<'_> = include_dir!("src/mailers/organizer_invitation");

pub struct InvitationMailer;

impl Mailer for InvitationMailer {}

/// Mails the invitation to `email`.
///
/// # Errors
/// The mail could not be sent (or no mail server is configured).
pub async fn send(
    ctx: &AppContext,
    email: &str,
    organizer: &str,
    inviter: &str,
) -> Result<(), String> {
    let settings = crate::platform::context::settings(ctx).map_err(|e| e.to_string())?;
    if ctx.mailer.is_none() {
        return Err("no mail server is configured (EMAIL_HOST)".into());
    }
    // A subject is one line, whatever the organizer's name holds.
    let organizer = super::order_confirmation::one_line(organizer);
    InvitationMailer::mail_template(
        ctx,
        &TEMPLATES,
        Args {
            from: Some(settings.from_email.clone()),
            to: email.to_string(),
            locals: json!({ "organizer": organizer, "inviter": inviter, "email": email }),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| e.to_string())
}
