//! Mail Tuki sends (Loco's mailer templates: `subject.t`, `text.t`, `html.t`).

pub mod event_reminder;
pub mod one_time_code;
pub mod order_confirmation;
pub mod organizer_invitation;
pub mod password_reset;
