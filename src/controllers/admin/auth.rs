//! Sign-in, sign-out, the index and the signed-in user's own password.

use axum::{
    extract::{Form, OriginalUri, Query},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use loco_rs::prelude::*;
use sea_orm::{
    sea_query::{Alias, Expr, Func, Query as Sql},
    ConnectionTrait,
};
use serde::Deserialize;
use serde_json::json;

use super::{
    cookie, csrf_ok, forbidden, found, origin_allowed, page, password_page, redirect_with_message,
    safe_next, staff_page, staff_session, store, tokens_match, FormData, PasswordForm, Staff,
    CSRF_FAILED,
};
use crate::{
    accounts::sessions,
    accounts::signin::{sign_in, SignIn},
    admin::{
        audit,
        models::users::new_password_problem,
        site::{Action, MODELS},
    },
    controllers::api::auth::ClientIp,
    models::users,
};

const CSRF_COOKIE: &str = "tuki_csrftoken";
const BAD_LOGIN: &str =
    "Ingresa un correo y contraseña correctos de una cuenta de staff. Ambos campos distinguen mayúsculas.";

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /admin/`: the models this user may see, with counts, and their
/// latest actions; everyone else to the sign-in page.
pub async fn index(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    staff: Staff,
) -> Result<Response> {
    let mut models = Vec::new();
    for m in MODELS.iter().filter(|m| staff.perms.can(m, Action::View)) {
        let mut q = Sql::select();
        q.from(Alias::new(m.table))
            .expr_as(Func::count(Expr::cust("*")), Alias::new("n"));
        let count = ctx
            .db
            .query_one(&q)
            .await?
            .and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(0);
        models.push(json!({
            "name": m.plural,
            "url": m.url(),
            "count": count,
            "add_url": staff.perms.can(m, Action::Add).then(|| format!("{}add/", m.url())),
        }));
    }
    let recent: Vec<serde_json::Value> = audit::recent(&ctx.db, staff.user.id)
        .await?
        .into_iter()
        .map(|e| {
            let url = crate::admin::site::by_name(&e.model)
                .filter(|_| e.action != 3)
                .map(|m| format!("{}{}/change/", m.url(), e.object_id));
            json!({ "entry": e, "url": url,
                    "model": crate::admin::site::by_name(&e.model).map_or("", |m| m.verbose) })
        })
        .collect();
    Ok(staff_page(
        &v,
        &staff,
        &jar,
        "admin/index.html",
        json!({ "models": models, "recent": recent }),
        StatusCode::OK,
    ))
}

/// `GET /admin/login/`: the email + password form.
pub async fn login_form(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Result<Response> {
    let next = safe_next(q.next.as_deref());
    if staff_session(&ctx, &jar).await.is_some() {
        return Ok(found(&next));
    }
    let settings = crate::platform::context::settings(&ctx)?;
    let csrf = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|c| c.len() >= 32)
        .unwrap_or_else(|| crate::platform::tokens::random_urlsafe(24));
    let jar = jar.add(cookie(
        CSRF_COOKIE,
        csrf.clone(),
        &settings,
        365 * 24 * 3600,
    ));
    let res = page(
        &v,
        "admin/login.html",
        json!({ "csrf": csrf, "next": next, "email": "", "error": null }),
        StatusCode::OK,
    );
    Ok((jar, res).into_response())
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
pub async fn login(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let settings = crate::platform::context::settings(&ctx)?;
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
    let again = |error: &str, status: StatusCode| {
        page(
            &v,
            "admin/login.html",
            json!({ "csrf": cookie_token, "next": next, "email": form.email.trim(), "error": error }),
            status,
        )
    };
    let user = match sign_in(&ctx, &email, &form.password, &ip, true).await? {
        SignIn::Ok(user) => *user,
        SignIn::Refused => return Ok(again(BAD_LOGIN, StatusCode::OK)),
        SignIn::Busy => {
            let mut res = again(
                "Hay muchas solicitudes en este momento. Intenta de nuevo en unos segundos.",
                StatusCode::SERVICE_UNAVAILABLE,
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(2));
            return Ok(res);
        }
        SignIn::Throttled(seconds) => {
            let mut res = again(
                &format!(
                    "Demasiados intentos fallidos. Intenta de nuevo en {} minutos.",
                    seconds.div_ceil(60)
                ),
                StatusCode::TOO_MANY_REQUESTS,
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return Ok(res);
        }
    };
    let jar = new_session(&ctx, jar, &user, &settings).await?;
    Ok((jar, found(&next)).into_response())
}

/// Starts a session for `user` under a new id (at every sign-in and after
/// one's own password change); the request's old session, if any, ends.
async fn new_session(
    ctx: &AppContext,
    jar: CookieJar,
    user: &users::Model,
    settings: &crate::platform::settings::Settings,
) -> Result<CookieJar> {
    let store = store(ctx)?;
    if let Some(old) = jar.get(sessions::COOKIE) {
        store.delete(old.value()).await;
    }
    let (token, _) = store.create(user).await.map_err(|e| Error::string(&e))?;
    let age = i64::try_from(sessions::AGE.as_secs()).unwrap_or(86_400);
    Ok(jar.add(cookie(sessions::COOKIE, token, settings, age)))
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrfmiddlewaretoken: String,
}

/// `POST /admin/logout/`: ends the session.
pub async fn logout(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Result<Response> {
    let settings = crate::platform::context::settings(&ctx)?;
    let Some((_, session)) = staff_session(&ctx, &jar).await else {
        return Ok(found("/admin/login/"));
    };
    if !tokens_match(&session.csrf, &form.csrfmiddlewaretoken)
        || !origin_allowed(&headers, &settings)
    {
        return Ok(forbidden(&v, CSRF_FAILED));
    }
    if let Some(c) = jar.get(sessions::COOKIE) {
        store(&ctx)?.delete(c.value()).await;
    }
    let jar = jar.remove(Cookie::build(sessions::COOKIE).path("/"));
    Ok((jar, found("/admin/login/")).into_response())
}

/// Anything else under `/admin/` asks for a session first.
pub async fn elsewhere(
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

/// The signed-in user's own password form.
fn own_form() -> PasswordForm {
    PasswordForm {
        title: "Cambiar mi contraseña".to_string(),
        own: true,
        action: "/admin/password_change/".to_string(),
        back: "/admin/".to_string(),
    }
}

/// `GET /admin/password_change/`: the signed-in user's own password form.
pub async fn password_change_form(
    ViewEngine(v): ViewEngine<TeraView>,
    jar: CookieJar,
    staff: Staff,
) -> Response {
    password_page(&v, &staff, &jar, &own_form(), &json!({}), StatusCode::OK)
}

/// `POST /admin/password_change/`: the current password is required; the new
/// one must be typed twice and pass the same rules as everywhere else.
pub async fn password_change(
    State(ctx): State<AppContext>,
    ViewEngine(v): ViewEngine<TeraView>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    staff: Staff,
    form: FormData,
) -> Result<Response> {
    let settings = crate::platform::context::settings(&ctx)?;
    if !csrf_ok(&staff, &headers, &settings, &form) {
        return Ok(forbidden(&v, CSRF_FAILED));
    }
    // Guessing the current password (a stolen session) is throttled like
    // signing in, with the API's counter for this user.
    let throttle = crate::platform::context::throttle(&ctx)?;
    let key = format!("password-change:{}", staff.user.id);
    if let Err(seconds) = throttle.attempt(&key, &ip).await {
        let mut res = (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Demasiados intentos. Intenta de nuevo en {} minutos.",
                seconds.div_ceil(60)
            ),
        )
            .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(res);
    }
    let field = |k: &str| form.get(k).unwrap_or("").to_string();
    let (old_password, new_password1, new_password2) = (
        field("old_password"),
        field("new_password1"),
        field("new_password2"),
    );
    let Ok(verified) =
        crate::accounts::signin::verify_password(&old_password, &staff.user.password).await
    else {
        return Ok(super::busy());
    };
    if verified.ok() {
        throttle.succeeded(&key, &ip).await;
    }
    let mut errors = serde_json::Map::new();
    if matches!(verified, crate::accounts::passwords::Verified::No) {
        errors.insert(
            "old_password".into(),
            json!("Tu contraseña actual no es correcta. Escríbela de nuevo."),
        );
    }
    if let Some(problem) = new_password_problem(&new_password1, &new_password2, &staff.user.email) {
        errors.insert("new_password2".into(), json!(problem));
    }
    if !errors.is_empty() {
        return Ok(password_page(
            &v,
            &staff,
            &jar,
            &own_form(),
            &serde_json::Value::Object(errors),
            StatusCode::BAD_REQUEST,
        ));
    }
    let active: users::ActiveModel = staff.user.clone().into();
    let user = match active.set_password(&ctx.db, &new_password1).await {
        Ok(user) => user,
        Err(ModelError::Any(e)) if e.is::<crate::accounts::passwords::Busy>() => {
            return Ok(super::busy())
        }
        Err(e) => return Err(e.into()),
    };
    // Every other session and token ends; this one goes on under a new id.
    crate::accounts::auth::revoke_all(&ctx.db, user.id, chrono::Utc::now()).await?;
    let jar = new_session(&ctx, jar, &user, &settings).await?;
    Ok(redirect_with_message(
        jar,
        "/admin/",
        "Tu contraseña fue cambiada.",
        &settings,
    ))
}
