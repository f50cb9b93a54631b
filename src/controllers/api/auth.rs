//! Buyer accounts for the frontends: `/api/v1/auth/…` (simplejwt's shapes) and
//! `/api/v1/users/me/`. Tokens: see `crate::accounts::auth`.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use loco_rs::prelude::*;

use super::Table;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Api, ApiError, JsonBody, NOT_AUTHENTICATED, TOKEN_NOT_VALID};
use crate::{
    accounts::auth::{self, Refreshed, TokenPair},
    accounts::signin::verify_password,
    accounts::throttle::LoginThrottle,
    models::users::{self, CreateUserError, Email, NewUser},
};

/// The signed-in buyer, if the request carries `Authorization: Bearer …`.
/// A token that is present but bad is a 401 (as simplejwt answers), never
/// silently anonymous.
pub struct Buyer(pub Option<users::Model>);

impl FromRequestParts<AppContext> for Buyer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Self(None));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(TOKEN_NOT_VALID)?;
        let settings = crate::platform::context::settings(ctx)?;
        let claims =
            auth::verify(&settings.secret_key, token.trim(), "access").ok_or(TOKEN_NOT_VALID)?;
        // The user is read on every request anyway: a deactivated account,
        // or a token from before a password change, stops here.
        let user = users::Entity::find_by_id(claims.user_id)
            .one(&ctx.db)
            .await?
            .filter(|u| u.is_active && u.auth_version == claims.ver)
            .ok_or(TOKEN_NOT_VALID)?;
        Ok(Self(Some(user)))
    }
}

/// A signed-in buyer is required.
pub struct SignedIn(pub users::Model);

impl FromRequestParts<AppContext> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        Buyer::from_request_parts(parts, ctx)
            .await?
            .0
            .map(Self)
            .ok_or(NOT_AUTHENTICATED)
    }
}

/// The client's address. Each proxy in front of this server appends the
/// address it was reached from to `X-Forwarded-For`, so with `num_proxies`
/// trusted proxies the client is the `num_proxies`-th value from the right
/// (DRF's `NUM_PROXIES` rule): whatever a client writes itself is further
/// left and never taken. No proxies, or fewer values than proxies: the peer.
/// An IPv6 address stands for its /64 (one subscriber's network), so a
/// client cannot rotate through its own addresses to dodge a limit.
#[must_use]
pub fn client_ip(parts: &Parts, num_proxies: usize) -> String {
    let forwarded = forwarded_client(
        parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok()),
        num_proxies,
    );
    let ip = forwarded
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, |v4| v4.to_string()),
        _ => ip.chars().take(64).collect(),
    }
}

/// The client's address in `X-Forwarded-For` values when `num_proxies`
/// proxies appended to them (see [`client_ip`]).
pub fn forwarded_client<'a>(
    values: impl Iterator<Item = &'a str>,
    num_proxies: usize,
) -> Option<String> {
    if num_proxies == 0 {
        return None;
    }
    let hops: Vec<&str> = values
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    hops.len()
        .checked_sub(num_proxies)
        .map(|i| hops[i].to_string())
}

/// The caller's address as an extractor (see [`client_ip`]).
pub struct ClientIp(pub String);

impl FromRequestParts<AppContext> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        let settings = crate::platform::context::settings(ctx)?;
        Ok(Self(client_ip(parts, settings.num_proxies)))
    }
}

fn throttle(ctx: &AppContext) -> Result<Arc<LoginThrottle>, ApiError> {
    Ok(crate::platform::context::throttle(ctx)?)
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn ip(xff: Option<&str>, proxies: usize) -> String {
        let mut req = Request::builder().uri("/");
        if let Some(v) = xff {
            req = req.header("x-forwarded-for", v);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 9], 40_000))));
        client_ip(&parts, proxies)
    }

    #[test]
    fn the_client_is_read_from_the_right_as_many_hops_as_there_are_proxies() {
        assert_eq!(ip(Some("6.6.6.6, 198.51.100.1"), 1), "198.51.100.1");
        assert_eq!(
            ip(Some("6.6.6.6, 198.51.100.1, 10.0.0.1"), 2),
            "198.51.100.1"
        );
        assert_eq!(ip(Some("6.6.6.6"), 0), "192.0.2.9");
        assert_eq!(ip(Some("6.6.6.6"), 2), "192.0.2.9");
        assert_eq!(ip(None, 1), "192.0.2.9");
        assert_eq!(ip(Some("2001:db8:a:b:1:2:3:4"), 1), "2001:db8:a:b::/64");
        assert_eq!(ip(Some("2001:db8:a:b:ffff::9"), 1), "2001:db8:a:b::/64");
        assert_eq!(ip(Some("::ffff:198.51.100.2"), 1), "198.51.100.2");
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh: String,
}

/// Exchanges a refresh token for a new pair; the old one stops working.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token/refresh/",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenPair),
        (status = 401, description = "Invalid, expired or already used", body = super::Detail),
    )
)]
pub async fn refresh(
    api: Api,
    JsonBody(req): JsonBody<RefreshRequest>,
) -> Result<Response, ApiError> {
    match auth::refresh(&api.db, &api.settings.secret_key, &req.refresh, Utc::now()).await? {
        Refreshed::Pair(pair) => Ok(Json(pair).into_response()),
        Refreshed::Invalid => Err(TOKEN_NOT_VALID),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

/// A name goes into mail and pages: one line of plain text, at most 150
/// characters.
fn check_name(field: &'static str, value: &str) -> Result<(), ApiError> {
    if value.chars().any(char::is_control) {
        return Err(ApiError::Field(
            field,
            "No puede tener saltos de línea ni caracteres de control.".into(),
        ));
    }
    if value.chars().count() > 150 {
        return Err(ApiError::Field(field, "Máximo 150 caracteres.".into()));
    }
    Ok(())
}

/// The minimum a password must be.
fn check_new_password(password: &str, email: &str) -> Result<(), ApiError> {
    let problem = users::password_problem(password, email);
    problem.map_or(Ok(()), |p| Err(ApiError::Field("password", p.to_string())))
}

/// Creates a buyer account. The answer is the same whether the email was new
/// or already had an account (nothing tells an outsider which emails exist);
/// the owner then signs in with `/api/v1/auth/token/`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register/",
    tag = "auth",
    request_body = Registration,
    responses(
        (status = 202, description = "Accepted (new or existing email alike)", body = super::Detail),
        (status = 503, description = "Password hashing at capacity: retry after `Retry-After` seconds", body = super::Detail),
        (status = 400, description = "Invalid email, weak password or long names", body = super::FieldErrors),
    )
)]
pub async fn register(
    api: Api,
    JsonBody(req): JsonBody<Registration>,
) -> Result<Response, ApiError> {
    if crate::accounts::passwords::at_capacity() {
        return Err(ApiError::Busy);
    }
    let email = Email::parse(&req.email)
        .map_err(|_| ApiError::Field("email", "Ingresa un correo válido.".into()))?;
    check_new_password(&req.password, email.as_str())?;
    for (field, value) in [
        ("first_name", &req.first_name),
        ("last_name", &req.last_name),
    ] {
        check_name(field, value)?;
    }
    let username = email.as_str().to_lowercase();
    let password = req.password.clone();
    let created = users::Model::create(
        &api.db,
        &NewUser {
            email: &email,
            username: &username,
            password: &password,
            is_staff: false,
            is_superuser: false,
        },
    )
    .await;
    match created {
        Ok(user) => {
            if !req.first_name.is_empty() || !req.last_name.is_empty() {
                let mut active: users::ActiveModel = user.into();
                active.first_name = sea_orm::ActiveValue::Set(req.first_name.trim().to_string());
                active.last_name = sea_orm::ActiveValue::Set(req.last_name.trim().to_string());
                active.update(&api.db).await?;
            }
        }
        Err(CreateUserError::Exists) => {}
        Err(CreateUserError::Db(e)) => return Err(e.into()),
        Err(CreateUserError::Hash) => return Err(ApiError::Internal),
        Err(CreateUserError::Busy(_)) => return Err(ApiError::Busy),
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"detail": "Si el correo no tenía cuenta, ya puedes iniciar sesión con él."})),
    )
        .into_response())
}

/// The signed-in user as `/users/me/` shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    pub id: uuid::Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_organizer: bool,
    pub is_validator: bool,
    pub is_staff: bool,
    pub date_joined: String,
}

impl MeResponse {
    fn new(u: &users::Model) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            is_organizer: u.is_organizer,
            is_validator: u.is_validator,
            is_staff: u.is_staff,
            date_joined: u.date_joined.to_rfc3339(),
        }
    }
}

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/api/v1/users/me/",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MeResponse),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn me(SignedIn(user): SignedIn) -> Result<Response, ApiError> {
    Ok(Json(MeResponse::new(&user)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MeUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Changes the signed-in user's names (the email is the login and stays).
#[utoipa::path(
    patch,
    path = "/api/v1/users/me/",
    tag = "auth",
    request_body = MeUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, body = MeResponse),
        (status = 400, body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn update_me(
    api: Api,
    SignedIn(user): SignedIn,
    JsonBody(req): JsonBody<MeUpdate>,
) -> Result<Response, ApiError> {
    let mut active: users::ActiveModel = user.into();
    for (field, value, column) in [
        ("first_name", &req.first_name, &mut active.first_name),
        ("last_name", &req.last_name, &mut active.last_name),
    ] {
        if let Some(v) = value {
            check_name(field, v)?;
            *column = sea_orm::ActiveValue::Set(v.trim().to_string());
        }
    }
    let user = active.update(&api.db).await?;
    Ok(Json(MeResponse::new(&user)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password (the current one is required) and signs out every
/// other session (all refresh tokens are revoked).
#[utoipa::path(
    post,
    path = "/api/v1/auth/password/change/",
    tag = "auth",
    request_body = PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed; a new pair for this session", body = TokenPair),
        (status = 429, description = "Too many wrong current passwords", body = super::Detail),
        (status = 503, description = "Password hashing at capacity: retry after `Retry-After` seconds", body = super::Detail),
        (status = 400, description = "Wrong current password or weak new one", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = super::Detail),
    )
)]
pub async fn change_password(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    SignedIn(user): SignedIn,
    JsonBody(req): JsonBody<PasswordChange>,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    // Guessing the current password is throttled like signing in.
    let throttle = throttle(&ctx)?;
    let key = format!("password-change:{}", user.id);
    throttle
        .attempt(&key, &ip)
        .await
        .map_err(ApiError::TooManyRequests)?;
    if !verify_password(&req.current_password, &user.password)
        .await
        .map_err(|_| ApiError::Busy)?
        .ok()
    {
        return Err(ApiError::Field(
            "current_password",
            "La contraseña actual no es correcta.".into(),
        ));
    }
    throttle.succeeded(&key, &ip).await;
    let now = Utc::now();
    let user = replace_password(&api, user, &req.new_password, now).await?;
    let pair = auth::issue(&api.db, &api.settings.secret_key, &user, now).await?;
    Ok(Json(pair).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetRequest {
    pub email: String,
}

/// Mails a one-time link to choose a new password. The answer is the same
/// whether the email has an account or not.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password/reset/",
    tag = "auth",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "Accepted (known or unknown email alike)", body = super::Detail),
        (status = 429, description = "Too many requests for this email or address", body = super::Detail),
    )
)]
pub async fn password_reset(
    State(ctx): State<AppContext>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<ResetRequest>,
) -> Result<Response, ApiError> {
    let email = req.email.trim().to_lowercase();
    // Reset mails count against the same limits as failed sign-ins.
    let throttle = throttle(&ctx)?;
    let key = format!("reset:{email}");
    throttle
        .attempt(&key, &ip)
        .await
        .map_err(ApiError::TooManyRequests)?;
    if let Some(user) = users::Model::find_by_email(&ctx.db, &email)
        .await?
        .filter(|u| u.is_active)
    {
        if let Err(e) = crate::mailers::password_reset::send(&ctx, &user).await {
            tracing::error!(error = %e, "password reset mail not sent");
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"detail": "Si el correo tiene una cuenta, te enviamos un enlace para restablecer la contraseña."})),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetConfirm {
    pub uid: uuid::Uuid,
    pub token: String,
    pub new_password: String,
}

/// Sets a new password with the mailed link's `uid` and `token` (once), and
/// signs out every session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password/reset/confirm/",
    tag = "auth",
    request_body = ResetConfirm,
    responses(
        (status = 200, description = "Changed; sign in with the new password", body = super::Detail),
        (status = 400, description = "Invalid or expired link, or a weak password", body = super::FieldErrors),
    )
)]
pub async fn password_reset_confirm(
    api: Api,
    JsonBody(req): JsonBody<ResetConfirm>,
) -> Result<Response, ApiError> {
    let invalid = || ApiError::Field("token", "El enlace no es válido o expiró.".into());
    let user = users::Entity::find_by_id(req.uid)
        .one(&api.db)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(invalid)?;
    let now = Utc::now();
    if !crate::mailers::password_reset::check_token(
        &api.settings.secret_key,
        &user,
        &req.token,
        now.timestamp(),
    ) {
        return Err(invalid());
    }
    replace_password(&api, user, &req.new_password, now).await?;
    Ok(Json(json!({"detail": "Contraseña cambiada. Ya puedes iniciar sesión."})).into_response())
}

/// Checks and sets a new password (field `new_password`) and signs the user
/// out everywhere (every refresh token revoked).
async fn replace_password(
    api: &Api,
    user: users::Model,
    new_password: &str,
    now: chrono::DateTime<Utc>,
) -> Result<users::Model, ApiError> {
    check_new_password(new_password, &user.email).map_err(|e| match e {
        ApiError::Field(_, m) => ApiError::Field("new_password", m),
        other => other,
    })?;
    let id = user.id;
    let active: users::ActiveModel = user.into();
    let user = active.set_password(&api.db, new_password).await?;
    auth::revoke_all(&api.db, id, now).await?;
    Ok(user)
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_refresh, refresh)
        .doc(__path_register, register)
        .doc(__path_change_password, change_password)
        .doc(__path_password_reset, password_reset)
        .doc(__path_password_reset_confirm, password_reset_confirm)
        .doc(__path_me, me)
        .doc(__path_update_me, update_me)
}

pub fn routes() -> Routes {
    table().routes()
}
