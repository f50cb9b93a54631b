//! `/admin/`: staff sign-in by email, server-side sessions, CSRF, and the
//! per-model pages declared in `crate::admin::site`.
//!
//! CSRF: every form carries a token — the session's own once signed in, a
//! double-submit cookie on the sign-in form — and every unsafe request must
//! also come from this site or a `CSRF_TRUSTED_ORIGINS` origin (`Origin`, else
//! `Referer`, as Django checks). A failure is a 403 page and changes nothing.
//!
//! Every page is `Cache-Control: no-store` and carries a Content-Security-Policy
//! that allows only this site's own styles, scripts and forms.

pub mod actions;
pub mod auth;
pub mod autocomplete;
pub mod change;
pub mod changelist;
pub mod delete;
pub mod export;
pub mod history;
pub mod page;
pub mod passwords;
mod widgets;

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use loco_rs::prelude::*;
use serde_json::{json, Value as Json};
use subtle::ConstantTimeEq;

pub use crate::admin::form::FormData;
use crate::{
    accounts::sessions::{self, SessionStore},
    admin::{
        audit::Perms,
        error::AdminError,
        site::{Action, MODELS},
    },
    models::users,
    platform::settings::Settings,
};

const FLASH_COOKIE: &str = "tuki_messages";
const CSP: &str = "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

fn store(ctx: &AppContext) -> Result<Arc<SessionStore>> {
    crate::platform::context::sessions(ctx)
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
    // A password change or a deactivation moves the version on: sessions
    // from before end here.
    (user.is_active && user.is_staff && user.auth_version == session.ver).then_some((user, session))
}

/// A signed-in staff member with their permissions; anyone else is sent to
/// the sign-in page with `next` set to where they were going.
pub struct Staff {
    pub user: users::Model,
    pub session: sessions::Session,
    pub perms: Perms,
}

impl FromRequestParts<AppContext> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some((user, session)) = staff_session(ctx, &jar).await else {
            let original = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
            let path = original
                .path_and_query()
                .map_or("/admin/", axum::http::uri::PathAndQuery::as_str);
            let next = url::form_urlencoded::byte_serialize(path.as_bytes())
                .collect::<String>()
                .replace("%2F", "/");
            return Err(found(&format!("/admin/login/?next={next}")));
        };
        let perms = Perms::load(&ctx.db, &user)
            .await
            .map_err(|e| Error::from(e).into_response())?;
        Ok(Self {
            user,
            session,
            perms,
        })
    }
}

fn cookie(name: &'static str, value: String, settings: &Settings, max_age: i64) -> Cookie<'static> {
    let secure = if settings.production { "; Secure" } else { "" };
    Cookie::parse(format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| Cookie::new(name, String::new()))
}

fn location(status: StatusCode, to: &str) -> Response {
    (
        status,
        [(
            header::LOCATION,
            HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/admin/")),
        )],
    )
        .into_response()
}

/// 302, as Django's login redirects.
fn found(to: &str) -> Response {
    location(StatusCode::FOUND, to)
}

/// 303 after a successful POST.
fn see_other(to: &str) -> Response {
    location(StatusCode::SEE_OTHER, to)
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

fn tokens_match(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Adds the admin's headers to a page.
fn harden(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}

/// A rendered page with a status.
fn page(v: &TeraView, template: &str, data: Json, status: StatusCode) -> Response {
    match format::render().view(v, template, data) {
        Ok(res) => {
            let mut res = harden(res.into_response());
            *res.status_mut() = status;
            res
        }
        Err(e) => {
            tracing::error!(template, error = %e, "admin page failed to render");
            harden((StatusCode::INTERNAL_SERVER_ERROR, "Error interno.").into_response())
        }
    }
}

/// 403 with a page saying why; nothing was changed.
fn forbidden(v: &TeraView, reason: &str) -> Response {
    page(
        v,
        "admin/forbidden.html",
        json!({ "reason": reason }),
        StatusCode::FORBIDDEN,
    )
}

const CSRF_FAILED: &str = "Verificación CSRF fallida: el formulario no trae un token válido o la solicitud no viene de un origen de confianza. Recarga la página e inténtalo de nuevo.";

/// The session's CSRF token and the origin, checked on every unsafe request.
fn csrf_ok(staff: &Staff, headers: &HeaderMap, settings: &Settings, form: &FormData) -> bool {
    tokens_match(
        &staff.session.csrf,
        form.get("csrfmiddlewaretoken").unwrap_or(""),
    ) && origin_allowed(headers, settings)
}

/// Password hashing is at capacity: a 503 that says to retry shortly.
#[must_use]
pub fn busy() -> Response {
    AdminError::Busy.into_response()
}

/// What every signed-in page shows: who is signed in, the CSRF token for the
/// logout form, the models they may see, and a message left by the last POST.
fn chrome(staff: &Staff, jar: &CookieJar, mut data: Json) -> (CookieJar, Json) {
    let nav: Vec<Json> = MODELS
        .iter()
        .filter(|m| staff.perms.can(m, Action::View))
        .map(|m| json!({ "name": m.plural, "url": m.url(), "key": m.name }))
        .collect();
    let message = jar.get(FLASH_COOKIE).map(|c| {
        url::form_urlencoded::parse(format!("m={}", c.value()).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    if let Some(obj) = data.as_object_mut() {
        obj.insert("user_email".into(), json!(staff.user.email));
        obj.insert("csrf".into(), json!(staff.session.csrf));
        obj.insert("nav".into(), json!(nav));
        obj.insert("message".into(), json!(message));
    }
    let jar = if message.is_some() {
        jar.clone()
            .remove(Cookie::build(FLASH_COOKIE).path("/admin"))
    } else {
        jar.clone()
    };
    (jar, data)
}

/// A signed-in page (with the message of the last POST, shown once).
fn staff_page(
    v: &TeraView,
    staff: &Staff,
    jar: &CookieJar,
    template: &str,
    data: Json,
    status: StatusCode,
) -> Response {
    let (jar, data) = chrome(staff, jar, data);
    (jar, page(v, template, data, status)).into_response()
}

/// Which password form: one's own, or a user's set by an administrator.
pub struct PasswordForm {
    pub title: String,
    pub own: bool,
    pub action: String,
    pub back: String,
}

/// A password form (errors by field name).
fn password_page(
    v: &TeraView,
    staff: &Staff,
    jar: &CookieJar,
    form: &PasswordForm,
    errors: &Json,
    status: StatusCode,
) -> Response {
    staff_page(
        v,
        staff,
        jar,
        "admin/password_form.html",
        json!({
            "title": form.title,
            "own": form.own,
            "action": form.action,
            "back": form.back,
            "errors": errors,
        }),
        status,
    )
}

/// A 303 that leaves a message for the next page.
fn redirect_with_message(jar: CookieJar, to: &str, message: &str, settings: &Settings) -> Response {
    let value: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    let secure = if settings.production { "; Secure" } else { "" };
    let flash = Cookie::parse(format!(
        "{FLASH_COOKIE}={value}; Path=/admin; HttpOnly; SameSite=Lax; Max-Age=120{secure}"
    ))
    .unwrap_or_else(|_| Cookie::new(FLASH_COOKIE, String::new()));
    (jar.add(flash), see_other(to)).into_response()
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/admin")
        .add("/", get(auth::index))
        .add("/login/", get(auth::login_form).post(auth::login))
        .add("/logout/", post(auth::logout))
        .add(
            "/password_change/",
            get(auth::password_change_form).post(auth::password_change),
        )
        .add(
            "/{app}/{model}/",
            get(changelist::changelist).post(delete::bulk_action),
        )
        .add(
            "/{app}/{model}/autocomplete/",
            get(autocomplete::autocomplete),
        )
        .add(
            "/{app}/{model}/add/",
            get(change::add_form).post(change::add),
        )
        .add("/{app}/{model}/{id}/", get(change::object_root))
        .add(
            "/{app}/{model}/{id}/change/",
            get(change::change_form).post(change::change),
        )
        .add(
            "/{app}/{model}/{id}/delete/",
            get(delete::delete_form).post(delete::delete),
        )
        .add("/{app}/{model}/{id}/history/", get(history::history))
        .add(
            "/{app}/{model}/{id}/password/",
            get(passwords::password_form).post(passwords::password),
        )
        .add("/{app}/{model}/{id}/{action}/", post(actions::run))
        .add("/{app}/", get(auth::elsewhere))
}
