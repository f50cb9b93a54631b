//! Buyer accounts as backtuki's frontends call them (`/api/v1/auth/…`):
//! sign-in by password (two spellings), token check and sign-out, "does this
//! email have an account", the profile (which also lets a guest claim its
//! account), password change, and password reset by an emailed code. Answers
//! and refusals keep backtuki's shapes (`{"success": false, "message": …,
//! "errors": {…}}`); what backtuki got wrong is done right underneath (see
//! each handler).

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, SecondsFormat, Utc};
use loco_rs::prelude::*;
use sea_orm::sea_query::{ExprTrait, Func};
use serde::Serialize;
use serde_json::json;

use super::{
    auth::{ClientIp, SignedIn},
    drf::{Body, Input},
    Api, ApiError, Table, TOKEN_NOT_VALID,
};
use crate::{
    accounts::{
        auth::{self, TokenPair},
        signin::{sign_in, verify_password, SignIn},
    },
    models::{
        one_time_codes::Purpose,
        orders, organizer_members,
        users::{self, password_problem},
    },
    views::accounts::{has_password, is_profile_complete, UserProfile},
};

const INVALID: &str = "Datos inválidos";
const WRONG_CREDENTIALS: &str = "Credenciales incorrectas";

/// UTC, ISO 8601 with `Z` (DRF's encoding of a datetime in a dict).
#[must_use]
pub fn iso_utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A refusal: backtuki's `{"success": false, "message": …, "errors"?: {…}}`
/// for a request it read, or DRF's `{"detail": …}` for a body that is not
/// JSON.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Refusal {
    pub success: Option<bool>,
    pub message: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub errors: Option<serde_json::Value>,
    pub detail: Option<String>,
}

/// A password sign-in: email and password checked as `auth/token/` does
/// (throttled per email and per client, the same answer for an unknown
/// email, a wrong password or a deactivated account).
async fn password_sign_in(
    ctx: &AppContext,
    ip: &str,
    body: serde_json::Value,
) -> Result<(TokenPair, users::Model), ApiError> {
    let mut input = Input::new(body);
    let email = input.email("email");
    let password = input.text("password", true, false, 4096);
    input.finish(INVALID)?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::Internal);
    };
    let user = match sign_in(ctx, &email, &password, ip, false).await? {
        SignIn::Ok(user) => *user,
        SignIn::Refused => {
            return Err(ApiError::refused(
                StatusCode::UNAUTHORIZED,
                WRONG_CREDENTIALS,
            ))
        }
        SignIn::Throttled(seconds) => return Err(ApiError::TooManyRequests(seconds)),
        SignIn::Busy => return Err(ApiError::Busy),
    };
    let settings = crate::platform::context::settings(ctx)?;
    let pair = auth::issue(&ctx.db, &settings.secret_key, &user, Utc::now()).await?;
    Ok((pair, user))
}

/// `{access, refresh, user}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedInPair {
    pub access: String,
    pub refresh: String,
    pub user: UserProfile,
}

/// Signs in by email and password.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token/",
    tag = "auth",
    request_body(content = super::bodies::EmailPassword, description = "`{email, password}`"),
    responses(
        (status = 200, description = "An access (8 h) and a refresh (30 days) token, and the user", body = SignedInPair),
        (status = 400, description = "A field is missing or invalid", body = Refusal),
        (status = 401, description = "Wrong email or password (the same answer either way)", body = Refusal),
        (status = 429, description = "Too many failed attempts for this email or address", body = super::Detail),
        (status = 503, description = "Password hashing at capacity: retry after `Retry-After` seconds", body = super::Detail),
    )
)]
pub async fn token(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (pair, user) = password_sign_in(&ctx, &ip, body).await?;
    Ok(Json(SignedInPair {
        access: pair.access,
        refresh: pair.refresh,
        user: UserProfile::from(&user),
    })
    .into_response())
}

/// `{success, message, token, refresh, user}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginAnswer {
    pub success: bool,
    pub message: String,
    pub token: String,
    pub refresh: String,
    pub user: UserProfile,
}

/// Signs in by email and password (backtuki's second spelling, with the
/// same throttling as `auth/token/`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login-password/",
    tag = "auth",
    request_body(content = super::bodies::EmailPassword, description = "`{email, password}`"),
    responses(
        (status = 200, description = "Signed in: `token` is the access token", body = LoginAnswer),
        (status = 400, description = "A field is missing or invalid", body = Refusal),
        (status = 401, description = "Wrong email or password", body = Refusal),
        (status = 429, description = "Too many failed attempts", body = super::Detail),
        (status = 503, description = "Password hashing at capacity", body = super::Detail),
    )
)]
pub async fn login_password(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (pair, user) = password_sign_in(&ctx, &ip, body).await?;
    Ok(Json(LoginAnswer {
        success: true,
        message: "Login exitoso".into(),
        token: pair.access,
        refresh: pair.refresh,
        user: UserProfile::from(&user),
    })
    .into_response())
}

/// Whether a token is good: an access token of a live account under its
/// current credentials, or a refresh token not yet used or revoked.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token/verify/",
    tag = "auth",
    request_body(content = super::bodies::TokenOnly, description = "`{token}`"),
    responses(
        (status = 200, description = "Valid: `{}`", body = Object),
        (status = 400, description = "`token` missing, or a refresh token already used", body = super::FieldErrors),
        (status = 401, description = "Invalid or expired", body = super::Detail),
    )
)]
pub async fn verify(api: Api, Body(body): Body) -> Result<Response, ApiError> {
    let mut input = Input::new(body);
    let token = input.text("token", true, false, 4096);
    if input.has_errors() {
        return Err(input
            .finish(INVALID)
            .err()
            .map_or(ApiError::Internal, |e| match e {
                ApiError::Envelope(_, _, Some(errors)) => ApiError::Fields(errors),
                other => other,
            }));
    }
    let token = token.unwrap_or_default();
    let secret = &api.settings.secret_key;
    if let Some(claims) = auth::verify(secret, &token, "access") {
        let live = users::Entity::find_by_id(claims.user_id)
            .one(&api.db)
            .await?
            .is_some_and(|u| u.is_active && u.auth_version == claims.ver);
        return if live {
            Ok(Json(json!({})).into_response())
        } else {
            Err(TOKEN_NOT_VALID)
        };
    }
    if auth::verify(secret, &token, "refresh").is_some() {
        return if auth::refresh_is_live(&api.db, secret, &token, Utc::now()).await? {
            Ok(Json(json!({})).into_response())
        } else {
            Err(ApiError::Fields(
                [(
                    "non_field_errors".to_string(),
                    vec!["Token is blacklisted".to_string()],
                )]
                .into_iter()
                .collect(),
            ))
        };
    }
    Err(TOKEN_NOT_VALID)
}

/// `{success, message}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Done {
    pub success: bool,
    pub message: String,
}

/// Signs out: the refresh token given stops working (the access token
/// expires on its own, within 8 hours).
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout/",
    tag = "auth",
    request_body(content = super::bodies::LogoutBody, description = "`{refresh}` (optional)"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Signed out", body = Done),
        (status = 400, description = "The body is not JSON", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn logout(
    api: Api,
    SignedIn(user): SignedIn,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let mut input = Input::new(body);
    let refresh = input.text("refresh", false, true, 4096);
    let revoked = match refresh.filter(|r| !r.is_empty()) {
        Some(token) => {
            auth::revoke(
                &api.db,
                &api.settings.secret_key,
                user.id,
                &token,
                Utc::now(),
            )
            .await?
        }
        None => true,
    };
    let message = if revoked {
        "Sesión cerrada correctamente"
    } else {
        "Sesión cerrada"
    };
    Ok(Json(Done {
        success: true,
        message: message.into(),
    })
    .into_response())
}

/// `check-user`'s `user`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckedUser {
    pub id: uuid::Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_guest: bool,
    pub is_organizer: bool,
}

/// What `check-user` says of an email.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserCheck {
    pub exists: bool,
    pub has_password: bool,
    pub is_guest: bool,
    pub is_profile_complete: bool,
    pub is_organizer: bool,
    pub needs_setup: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<CheckedUser>,
}

/// How many emails one client may check in the throttle's window.
const CHECKS_PER_CLIENT: u64 = 20;
/// How many times one email may be checked in the window.
const CHECKS_PER_EMAIL: u64 = 10;

/// Whether an email has an account, and how it signs in (the frontends ask
/// before showing a password or a code form). Throttled per client and per
/// email like sign-in, since it tells who has an account.
#[utoipa::path(
    post,
    path = "/api/v1/auth/check-user/",
    tag = "auth",
    request_body(content = super::bodies::EmailOnly, description = "`{email}`"),
    responses(
        (status = 200, description = "What the email's account is like (`user` only when it exists)", body = UserCheck),
        (status = 400, description = "Invalid email", body = Refusal),
        (status = 429, description = "Too many checks from this client or of this email", body = super::Detail),
    )
)]
pub async fn check_user(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    input.finish("Email inválido")?;
    let email = email.unwrap_or_default();
    let throttle = crate::platform::context::throttle(&ctx)?;
    throttle
        .limit(&format!("check-user:ip:{ip}"), CHECKS_PER_CLIENT)
        .await
        .map_err(ApiError::TooManyRequests)?;
    throttle
        .limit(&format!("check-user:email:{email}"), CHECKS_PER_EMAIL)
        .await
        .map_err(ApiError::TooManyRequests)?;
    let Some(user) = users::Model::find_by_email(&api.db, &email)
        .await?
        .filter(|u| u.is_active)
    else {
        return Ok(Json(UserCheck {
            exists: false,
            has_password: false,
            is_guest: false,
            is_profile_complete: false,
            is_organizer: false,
            needs_setup: false,
            user: None,
        })
        .into_response());
    };
    let is_organizer = organizer_members::Entity::find()
        .filter(organizer_members::Column::UserId.eq(user.id))
        .count(&api.db)
        .await?
        > 0;
    Ok(Json(UserCheck {
        exists: true,
        has_password: has_password(&user),
        is_guest: user.is_guest,
        is_profile_complete: is_profile_complete(&user),
        is_organizer,
        needs_setup: false,
        user: Some(CheckedUser {
            id: user.id,
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            is_guest: user.is_guest,
            is_organizer,
        }),
    })
    .into_response())
}

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me/",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserProfile),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn me(SignedIn(user): SignedIn) -> Result<Response, ApiError> {
    Ok(Json(UserProfile::from(&user)).into_response())
}

/// The signed-in user (backtuki's second spelling).
#[utoipa::path(
    get,
    path = "/api/v1/auth/profile/",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserProfile),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn profile(SignedIn(user): SignedIn) -> Result<Response, ApiError> {
    Ok(Json(UserProfile::from(&user)).into_response())
}

/// `{success, message, user}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProfileSaved {
    pub success: bool,
    pub message: String,
    pub user: UserProfile,
}

/// Updates names and phone (every key optional). A guest sets its first
/// password here, and becomes a full account once it has both names: its
/// earlier purchases by the same email become its own. An account that has
/// a password changes it only with `change-password/` (which asks for the
/// current one).
async fn save_profile(
    api: &Api,
    user: users::Model,
    body: serde_json::Value,
) -> Result<Response, ApiError> {
    let mut input = Input::new(body);
    let first = input.text("first_name", false, true, 150);
    let last = input.text("last_name", false, true, 150);
    let phone = if input
        .raw("phone_number")
        .is_some_and(serde_json::Value::is_null)
    {
        Some(String::new())
    } else {
        input.text("phone_number", false, true, 30)
    };
    let password = first_password_input(&mut input, &user);
    input.finish(INVALID)?;
    let now = Utc::now().fixed_offset();
    let mut user = user;
    if let Some(p) = password {
        user = first_password(api, user, &p).await?;
    }
    let mut active: users::ActiveModel = user.clone().into();
    if let Some(f) = &first {
        active.first_name = Set(f.clone());
    }
    if let Some(l) = &last {
        active.last_name = Set(l.clone());
    }
    if let Some(p) = phone {
        active.phone_number = Set(Some(p).filter(|p| !p.is_empty()));
    }
    let first_name = first.unwrap_or(user.first_name.clone());
    let last_name = last.unwrap_or(user.last_name.clone());
    let named = !first_name.trim().is_empty() && !last_name.trim().is_empty();
    let claimed = named && user.profile_completed_at.is_none();
    if claimed {
        active.is_guest = Set(false);
        active.profile_completed_at = Set(Some(now));
    }
    let user = active.update(&api.db).await?;
    if claimed {
        // The guest's purchases by this email are now its own.
        orders::Entity::update_many()
            .col_expr(orders::Column::UserId, Expr::value(user.id))
            .filter(
                Expr::expr(Func::lower(Expr::col(orders::Column::CustomerEmail)))
                    .eq(user.email.to_lowercase()),
            )
            .filter(orders::Column::UserId.is_null())
            .exec(&api.db)
            .await?;
    }
    Ok(Json(ProfileSaved {
        success: true,
        message: "Perfil actualizado".into(),
        user: UserProfile::from(&user),
    })
    .into_response())
}

/// Updates the profile (PUT and PATCH alike: every key optional).
#[utoipa::path(
    method(put, patch),
    path = "/api/v1/auth/profile/",
    tag = "auth",
    request_body(content = super::bodies::ProfileUpdate, description = "`{first_name?, last_name?, phone_number?, password?}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Saved", body = ProfileSaved),
        (status = 400, description = "Invalid field", body = Refusal),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 503, description = "Password hashing at capacity", body = super::Detail),
    )
)]
pub async fn update_profile(
    api: Api,
    SignedIn(user): SignedIn,
    Body(body): Body,
) -> Result<Response, ApiError> {
    save_profile(&api, user, body).await
}

/// Updates the profile (`auth/me/`; PUT and PATCH alike).
#[utoipa::path(
    method(put, patch),
    path = "/api/v1/auth/me/",
    tag = "auth",
    request_body(content = super::bodies::ProfileUpdate, description = "`{first_name?, last_name?, phone_number?, password?}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Saved", body = ProfileSaved),
        (status = 400, description = "Invalid field", body = Refusal),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 503, description = "Password hashing at capacity", body = super::Detail),
    )
)]
pub async fn update_me_put(
    api: Api,
    SignedIn(user): SignedIn,
    Body(body): Body,
) -> Result<Response, ApiError> {
    save_profile(&api, user, body).await
}

/// `{success, message, last_password_change}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    pub success: bool,
    pub message: String,
    pub last_password_change: String,
}

/// Changes the password (the current one is required; guessing it is
/// throttled like signing in). Every session of the account ends, this one
/// included: the frontend signs in again with the new password.
#[utoipa::path(
    post,
    path = "/api/v1/auth/change-password/",
    tag = "auth",
    request_body(content = super::bodies::ChangePassword, description = "`{current_password, new_password, new_password_confirm?}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = PasswordChanged),
        (status = 400, description = "Wrong current password, or a weak or mismatched new one", body = Refusal),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 429, description = "Too many wrong current passwords", body = super::Detail),
        (status = 503, description = "Password hashing at capacity", body = super::Detail),
    )
)]
pub async fn change_password(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    SignedIn(user): SignedIn,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let mut input = Input::new(body);
    let current = input.text("current_password", true, false, 4096);
    let new = input.text("new_password", true, false, 4096);
    let confirm = input.text("new_password_confirm", false, false, 4096);
    if let Some(problem) = new
        .as_deref()
        .and_then(|n| password_problem(n, &user.email))
    {
        input.error("new_password", problem);
    }
    if !input.has_errors() && confirm.is_some() && confirm != new {
        input.error("new_password_confirm", "Las contraseñas no coinciden");
    }
    input.finish(INVALID)?;
    let (Some(current), Some(new)) = (current, new) else {
        return Err(ApiError::Internal);
    };
    let api = Api::of(&ctx)?;
    let throttle = crate::platform::context::throttle(&ctx)?;
    let key = format!("password-change:{}", user.id);
    throttle
        .attempt(&key, &ip)
        .await
        .map_err(ApiError::TooManyRequests)?;
    if !verify_password(&current, &user.password)
        .await
        .map_err(|_| ApiError::Busy)?
        .ok()
    {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "La contraseña actual es incorrecta",
        ));
    }
    throttle.succeeded(&key, &ip).await;
    if current == new {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "La nueva contraseña debe ser diferente a la actual",
        ));
    }
    let now = Utc::now();
    let id = user.id;
    let active: users::ActiveModel = user.into();
    active.set_password(&api.db, &new).await?;
    auth::revoke_all(&api.db, id, now).await?;
    Ok(Json(PasswordChanged {
        success: true,
        message: "Contraseña cambiada exitosamente".into(),
        last_password_change: iso_utc(now),
    })
    .into_response())
}

/// `{success, message, email, expires_at, time_remaining_minutes}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResetSent {
    pub success: bool,
    pub message: String,
    pub email: String,
    pub expires_at: String,
    pub time_remaining_minutes: i64,
}

/// Mails a six-digit code to reset the password. The answer is the same
/// whether the email has an account or not.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset/",
    tag = "auth",
    request_body(content = super::bodies::EmailOnly, description = "`{email}`"),
    responses(
        (status = 200, description = "Accepted (known or unknown email alike)", body = ResetSent),
        (status = 400, description = "Invalid email, or the mail could not be sent", body = Refusal),
        (status = 429, description = "Too many codes for this email or client", body = super::Detail),
    )
)]
pub async fn password_reset(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    input.finish("Email inválido")?;
    let email = email.unwrap_or_default();
    let now = Utc::now();
    let purpose = Purpose::PasswordReset;
    let user = users::Model::find_by_email(&api.db, &email)
        .await?
        .filter(|u| u.is_active);
    if let Some(user) = &user {
        super::otp::send_code(
            &ctx,
            &ip,
            &email,
            purpose,
            Some(user.id),
            &json!({"action": "password_reset"}),
        )
        .await?;
    } else {
        super::otp::count_send(&ctx, &ip, &email).await?;
    }
    let expires = now + chrono::Duration::minutes(purpose.minutes());
    Ok(Json(ResetSent {
        success: true,
        message: "Si el email existe, recibirás un código de restablecimiento".into(),
        email,
        expires_at: iso_utc(expires),
        time_remaining_minutes: purpose.minutes() - 1,
    })
    .into_response())
}

/// `{success, message, access, refresh, user}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResetDone {
    pub success: bool,
    pub message: String,
    pub access: String,
    pub refresh: String,
    pub user: UserProfile,
}

/// Sets a new password with the emailed code, and signs in (every earlier
/// session ends).
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset-confirm/",
    tag = "auth",
    request_body(content = super::bodies::ResetWithCode, description = "`{email, code, new_password, new_password_confirm?}`"),
    responses(
        (status = 200, description = "Password set; signed in", body = ResetDone),
        (status = 400, description = "Invalid field, or a wrong, used or expired code", body = Refusal),
        (status = 404, description = "No account for that email", body = Refusal),
        (status = 429, description = "Too many codes tried from this client", body = super::Detail),
        (status = 503, description = "Password hashing at capacity", body = super::Detail),
    )
)]
pub async fn password_reset_confirm(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let code = input.code("code");
    let new = input.text("new_password", true, false, 4096);
    let confirm = input.text("new_password_confirm", false, false, 4096);
    if let (Some(e), Some(n)) = (&email, &new) {
        if let Some(problem) = password_problem(n, e) {
            input.error("new_password", problem);
        }
    }
    if !input.has_errors() && confirm.is_some() && confirm != new {
        input.error("new_password_confirm", "Las contraseñas no coinciden");
    }
    input.finish(INVALID)?;
    let (Some(email), Some(code), Some(new)) = (email, code, new) else {
        return Err(ApiError::Internal);
    };
    super::otp::require_code(&ctx, &ip, &email, Purpose::PasswordReset, &code).await?;
    let Some(user) = users::Model::find_by_email(&api.db, &email)
        .await?
        .filter(|u| u.is_active)
    else {
        return Err(ApiError::refused(
            StatusCode::NOT_FOUND,
            "Usuario no encontrado",
        ));
    };
    let now = Utc::now();
    let id = user.id;
    let active: users::ActiveModel = user.into();
    let user = active.set_password(&api.db, &new).await?;
    auth::revoke_all(&api.db, id, now).await?;
    let pair = auth::issue(&api.db, &api.settings.secret_key, &user, now).await?;
    Ok(Json(ResetDone {
        success: true,
        message: "Contraseña restablecida exitosamente".into(),
        access: pair.access,
        refresh: pair.refresh,
        user: UserProfile::from(&user),
    })
    .into_response())
}

/// What an account that has a password is told when it sends one where only
/// a first password is taken.
const CHANGE_IT_ELSEWHERE: &str = "Usa /auth/change-password/ para cambiar tu contraseña.";

/// Reads `password` as an account's first password: refused under
/// `password` when the account has one already or it is too weak; the
/// password when it may be set.
pub fn first_password_input(input: &mut Input, user: &users::Model) -> Option<String> {
    let password = input.text("password", false, false, 4096)?;
    if has_password(user) {
        input.error("password", CHANGE_IT_ELSEWHERE);
        return None;
    }
    if let Some(problem) = password_problem(&password, &user.email) {
        input.error("password", problem);
        return None;
    }
    Some(password)
}

/// Sets an account's first password; one that has a password by now (a
/// set-up at the same time won) is told to change it instead.
///
/// # Errors
/// 400 on `password` then, 503 when hashing is at capacity, or the database
/// error.
pub async fn first_password(
    api: &Api,
    user: users::Model,
    password: &str,
) -> Result<users::Model, ApiError> {
    let active: users::ActiveModel = user.into();
    active
        .set_first_password(&api.db, password)
        .await
        .map_err(|e| match e {
            loco_rs::model::ModelError::EntityNotFound => {
                ApiError::Field("password", CHANGE_IT_ELSEWHERE.into())
            }
            other => other.into(),
        })
}

/// Inactive accounts are refused wherever a code would sign in.
pub fn usable(user: users::Model) -> Result<users::Model, ApiError> {
    if user.is_active {
        Ok(user)
    } else {
        Err(ApiError::refused(
            StatusCode::UNAUTHORIZED,
            "Cuenta desactivada",
        ))
    }
}

/// `auth/magic-login/`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MagicSignIn {
    pub success: bool,
    pub access_token: String,
    pub refresh: String,
    pub user: UserProfile,
    pub requires_profile_completion: bool,
}

/// Signs in with a paid order's access token (the link in its mail): the
/// order's account, or a guest account for its email made now. Only paid
/// orders, and never a staff or superuser account (backtuki let any order
/// token sign in as anyone).
#[utoipa::path(
    post,
    path = "/api/v1/auth/magic-login/",
    tag = "auth",
    request_body(content = super::bodies::MagicLogin, description = "`{order_access_token}` (or `{access_token}`)"),
    responses(
        (status = 200, description = "Signed in", body = MagicSignIn),
        (status = 400, description = "No token", body = Refusal),
        (status = 401, description = "Unknown or unpaid order, or an account that cannot sign in this way", body = Refusal),
        (status = 429, description = "Too many tries from this client", body = super::Detail),
    )
)]
pub async fn magic_login(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let token = ["order_access_token", "access_token"]
        .iter()
        .find_map(|k| body.get(*k).and_then(serde_json::Value::as_str))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let Some(token) = token else {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "order_access_token es requerido",
        ));
    };
    crate::platform::context::throttle(&ctx)?
        .limit(&format!("magic-login:ip:{ip}"), 20)
        .await
        .map_err(ApiError::TooManyRequests)?;
    let invalid = || {
        ApiError::refused(
            StatusCode::UNAUTHORIZED,
            "Token de orden inválido o expirado",
        )
    };
    let hash = crate::platform::tokens::sha256_hex(&token);
    let Some(order) = orders::Entity::find()
        .filter(orders::Column::AccessTokenHash.eq(hash))
        .one(&api.db)
        .await?
        .filter(|o| crate::models::status::OrderStatus::is_paid(&o.status))
    else {
        return Err(invalid());
    };
    let user = match order.user_id {
        Some(id) => users::Entity::find_by_id(id)
            .one(&api.db)
            .await?
            .ok_or_else(invalid)?,
        None => {
            let (first, last) = order
                .customer_name
                .split_once(' ')
                .unwrap_or((order.customer_name.as_str(), ""));
            let (user, _) =
                users::find_or_create_guest(&api.db, &order.customer_email, first, last).await?;
            orders::Entity::update_many()
                .col_expr(orders::Column::UserId, Expr::value(user.id))
                .filter(orders::Column::Id.eq(order.id))
                .filter(orders::Column::UserId.is_null())
                .exec(&api.db)
                .await?;
            user
        }
    };
    if user.is_staff || user.is_superuser {
        return Err(invalid());
    }
    let user = usable(user)?;
    let pair = auth::issue(&api.db, &api.settings.secret_key, &user, Utc::now()).await?;
    Ok(Json(MagicSignIn {
        success: true,
        access_token: pair.access,
        refresh: pair.refresh,
        requires_profile_completion: !is_profile_complete(&user),
        user: UserProfile::from(&user),
    })
    .into_response())
}

/// Makes a guest account for a buyer's email (backtuki's frontend calls it
/// after a purchase); an existing account is left as it is. Throttled per
/// client; an existing account's names are not told.
#[utoipa::path(
    post,
    path = "/api/v1/auth/create-guest/",
    tag = "auth",
    request_body(content = super::bodies::GuestBody, description = "`{email, first_name?, last_name?, order_id?}`"),
    responses(
        (status = 201, description = "Created", body = Object),
        (status = 200, description = "The email already had an account", body = Object),
        (status = 400, description = "No valid email", body = Refusal),
        (status = 429, description = "Too many from this client", body = super::Detail),
    )
)]
pub async fn create_guest(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let first = input
        .text("first_name", false, true, 150)
        .unwrap_or_default();
    let last = input
        .text("last_name", false, true, 150)
        .unwrap_or_default();
    if input.has_errors() {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "Email requerido",
        ));
    }
    let email = email.unwrap_or_default();
    crate::platform::context::throttle(&ctx)?
        .limit(&format!("create-guest:ip:{ip}"), 20)
        .await
        .map_err(ApiError::TooManyRequests)?;
    let (user, created) = users::find_or_create_guest(&api.db, &email, &first, &last).await?;
    let shown = created || user.is_guest;
    let body = json!({
        "success": true,
        "user_created": created,
        "user": {
            "id": user.id,
            "email": user.email,
            "first_name": if shown { user.first_name.clone() } else { String::new() },
            "last_name": if shown { user.last_name.clone() } else { String::new() },
            "is_guest": user.is_guest,
        },
        "message": if created { "Usuario guest creado" } else { "Usuario existente actualizado" },
    });
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(body)).into_response())
}

/// backtuki's retired endpoint: 410, naming the two that replace it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/set-password/",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 410, description = "Gone: use change-password/ or password-reset/", body = Refusal),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn set_password(signed_in: SignedIn) -> Result<Response, ApiError> {
    let _ = signed_in;
    Err(ApiError::refused(
        StatusCode::GONE,
        "Usa /auth/change-password/ o /auth/password-reset/ según tu caso",
    ))
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_token, token)
        .doc(__path_login_password, login_password)
        .doc(__path_verify, verify)
        .doc(__path_logout, logout)
        .doc(__path_check_user, check_user)
        .doc(__path_me, me)
        .doc(__path_update_me_put, update_me_put)
        .doc(__path_profile, profile)
        .doc(__path_update_profile, update_profile)
        .doc(__path_change_password, change_password)
        .doc(__path_password_reset, password_reset)
        .doc(__path_password_reset_confirm, password_reset_confirm)
        .doc(__path_magic_login, magic_login)
        .doc(__path_create_guest, create_guest)
        .doc(__path_set_password, set_password)
}

pub fn routes() -> Routes {
    table().routes()
}
