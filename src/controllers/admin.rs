//! `/admin/`: staff sign-in by email, server-side sessions, CSRF, and the index
//! (the per-model admin pages are the admin issue's next step).
//!
//! CSRF: every form carries a token — the session's own once signed in, a
//! double-submit cookie on the sign-in form — and every unsafe request must
//! also come from this site or a `CSRF_TRUSTED_ORIGINS` origin (`Origin`, else
//! `Referer`, as Django checks). A failure is a 403 page and changes nothing.

use std::sync::Arc;

use axum::{
    extract::{Form, OriginalUri, Query},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use loco_rs::prelude::*;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::api::auth::ClientIp;
use crate::{
    app::App,
    models::{
        _entities::{
            event_categories, events, locations, orders, organizers, ticket_tiers, tickets,
        },
        users,
    },
    sessions::{self, SessionStore},
    settings::Settings,
    signin::{sign_in, SignIn},
};

const CSRF_COOKIE: &str = "tuki_csrftoken";
const BAD_LOGIN: &str =
    "Ingresa un correo y contraseña correctos de una cuenta de staff. Ambos campos distinguen mayúsculas.";

fn store(ctx: &AppContext) -> Result<Arc<SessionStore>> {
    ctx.shared_store
        .get::<Arc<SessionStore>>()
        .ok_or_else(|| Error::string("the session store is not set up"))
}

/// The signed-in staff user of a request, with the session's CSRF token.
pub async fn staff_session(
    ctx: &AppContext,
    jar: &CookieJar,
) -> Option<(users::Model, sessions::Session)> {
    let token = jar.get(sessions::COOKIE)?.value().to_string();
    let session = store(ctx).ok()?.get(&token).await?;
    let user = users::Entity::find_by_id(session.user_id)
        .one(&ctx.db)
        .await
        .ok()??;
    (user.is_active && user.is_staff).then_some((user, session))
}

fn cookie(name: &'static str, value: String, settings: &Settings, max_age: i64) -> Cookie<'static> {
    let secure = if settings.production { "; Secure" } else { "" };
    Cookie::parse(format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| Cookie::new(name, String::new()))
}

fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/admin/")),
        )],
    )
        .into_response()
}

/// Only a path inside the admin may be a `next`.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/admin/") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/admin/")
        .to_string()
}

/// The request's own origin and the trusted ones (`https://*.run.app` style).
fn origin_allowed(headers: &HeaderMap, settings: &Settings) -> bool {
    let source = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| u.origin().ascii_serialization())
        });
    let Some(source) = source else {
        // No Origin and no Referer: Django refuses this over HTTPS.
        return !settings.production;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let scheme = crate::middleware::https::forwarded_scheme(headers)
        .unwrap_or(if settings.production { "https" } else { "http" });
    if source.eq_ignore_ascii_case(&format!("{scheme}://{host}")) {
        return true;
    }
    settings
        .csrf_trusted_origins
        .iter()
        .any(|trusted| match trusted.split_once("://*.") {
            Some((scheme, domain)) => source
                .strip_prefix(&format!("{scheme}://"))
                .is_some_and(|h| h.ends_with(&format!(".{domain}"))),
            None => trusted.eq_ignore_ascii_case(&source),
        })
}

fn forbidden(v: &TeraView, reason: &str) -> Response {
    let mut res = format::render()
        .view(v, "admin/forbidden.html", json!({ "reason": reason }))
        .into_response();
    *res.status_mut() = StatusCode::FORBIDDEN;
    res
}

fn tokens_match(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /admin/`: the index for staff; everyone else to the sign-in page.
async fn index(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
) -> Result<Response> {
    let Some((user, session)) = staff_session(&ctx, &jar).await else {
        return Ok(found("/admin/login/?next=/admin/"));
    };
    let db = &ctx.db;
    let models = vec![
        json!({"name": "Usuarios", "count": users::Entity::find().count(db).await?}),
        json!({"name": "Organizadores", "count": organizers::Entity::find().count(db).await?}),
        json!({"name": "Categorías", "count": event_categories::Entity::find().count(db).await?}),
        json!({"name": "Lugares", "count": locations::Entity::find().count(db).await?}),
        json!({"name": "Eventos", "count": events::Entity::find().count(db).await?}),
        json!({"name": "Tipos de entrada", "count": ticket_tiers::Entity::find().count(db).await?}),
        json!({"name": "Órdenes", "count": orders::Entity::find().count(db).await?}),
        json!({"name": "Entradas", "count": tickets::Entity::find().count(db).await?}),
    ];
    format::render().view(
        &v,
        "admin/index.html",
        json!({ "models": models, "user_email": user.email, "csrf": session.csrf }),
    )
}

/// `GET /admin/login/`: the email + password form.
async fn login_form(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Result<Response> {
    let next = safe_next(q.next.as_deref());
    if staff_session(&ctx, &jar).await.is_some() {
        return Ok(found(&next));
    }
    let settings = App::settings(&ctx)?;
    let csrf = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|c| c.len() >= 32)
        .unwrap_or_else(|| crate::checkout::secret(24));
    let jar = jar.add(cookie(
        CSRF_COOKIE,
        csrf.clone(),
        &settings,
        365 * 24 * 3600,
    ));
    let page = format::render().view(
        &v,
        "admin/login.html",
        json!({ "csrf": csrf, "next": next, "email": "", "error": null }),
    )?;
    Ok((jar, page).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrfmiddlewaretoken: String,
    next: Option<String>,
}

/// `POST /admin/login/`: only active staff get in; the same message whether
/// the email exists or not; repeated failures are refused for a while.
async fn login(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let settings = App::settings(&ctx)?;
    let cookie_token = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if !tokens_match(&cookie_token, &form.csrfmiddlewaretoken) {
        return Ok(forbidden(&v, "Verificación CSRF fallida: el formulario no trae un token válido (¿cookies desactivadas o página vieja?)."));
    }
    if !origin_allowed(&headers, &settings) {
        return Ok(forbidden(
            &v,
            "Verificación CSRF fallida: la solicitud no viene de un origen de confianza.",
        ));
    }
    let next = safe_next(form.next.as_deref());
    let email = form.email.trim().to_lowercase();
    let again = |error: &str| {
        format::render().view(
            &v,
            "admin/login.html",
            json!({ "csrf": cookie_token, "next": next, "email": form.email.trim(), "error": error }),
        )
    };
    let user = match sign_in(&ctx, &email, &form.password, &ip, true).await? {
        SignIn::Ok(user) => user,
        SignIn::Refused => return again(BAD_LOGIN),
        SignIn::Throttled(seconds) => {
            let mut res = again(&format!(
                "Demasiados intentos fallidos. Intenta de nuevo en {} minutos.",
                seconds.div_ceil(60)
            ))?;
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return Ok(res);
        }
    };
    let store = store(&ctx)?;
    // A new session id at every sign-in; the old one (if any) ends.
    if let Some(old) = jar.get(sessions::COOKIE) {
        store.delete(old.value()).await;
    }
    let (token, _) = store.create(user.id).await.map_err(|e| Error::string(&e))?;
    let age = i64::try_from(sessions::AGE.as_secs()).unwrap_or(86_400);
    let jar = jar.add(cookie(sessions::COOKIE, token, &settings, age));
    Ok((jar, found(&next)).into_response())
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrfmiddlewaretoken: String,
}

/// `POST /admin/logout/`: ends the session.
async fn logout(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Result<Response> {
    let settings = App::settings(&ctx)?;
    let Some((_, session)) = staff_session(&ctx, &jar).await else {
        return Ok(found("/admin/login/"));
    };
    if !tokens_match(&session.csrf, &form.csrfmiddlewaretoken)
        || !origin_allowed(&headers, &settings)
    {
        return Ok(forbidden(&v, "Verificación CSRF fallida."));
    }
    if let Some(c) = jar.get(sessions::COOKIE) {
        store(&ctx)?.delete(c.value()).await;
    }
    let jar = jar.remove(Cookie::build(sessions::COOKIE).path("/"));
    Ok((jar, found("/admin/login/")).into_response())
}

/// Anything else under `/admin/` asks for a session first.
async fn elsewhere(
    State(ctx): State<AppContext>,
    jar: CookieJar,
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    if staff_session(&ctx, &jar).await.is_none() {
        let next = url::form_urlencoded::byte_serialize(uri.path().as_bytes()).collect::<String>();
        return Ok(found(&format!("/admin/login/?next={next}")));
    }
    Ok((StatusCode::NOT_FOUND, "No encontrado.").into_response())
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/admin")
        .add("/", get(index))
        .add("/login/", get(login_form).post(login))
        .add("/logout/", post(logout))
        .add("/{*rest}", get(elsewhere))
}
