//! The organizer dashboard (issue 12): `organizers/current/`, its logo, and
//! the sign-up wizard's checks. Every test includes the request of another
//! organizer's member, which changes nothing of this one's.

use loco_rs::TestServer;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};
use tuki_backend::models::{
    _entities::{organizer_members, organizers},
    users,
};
use uuid::Uuid;

use crate::support::app::TestApp;

const NOT_ALLOWED: &str = "Usted no tiene permiso para realizar esta acción.";

pub async fn organizer(app: &TestApp, name: &str, slug: &str) -> Uuid {
    let now = chrono::Utc::now().fixed_offset();
    organizers::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name.into()),
        slug: Set(slug.into()),
        contact_email: Set(format!("hola@{slug}.cl")),
        contact_phone: Set(String::new()),
        status: Set("active".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.ctx().db)
    .await
    .unwrap()
    .id
}

/// A signed-in user (a member of `org` with these flags when given): the
/// `Authorization` header value.
pub async fn signed_in(
    server: &TestServer,
    app: &TestApp,
    email: &str,
    org: Option<(Uuid, bool, bool)>,
) -> String {
    let res = server
        .post("/api/v1/auth/register/")
        .json(&json!({"email": email, "password": "Organiza-segura-42", "first_name": "Eva"}))
        .await;
    assert_eq!(res.status_code(), 202, "{}", res.text());
    if let Some((organizer_id, is_admin, can_manage_settings)) = org {
        let user = users::Model::find_by_email(&app.ctx().db, email)
            .await
            .unwrap()
            .unwrap();
        let now = chrono::Utc::now().fixed_offset();
        organizer_members::ActiveModel {
            id: Set(Uuid::new_v4()),
            organizer_id: Set(organizer_id),
            user_id: Set(user.id),
            is_admin: Set(is_admin),
            can_manage_events: Set(true),
            can_view_reports: Set(true),
            can_manage_settings: Set(can_manage_settings),
            invitation_pending: Set(false),
            can_validate_tickets: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&app.ctx().db)
        .await
        .unwrap();
    }
    let pair: Value = server
        .post("/api/v1/auth/token/")
        .json(&json!({"email": email, "password": "Organiza-segura-42"}))
        .await
        .json();
    format!("Bearer {}", pair["access"].as_str().unwrap())
}

async fn row(app: &TestApp, id: Uuid) -> organizers::Model {
    organizers::Entity::find_by_id(id)
        .one(&app.ctx().db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_member_reads_and_an_admin_edits_only_their_own_organizer() {
    let app = TestApp::boot().await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let norte = organizer(&app, "Productora Norte", "productora-norte").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let staff_of_sur = signed_in(&server, &app, "leo@sur.cl", Some((sur, false, false))).await;
    let other = signed_in(&server, &app, "ana@norte.cl", Some((norte, true, true))).await;
    let buyer = signed_in(&server, &app, "compra@example.cl", None).await;
    let path = "/api/v1/organizers/current/";

    // Who may read: members; a buyer 403 (backtuki's IsOrganizer), nobody 401.
    let res = server
        .get(path)
        .add_header("authorization", admin.clone())
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let body: Value = res.json();
    assert_eq!(body["name"], "Productora Sur");
    assert_eq!(body["slug"], "productora-sur");
    assert_eq!(body["logo"], Value::Null);
    assert_eq!(body["has_events_module"], true);
    assert!(
        body["created_at"].as_str().unwrap().ends_with("-03:00")
            || body["created_at"].as_str().unwrap().ends_with("-04:00")
    );
    let res = server
        .get(path)
        .add_header("authorization", buyer.clone())
        .await;
    assert_eq!(res.status_code(), 403);
    assert_eq!(res.json::<Value>()["detail"], NOT_ALLOWED);
    assert_eq!(server.get(path).await.status_code(), 401);
    let theirs: Value = server
        .get(path)
        .add_header("authorization", other.clone())
        .await
        .json();
    assert_eq!(theirs["name"], "Productora Norte");

    // Bad input: every field's messages, nothing saved.
    let before = row(&app, sur).await;
    let res = server
        .patch(path)
        .add_header("authorization", admin.clone())
        .json(
            &json!({"name": "", "website": "no es una url", "organization_size": "enorme",
                      "contact_email": "x@", "logo": "https://otra.cl/logo.png"}),
        )
        .await;
    assert_eq!(res.status_code(), 400);
    let errors: Value = res.json();
    for key in [
        "name",
        "website",
        "organization_size",
        "contact_email",
        "logo",
    ] {
        assert!(errors[key][0].is_string(), "{key}: {errors}");
    }
    assert_eq!(row(&app, sur).await, before);
    let res = server
        .put(path)
        .add_header("authorization", admin.clone())
        .json(&json!({"description": "x"}))
        .await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(res.json::<Value>()["name"][0], "Este campo es requerido.");

    // A good change; what staff decide (status, slug, onboarding) is not
    // the organizer's to change.
    let res = server
        .patch(path)
        .add_header("authorization", admin.clone())
        .json(
            &json!({"description": "Conciertos en el sur", "website": "https://sur.cl",
                      "city": "Puerto Montt", "organization_size": "medium",
                      "status": "active", "slug": "robado", "onboarding_completed": true}),
        )
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let saved = row(&app, sur).await;
    assert_eq!(saved.description, "Conciertos en el sur");
    assert_eq!(saved.city, "Puerto Montt");
    assert_eq!(saved.slug, "productora-sur");
    assert!(!saved.onboarding_completed);
    let mut suspended: organizers::ActiveModel = saved.into();
    suspended.status = Set("suspended".into());
    suspended.update(&app.ctx().db).await.unwrap();
    let res = server
        .patch(path)
        .add_header("authorization", admin.clone())
        .json(&json!({"status": "active"}))
        .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(row(&app, sur).await.status, "suspended");

    // A member without the settings flag may read, not change.
    let before = row(&app, sur).await;
    let res = server
        .patch(path)
        .add_header("authorization", staff_of_sur.clone())
        .json(&json!({"name": "Tomada"}))
        .await;
    assert_eq!(res.status_code(), 403);
    assert_eq!(row(&app, sur).await, before);

    // Another organizer's admin changes only theirs.
    let res = server
        .patch(path)
        .add_header("authorization", other.clone())
        .json(&json!({"name": "Norte Renombrada"}))
        .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(row(&app, norte).await.name, "Norte Renombrada");
    assert_eq!(row(&app, sur).await, before);
}

#[tokio::test]
async fn a_logo_is_an_image_checked_by_its_bytes() {
    let media = tempfile::tempdir().unwrap();
    let root = media.path().display().to_string();
    let app = TestApp::boot_with(move |c| {
        c.settings.as_mut().unwrap()["media"] =
            json!({"backend": {"kind": "local", "root": root}, "public_base": null});
    })
    .await;
    let server = app.server();
    let sur = organizer(&app, "Productora Sur", "productora-sur").await;
    let admin = signed_in(&server, &app, "eva@sur.cl", Some((sur, true, false))).await;
    let reader = signed_in(&server, &app, "leo@sur.cl", Some((sur, false, false))).await;
    let png = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
            .unwrap()
    };
    let upload = |auth: &str, name: &str, bytes: Vec<u8>| {
        let form = axum_test::multipart::MultipartForm::new().add_part(
            name.to_string(),
            axum_test::multipart::Part::bytes(bytes).file_name("logo.png"),
        );
        server
            .post("/api/v1/organizers/current/upload-logo/")
            .add_header("authorization", auth.to_string())
            .multipart(form)
    };
    // Not an image (whatever its name says), the wrong field, a reader: 4xx,
    // nothing stored.
    let res = upload(&admin, "logo", b"<svg onload=alert(1)>".to_vec()).await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(res.json::<Value>()["detail"], "File must be an image.");
    let res = upload(&admin, "archivo", png.clone()).await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(
        upload(&reader, "logo", png.clone()).await.status_code(),
        403
    );
    assert!(row(&app, sur).await.logo.is_empty());
    assert_eq!(
        std::fs::read_dir(media.path()).map_or(0, Iterator::count),
        0
    );

    let res = upload(&admin, "logo", png.clone()).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let body: Value = res.json();
    let path = body["file_path"].as_str().unwrap().to_string();
    assert!(path.starts_with(&format!("organizers/{sur}/logo-")) && path.ends_with(".png"));
    let current: Value = server
        .get("/api/v1/organizers/current/")
        .add_header("authorization", admin.clone())
        .await
        .json();
    assert_eq!(current["logo"], body["logo"]);
    assert!(media.path().join(&path).exists());
    // `logo: null` removes it, file included.
    let res = server
        .patch("/api/v1/organizers/current/")
        .add_header("authorization", admin.clone())
        .json(&json!({"logo": null}))
        .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.json::<Value>()["logo"], Value::Null);
    assert!(!media.path().join(&path).exists());
}

#[tokio::test]
async fn the_wizard_checks_subdomains_and_emails() {
    let app = TestApp::boot().await;
    let server = app.server();
    organizer(&app, "Productora Sur", "productora-sur").await;
    signed_in(&server, &app, "eva@sur.cl", None).await;
    let check = |q: &str| server.get(&format!("/api/v1/organizers/{q}"));

    let taken: Value = check("check-subdomain/?slug=Productora-Sur").await.json();
    assert_eq!(taken["available"], false);
    assert_eq!(
        taken["message"],
        "El subdominio \"productora-sur\" ya está en uso."
    );
    assert_eq!(taken["suggestions"][0], "productora-sur1");
    let reserved: Value = check("check-subdomain/?slug=admin").await.json();
    assert_eq!(reserved["available"], false);
    let free: Value = check("check-subdomain/?slug=teatro-austral").await.json();
    assert_eq!(free["available"], true);
    assert_eq!(free["suggestions"], json!([]));
    let res = check("check-subdomain/?slug=a--b").await;
    assert_eq!(res.status_code(), 400);

    let known: Value = check("check-email/?email=EVA@sur.cl").await.json();
    assert_eq!(known["available"], false);
    assert!(known.get("suggestions").is_none());
    let unknown: Value = check("check-email/?email=nuevo@sur.cl").await.json();
    assert_eq!(unknown["available"], true);
    assert_eq!(check("check-email/?email=no-es").await.status_code(), 400);
    assert_eq!(check("check-email/").await.status_code(), 400);
}

#[tokio::test]
async fn an_organizer_signs_in_by_code_and_sets_up_the_profile() {
    use crate::support::tools::SmtpSink;
    let sink = SmtpSink::start();
    let port = sink.peer.port;
    let app = TestApp::boot_with(move |config| {
        config.mailer = Some(loco_rs::config::Mailer {
            stub: false,
            smtp: Some(loco_rs::config::SmtpMailer {
                enable: true,
                host: "127.0.0.1".into(),
                port,
                secure: false,
                tls: None,
                auth: None,
                hello_name: None,
            }),
        });
    })
    .await;
    let server = app.server();
    let post = |path: &str, body: Value| {
        server
            .post(path)
            .add_header("x-forwarded-for", "203.0.113.40")
            .json(&body)
    };
    let code_for = |email: &str| -> String {
        let messages = sink.messages();
        let text = messages
            .iter()
            .rev()
            .find(|m| m["rcpt_tos"] == json!([email]))
            .and_then(|m| m["text"].as_str())
            .unwrap()
            .to_string();
        text.split("es: ").nth(1).unwrap().chars().take(6).collect()
    };
    let temp = organizer(&app, "Organizador Temporal", "temp-1a2b3c4d").await;
    organizer(&app, "Teatro Austral", "teatro-austral").await;
    let email = "eva@austral.cl";

    // Not yet an account, then an account that is no organizer's: 404.
    let res = post("/api/v1/auth/organizer/otp/send/", json!({"email": email})).await;
    assert_eq!(res.status_code(), 404);
    assert_eq!(
        res.json::<Value>()["message"],
        "No se encontró una cuenta con este email"
    );
    post("/api/v1/otp/login/", json!({"email": email})).await;
    let code = code_for(email);
    let signed: Value = post(
        "/api/v1/auth/login/otp/",
        json!({"email": email, "code": code}),
    )
    .await
    .json();
    assert!(signed["access_token"].is_string(), "{signed}");
    let res = post("/api/v1/auth/organizer/otp/send/", json!({"email": email})).await;
    assert_eq!(res.status_code(), 404);
    assert_eq!(
        res.json::<Value>()["message"],
        "Este email no está asociado a una cuenta de organizador"
    );
    let buyer = format!("Bearer {}", signed["access_token"].as_str().unwrap());
    let state: Value = server
        .get("/api/v1/auth/organizer/profile/setup/")
        .add_header("authorization", buyer.clone())
        .await
        .json();
    assert_eq!(state["is_organizer"], false);

    // Made the temporary organizer's admin (what sign-up does), the code signs in.
    let user = users::Model::find_by_email(&app.ctx().db, email)
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now().fixed_offset();
    organizer_members::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(temp),
        user_id: Set(user.id),
        is_admin: Set(true),
        can_manage_events: Set(true),
        can_view_reports: Set(true),
        can_manage_settings: Set(true),
        invitation_pending: Set(false),
        can_validate_tickets: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.ctx().db)
    .await
    .unwrap();
    let res = post("/api/v1/auth/organizer/otp/send/", json!({"email": email})).await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let res = post(
        "/api/v1/auth/organizer/otp/validate/",
        json!({"email": email, "code": "000000"}),
    )
    .await;
    assert_eq!(res.status_code(), 400);
    let res = post(
        "/api/v1/auth/organizer/otp/validate/",
        json!({"email": email, "code": code_for(email)}),
    )
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let body: Value = res.json();
    assert_eq!(body["message"], "Acceso autorizado");
    assert_eq!(body["needs_setup"], true);
    assert_eq!(body["organizer"]["slug"], "temp-1a2b3c4d");
    assert_eq!(body["user"]["email"], email);
    let auth = format!("Bearer {}", body["access"].as_str().unwrap());
    let state: Value = server
        .get("/api/v1/auth/organizer/profile/setup/")
        .add_header("authorization", auth.clone())
        .await
        .json();
    assert_eq!(
        (state["is_organizer"].clone(), state["needs_setup"].clone()),
        (json!(true), json!(true))
    );

    // The set-up: bad input changes nothing; then the name (a free slug),
    // the contact and a first password.
    let setup = |body: Value| {
        server
            .post("/api/v1/auth/organizer/profile/setup/")
            .add_header("authorization", auth.clone())
            .json(&body)
    };
    let before = row(&app, temp).await;
    let res =
        setup(json!({"organization_name": "Organizador Eva", "password": "Austral-segura-77"}))
            .await;
    assert_eq!(res.status_code(), 400);
    let errors = &res.json::<Value>()["errors"];
    assert!(errors["organization_name"][0].is_string(), "{errors}");
    assert_eq!(errors["non_field_errors"][0], "Confirma tu contraseña");
    assert_eq!(row(&app, temp).await, before);
    let res = setup(json!({
        "organization_name": "Teatro Austral", "contact_name": "Eva Rojas Soto",
        "contact_phone": "+56 9 1234 5678",
        "password": "Austral-segura-77", "password_confirm": "Austral-segura-77"
    }))
    .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    let done: Value = res.json();
    assert_eq!(done["organizer"]["slug"], "teatro-austral-2");
    assert_eq!(done["organizer"]["onboarding_completed"], true);
    assert_eq!(done["user"]["first_name"], "Eva");
    assert_eq!(done["user"]["last_name"], "Rojas Soto");
    let saved = row(&app, temp).await;
    assert_eq!(saved.representative_phone, "+56 9 1234 5678");
    assert!(saved.email_validated && !saved.is_temporary);
    let res = post(
        "/api/v1/auth/token/",
        json!({"email": email, "password": "Austral-segura-77"}),
    )
    .await;
    assert_eq!(
        res.status_code(),
        200,
        "the password was saved: {}",
        res.text()
    );
    // A first password replaces nothing: the session that set it goes on.
    let res = server
        .get("/api/v1/organizers/current/")
        .add_header("authorization", auth.clone())
        .await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.json::<Value>()["slug"], "teatro-austral-2");
    // A second password through here is refused (change-password asks for the old one).
    let res = setup(
        json!({"password": "Otra-clave-segura-88", "password_confirm": "Otra-clave-segura-88"}),
    )
    .await;
    assert_eq!(res.status_code(), 400);
}
