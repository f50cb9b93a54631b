//! Buyer accounts in backtuki's contract (issue 11, accounts): password
//! sign-in with the user, check-user, profile (a guest claiming its account),
//! sign-out, token check, and one-time codes by email — sign-in, attempts,
//! supersession, password reset — delivered to a real SMTP server.

use loco_rs::{
    config::{Mailer, SmtpMailer},
    TestServer,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use tuki_backend::models::_entities::{one_time_codes, users};

use crate::support::{app::TestApp, tools::SmtpSink};

async fn boot(smtp_port: u16) -> TestApp {
    TestApp::boot_with(move |config| {
        config.mailer = Some(Mailer {
            stub: false,
            smtp: Some(SmtpMailer {
                enable: true,
                host: "127.0.0.1".into(),
                port: smtp_port,
                secure: false,
                tls: None,
                auth: None,
                hello_name: None,
            }),
        });
    })
    .await
}

/// Each test client comes from its own address.
fn from(n: u32) -> (&'static str, String) {
    ("x-forwarded-for", format!("198.51.100.{n}"))
}

async fn post(server: &TestServer, path: &str, body: Value, client: u32) -> (u16, Value) {
    let (h, v) = from(client);
    let res = server.post(path).add_header(h, v).json(&body).await;
    let status = res.status_code().as_u16();
    (
        status,
        serde_json::from_str(&res.text()).unwrap_or(Value::Null),
    )
}

/// The last code mailed to `email`.
fn last_code(sink: &SmtpSink, email: &str) -> String {
    let messages = sink.messages();
    let mail = messages
        .iter()
        .rev()
        .find(|m| m["rcpt_tos"] == json!([email]))
        .unwrap_or_else(|| panic!("no mail to {email}: {messages:?}"));
    let text = mail["text"].as_str().unwrap();
    let code: String = text.split("es: ").nth(1).unwrap().chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{text}");
    code
}

/// Every key of backtuki's `UserProfileSerializer`, with its JSON type.
fn assert_profile(user: &Value) {
    for (key, kind) in [
        ("id", "string"),
        ("email", "string"),
        ("username", "string"),
        ("first_name", "string"),
        ("last_name", "string"),
        ("full_name", "string"),
        ("is_organizer", "bool"),
        ("is_validator", "bool"),
        ("is_guest", "bool"),
        ("is_erasmus", "bool"),
        ("locale", "string"),
        ("is_superuser", "bool"),
        ("is_staff", "bool"),
        ("is_profile_complete", "bool"),
        ("has_password", "bool"),
        ("date_joined", "string"),
    ] {
        let v = &user[key];
        let ok = match kind {
            "string" => v.is_string(),
            _ => v.is_boolean(),
        };
        assert!(ok, "{key} should be a {kind}: {user}");
    }
    for key in ["phone_number", "last_login", "profile_completed_at"] {
        assert!(user.get(key).is_some(), "{key} missing: {user}");
    }
}

async fn make_user(app: &TestApp, email: &str, password: &str) {
    let email = tuki_backend::models::users::Email::parse(email).unwrap();
    tuki_backend::models::users::Model::create(
        &app.ctx().db,
        &tuki_backend::models::users::NewUser {
            email: &email,
            username: email.as_str(),
            password,
            is_staff: false,
            is_superuser: false,
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn password_sign_in_check_user_and_the_profile_answer_as_backtuki() {
    let sink = SmtpSink::start();
    let app = boot(sink.peer.port).await;
    let server = app.server();
    make_user(&app, "marta@example.cl", "una clave larga").await;

    // auth/token/: the pair and the user.
    let (status, body) = post(
        &server,
        "/api/v1/auth/token/",
        json!({"email": "MARTA@example.cl", "password": "una clave larga"}),
        1,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access"].is_string() && body["refresh"].is_string());
    assert_profile(&body["user"]);
    assert_eq!(body["user"]["has_password"], true);
    let access = body["access"].as_str().unwrap().to_string();

    // Refusals in backtuki's envelope, naming the field in Spanish.
    let (status, body) = post(&server, "/api/v1/auth/token/", json!({"password": "x"}), 1).await;
    assert_eq!(status, 400);
    assert_eq!(body["success"], false);
    assert_eq!(body["message"], "Datos inválidos");
    assert_eq!(body["errors"]["email"], json!(["Este campo es requerido."]));
    let (status, body) = post(
        &server,
        "/api/v1/auth/token/",
        json!({"email": "marta@example.cl", "password": "otra"}),
        1,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"success": false, "message": "Credenciales incorrectas"})
    );
    let (status, body) = post(&server, "/api/v1/auth/token/", json!(["a"]), 1).await;
    assert_eq!(status, 400);
    assert!(body["errors"]["non_field_errors"][0]
        .as_str()
        .unwrap()
        .contains("diccionario"));

    // auth/login-password/: the other spelling.
    let (status, body) = post(
        &server,
        "/api/v1/auth/login-password/",
        json!({"email": "marta@example.cl", "password": "una clave larga"}),
        2,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Login exitoso");
    assert!(body["token"].is_string());

    // check-user: an account, and no account.
    let (status, body) = post(
        &server,
        "/api/v1/auth/check-user/",
        json!({"email": "marta@example.cl"}),
        3,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["exists"], true);
    assert_eq!(body["has_password"], true);
    assert_eq!(body["user"]["email"], "marta@example.cl");
    let (_, body) = post(
        &server,
        "/api/v1/auth/check-user/",
        json!({"email": "nadie@example.cl"}),
        3,
    )
    .await;
    assert_eq!(body["exists"], false);
    assert!(body.get("user").is_none());
    let (status, body) = post(
        &server,
        "/api/v1/auth/check-user/",
        json!({"email": "no es correo"}),
        3,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Email inválido");
    // Checking who has an account is throttled per client.
    let mut last = 0;
    for n in 0..25 {
        let (status, _) = post(
            &server,
            "/api/v1/auth/check-user/",
            json!({"email": format!("x{n}@example.cl")}),
            4,
        )
        .await;
        last = status;
    }
    assert_eq!(last, 429);

    // The profile, both spellings, and a partial update.
    for path in ["/api/v1/auth/me/", "/api/v1/auth/profile/"] {
        let res = server
            .get(path)
            .add_header("authorization", format!("Bearer {access}"))
            .await;
        assert_eq!(res.status_code(), 200);
        assert_profile(&res.json::<Value>());
    }
    let res = server
        .patch("/api/v1/auth/profile/")
        .add_header("authorization", format!("Bearer {access}"))
        .json(&json!({"first_name": "Marta", "last_name": "Rojas", "phone_number": "+56 9 1234 5678"}))
        .await;
    assert_eq!(res.status_code(), 200);
    let body: Value = res.json();
    assert_eq!(body["message"], "Perfil actualizado");
    assert_eq!(body["user"]["full_name"], "Marta Rojas");
    assert_eq!(body["user"]["is_profile_complete"], true);
    let res = server
        .patch("/api/v1/auth/me/")
        .add_header("authorization", format!("Bearer {access}"))
        .json(&json!({"phone_number": null}))
        .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.json::<Value>()["user"]["phone_number"], Value::Null);
    // A password is changed with change-password, never through the profile.
    let res = server
        .put("/api/v1/auth/profile/")
        .add_header("authorization", format!("Bearer {access}"))
        .json(&json!({"password": "robada por un token"}))
        .await;
    assert_eq!(res.status_code(), 400);
    assert!(res.json::<Value>()["errors"]["password"].is_array());
    assert_eq!(server.get("/api/v1/auth/me/").await.status_code(), 401);
}

#[tokio::test]
async fn a_sign_in_code_creates_a_guest_that_claims_its_account() {
    let sink = SmtpSink::start();
    let app = boot(sink.peer.port).await;
    let server = app.server();
    let email = "nuevo@example.cl";

    let (status, body) = post(&server, "/api/v1/otp/login/", json!({"email": email}), 10).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["user_exists"], false);
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(body["time_remaining_minutes"].as_i64().unwrap() >= 9);
    let code = last_code(&sink, email);
    // Only a keyed hash is stored.
    let rows = one_time_codes::Entity::find()
        .filter(one_time_codes::Column::Email.eq(email))
        .all(&app.ctx().db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].code_hash.contains(&code));

    let (status, body) = post(
        &server,
        "/api/v1/auth/login/otp/",
        json!({"email": email, "code": code}),
        10,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Acceso autorizado");
    assert_eq!(body["is_new_user"], true);
    assert_eq!(body["requires_profile_completion"], true);
    assert_profile(&body["user"]);
    assert_eq!(body["user"]["is_guest"], true);
    assert_eq!(body["user"]["has_password"], false);
    let access = body["access_token"].as_str().unwrap().to_string();
    // Single use.
    let (status, body) = post(
        &server,
        "/api/v1/auth/login/otp/",
        json!({"email": email, "code": code}),
        10,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "No hay código activo para este email");

    // The guest claims its account: names and a first password.
    let res = server
        .put("/api/v1/auth/me/")
        .add_header("authorization", format!("Bearer {access}"))
        .json(&json!({"first_name": "Nico", "last_name": "Soto", "password": "mi clave nueva 1"}))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let user = &res.json::<Value>()["user"];
    assert_eq!(user["is_guest"], false);
    assert_eq!(user["has_password"], true);
    assert!(user["profile_completed_at"].is_string());
    let (status, _) = post(
        &server,
        "/api/v1/auth/token/",
        json!({"email": email, "password": "mi clave nueva 1"}),
        11,
    )
    .await;
    assert_eq!(status, 200);
    let users = users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .all(&app.ctx().db)
        .await
        .unwrap();
    assert_eq!(users.len(), 1, "one account per email");
}

#[tokio::test]
async fn codes_allow_few_attempts_and_a_new_one_replaces_the_old() {
    let sink = SmtpSink::start();
    let app = boot(sink.peer.port).await;
    let server = app.server();
    let email = "intentos@example.cl";
    let send = json!({"email": email, "purpose": "login"});
    assert_eq!(
        post(&server, "/api/v1/otp/generate/", send.clone(), 20)
            .await
            .0,
        200
    );
    let first = last_code(&sink, email);
    // A new code replaces the old one (resent until it differs: 1 in 10^6).
    let mut second = first.clone();
    while second == first {
        let (status, _) = post(&server, "/api/v1/otp/resend/", send.clone(), 20).await;
        assert_eq!(status, 200);
        second = last_code(&sink, email);
    }
    let check = |code: &str| json!({"email": email, "code": code, "purpose": "login"});
    let (status, body) = post(&server, "/api/v1/otp/validate/", check(&first), 20).await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Código ya utilizado");
    let wrong = if second == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (_, body) = post(&server, "/api/v1/otp/validate/", check(wrong), 20).await;
    assert_eq!(body["message"], "Código inválido");
    // A login code allows three tries (the old code counted as one): the
    // right code on the fourth is refused and the code is gone.
    let _ = post(&server, "/api/v1/otp/validate/", check(wrong), 20).await;
    let (status, body) = post(&server, "/api/v1/otp/validate/", check(&second), 20).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "Demasiados intentos. Solicita un nuevo código."
    );
    let (_, body) = post(
        &server,
        "/api/v1/otp/status/",
        json!({"email": email, "purpose": "login"}),
        20,
    )
    .await;
    assert_eq!(body["has_active_code"], false);

    // Bad input names the field.
    let (status, body) = post(
        &server,
        "/api/v1/otp/validate/",
        json!({"email": email, "code": "12a456", "purpose": "nada"}),
        21,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["code"],
        json!(["El código debe contener solo números"])
    );
    assert_eq!(
        body["errors"]["purpose"],
        json!(["\"nada\" no es una elección válida."])
    );

    // Sending is limited per email, whatever the client.
    let other = "limite@example.cl";
    let mut statuses = Vec::new();
    for n in 0..7 {
        statuses.push(
            post(
                &server,
                "/api/v1/otp/login/",
                json!({"email": other}),
                30 + n,
            )
            .await
            .0,
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&429));
}

#[tokio::test]
async fn a_password_is_reset_with_an_emailed_code_and_sign_out_ends_the_refresh() {
    let sink = SmtpSink::start();
    let app = boot(sink.peer.port).await;
    let server = app.server();
    let email = "olvido@example.cl";
    make_user(&app, email, "clave vieja larga").await;

    // The same answer with or without an account; only the account gets mail.
    let (status, known) = post(
        &server,
        "/api/v1/auth/password-reset/",
        json!({"email": email}),
        40,
    )
    .await;
    assert_eq!(status, 200);
    let (_, unknown) = post(
        &server,
        "/api/v1/auth/password-reset/",
        json!({"email": "nadie@example.cl"}),
        40,
    )
    .await;
    assert_eq!(known["message"], unknown["message"]);
    assert_eq!(sink.messages().len(), 1);
    let code = last_code(&sink, email);

    let (status, body) = post(
        &server,
        "/api/v1/auth/password-reset-confirm/",
        json!({"email": email, "code": code, "new_password": "clave nueva larga", "new_password_confirm": "otra cosa"}),
        40,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["new_password_confirm"],
        json!(["Las contraseñas no coinciden"])
    );
    let (status, body) = post(
        &server,
        "/api/v1/auth/password-reset-confirm/",
        json!({"email": email, "code": code, "new_password": "clave nueva larga"}),
        40,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Contraseña restablecida exitosamente");
    let access = body["access"].as_str().unwrap().to_string();
    let refresh = body["refresh"].as_str().unwrap().to_string();
    assert_eq!(
        post(
            &server,
            "/api/v1/auth/token/",
            json!({"email": email, "password": "clave vieja larga"}),
            41
        )
        .await
        .0,
        401
    );

    // verify: a good access token, a bad one.
    assert_eq!(
        post(
            &server,
            "/api/v1/auth/token/verify/",
            json!({"token": access}),
            42
        )
        .await,
        (200, json!({}))
    );
    assert_eq!(
        post(
            &server,
            "/api/v1/auth/token/verify/",
            json!({"token": "x.y.z"}),
            42
        )
        .await
        .0,
        401
    );
    assert_eq!(
        post(&server, "/api/v1/auth/token/verify/", json!({}), 42).await,
        (400, json!({"token": ["Este campo es requerido."]}))
    );

    // Sign-out ends the refresh token; another buyer's refresh is not theirs to end.
    let res = server
        .post("/api/v1/auth/logout/")
        .add_header("authorization", format!("Bearer {access}"))
        .json(&json!({"refresh": refresh}))
        .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(
        res.json::<Value>()["message"],
        "Sesión cerrada correctamente"
    );
    assert_eq!(
        post(
            &server,
            "/api/v1/auth/token/refresh/",
            json!({"refresh": refresh}),
            43
        )
        .await
        .0,
        401
    );
    assert_eq!(
        post(
            &server,
            "/api/v1/auth/token/verify/",
            json!({"token": refresh}),
            43
        )
        .await
        .1,
        json!({"non_field_errors": ["Token is blacklisted"]})
    );
    assert_eq!(
        server
            .post("/api/v1/auth/logout/")
            .json(&json!({}))
            .await
            .status_code(),
        401
    );
}

#[tokio::test]
async fn guests_made_at_purchase_and_magic_links_of_paid_orders() {
    let sink = SmtpSink::start();
    let app = boot(sink.peer.port).await;
    let server = app.server();

    // create-guest: a new email, then the same one (names of an existing
    // full account are not told).
    let (status, body) = post(
        &server,
        "/api/v1/auth/create-guest/",
        json!({"email": "Invitada@Example.cl", "first_name": "Inés", "last_name": "Vera"}),
        50,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user_created"], true);
    assert_eq!(body["user"]["email"], "invitada@example.cl");
    assert_eq!(body["user"]["is_guest"], true);
    let (status, body) = post(
        &server,
        "/api/v1/auth/create-guest/",
        json!({"email": "invitada@example.cl"}),
        50,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["user_created"], false);
    make_user(&app, "llena@example.cl", "una clave larga").await;
    let (_, body) = post(
        &server,
        "/api/v1/auth/create-guest/",
        json!({"email": "llena@example.cl"}),
        50,
    )
    .await;
    assert_eq!(body["user"]["is_guest"], false);
    let (status, body) = post(&server, "/api/v1/auth/create-guest/", json!({}), 50).await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Email requerido");

    // magic-login: unknown tokens and missing ones are refused.
    let (status, _) = post(
        &server,
        "/api/v1/auth/magic-login/",
        json!({"order_access_token": "x"}),
        51,
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = post(&server, "/api/v1/auth/magic-login/", json!({}), 51).await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "order_access_token es requerido");

    // set-password is retired.
    let (_, signed) = post(
        &server,
        "/api/v1/auth/token/",
        json!({"email": "llena@example.cl", "password": "una clave larga"}),
        52,
    )
    .await;
    let res = server
        .post("/api/v1/auth/set-password/")
        .add_header(
            "authorization",
            format!("Bearer {}", signed["access"].as_str().unwrap()),
        )
        .await;
    assert_eq!(res.status_code(), 410);
}
