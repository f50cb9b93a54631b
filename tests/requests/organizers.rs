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

async fn organizer(app: &TestApp, name: &str, slug: &str) -> Uuid {
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
async fn signed_in(
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
