//! Mail Tuki sends (Loco's mailer templates: `subject.t`, `text.t`, `html.t`).

pub mod order_confirmation;
pub mod password_reset;
