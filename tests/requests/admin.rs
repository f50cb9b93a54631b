//! `/admin/` sign-in: redirects, the email form, CSRF, staff only, one error
//! message for every failure, throttling, server-side sessions that rotate.

use loco_rs::TestServer;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use tuki_backend::models::users::{self, Email, NewUser};

use crate::support::app::TestApp;

async fn user(app: &TestApp, email: &str, password: &str, staff: bool) {
    let email = Email::parse(email).unwrap();
    let u = users::Model::create(
        &app.ctx().db,
        &NewUser {
            email: &email,
            username: email.as_str(),
            password,
            is_staff: staff,
            is_superuser: false,
        },
    )
    .await
    .unwrap();
    let mut active: users::ActiveModel = u.into();
    active.is_active = Set(true);
    active.update(&app.ctx().db).await.unwrap();
}

/// The test server's own origin (what a browser on the page would send).
fn origin(server: &TestServer) -> String {
    let url = server.server_address().unwrap();
    url.origin().ascii_serialization()
}

/// The sign-in page's CSRF cookie and field.
async fn csrf(server: &TestServer) -> String {
    let page = server.get("/admin/login/").await;
    assert_eq!(page.status_code(), 200);
    let cookie = page.cookie("tuki_csrftoken");
    let html = page.text();
    assert!(html.contains(&format!("value=\"{}\"", cookie.value())));
    cookie.value().to_string()
}

/// What a sign-in attempt answered.
struct Answer {
    status: u16,
    text: String,
    session: Option<String>,
    location: String,
    set_cookie: String,
}

async fn sign_in(server: &TestServer, token: &str, email: &str, password: &str) -> Answer {
    let res = server
        .post("/admin/login/")
        .add_header("cookie", format!("tuki_csrftoken={token}"))
        .add_header("origin", origin(server))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrfmiddlewaretoken", token),
            ("next", "/admin/"),
        ])
        .await;
    Answer {
        status: res.status_code().as_u16(),
        text: res.text(),
        session: res
            .maybe_cookie("tuki_session")
            .map(|c| c.value().to_string()),
        location: res
            .maybe_header("location")
            .map(|h| h.to_str().unwrap().to_string())
            .unwrap_or_default(),
        set_cookie: res
            .maybe_header("set-cookie")
            .map(|h| h.to_str().unwrap().to_string())
            .unwrap_or_default(),
    }
}

#[tokio::test]
async fn signed_out_admin_redirects_to_an_email_login_form() {
    let app = TestApp::boot().await;
    let server = app.server();
    let res = server.get("/admin/").await;
    assert_eq!(res.status_code(), 302);
    assert_eq!(res.header("location"), "/admin/login/?next=/admin/");
    let page = server.get("/admin/login/").await;
    assert_eq!(page.status_code(), 200);
    let html = page.text();
    for field in [
        "name=\"email\"",
        "type=\"email\"",
        "name=\"password\"",
        "csrfmiddlewaretoken",
    ] {
        assert!(html.contains(field), "{field}");
    }
    assert!(!html.contains("https://"), "no external files");
    let set_cookie = page.header("set-cookie").to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    // Any other admin page asks for a session too.
    let deep = server.get("/admin/events/event/").await;
    assert_eq!(deep.status_code(), 302);
    assert!(deep
        .header("location")
        .to_str()
        .unwrap()
        .starts_with("/admin/login/?next="));
}

#[tokio::test]
async fn only_active_staff_sign_in_and_every_failure_reads_the_same() {
    let app = TestApp::boot().await;
    let server = app.server();
    user(&app, "staff@tuki.cl", "Staff-clave-2026", true).await;
    user(&app, "cliente@tuki.cl", "Cliente-clave-2026", false).await;
    let token = csrf(&server).await;

    let wrong = sign_in(&server, &token, "staff@tuki.cl", "mala").await;
    let unknown = sign_in(&server, &token, "nadie@tuki.cl", "mala").await;
    let not_staff = sign_in(&server, &token, "cliente@tuki.cl", "Cliente-clave-2026").await;
    for res in [&wrong, &unknown, &not_staff] {
        assert_eq!(res.status, 200);
        assert!(res
            .text
            .contains("Ingresa un correo y contraseña correctos"));
        assert!(res.session.is_none());
    }
    // The email typed is kept in the form.
    assert!(wrong.text.contains("value=\"staff@tuki.cl\""));

    let ok = sign_in(&server, &token, "STAFF@tuki.cl", "Staff-clave-2026").await;
    assert_eq!(ok.status, 302, "{}", ok.text);
    assert_eq!(ok.location, "/admin/");
    let set = &ok.set_cookie;
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Max-Age=86400")
    );
    let session = ok.session.clone().unwrap();
    let index = server
        .get("/admin/")
        .add_header("cookie", format!("tuki_session={session}"))
        .await;
    assert_eq!(index.status_code(), 200);
    assert!(index.text().contains("Sitio administrativo"));
    // Staff without any grant see no model (permissions come from a superuser).
    assert!(!index.text().contains("/admin/events/event/"));

    // Signing in again rotates the session id; the old one is dead.
    let again = server
        .post("/admin/login/")
        .add_header(
            "cookie",
            format!("tuki_csrftoken={token}; tuki_session={session}"),
        )
        .add_header("origin", origin(&server))
        .form(&[
            ("email", "staff@tuki.cl"),
            ("password", "Staff-clave-2026"),
            ("csrfmiddlewaretoken", token.as_str()),
        ])
        .await;
    let rotated = again.cookie("tuki_session").value().to_string();
    assert_ne!(rotated, session);
    let old = server
        .get("/admin/")
        .add_header("cookie", format!("tuki_session={session}"))
        .await;
    assert_eq!(old.status_code(), 302);

    // Logout is a POST with the session's token.
    let index = server
        .get("/admin/")
        .add_header("cookie", format!("tuki_session={rotated}"))
        .await
        .text();
    let form_token = index
        .split("name=\"csrfmiddlewaretoken\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let forged = server
        .post("/admin/logout/")
        .add_header("cookie", format!("tuki_session={rotated}"))
        .add_header("origin", origin(&server))
        .form(&[("csrfmiddlewaretoken", "forged")])
        .await;
    assert_eq!(forged.status_code(), 403);
    let out = server
        .post("/admin/logout/")
        .add_header("cookie", format!("tuki_session={rotated}"))
        .add_header("origin", origin(&server))
        .form(&[("csrfmiddlewaretoken", form_token.as_str())])
        .await;
    assert_eq!(out.status_code(), 302);
    assert_eq!(out.header("location"), "/admin/login/");
    let after = server
        .get("/admin/")
        .add_header("cookie", format!("tuki_session={rotated}"))
        .await;
    assert_eq!(after.status_code(), 302);
}

#[tokio::test]
async fn a_login_without_its_csrf_token_or_from_elsewhere_is_a_403() {
    let app = TestApp::boot().await;
    let server = app.server();
    user(&app, "staff@tuki.cl", "Staff-clave-2026", true).await;
    let token = csrf(&server).await;
    let no_token = server
        .post("/admin/login/")
        .add_header("cookie", format!("tuki_csrftoken={token}"))
        .form(&[("email", "staff@tuki.cl"), ("password", "Staff-clave-2026")])
        .await;
    assert_eq!(no_token.status_code(), 403);
    assert!(no_token.text().contains("CSRF"));
    let elsewhere = server
        .post("/admin/login/")
        .add_header("cookie", format!("tuki_csrftoken={token}"))
        .add_header("origin", "https://evil.example")
        .form(&[
            ("email", "staff@tuki.cl"),
            ("password", "Staff-clave-2026"),
            ("csrfmiddlewaretoken", token.as_str()),
        ])
        .await;
    assert_eq!(elsewhere.status_code(), 403);
    assert!(elsewhere.maybe_cookie("tuki_session").is_none());
    // A next outside the admin is not followed.
    let res = server
        .post("/admin/login/")
        .add_header("cookie", format!("tuki_csrftoken={token}"))
        .add_header("origin", origin(&server))
        .form(&[
            ("email", "staff@tuki.cl"),
            ("password", "Staff-clave-2026"),
            ("csrfmiddlewaretoken", token.as_str()),
            ("next", "//evil.example/"),
        ])
        .await;
    assert_eq!(res.header("location"), "/admin/");
}

#[tokio::test]
async fn repeated_failed_admin_logins_are_refused_for_a_while() {
    let app = TestApp::boot().await;
    let server = app.server();
    user(&app, "staff@tuki.cl", "Staff-clave-2026", true).await;
    let token = csrf(&server).await;
    for _ in 0..5 {
        assert_eq!(
            sign_in(&server, &token, "staff@tuki.cl", "mala")
                .await
                .status,
            200
        );
    }
    let refused = sign_in(&server, &token, "staff@tuki.cl", "Staff-clave-2026").await;
    assert_eq!(refused.status, 429);
    assert!(refused.text.contains("Demasiados intentos"));
    assert!(refused.session.is_none());
}

#[tokio::test]
async fn sessions_live_outside_the_process_and_django_hashes_are_upgraded() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    // A staff account migrated from Django, with its pbkdf2_sha256 hash.
    user(&app, "legado@tuki.cl", "cualquiera-1", true).await;
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"clave-de-django-9", b"salmuera", 1000, &mut derived);
    use base64::Engine as _;
    let django = format!(
        "pbkdf2_sha256$1000$salmuera${}",
        base64::engine::general_purpose::STANDARD.encode(derived)
    );
    let legacy = users::Model::find_by_email(db, "legado@tuki.cl")
        .await
        .unwrap()
        .unwrap();
    let mut active: users::ActiveModel = legacy.into();
    active.password = Set(django);
    active.update(db).await.unwrap();

    let server = app.server();
    let token = csrf(&server).await;
    let ok = sign_in(&server, &token, "legado@tuki.cl", "clave-de-django-9").await;
    assert_eq!(ok.status, 302, "{}", ok.text);
    let upgraded = users::Model::find_by_email(db, "legado@tuki.cl")
        .await
        .unwrap()
        .unwrap();
    assert!(upgraded.password.starts_with("$argon2id$"));

    // The session works on another instance (a restart, or the next one
    // Cloud Run routes to): it lives in the database or Redis.
    let other = app.another_instance().await;
    let cookie = format!("tuki_session={}", ok.session.unwrap());
    let index = other
        .get("/admin/")
        .add_header("cookie", cookie.clone())
        .await;
    assert_eq!(index.status_code(), 200);
    assert!(index.text().contains("legado@tuki.cl"));
}
