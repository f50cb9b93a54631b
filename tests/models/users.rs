//! Users on a real database (SQLite, or PostgreSQL with DATABASE_URL).

use crate::support::app::TestApp;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use sha2::Sha256;
use tuki_backend::{
    accounts::passwords::Verified,
    models::users::{CreateUserError, Email, Model as User, NewUser},
};

fn new_user<'a>(email: &'a Email, username: &'a str) -> NewUser<'a> {
    NewUser {
        email,
        username,
        password: "correct horse battery",
        is_staff: false,
        is_superuser: false,
    }
}

#[tokio::test]
async fn email_is_unique_whatever_its_case_and_found_by_any_case() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let email = Email::parse("Ana@Tuki.cl").unwrap();
    let ana = User::create(db, &new_user(&email, "ana")).await.unwrap();
    assert!(ana.password.starts_with("$argon2id$"));
    assert_eq!(ana.verify_password("correct horse battery"), Verified::Yes);

    let found = User::find_by_email(db, "ana@TUKI.CL").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(ana.id));

    let shouting = Email::parse("ANA@tuki.cl").unwrap();
    let dup = User::create(db, &new_user(&shouting, "ana2")).await;
    assert!(matches!(dup, Err(CreateUserError::Exists)), "{dup:?}");
    let other = Email::parse("other@tuki.cl").unwrap();
    let dup_username = User::create(db, &new_user(&other, "ana")).await;
    assert!(matches!(dup_username, Err(CreateUserError::Exists)));
}

#[tokio::test]
async fn a_user_imported_from_django_signs_in_and_is_upgraded_to_argon2id() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let email = Email::parse("legacy@tuki.cl").unwrap();
    let user = User::create(db, &new_user(&email, "legacy")).await.unwrap();
    // As the Django database stored it.
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(b"old django pw", b"Xq3saltsalt", 1000, &mut derived);
    let django = format!(
        "pbkdf2_sha256$1000$Xq3saltsalt${}",
        STANDARD.encode(derived)
    );
    let mut active = user.into_active_model();
    active.password = Set(django);
    let user = active.update(db).await.unwrap();

    assert_eq!(user.verify_password("wrong"), Verified::No);
    assert_eq!(
        user.verify_password("old django pw"),
        Verified::YesNeedsRehash
    );
    let upgraded = user
        .into_active_model()
        .set_password(db, "old django pw")
        .await
        .unwrap();
    assert!(upgraded.password.starts_with("$argon2id$"));
    assert_eq!(upgraded.verify_password("old django pw"), Verified::Yes);
}
