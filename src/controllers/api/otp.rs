//! One-time codes by email, as backtuki's frontends use them
//! (`/api/v1/otp/…` and `auth/login/otp/`): a buyer signs in, creates an
//! account, reaches its tickets or resets its password with six digits sent
//! to its email.
//!
//! What backtuki lacked is here: codes are stored only as a keyed hash;
//! sending is limited per email (counted in the codes table) and per client;
//! checking is limited per code (attempts counted in its row, one guarded
//! `UPDATE`) and per client; a code never appears in a log; a deactivated
//! account gets no tokens; a guest account gets a unique username.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use chrono::{Duration, Utc};
use loco_rs::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::{
    accounts::{iso_utc, usable, Refusal},
    auth::ClientIp,
    drf::{Body, Input},
    Api, ApiError, Table,
};
use crate::{
    accounts::auth,
    models::{
        one_time_codes::{self, Checked, Purpose},
        users,
    },
    views::accounts::{is_profile_complete, UserProfile},
};

/// Codes one email may be sent in [`SEND_WINDOW`] (any purpose).
const SENDS_PER_EMAIL: u64 = 5;
const SEND_WINDOW: i64 = 15;
/// Codes one client may ask for in the throttle's window (backtuki: 10 an hour).
const SENDS_PER_CLIENT: u64 = 10;
/// Codes one client may try in the throttle's window.
const CHECKS_PER_CLIENT: u64 = 30;

/// Counts a send for `email` and the client: 429 past either limit.
///
/// # Errors
/// 429, or the database error.
pub async fn count_send(ctx: &AppContext, ip: &str, email: &str) -> Result<(), ApiError> {
    let throttle = crate::platform::context::throttle(ctx)?;
    throttle
        .limit(&format!("otp-send:ip:{ip}"), SENDS_PER_CLIENT)
        .await
        .map_err(ApiError::TooManyRequests)?;
    let since = Utc::now() - Duration::minutes(SEND_WINDOW);
    if one_time_codes::issued_since(&ctx.db, email, since).await? >= SENDS_PER_EMAIL {
        #[allow(clippy::cast_sign_loss)]
        return Err(ApiError::TooManyRequests((SEND_WINDOW * 60) as u64));
    }
    Ok(())
}

/// Issues a code for `email` and mails it; the mail failing takes the code
/// back (400 "Error al enviar el código").
///
/// # Errors
/// 429 past the limits, 400 when the mail cannot be sent, or the database
/// error.
pub async fn send_code(
    ctx: &AppContext,
    ip: &str,
    email: &str,
    purpose: Purpose,
    user_id: Option<uuid::Uuid>,
    metadata: &serde_json::Value,
) -> Result<one_time_codes::Model, ApiError> {
    count_send(ctx, ip, email).await?;
    let settings = crate::platform::context::settings(ctx)?;
    let now = Utc::now();
    let (row, code) = one_time_codes::issue(
        &ctx.db,
        &settings.secret_key,
        email,
        purpose,
        user_id,
        metadata,
        now,
    )
    .await?;
    if let Err(e) = crate::mailers::one_time_code::send(ctx, email, purpose, &code).await {
        tracing::warn!(purpose = purpose.as_str(), error = %e, "a one-time code could not be mailed");
        one_time_codes::Entity::update_many()
            .col_expr(
                one_time_codes::Column::UsedAt,
                Expr::value(now.fixed_offset()),
            )
            .filter(one_time_codes::Column::Id.eq(row.id))
            .exec(&ctx.db)
            .await?;
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "Error al enviar el código",
        ));
    }
    Ok(row)
}

/// Checks a code, counting the client's attempt first.
///
/// # Errors
/// 429 past the client's limit, or the database error.
pub async fn check_code(
    ctx: &AppContext,
    ip: &str,
    email: &str,
    purpose: Purpose,
    code: &str,
) -> Result<Checked, ApiError> {
    let throttle = crate::platform::context::throttle(ctx)?;
    throttle
        .limit(&format!("otp-check:ip:{ip}"), CHECKS_PER_CLIENT)
        .await
        .map_err(ApiError::TooManyRequests)?;
    let settings = crate::platform::context::settings(ctx)?;
    Ok(one_time_codes::check(
        &ctx.db,
        &settings.secret_key,
        email,
        purpose,
        code,
        Utc::now(),
    )
    .await?)
}

/// [`check_code`], refusing anything but a right code with its message.
///
/// # Errors
/// 400 with backtuki's message, 429, or the database error.
pub async fn require_code(
    ctx: &AppContext,
    ip: &str,
    email: &str,
    purpose: Purpose,
    code: &str,
) -> Result<(), ApiError> {
    match check_code(ctx, ip, email, purpose, code).await? {
        Checked::Valid(_) => Ok(()),
        other => Err(ApiError::refused(StatusCode::BAD_REQUEST, other.message())),
    }
}

/// A right sign-in code's account (a new guest for a new email), signed in:
/// the account, whether it was made now, and its tokens.
async fn signed_in_by_code(
    api: &Api,
    email: &str,
) -> Result<(users::Model, bool, auth::TokenPair), ApiError> {
    let (user, created) = account_for_code(api, email).await?;
    let pair = auth::issue(&api.db, &api.settings.secret_key, &user, Utc::now()).await?;
    Ok((user, created, pair))
}

fn purpose(input: &mut Input) -> Option<Purpose> {
    let raw = input.text("purpose", true, false, 40)?;
    let parsed = Purpose::parse(&raw);
    if parsed.is_none() {
        input.error("purpose", format!("\"{raw}\" no es una elección válida."));
    }
    parsed
}

/// `{success, message, expires_at, time_remaining_minutes}` (and
/// `user_exists` for a login code).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeSent {
    pub success: bool,
    pub message: String,
    pub expires_at: String,
    pub time_remaining_minutes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_exists: Option<bool>,
}

pub(super) fn sent(
    row: &one_time_codes::Model,
    message: &str,
    user_exists: Option<bool>,
) -> Response {
    let left = row.expires_at.with_timezone(&Utc) - Utc::now();
    let mut res = Json(CodeSent {
        success: true,
        message: message.into(),
        expires_at: iso_utc(row.expires_at.with_timezone(&Utc)),
        time_remaining_minutes: left.num_minutes().max(0),
        user_exists,
    })
    .into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

async fn account_of(api: &Api, email: &str) -> Result<Option<users::Model>, ApiError> {
    Ok(users::Model::find_by_email(&api.db, email).await?)
}

/// `{email, purpose}` read, a code sent to the email for that purpose.
async fn send_for(
    ctx: &AppContext,
    ip: &str,
    body: serde_json::Value,
    metadata: &serde_json::Value,
    message: &str,
) -> Result<Response, ApiError> {
    let api = Api::of(ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let purpose = purpose(&mut input);
    input.finish("Datos inválidos")?;
    let (Some(email), Some(purpose)) = (email, purpose) else {
        return Err(ApiError::Internal);
    };
    let user = account_of(&api, &email).await?;
    let row = send_code(ctx, ip, &email, purpose, user.map(|u| u.id), metadata).await?;
    Ok(sent(&row, message, None))
}

/// Sends a code for any purpose.
#[utoipa::path(
    post,
    path = "/api/v1/otp/generate/",
    tag = "otp",
    request_body(content = super::bodies::CodeRequest, description = "`{email, purpose, metadata?}`; purpose: event_creation, login, ticket_access, password_reset, email_verification, account_creation"),
    responses(
        (status = 200, description = "Sent", body = CodeSent),
        (status = 400, description = "Invalid field, or the mail could not be sent", body = Refusal),
        (status = 429, description = "Too many codes for this email or client", body = super::Detail),
    )
)]
pub async fn generate(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let metadata = body.get("metadata").cloned().unwrap_or_else(|| json!({}));
    send_for(&ctx, &ip, body, &metadata, "Código enviado correctamente").await
}

/// Sends a new code (the earlier one stops working).
#[utoipa::path(
    post,
    path = "/api/v1/otp/resend/",
    tag = "otp",
    request_body(content = super::bodies::CodeFor, description = "`{email, purpose}`"),
    responses(
        (status = 200, description = "Sent", body = CodeSent),
        (status = 400, description = "Invalid field, or the mail could not be sent", body = Refusal),
        (status = 429, description = "Too many codes for this email or client", body = super::Detail),
    )
)]
pub async fn resend(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    send_for(
        &ctx,
        &ip,
        body,
        &json!({}),
        "Código reenviado correctamente",
    )
    .await
}

/// Sends a sign-in code (an unknown email gets its account when the code is
/// used).
#[utoipa::path(
    post,
    path = "/api/v1/otp/login/",
    tag = "otp",
    request_body(content = super::bodies::LoginCodeRequest, description = "`{email, remember_me?}`"),
    responses(
        (status = 200, description = "Sent", body = CodeSent),
        (status = 400, description = "Invalid field, or the mail could not be sent", body = Refusal),
        (status = 429, description = "Too many codes for this email or client", body = super::Detail),
    )
)]
pub async fn login(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let remember = input.boolean("remember_me", false);
    input.finish("Datos inválidos")?;
    let email = email.unwrap_or_default();
    let user = account_of(&api, &email).await?;
    let exists = user.is_some();
    let metadata = json!({ "remember_me": remember, "user_exists": exists, "login_method": "otp" });
    let row = send_code(
        &ctx,
        &ip,
        &email,
        Purpose::Login,
        user.map(|u| u.id),
        &metadata,
    )
    .await?;
    Ok(sent(&row, "Código de acceso enviado", Some(exists)))
}

/// Sends a code to reach one's tickets without an account.
#[utoipa::path(
    post,
    path = "/api/v1/otp/ticket-access/",
    tag = "otp",
    request_body(content = super::bodies::TicketAccessRequest, description = "`{email, order_id?, event_id?}`"),
    responses(
        (status = 200, description = "Sent", body = CodeSent),
        (status = 400, description = "Invalid field, or the mail could not be sent", body = Refusal),
        (status = 429, description = "Too many codes for this email or client", body = super::Detail),
    )
)]
pub async fn ticket_access(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let order = input.text("order_id", false, true, 100);
    let event = input.text("event_id", false, true, 100);
    input.finish("Datos inválidos")?;
    let email = email.unwrap_or_default();
    let user = account_of(&api, &email).await?;
    let metadata =
        json!({ "order_id": order, "event_id": event, "access_type": "guest_ticket_access" });
    let row = send_code(
        &ctx,
        &ip,
        &email,
        Purpose::TicketAccess,
        user.map(|u| u.id),
        &metadata,
    )
    .await?;
    Ok(sent(
        &row,
        "Código enviado para acceder a tus tickets",
        None,
    ))
}

/// Whether an email has a live code (never the code itself).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeStatus {
    pub success: bool,
    pub has_active_code: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_remaining_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i32>,
}

/// Whether the email has a live code for the purpose.
#[utoipa::path(
    post,
    path = "/api/v1/otp/status/",
    tag = "otp",
    request_body(content = super::bodies::CodeFor, description = "`{email, purpose}`"),
    responses(
        (status = 200, description = "The live code's expiry and attempts, or none", body = CodeStatus),
        (status = 400, description = "Invalid field", body = Refusal),
    )
)]
pub async fn status(api: Api, Body(body): Body) -> Result<Response, ApiError> {
    let mut input = Input::new(body);
    let email = input.email("email");
    let purpose = purpose(&mut input);
    input.finish("Datos inválidos")?;
    let (Some(email), Some(purpose)) = (email, purpose) else {
        return Err(ApiError::Internal);
    };
    let now = Utc::now();
    let answer = match one_time_codes::live(&api.db, &email, purpose, now).await? {
        Some(row) => CodeStatus {
            success: true,
            has_active_code: true,
            message: None,
            expires_at: Some(iso_utc(row.expires_at.with_timezone(&Utc))),
            time_remaining_minutes: Some((row.expires_at.with_timezone(&Utc) - now).num_minutes()),
            attempts: Some(row.attempts),
            max_attempts: Some(row.max_attempts),
        },
        None => CodeStatus {
            success: true,
            has_active_code: false,
            message: Some("No hay código activo".into()),
            expires_at: None,
            time_remaining_minutes: None,
            attempts: None,
            max_attempts: None,
        },
    };
    Ok(Json(answer).into_response())
}

/// The signed-in account of a valid sign-in code: the existing one, or a new
/// guest account.
async fn account_for_code(api: &Api, email: &str) -> Result<(users::Model, bool), ApiError> {
    let (user, created) = users::find_or_create_guest(&api.db, email, "", "").await?;
    let user = usable(user)?;
    let mut active: users::ActiveModel = user.into();
    active.last_login = Set(Some(Utc::now().fixed_offset()));
    Ok((active.update(&api.db).await?, created))
}

/// Checks a code; for a sign-in code, signs in (creating a guest account for
/// a new email).
#[utoipa::path(
    post,
    path = "/api/v1/otp/validate/",
    tag = "otp",
    request_body(content = super::bodies::CodeCheck, description = "`{email, code, purpose}`"),
    responses(
        (status = 200, description = "Valid; with `access_token`/`refresh_token` for login, account_creation and email_verification", body = Object),
        (status = 400, description = "Invalid field, or a wrong, used or expired code", body = Refusal),
        (status = 401, description = "The account is deactivated", body = Refusal),
        (status = 429, description = "Too many codes tried from this client", body = super::Detail),
    )
)]
pub async fn validate(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let code = input.code("code");
    let purpose = purpose(&mut input);
    input.finish("Datos inválidos")?;
    let (Some(email), Some(code), Some(purpose)) = (email, code, purpose) else {
        return Err(ApiError::Internal);
    };
    require_code(&ctx, &ip, &email, purpose, &code).await?;
    let existing = account_of(&api, &email).await?;
    let mut body = json!({
        "success": true,
        "message": "Código válido",
        "user_id": existing.as_ref().map(|u| u.id),
        "user_email": existing.as_ref().map_or(email.clone(), |u| u.email.clone()),
        "is_new_user": existing.is_none(),
    });
    match purpose {
        Purpose::Login | Purpose::AccountCreation | Purpose::EmailVerification => {
            let (user, created, pair) = signed_in_by_code(&api, &email).await?;
            body["user_id"] = json!(user.id);
            body["access_token"] = json!(pair.access);
            body["refresh_token"] = json!(pair.refresh);
            body["is_new_user"] = json!(created);
            if purpose == Purpose::Login {
                let complete = is_profile_complete(&user);
                body["user"] = json!({
                    "id": user.id,
                    "email": user.email,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "is_guest": user.is_guest,
                    "is_profile_complete": complete,
                });
                body["next_step"] = json!(if created || !complete {
                    "complete_profile"
                } else {
                    "dashboard"
                });
                body["requires_onboarding"] = json!(false);
            }
        }
        Purpose::TicketAccess => {
            body["next_step"] = json!("view_tickets");
            body["requires_onboarding"] = json!(false);
        }
        Purpose::EventCreation => {
            body["next_step"] = json!("create_event");
            body["requires_onboarding"] = json!(true);
        }
        Purpose::PasswordReset => {}
    }
    let mut res = Json(body).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `auth/login/otp/`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeSignIn {
    pub success: bool,
    pub message: String,
    pub access_token: String,
    pub refresh: String,
    pub user: UserProfile,
    pub is_new_user: bool,
    pub requires_profile_completion: bool,
}

/// Signs in with a sign-in code (creating a guest account for a new email).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login/otp/",
    tag = "auth",
    request_body(content = super::bodies::CodeLogin, description = "`{email, code}`"),
    responses(
        (status = 200, description = "Signed in", body = CodeSignIn),
        (status = 400, description = "Invalid field, or a wrong, used or expired code", body = Refusal),
        (status = 401, description = "The account is deactivated", body = Refusal),
        (status = 429, description = "Too many codes tried from this client", body = super::Detail),
    )
)]
pub async fn login_with_code(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let code = input.code("code");
    input.finish("Datos inválidos")?;
    let (Some(email), Some(code)) = (email, code) else {
        return Err(ApiError::Internal);
    };
    require_code(&ctx, &ip, &email, Purpose::Login, &code).await?;
    let (user, created, pair) = signed_in_by_code(&api, &email).await?;
    Ok(Json(CodeSignIn {
        success: true,
        message: "Acceso autorizado".into(),
        access_token: pair.access,
        refresh: pair.refresh,
        requires_profile_completion: !is_profile_complete(&user),
        user: UserProfile::from(&user),
        is_new_user: created,
    })
    .into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_generate, generate)
        .doc(__path_validate, validate)
        .doc(__path_resend, resend)
        .doc(__path_status, status)
        .doc(__path_login, login)
        .doc(__path_ticket_access, ticket_access)
        .doc(__path_login_with_code, login_with_code)
}

pub fn routes() -> Routes {
    table().routes()
}
