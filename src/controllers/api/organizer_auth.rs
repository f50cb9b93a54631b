//! An organizer's sign-in by emailed code and the first profile set-up, on
//! backtuki's paths and shapes: `auth/organizer/otp/send/`,
//! `auth/organizer/otp/validate/` and `auth/organizer/profile/setup/`.

use axum::{extract::State, http::StatusCode, response::Response};
use chrono::Utc;
use loco_rs::prelude::*;
use sea_orm::{ActiveValue::Set, PaginatorTrait, TransactionTrait};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    accounts::{usable, Refusal},
    auth::{ClientIp, SignedIn},
    drf::{Body, Input},
    otp::{require_code, send_code, sent, CodeSent},
    Api, ApiError, Table,
};
use crate::{
    accounts::auth,
    models::{
        one_time_codes::Purpose,
        organizer_members,
        organizers::{self, Model as Organizer},
        users,
    },
    views::accounts::UserProfile,
};

/// Organizer sign-in attempts (sends and checks) per client address in 15
/// minutes, counted before anything is looked up: the answers tell whether
/// an email belongs to an organizer.
const ATTEMPTS_PER_CLIENT: u64 = 20;

async fn count_attempt(ctx: &AppContext, ip: &str) -> Result<(), ApiError> {
    crate::platform::context::throttle(ctx)?
        .limit(&format!("organizer-signin:ip:{ip}"), ATTEMPTS_PER_CLIENT)
        .await
        .map_err(ApiError::TooManyRequests)
}

/// Sends a sign-in code to an organizer's member.
#[utoipa::path(
    post,
    path = "/api/v1/auth/organizer/otp/send/",
    tag = "organizers",
    request_body(content = super::bodies::EmailOnly, description = "`{email}`"),
    responses(
        (status = 200, description = "Sent", body = CodeSent),
        (status = 400, description = "A malformed email, or the mail could not be sent", body = Refusal),
        (status = 404, description = "No account, or not an organizer's", body = Refusal,
            example = json!({"success": false, "message": "Este email no está asociado a una cuenta de organizador"})),
        (status = 429, description = "Too many attempts from this client or for this email", body = super::Detail),
    )
)]
pub async fn send(
    State(ctx): State<AppContext>,
    api: Api,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    count_attempt(&ctx, &ip).await?;
    let mut input = Input::new(body);
    let email = input.email("email");
    input.finish("Email inválido")?;
    let email = email.unwrap_or_default();
    let Some(user) = users::Model::find_by_email(&api.db, &email).await? else {
        return Err(ApiError::refused(
            StatusCode::NOT_FOUND,
            "No se encontró una cuenta con este email",
        ));
    };
    // A member, an invitee, or the contact of an organizer the sign-up
    // wizard made: the code proves the address.
    let may_sign_in = organizer_members::is_member(&api.db, user.id, true).await?
        || crate::models::organizer_onboardings::has_unclaimed(&api.db, &user.email).await?;
    if !may_sign_in {
        return Err(ApiError::refused(
            StatusCode::NOT_FOUND,
            "Este email no está asociado a una cuenta de organizador",
        ));
    }
    let row = send_code(
        &ctx,
        &ip,
        &email,
        Purpose::Login,
        Some(user.id),
        &json!({"login_method": "organizer_otp"}),
    )
    .await?;
    Ok(sent(&row, "Código de acceso enviado a tu email", None))
}

/// The organizer a sign-in answers with.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrganizerBrief {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub is_temporary: bool,
    pub email_validated: bool,
}

impl OrganizerBrief {
    fn new(o: &Organizer) -> Self {
        Self {
            id: o.id,
            name: o.name.clone(),
            slug: o.slug.clone(),
            is_temporary: o.is_temporary,
            email_validated: o.email_validated,
        }
    }
}

/// `auth/organizer/otp/validate/`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrganizerSignIn {
    pub success: bool,
    pub message: &'static str,
    pub access: String,
    pub refresh: String,
    pub user: UserProfile,
    /// The organizer's profile is still to be set up.
    pub needs_setup: bool,
    pub organizer: Option<OrganizerBrief>,
}

/// Signs an organizer's member in with the emailed code.
#[utoipa::path(
    post,
    path = "/api/v1/auth/organizer/otp/validate/",
    tag = "organizers",
    request_body(content = super::bodies::CodeLogin, description = "`{email, code}`"),
    responses(
        (status = 200, description = "Signed in", body = OrganizerSignIn),
        (status = 400, description = "A malformed field, or a wrong, used or expired code", body = Refusal),
        (status = 401, description = "The account is deactivated", body = Refusal),
        (status = 403, description = "Not an organizer's member", body = Refusal,
            example = json!({"success": false, "message": "Usuario no es organizador"})),
        (status = 404, description = "No account", body = Refusal),
        (status = 429, description = "Too many attempts from this client", body = super::Detail),
    )
)]
pub async fn validate(
    State(ctx): State<AppContext>,
    api: Api,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    count_attempt(&ctx, &ip).await?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let code = input.code("code");
    input.finish("Datos inválidos")?;
    let (Some(email), Some(code)) = (email, code) else {
        return Err(ApiError::Internal);
    };
    require_code(&ctx, &ip, &email, Purpose::Login, &code).await?;
    let Some(user) = users::Model::find_by_email(&api.db, &email).await? else {
        return Err(ApiError::refused(
            StatusCode::NOT_FOUND,
            "Usuario no encontrado",
        ));
    };
    let user = usable(user)?;
    // The code proved the email: the invitations sent to it are accepted,
    // and the organizers the wizard made for it are claimed (active, this
    // user their admin).
    organizer_members::accept_invitations(&api.db, user.id).await?;
    crate::models::organizer_onboardings::claim_signups(&api.db, &user).await?;
    let Some((_, organizer)) = organizer_members::primary(&api.db, user.id).await? else {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "Usuario no es organizador",
        ));
    };
    let pair = auth::issue(&api.db, &api.settings.secret_key, &user, Utc::now()).await?;
    Ok(super::private_json(OrganizerSignIn {
        success: true,
        message: "Acceso autorizado",
        access: pair.access,
        refresh: pair.refresh,
        user: UserProfile::from(&user),
        needs_setup: !organizer.onboarding_completed,
        organizer: Some(OrganizerBrief::new(&organizer)),
    }))
}

/// The organizer as the set-up modal reads it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupOrganizer {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub contact_email: String,
    pub representative_name: String,
    pub contact_phone: String,
    pub is_temporary: bool,
    pub email_validated: bool,
    pub onboarding_completed: bool,
}

/// Whether the signed-in user's organizer still needs its profile set up.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupState {
    pub is_organizer: bool,
    pub needs_setup: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizer: Option<SetupOrganizer>,
}

/// Whether the set-up modal is to be shown.
#[utoipa::path(
    get,
    path = "/api/v1/auth/organizer/profile/setup/",
    tag = "organizers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organizer and whether it needs setting up, or not an organizer", body = SetupState),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn setup_state(api: Api, SignedIn(user): SignedIn) -> Result<Response, ApiError> {
    let state = match organizer_members::primary(&api.db, user.id).await? {
        None => SetupState {
            is_organizer: false,
            needs_setup: false,
            message: Some("Usuario no es organizador"),
            organizer: None,
        },
        Some((_, o)) => SetupState {
            is_organizer: true,
            needs_setup: !o.onboarding_completed,
            message: None,
            organizer: Some(SetupOrganizer {
                id: o.id,
                name: o.name,
                slug: o.slug,
                contact_email: o.contact_email,
                representative_name: o.representative_name,
                contact_phone: o.contact_phone,
                is_temporary: o.is_temporary,
                email_validated: o.email_validated,
                onboarding_completed: o.onboarding_completed,
            }),
        },
    };
    Ok(super::private_json(state))
}

/// A slug from `name` that no other organizer has (`-2`, `-3`… added).
async fn free_slug<C: sea_orm::ConnectionTrait>(
    db: &C,
    name: &str,
    own: Uuid,
) -> Result<String, ApiError> {
    let base: String = slug::slugify(name).chars().take(40).collect();
    let base = if base.is_empty() {
        "organizador".to_string()
    } else {
        base
    };
    for n in 1..=50 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let taken = organizers::Entity::find()
            .filter(organizers::Column::Slug.eq(candidate.as_str()))
            .filter(organizers::Column::Id.ne(own))
            .count(db)
            .await?
            > 0;
        if !taken {
            return Ok(candidate);
        }
    }
    Ok(format!(
        "{base}-{}",
        &Uuid::new_v4().simple().to_string()[..8]
    ))
}

/// `auth/organizer/profile/setup/`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupDone {
    pub success: bool,
    pub message: &'static str,
    pub organizer: SetupBrief,
    pub user: UserProfile,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupBrief {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub is_temporary: bool,
    pub email_validated: bool,
    pub onboarding_completed: bool,
}

/// Sets the organizer up: its name (and so its address), the contact's name
/// and phone (the signed-in user's too) and, for an account without one, a
/// password. The organizer's admins and settings managers only.
#[utoipa::path(
    post,
    path = "/api/v1/auth/organizer/profile/setup/",
    tag = "organizers",
    security(("bearer" = [])),
    request_body(content = super::bodies::OrganizerSetup, description = "Every key optional"),
    responses(
        (status = 200, description = "Set up", body = SetupDone),
        (status = 400, description = "Each wrong field with its messages", body = Refusal),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 403, description = "Not an organizer's member, or one who may not change settings", body = Refusal,
            example = json!({"success": false, "message": "Usuario no es organizador"})),
        (status = 503, description = "Password hashing at capacity", body = super::Detail),
    )
)]
pub async fn setup(
    api: Api,
    SignedIn(user): SignedIn,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let Some((role, organizer)) = organizer_members::primary(&api.db, user.id).await? else {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "Usuario no es organizador",
        ));
    };
    if !(role.is_admin || role.can_manage_settings) {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "No tienes permiso para configurar este organizador",
        ));
    }
    let mut input = Input::new(body);
    let name = input
        .text("organization_name", false, true, 200)
        .filter(|n| !n.is_empty());
    if name
        .as_deref()
        .is_some_and(|n| n.starts_with("Organizador "))
    {
        input.error(
            "organization_name",
            "El nombre de la organización no puede empezar con 'Organizador '. Por favor, ingresa un nombre personalizado para tu organización.",
        );
    }
    let contact = input
        .text("contact_name", false, true, 255)
        .filter(|n| !n.is_empty());
    let phone = input
        .text("contact_phone", false, true, 30)
        .filter(|p| !p.is_empty());
    let password = super::accounts::first_password_input(&mut input, &user);
    let confirm = input.text("password_confirm", false, true, 4096);
    if let Some(p) = &password {
        match confirm.as_deref() {
            None | Some("") => input.error("non_field_errors", "Confirma tu contraseña"),
            Some(c) if c != p => input.error("non_field_errors", "Las contraseñas no coinciden"),
            Some(_) => {}
        }
    }
    input.finish("Datos inválidos")?;

    let mut user = user;
    if let Some(p) = password {
        user = super::accounts::first_password(&api, user, &p).await?;
    }
    let txn = api.db.begin().await?;
    let mut org: organizers::ActiveModel = organizer.clone().into();
    if let Some(name) = &name {
        org.slug = Set(free_slug(&txn, name, organizer.id).await?);
        org.name = Set(name.clone());
    }
    let mut person: users::ActiveModel = user.clone().into();
    if let Some(contact) = &contact {
        org.representative_name = Set(contact.clone());
        let (first, last) = contact.split_once(' ').unwrap_or((contact.as_str(), ""));
        person.first_name = Set(first.to_string());
        person.last_name = Set(last.trim().to_string());
    }
    if let Some(phone) = &phone {
        org.contact_phone = Set(phone.clone());
        org.representative_phone = Set(phone.clone());
        person.phone_number = Set(Some(phone.clone()));
    }
    org.is_temporary = Set(false);
    org.email_validated = Set(true);
    org.onboarding_completed = Set(true);
    let organizer = org.update(&txn).await?;
    let user = person.update(&txn).await?;
    txn.commit().await?;
    api.cache.invalidate();
    Ok(super::private_json(SetupDone {
        success: true,
        message: "Perfil configurado exitosamente",
        organizer: SetupBrief {
            id: organizer.id,
            name: organizer.name,
            slug: organizer.slug,
            is_temporary: organizer.is_temporary,
            email_validated: organizer.email_validated,
            onboarding_completed: organizer.onboarding_completed,
        },
        user: UserProfile::from(&user),
    }))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_send, send)
        .doc(__path_validate, validate)
        .doc(__path_setup_state, setup_state)
        .doc(__path_setup, setup)
}

pub fn routes() -> Routes {
    table().routes()
}
