//! The per-model admin through the router: changelists (search, filters,
//! sorting, pages of 100 with a count), forms that keep input and show errors
//! in place, the three save buttons, CSRF and permission 403s, delete and bulk
//! delete with confirmation (paid records protected), history, passwords that
//! are never shown, image uploads checked, and hashed static files.

use axum_test::{
    multipart::{MultipartForm, Part},
    TestResponse,
};
use loco_rs::TestServer;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
use tuki_backend::models::{
    _entities::{event_categories, event_images, events, ticket_tiers},
    users::{self, Email, NewUser},
};
use uuid::Uuid;

use super::checkout::{
    book, boot_with_webpay, on_sale, on_sale_at, pending_payment, reserve, webpay_return,
};
use crate::support::webpay::FakeWebpay;
use crate::support::{app::TestApp, catalogue};

const PASSWORD: &str = "Clave-Staff-2026";

async fn staff(app: &TestApp, email: &str, superuser: bool) -> users::Model {
    let e = Email::parse(email).unwrap();
    let u = users::Model::create(
        &app.ctx().db,
        &NewUser {
            email: &e,
            username: email,
            password: PASSWORD,
            is_staff: true,
            is_superuser: superuser,
        },
    )
    .await
    .unwrap();
    let mut active: users::ActiveModel = u.into();
    active.is_active = Set(true);
    active.update(&app.ctx().db).await.unwrap()
}

/// A signed-in admin browser: its session cookie and its forms' token.
struct Admin {
    server: TestServer,
    cookie: String,
    csrf: String,
    origin: String,
}

impl Admin {
    async fn sign_in(app: &TestApp, email: &str) -> Self {
        let server = app.server();
        let origin = server
            .server_address()
            .unwrap()
            .origin()
            .ascii_serialization();
        let page = server.get("/admin/login/").await;
        let token = page.cookie("tuki_csrftoken").value().to_string();
        let res = server
            .post("/admin/login/")
            .add_header("cookie", format!("tuki_csrftoken={token}"))
            .add_header("origin", origin.clone())
            .form(&[
                ("email", email),
                ("password", PASSWORD),
                ("csrfmiddlewaretoken", token.as_str()),
            ])
            .await;
        assert_eq!(res.status_code(), 302, "{}", res.text());
        let cookie = format!("tuki_session={}", res.cookie("tuki_session").value());
        let index = server
            .get("/admin/")
            .add_header("cookie", cookie.clone())
            .await
            .text();
        let csrf = index
            .split("name=\"csrfmiddlewaretoken\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_string();
        Self {
            server,
            cookie,
            csrf,
            origin,
        }
    }

    async fn get(&self, path: &str) -> TestResponse {
        self.server
            .get(path)
            .add_header("cookie", self.cookie.clone())
            .await
    }

    /// A form POST from the admin's own pages (token and origin included).
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut form: Vec<(&str, &str)> = vec![("csrfmiddlewaretoken", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.server
            .post(path)
            .add_header("cookie", self.cookie.clone())
            .add_header("origin", self.origin.clone())
            .form(&form)
            .await
    }

    /// The page a 303 leads to, with the flash cookie it set.
    async fn follow(&self, res: &TestResponse) -> String {
        assert_eq!(res.status_code(), 303, "{}", res.text());
        let to = res.header("location").to_str().unwrap().to_string();
        let flash = res.cookie("tuki_messages");
        self.server
            .get(&to)
            .add_header(
                "cookie",
                format!("{}; tuki_messages={}", self.cookie, flash.value()),
            )
            .await
            .text()
    }
}

fn category_form<'a>(name: &'a str, slug: &'a str, button: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("name", name), ("slug", slug), (button, "1")]
}

#[tokio::test]
async fn changelists_search_filter_sort_and_page_by_100() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let db = &app.ctx().db;
    let now = chrono::Utc::now().fixed_offset();
    for i in 0..105 {
        event_categories::ActiveModel {
            id: Set(Uuid::new_v4()),
            name: Set(format!("Categoría {i:03}")),
            slug: Set(format!("cat-{i:03}")),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    let admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let list = admin.get("/admin/events/eventcategory/").await;
    assert_eq!(list.status_code(), 200);
    let html = list.text();
    assert_eq!(html.matches("class=\"action-select\"").count(), 100);
    assert!(html.contains("105 categorías"));
    assert!(html.contains("Categoría 000") && !html.contains("Categoría 104"));
    let page2 = admin.get("/admin/events/eventcategory/?p=2").await.text();
    assert_eq!(page2.matches("class=\"action-select\"").count(), 5);
    assert!(page2.contains("Categoría 104"));
    // Sorted descending by name.
    let desc = admin
        .get("/admin/events/eventcategory/?o=-name")
        .await
        .text();
    assert!(desc.contains("Categoría 104") && !desc.contains("Categoría 000"));
    // Search: every word must match; the count says how many of how many.
    let found = admin
        .get("/admin/events/eventcategory/?q=categor%C3%ADa+07")
        .await
        .text();
    // "Categoría 007" and 070 to 079.
    assert_eq!(found.matches("class=\"action-select\"").count(), 11);
    assert!(found.contains("11 categorías (105 en total)"));
    // Wildcards are literal.
    let none = admin.get("/admin/events/eventcategory/?q=%25").await.text();
    assert_eq!(none.matches("class=\"action-select\"").count(), 0);

    // Filters on events: by status.
    let place = catalogue::place(db).await;
    let mut draft = catalogue::NewEvent::new(
        &place,
        "Borrador secreto",
        "borrador",
        "2031-01-01T20:00:00Z",
    );
    draft.status = "draft";
    draft.insert(db, &place).await;
    catalogue::NewEvent::new(
        &place,
        "Publicado abierto",
        "publicado",
        "2031-01-02T20:00:00Z",
    )
    .insert(db, &place)
    .await;
    let drafts = admin.get("/admin/events/event/?status=draft").await.text();
    assert!(drafts.contains("Borrador secreto") && !drafts.contains("Publicado abierto"));
    assert!(drafts.contains("Por estado"));
    // A text column's filter offers its distinct values.
    let places = admin.get("/admin/events/location/").await.text();
    assert!(places.contains("Por ciudad") && places.contains("?city=Valpara%C3%ADso"));
    let santiago = admin
        .get("/admin/events/location/?city=Santiago")
        .await
        .text();
    assert_eq!(santiago.matches("class=\"action-select\"").count(), 1);
}

#[tokio::test]
async fn forms_keep_input_and_show_errors_in_place_and_save_three_ways() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let db = &app.ctx().db;

    // Bad slug and a missing name: 400, both errors next to their fields,
    // the input kept, nothing saved.
    let bad = admin
        .post(
            "/admin/events/eventcategory/add/",
            &category_form("", "no vale!", "_save"),
        )
        .await;
    assert_eq!(bad.status_code(), 400);
    let html = bad.text();
    assert!(html.contains("Por favor, corrige los errores"));
    assert!(html.contains("Este campo es obligatorio."));
    assert!(html.contains("Introduzca un «slug» válido"));
    assert!(html.contains("value=\"no vale!\""));
    assert_eq!(event_categories::Entity::find().count(db).await.unwrap(), 0);

    // "Guardar": back to the list, with a message shown once.
    let saved = admin
        .post(
            "/admin/events/eventcategory/add/",
            &category_form("Música", "musica", "_save"),
        )
        .await;
    assert_eq!(saved.header("location"), "/admin/events/eventcategory/");
    let list = admin.follow(&saved).await;
    assert!(list.contains("La categoría «Música» fue agregada correctamente."));
    // A duplicate slug is a field error, not a 500.
    let dup = admin
        .post(
            "/admin/events/eventcategory/add/",
            &category_form("Otra", "musica", "_save"),
        )
        .await;
    assert_eq!(dup.status_code(), 400);
    assert!(dup.text().contains("Ya existe la categoría con este slug."));

    // "Guardar y continuar editando": to the object's own page.
    let cont = admin
        .post(
            "/admin/events/eventcategory/add/",
            &category_form("Teatro", "teatro", "_continue"),
        )
        .await;
    let to = cont.header("location").to_str().unwrap().to_string();
    assert!(to.ends_with("/change/"), "{to}");
    let page = admin.follow(&cont).await;
    assert!(page.contains("value=\"Teatro\""));
    // "Guardar y añadir otro": to a blank add form.
    let another = admin
        .post(
            "/admin/events/eventcategory/add/",
            &category_form("Cine", "cine", "_addanother"),
        )
        .await;
    assert_eq!(
        another.header("location"),
        "/admin/events/eventcategory/add/"
    );

    // A change is logged with what changed; the history page shows both.
    let change = admin
        .post(&to, &category_form("Teatro y danza", "teatro", "_save"))
        .await;
    assert_eq!(change.status_code(), 303);
    let history = admin.get(&to.replace("/change/", "/history/")).await.text();
    assert!(history.contains("jefa@tuki.cl"));
    assert!(history.contains("Añadido."));
    assert!(history.contains("Modificado Nombre."));
    let index = admin.get("/admin/").await.text();
    assert!(
        index.contains("Teatro y danza"),
        "recent actions on the index"
    );
}

#[tokio::test]
async fn unsafe_requests_need_the_token_and_a_trusted_origin() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let db = &app.ctx().db;
    let no_token = admin
        .server
        .post("/admin/events/eventcategory/add/")
        .add_header("cookie", admin.cookie.clone())
        .add_header("origin", admin.origin.clone())
        .form(&[("name", "X"), ("slug", "x")])
        .await;
    assert_eq!(no_token.status_code(), 403);
    assert!(no_token.text().contains("Verificación CSRF fallida"));
    let elsewhere = admin
        .server
        .post("/admin/events/eventcategory/add/")
        .add_header("cookie", admin.cookie.clone())
        .add_header("origin", "https://evil.example")
        .form(&[
            ("csrfmiddlewaretoken", admin.csrf.as_str()),
            ("name", "X"),
            ("slug", "x"),
        ])
        .await;
    assert_eq!(elsewhere.status_code(), 403);
    assert_eq!(event_categories::Entity::find().count(db).await.unwrap(), 0);
    // Signed out: to the sign-in page, with where they were going.
    let out = app.server().get("/admin/events/event/?q=x").await;
    assert_eq!(out.status_code(), 302);
    assert_eq!(
        out.header("location"),
        "/admin/login/?next=/admin/events/event/%3Fq%3Dx"
    );
}

#[tokio::test]
async fn staff_get_only_what_a_superuser_granted() {
    let app = TestApp::boot().await;
    let boss = staff(&app, "jefa@tuki.cl", true).await;
    let clerk = staff(&app, "clerk@tuki.cl", false).await;
    let db = &app.ctx().db;
    let place = catalogue::place(db).await;
    let event = catalogue::NewEvent::new(&place, "Feria", "feria", "2031-01-01T20:00:00Z")
        .insert(db, &place)
        .await;
    let _ = boss;

    let c = Admin::sign_in(&app, "clerk@tuki.cl").await;
    assert_eq!(c.get("/admin/events/event/").await.status_code(), 403);
    assert_eq!(
        c.get(&format!("/admin/events/event/{event}/change/"))
            .await
            .status_code(),
        403
    );

    // The superuser grants "view events" on the clerk's user form.
    let boss_admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let clerk_url = format!("/admin/users/user/{}/change/", clerk.id);
    let form = boss_admin.get(&clerk_url).await.text();
    assert!(form.contains("value=\"event.view\""));
    assert!(!form.contains("argon2"), "the password hash is never shown");
    let res = boss_admin
        .post(
            &clerk_url,
            &[
                ("email", "clerk@tuki.cl"),
                ("username", "clerk@tuki.cl"),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("perm", "event.view"),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(res.status_code(), 303, "{}", res.text());

    assert_eq!(c.get("/admin/events/event/").await.status_code(), 200);
    let view = c.get(&format!("/admin/events/event/{event}/change/")).await;
    assert_eq!(view.status_code(), 200);
    assert!(view.text().contains("Ver evento") && !view.text().contains("name=\"_save\""));
    assert_eq!(c.get("/admin/events/event/add/").await.status_code(), 403);
    let change = c
        .post(
            &format!("/admin/events/event/{event}/change/"),
            &[("title", "Hackeado")],
        )
        .await;
    assert_eq!(change.status_code(), 403);
    let delete = c
        .post(&format!("/admin/events/event/{event}/delete/"), &[])
        .await;
    assert_eq!(delete.status_code(), 403);
    let title = events::Entity::find_by_id(event)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .title;
    assert_eq!(title, "Feria");

    // A clerk who may change users cannot make themselves superuser, nor
    // touch the superuser's account.
    boss_admin
        .post(
            &clerk_url,
            &[
                ("email", "clerk@tuki.cl"),
                ("username", "clerk@tuki.cl"),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("perm", "user.change"),
                ("_save", "1"),
            ],
        )
        .await;
    let own = c
        .post(
            &clerk_url,
            &[
                ("email", "clerk@tuki.cl"),
                ("username", "clerk@tuki.cl"),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("is_superuser", "on"),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(own.status_code(), 303);
    let clerk_now = users::Entity::find_by_id(clerk.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(!clerk_now.is_superuser && clerk_now.is_staff);
    let boss_url = format!("/admin/users/user/{}/password/", boss.id);
    assert_eq!(c.get(&boss_url).await.status_code(), 403);

    // Records of payments are read-only, even for superusers.
    assert_eq!(
        boss_admin
            .get("/admin/events/order/add/")
            .await
            .status_code(),
        403
    );
    assert_eq!(
        boss_admin.get("/admin/events/order/").await.status_code(),
        200
    );
}

#[tokio::test]
async fn deletes_confirm_what_goes_and_paid_records_protect_their_event() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let db = &app.ctx().db;
    let place = catalogue::place(db).await;
    let (free, _) = on_sale_at(db, &place, "sin-ventas", vec![(5000, Some(10), 0)]).await;
    let (sold, tiers) = on_sale_at(db, &place, "con-ventas", vec![(5000, Some(10), 0)]).await;
    let (_, hold) = reserve(&app.server(), sold, &[(tiers[0], 1)]).await;
    book(
        &app.server(),
        sold,
        hold["reservation_id"].as_str().unwrap(),
    )
    .await;

    // The confirmation lists the tiers that go with the event.
    let confirm = admin
        .get(&format!("/admin/events/event/{free}/delete/"))
        .await
        .text();
    assert!(confirm.contains("¿Estás seguro?"));
    assert!(confirm.contains("Tipos de entrada"));
    let gone = admin
        .post(&format!("/admin/events/event/{free}/delete/"), &[])
        .await;
    let list = admin.follow(&gone).await;
    assert!(list.contains("fue eliminado correctamente"));
    assert!(events::Entity::find_by_id(free)
        .one(db)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        ticket_tiers::Entity::find().count(db).await.unwrap(),
        1,
        "the deleted event's tier went with it"
    );

    // An event with an order cannot be deleted: the page says why.
    let blocked = admin
        .get(&format!("/admin/events/event/{sold}/delete/"))
        .await
        .text();
    assert!(blocked.contains("No se puede eliminar") && blocked.contains("Órdenes"));
    let refused = admin
        .post(&format!("/admin/events/event/{sold}/delete/"), &[])
        .await;
    assert_eq!(refused.status_code(), 409);
    assert!(events::Entity::find_by_id(sold)
        .one(db)
        .await
        .unwrap()
        .is_some());

    // In bulk, each object is listed with what goes with it or protects it.
    let (other, _) = on_sale_at(db, &place, "otro", vec![(1000, Some(5), 0)]).await;
    let sold_id = sold.to_string();
    let other_id = other.to_string();
    let ask = admin
        .post(
            "/admin/events/event/",
            &[
                ("action", "delete_selected"),
                ("_selected_action", sold_id.as_str()),
                ("_selected_action", other_id.as_str()),
            ],
        )
        .await
        .text();
    assert!(ask.contains("lo impiden") && ask.contains("Tipos de entrada</strong> (1)"));
    assert!(!ask.contains("Sí, estoy seguro"));
    let forced = admin
        .post(
            "/admin/events/event/",
            &[
                ("action", "delete_selected"),
                ("post", "yes"),
                ("_selected_action", sold_id.as_str()),
                ("_selected_action", other_id.as_str()),
            ],
        )
        .await;
    assert_eq!(forced.status_code(), 409);
    assert!(events::Entity::find_by_id(other)
        .one(db)
        .await
        .unwrap()
        .is_some());

    // Bulk delete: a confirmation first, then the delete.
    let now = chrono::Utc::now().fixed_offset();
    let mut ids = Vec::new();
    for slug in ["a", "b", "c"] {
        let c = event_categories::ActiveModel {
            id: Set(Uuid::new_v4()),
            name: Set(slug.to_uppercase()),
            slug: Set(format!("bulk-{slug}")),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        ids.push(c.id.to_string());
    }
    let before = event_categories::Entity::find().count(db).await.unwrap();
    let ask = admin
        .post(
            "/admin/events/eventcategory/",
            &[
                ("action", "delete_selected"),
                ("_selected_action", ids[0].as_str()),
                ("_selected_action", ids[1].as_str()),
            ],
        )
        .await;
    assert_eq!(ask.status_code(), 200);
    assert!(ask.text().contains("¿Estás seguro?"));
    assert_eq!(
        event_categories::Entity::find().count(db).await.unwrap(),
        before
    );
    let done = admin
        .post(
            "/admin/events/eventcategory/",
            &[
                ("action", "delete_selected"),
                ("post", "yes"),
                ("_selected_action", ids[0].as_str()),
                ("_selected_action", ids[1].as_str()),
            ],
        )
        .await;
    assert!(admin
        .follow(&done)
        .await
        .contains("Se eliminaron 2 categorías"));
    assert_eq!(
        event_categories::Entity::find().count(db).await.unwrap(),
        before - 2
    );
}

#[tokio::test]
async fn the_event_form_edits_its_tiers_inline() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let db = &app.ctx().db;
    let place = catalogue::place(db).await;
    let (event, tiers) = on_sale_at(db, &place, "inline", vec![(5000, Some(10), 4)]).await;
    let url = format!("/admin/events/event/{event}/change/");
    let page = admin.get(&url).await.text();
    assert!(page.contains("name=\"tickettier-TOTAL_FORMS\" value=\"2\""));
    let organizer = place.organizer.to_string();
    let tier = tiers[0].to_string();
    let base = vec![
        ("title", "Festival"),
        ("slug", "inline"),
        ("organizer_id", organizer.as_str()),
        ("status", "published"),
        ("visibility", "public"),
        ("start_date", "2031-03-10T20:30"),
        ("end_date", "2031-03-11T01:30"),
        ("service_fee_bps", "0"),
        ("tickettier-TOTAL_FORMS", "2"),
        ("tickettier-0-id", tier.as_str()),
        ("tickettier-0-name", "General"),
        ("tickettier-0-price", "5000"),
        ("tickettier-0-min_per_order", "1"),
        ("tickettier-0-is_public", "on"),
        ("tickettier-0-display_order", "0"),
        ("tickettier-1-min_per_order", "1"),
        ("tickettier-1-is_public", "on"),
        ("tickettier-1-display_order", "0"),
        ("_continue", "1"),
    ];
    // Capacity below what is sold: an error on that row, nothing saved.
    let mut low = base.clone();
    low.push(("tickettier-0-capacity", "3"));
    let res = admin.post(&url, &low).await;
    assert_eq!(res.status_code(), 400);
    assert!(res.text().contains("ya vendidas o reservadas"));
    // A valid change plus a new VIP row.
    let mut ok = base.clone();
    ok.extend([
        ("tickettier-0-capacity", "20"),
        ("tickettier-1-name", "VIP"),
        ("tickettier-1-price", "$25.000"),
        ("tickettier-1-capacity", "5"),
    ]);
    let res = admin.post(&url, &ok).await;
    assert_eq!(res.status_code(), 303, "{}", res.text());
    let rows = ticket_tiers::Entity::find().all(db).await.unwrap();
    assert_eq!(rows.len(), 2);
    let general = rows.iter().find(|t| t.name == "General").unwrap();
    assert_eq!((general.capacity, general.sold), (Some(20), 4));
    let vip = rows.iter().find(|t| t.name == "VIP").unwrap();
    assert_eq!((vip.price, vip.event_id), (25_000, event));
    let history = admin
        .get(&format!("/admin/events/event/{event}/history/"))
        .await
        .text();
    assert!(history.contains("Añadido tipo de entrada «VIP»"));
    assert!(
        history.contains("Capacidad") && history.contains("de tipo de entrada «General»"),
        "{history}"
    );
    // The public API shows the new tier at once (the admin clears the cache).
    let api = app
        .server()
        .get("/api/v1/events/public_list/?search=Festival")
        .await
        .text();
    // 20 - 4 sold on General, 5 on the new VIP.
    assert!(api.contains("\"ticketsAvailable\":21"), "{api}");
}

#[tokio::test]
async fn users_passwords_are_set_through_their_own_forms() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let db = &app.ctx().db;
    let add = |p1: &'static str, p2: &'static str| {
        vec![
            ("email", "nuevo@tuki.cl"),
            ("username", "nuevo"),
            ("is_active", "on"),
            ("password1", p1),
            ("password2", p2),
            ("_continue", "1"),
        ]
    };
    let mismatch = admin
        .post(
            "/admin/users/user/add/",
            &add("Clave-Larga-1", "Clave-Larga-2"),
        )
        .await;
    assert_eq!(mismatch.status_code(), 400);
    assert!(mismatch
        .text()
        .contains("Las dos contraseñas no coinciden."));
    assert!(
        !mismatch.text().contains("Clave-Larga-1"),
        "passwords are never echoed"
    );
    let ok = admin
        .post(
            "/admin/users/user/add/",
            &add("Clave-Larga-1", "Clave-Larga-1"),
        )
        .await;
    assert_eq!(ok.status_code(), 303, "{}", ok.text());
    let user = users::Model::find_by_email(db, "nuevo@tuki.cl")
        .await
        .unwrap()
        .unwrap();
    assert!(user.password.starts_with("$argon2id$"));
    let page = admin.follow(&ok).await;
    assert!(!page.contains(&user.password) && page.contains("/password/"));

    let url = format!("/admin/users/user/{}/password/", user.id);
    let weak = admin
        .post(&url, &[("new_password1", "123"), ("new_password2", "123")])
        .await;
    assert_eq!(weak.status_code(), 400);
    let set = admin
        .post(
            &url,
            &[
                ("new_password1", "Otra-Clave-99"),
                ("new_password2", "Otra-Clave-99"),
            ],
        )
        .await;
    assert_eq!(set.status_code(), 303);
    let user = users::Entity::find_by_id(user.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        user.verify_password("Otra-Clave-99"),
        tuki_backend::accounts::passwords::Verified::Yes
    ));

    // One's own password: the current one is required.
    let wrong = admin
        .post(
            "/admin/password_change/",
            &[
                ("old_password", "no-es"),
                ("new_password1", "Nueva-Clave-77"),
                ("new_password2", "Nueva-Clave-77"),
            ],
        )
        .await;
    assert_eq!(wrong.status_code(), 400);
    assert!(wrong.text().contains("Tu contraseña actual no es correcta"));
    let right = admin
        .post(
            "/admin/password_change/",
            &[
                ("old_password", PASSWORD),
                ("new_password1", "Nueva-Clave-77"),
                ("new_password2", "Nueva-Clave-77"),
            ],
        )
        .await;
    // This session goes on under a new id; the old cookie is signed out.
    assert_eq!(right.status_code(), 303, "{}", right.text());
    let Admin {
        server,
        cookie: old_cookie,
        csrf,
        origin,
    } = admin;
    let renewed = Admin {
        cookie: format!("tuki_session={}", right.cookie("tuki_session").value()),
        server,
        csrf,
        origin,
    };
    assert!(renewed
        .follow(&right)
        .await
        .contains("Tu contraseña fue cambiada."));
    let old = renewed
        .server
        .get("/admin/")
        .add_header("cookie", old_cookie)
        .await;
    assert_eq!(old.status_code(), 302);
    assert!(old
        .header("location")
        .to_str()
        .unwrap()
        .starts_with("/admin/login/"));
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

#[tokio::test]
async fn event_images_upload_through_storage_with_type_and_size_checks() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let db = &app.ctx().db;
    let place = catalogue::place(db).await;
    let event = catalogue::NewEvent::new(&place, "Con foto", "con-foto", "2031-01-01T20:00:00Z")
        .insert(db, &place)
        .await;
    let before = event_images::Entity::find().count(db).await.unwrap();
    let url = format!("/admin/events/event/{event}/change/");
    let form = |file: Part| {
        MultipartForm::new()
            .add_text("csrfmiddlewaretoken", admin.csrf.clone())
            .add_text("title", "Con foto")
            .add_text("slug", "con-foto")
            .add_text("organizer_id", place.organizer.to_string())
            .add_text("status", "published")
            .add_text("visibility", "public")
            .add_text("start_date", "2031-01-01T17:00")
            .add_text("end_date", "2031-01-01T20:00")
            .add_text("service_fee_bps", "0")
            .add_text("images-new-alt", "El escenario")
            .add_part("images-new", file)
            .add_text("_continue", "1")
    };
    let post = |f: MultipartForm| {
        admin
            .server
            .post(&url)
            .add_header("cookie", admin.cookie.clone())
            .add_header("origin", admin.origin.clone())
            .multipart(f)
    };
    // Not an image: refused in place, nothing stored or changed.
    let bad = post(form(
        Part::bytes(b"<svg onload=alert(1)>".to_vec())
            .file_name("x.png")
            .mime_type("image/png"),
    ))
    .await;
    assert_eq!(bad.status_code(), 400);
    assert!(bad.text().contains("no es una imagen"));
    let big = post(form(
        Part::bytes([PNG, &vec![0u8; 5 * 1024 * 1024]].concat())
            .file_name("big.png")
            .mime_type("image/png"),
    ))
    .await;
    assert_eq!(big.status_code(), 400);
    assert!(big.text().contains("5 MB"));
    assert_eq!(
        event_images::Entity::find().count(db).await.unwrap(),
        before
    );
    // A PNG: stored, shown on the form, served from /media/.
    let ok = post(form(
        Part::bytes(PNG.to_vec())
            .file_name("foto.png")
            .mime_type("image/png"),
    ))
    .await;
    assert_eq!(ok.status_code(), 303, "{}", ok.text());
    let image = event_images::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.event_id == event)
        .unwrap();
    assert_eq!(image.alt, "El escenario");
    let page = admin.follow(&ok).await;
    assert!(page.contains(&image.path));
    let served = app.server().get(&format!("/media/{}", image.path)).await;
    assert_eq!(served.status_code(), 200);
    assert_eq!(served.as_bytes().as_ref(), PNG);
}

#[tokio::test]
async fn static_files_have_hashed_names_long_caching_and_real_404s() {
    let app = TestApp::boot().await;
    let server = app.server();
    let login = server.get("/admin/login/").await.text();
    let css = login
        .split("href=\"/static/admin/admin.")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|rest| format!("/static/admin/admin.{rest}"))
        .expect("the stylesheet link");
    assert!(css.ends_with(".css") && css.len() > "/static/admin/admin.css".len());
    let res = server.get(&css).await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(
        res.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(res
        .header("content-type")
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let plain = server.get("/static/admin/admin.css").await;
    assert_eq!(plain.status_code(), 200);
    assert_eq!(plain.header("cache-control"), "public, max-age=300");
    for missing in [
        "/static/admin/nope.css",
        "/static/admin/admin.000000000000.css",
        "/static/",
    ] {
        let res = server.get(missing).await;
        assert_eq!(res.status_code(), 404, "{missing}");
    }
    // The admin's pages allow only this site's scripts and styles.
    let page = server.get("/admin/login/").await;
    let csp = page.header("content-security-policy");
    assert!(csp.to_str().unwrap().contains("script-src 'self'"));
    assert_eq!(page.header("cache-control"), "no-store");
}

#[tokio::test]
async fn superusers_refund_paid_orders_from_the_order_page() {
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    staff(&app, "jefa@tuki.cl", true).await;
    staff(&app, "clerk@tuki.cl", false).await;
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "reembolso", vec![(10_000, Some(5), 0)]).await;
    let server = app.server();
    let (number, _, token) = pending_payment(&server, event, &[(tiers[0], 1)]).await;
    fake.pay(&token);
    let (_, status) = webpay_return(&server, &[("token_ws", token.as_str())]).await;
    assert_eq!(status, "paid");
    let order = tuki_backend::models::orders::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.order_number == number)
        .unwrap();
    let page = format!("/admin/events/order/{}/change/", order.id);
    let refund = format!("/admin/events/order/{}/refund/", order.id);

    let admin = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let view = admin.get(&page).await.text();
    assert!(view.contains("Reembolsar") && view.contains("$10.000"));
    assert!(!view.contains("name=\"_save\""), "orders are read-only");
    let too_much = admin.post(&refund, &[("amount", "999999")]).await;
    assert!(admin
        .follow(&too_much)
        .await
        .contains("nada fue reembolsado"));
    assert_eq!(fake.refunds(), 0);
    let part = admin.post(&refund, &[("amount", "4000")]).await;
    assert!(admin.follow(&part).await.contains("Reembolsado $4.000."));
    assert_eq!(fake.refunds(), 1);
    let order = tuki_backend::models::orders::Entity::find_by_id(order.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (order.refunded_amount, order.status.as_str()),
        (4000, "partially_refunded")
    );
    let history = admin
        .get(&format!("/admin/events/order/{}/history/", order.id))
        .await
        .text();
    assert!(history.contains("Reembolsado $4.000."));

    // Other staff cannot refund, even if they may see orders.
    let clerk = Admin::sign_in(&app, "clerk@tuki.cl").await;
    assert_eq!(
        clerk
            .post(&refund, &[("amount", "1000")])
            .await
            .status_code(),
        403
    );
    assert_eq!(fake.refunds(), 1);
}

#[tokio::test]
async fn deactivating_a_user_in_the_admin_ends_their_sessions_for_good() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let clerk = staff(&app, "clerk@tuki.cl", false).await;
    let boss = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let c = Admin::sign_in(&app, "clerk@tuki.cl").await;
    assert_eq!(c.get("/admin/").await.status_code(), 200);
    let url = format!("/admin/users/user/{}/change/", clerk.id);
    let inactive = [
        ("email", "clerk@tuki.cl"),
        ("username", "clerk@tuki.cl"),
        ("is_staff", "on"),
        ("_save", "1"),
    ];
    let active = [
        ("email", "clerk@tuki.cl"),
        ("username", "clerk@tuki.cl"),
        ("is_staff", "on"),
        ("is_active", "on"),
        ("_save", "1"),
    ];
    let save = |active_now: bool| {
        if active_now {
            boss.post(&url, &active[..])
        } else {
            boss.post(&url, &inactive[..])
        }
    };
    assert_eq!(save(false).await.status_code(), 303);
    assert_eq!(c.get("/admin/").await.status_code(), 302);
    // Active again: the old session stays ended; a new sign-in works.
    assert_eq!(save(true).await.status_code(), 303);
    assert_eq!(c.get("/admin/").await.status_code(), 302);
    let again = Admin::sign_in(&app, "clerk@tuki.cl").await;
    assert_eq!(again.get("/admin/").await.status_code(), 200);
}

#[tokio::test]
async fn a_password_reset_signs_out_the_admin_sessions_of_that_user() {
    let app = TestApp::boot().await;
    let user = staff(&app, "olvido@tuki.cl", true).await;
    let admin = Admin::sign_in(&app, "olvido@tuki.cl").await;
    assert_eq!(admin.get("/admin/").await.status_code(), 200);
    let settings = tuki_backend::platform::context::settings(app.ctx()).unwrap();
    let token = tuki_backend::mailers::password_reset::make_token(
        &settings.secret_key,
        &user,
        chrono::Utc::now().timestamp(),
    );
    let reset = admin
        .server
        .post("/api/v1/auth/password/reset/confirm/")
        .json(&serde_json::json!({"uid": user.id, "token": token, "new_password": "Otra-Clave-Segura-7"}))
        .await;
    assert_eq!(reset.status_code(), 200, "{}", reset.text());
    let after = admin.get("/admin/").await;
    assert_eq!(after.status_code(), 302);
    assert!(after
        .header("location")
        .to_str()
        .unwrap()
        .starts_with("/admin/login/"));
}

#[tokio::test]
async fn guessing_ones_own_password_in_the_admin_is_throttled() {
    let app = TestApp::boot().await;
    staff(&app, "sesion@tuki.cl", true).await;
    let admin = Admin::sign_in(&app, "sesion@tuki.cl").await;
    let wrong = [
        ("old_password", "adivina"),
        ("new_password1", "Nueva-Clave-77"),
        ("new_password2", "Nueva-Clave-77"),
    ];
    let right = [
        ("old_password", PASSWORD),
        ("new_password1", "Nueva-Clave-77"),
        ("new_password2", "Nueva-Clave-77"),
    ];
    for _ in 0..5 {
        let res = admin.post("/admin/password_change/", &wrong).await;
        assert_eq!(res.status_code(), 400);
    }
    let refused = admin.post("/admin/password_change/", &right).await;
    assert_eq!(refused.status_code(), 429);
    assert!(refused.maybe_header("retry-after").is_some());
}

/// Without Webpay credentials in the environment, payments answer 503 with
/// a Spanish message until a superuser saves the commerce code and key in
/// the admin; the key is stored sealed, shown only as its last four
/// characters, and its change is in the history; other staff cannot see or
/// save it; the environment's credentials, when set, win.
#[tokio::test]
async fn webpay_credentials_saved_by_a_superuser_turn_payments_on() {
    use crate::support::webpay::{API_KEY, COMMERCE_CODE};
    use sea_orm::ConnectionTrait;
    use serde_json::{json, Value};
    use std::sync::Arc;
    use tuki_backend::{
        payments::credentials::{Gateway, Source, NOT_CONFIGURED},
        platform::settings::Transbank,
    };
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    let secret = tuki_backend::platform::context::settings(app.ctx())
        .unwrap()
        .secret_key
        .clone();
    let unset = Transbank {
        sandbox: false,
        commerce_code: String::new(),
        api_key: String::new(),
        api_base_url: fake.url(),
    };
    app.ctx()
        .shared_store
        .insert(Arc::new(Gateway::new(&unset, &secret, &[]).unwrap()));
    staff(&app, "jefa@tuki.cl", true).await;
    staff(&app, "clerk@tuki.cl", false).await;
    let db = &app.ctx().db;
    let (event, tiers) = on_sale(db, "credenciales", vec![(10_000, Some(5), 0)]).await;
    let server = app.server();
    let (_, r) = reserve(&server, event, &[(tiers[0], 1)]).await;
    let order = book(&server, event, r["reservation_id"].as_str().unwrap()).await;
    let pay = || {
        server
            .post("/api/v1/payments/create_payment/")
            .json(&json!({"order_number": order["order_number"], "token": order["access_token"]}))
    };
    let res = pay().await;
    assert_eq!(res.status_code(), 503, "{}", res.text());
    assert_eq!(res.json::<Value>()["detail"], NOT_CONFIGURED);
    // backtuki's shape (by order id) says the same, before anything else.
    let res = server
        .post("/api/v1/payments/create_payment/")
        .json(&json!({"order_id": Uuid::new_v4()}))
        .await;
    assert_eq!(res.status_code(), 503);
    assert_eq!(fake.created(), 0);

    // Other staff: not even the list.
    let clerk = Admin::sign_in(&app, "clerk@tuki.cl").await;
    assert_eq!(
        clerk
            .get("/admin/payments/webpaysettings/")
            .await
            .status_code(),
        403
    );
    // A superuser saves them: a bad code and a missing key are refused.
    let jefa = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let add = "/admin/payments/webpaysettings/add/";
    let form = jefa.get(add).await.text();
    assert!(form.contains("name=\"api_key\"") && form.contains("type=\"password\""));
    let bad = jefa
        .post(
            add,
            &[("commerce_code", "abc"), ("api_key", ""), ("_save", "")],
        )
        .await;
    assert_eq!(bad.status_code(), 400, "{}", bad.text());
    let text = bad.text();
    assert!(text.contains("de 8 a 20 dígitos"));
    assert!(text.contains("Escribe la llave secreta"));
    let saved = jefa
        .post(
            add,
            &[
                ("commerce_code", COMMERCE_CODE),
                ("api_key", API_KEY),
                ("_save", ""),
            ],
        )
        .await;
    assert_eq!(saved.status_code(), 303, "{}", saved.text());
    let list = jefa.follow(&saved).await;
    let tail: String = API_KEY.chars().skip(API_KEY.len() - 4).collect();
    assert!(list.contains(&format!("••••{tail}")), "{list}");
    assert!(!list.contains(API_KEY));
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT id, api_key_sealed FROM payment_settings",
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: String = row.try_get("", "api_key_sealed").unwrap();
    assert!(sealed.starts_with("v1:") && !sealed.contains(API_KEY));
    let id: Uuid = row.try_get("", "id").unwrap();
    let change = format!("/admin/payments/webpaysettings/{id}/change/");
    let page = jefa.get(&change).await.text();
    assert!(!page.contains(API_KEY), "the key is never shown again");
    let history = jefa
        .get(&format!("/admin/payments/webpaysettings/{id}/history/"))
        .await
        .text();
    assert!(history.contains("Cambiada la llave secreta"));
    // One set only.
    let again = jefa
        .post(
            add,
            &[
                ("commerce_code", COMMERCE_CODE),
                ("api_key", API_KEY),
                ("_save", ""),
            ],
        )
        .await;
    assert_eq!(again.status_code(), 400);
    assert!(again.text().contains("Ya hay credenciales de Webpay"));
    // Other staff cannot change them even when granted the model.
    assert_eq!(
        clerk
            .post(&change, &[("commerce_code", "597000000009"), ("_save", "")])
            .await
            .status_code(),
        403
    );

    // Payments work now, with the saved credentials (the fake checks them).
    let res = pay().await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(fake.created(), 1);
    assert_eq!(
        fake.inner
            .bad_auth
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );

    // The environment's credentials win over the saved ones.
    let env = Transbank {
        commerce_code: "597000000001".into(),
        api_key: "la-del-entorno".into(),
        ..unset.clone()
    };
    let (_, source) = Gateway::new(&env, &secret, &[])
        .unwrap()
        .webpay(db)
        .await
        .unwrap();
    assert_eq!(source, Source::Environment);
    // A new SECRET_KEY: the saved key does not open, payments stop and the
    // admin says so.
    let rotated = "otra-clave-secreta-0123456789-abcdefgh";
    let (webpay, source) = Gateway::new(&unset, rotated, &[])
        .unwrap()
        .webpay(db)
        .await
        .unwrap();
    assert!(webpay.is_none());
    assert_eq!(source, Source::Missing);
    app.ctx()
        .shared_store
        .insert(Arc::new(Gateway::new(&unset, rotated, &[]).unwrap()));
    assert!(jefa.get(&change).await.text().contains("no se puede abrir"));
    assert_eq!(pay().await.status_code(), 503);
    // With the old key among SECRET_KEY_FALLBACKS it opens, and is sealed
    // again under the new one.
    let (webpay, source) = Gateway::new(&unset, rotated, std::slice::from_ref(&secret))
        .unwrap()
        .webpay(db)
        .await
        .unwrap();
    assert!(webpay.is_some());
    assert_eq!(source, Source::Admin);
    let (webpay, _) = Gateway::new(&unset, rotated, &[])
        .unwrap()
        .webpay(db)
        .await
        .unwrap();
    assert!(webpay.is_some(), "sealed again under the new key");
    assert!(!jefa.get(&change).await.text().contains("no se puede abrir"));
}

/// Foreign keys to large models are search boxes: the endpoint searches the
/// model's search fields for whoever may view it, in pages of 20; the
/// changelist filter and the form hold only the chosen object, never a list
/// of every event.
#[tokio::test]
async fn large_models_are_searched_through_their_autocomplete_endpoint() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    staff(&app, "clerk@tuki.cl", false).await;
    let db = &app.ctx().db;
    let place = catalogue::place(db).await;
    let mut ids = Vec::new();
    for i in 0..45 {
        let title: &'static str = Box::leak(format!("Festival Andino {i:02}").into_boxed_str());
        let slug: &'static str = Box::leak(format!("festival-andino-{i:02}").into_boxed_str());
        ids.push(
            catalogue::NewEvent::new(&place, title, slug, "2031-01-01T20:00:00Z")
                .insert(db, &place)
                .await,
        );
    }
    catalogue::NewEvent::new(&place, "Cueca Brava", "cueca-brava", "2031-02-01T20:00:00Z")
        .insert(db, &place)
        .await;

    let a = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let url = "/admin/events/event/autocomplete/";
    let res = a.get(&format!("{url}?term=andino")).await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.header("cache-control"), "no-store");
    let body: serde_json::Value = res.json();
    assert_eq!(body["results"].as_array().unwrap().len(), 20);
    assert_eq!(body["results"][0]["text"], "Festival Andino 00");
    assert_eq!(body["pagination"]["more"], true);
    let last: serde_json::Value = a.get(&format!("{url}?term=andino&page=3")).await.json();
    assert_eq!(last["results"].as_array().unwrap().len(), 5);
    assert_eq!(last["pagination"]["more"], false);
    let both: serde_json::Value = a.get(&format!("{url}?term=CUECA%20brava")).await.json();
    assert_eq!(both["results"].as_array().unwrap().len(), 1);
    assert_eq!(both["results"][0]["text"], "Cueca Brava");
    // Odd input: no 500, no match-everything.
    for odd in ["%25", "_", "%5C", "page=0", "page=abc&term=x"] {
        let res = a.get(&format!("{url}?term={odd}")).await;
        assert_eq!(res.status_code(), 200, "{odd}");
    }
    let none: serde_json::Value = a.get(&format!("{url}?term=%25")).await.json();
    assert_eq!(
        none["results"].as_array().unwrap().len(),
        0,
        "% is a literal"
    );

    // Staff without "view events", and the signed out, learn nothing.
    let clerk = Admin::sign_in(&app, "clerk@tuki.cl").await;
    let res = clerk.get(&format!("{url}?term=andino")).await;
    assert_eq!(res.status_code(), 403);
    assert!(!res.text().contains("Andino"));
    let anon = app.server().get(&format!("{url}?term=andino")).await;
    assert_ne!(anon.status_code(), 200);
    assert!(!anon.text().contains("Andino"));

    // The orders changelist filters by event through a search box: no
    // event is listed but the chosen one.
    let list = a.get("/admin/events/order/").await.text();
    assert!(list.contains("data-autocomplete=\"/admin/events/event/autocomplete/\""));
    assert!(!list.contains("Festival Andino"), "no list of every event");
    let chosen = a
        .get(&format!("/admin/events/order/?event_id={}", ids[7]))
        .await
        .text();
    assert!(chosen.contains("Festival Andino 07"));
    assert!(!chosen.contains("Festival Andino 08"));
    // Filtered, a large model's listing does not count the whole table again
    // (Django's show_full_result_count=False): a link to all instead.
    assert!(chosen.contains(">Mostrar todo</a>"), "{chosen}");
    assert!(!chosen.contains("en total"));

    // A tier's form holds its event (even past any list's length) and
    // nothing else.
    let form = a.get("/admin/events/tickettier/add/").await.text();
    assert!(form.contains("data-autocomplete=\"/admin/events/event/autocomplete/\""));
    assert!(!form.contains("Festival Andino"));
    // The event's type is a select of the dashboard's types, in Spanish.
    let event_form = a
        .get(&format!("/admin/events/event/{}/change/", ids[0]))
        .await
        .text();
    assert!(event_form.contains("<option value=\"rifa\""));
    assert!(event_form.contains(">Concierto</option>"));
}

/// Django's date_hierarchy: years, months, days in Chile's time, each with
/// its count (with the search applied), and the period chosen narrows the list.
#[tokio::test]
async fn changelists_drill_down_by_date_in_chiles_time() {
    let app = TestApp::boot().await;
    staff(&app, "jefa@tuki.cl", true).await;
    let db = &app.ctx().db;
    let place = catalogue::place(db).await;
    for (title, slug, start) in [
        ("Otoño", "otono", "2030-03-10T20:00:00Z"),
        ("Año Nuevo", "ano-nuevo", "2031-01-01T20:00:00Z"),
        ("Mitad de Enero", "mitad-enero", "2031-01-15T20:00:00Z"),
        // 02:00 UTC on February 1st is still January 31st in Santiago.
        ("Fin de Enero", "fin-enero", "2031-02-01T02:00:00Z"),
    ] {
        catalogue::NewEvent::new(&place, title, slug, start)
            .insert(db, &place)
            .await;
    }
    let a = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let url = "/admin/events/event/";
    let years = a.get(url).await.text();
    assert!(years.contains("class=\"date-hierarchy\""), "{years}");
    assert!(
        years.contains("2030 <span class=\"muted\">(1)</span>"),
        "{years}"
    );
    assert!(
        years.contains("2031 <span class=\"muted\">(3)</span>"),
        "{years}"
    );

    let months = a.get(&format!("{url}?start_date__year=2031")).await.text();
    assert!(
        months.contains("enero 2031 <span class=\"muted\">(3)</span>"),
        "{months}"
    );
    assert!(!months.contains("febrero 2031"), "{months}");
    assert!(months.contains("3 eventos"), "{months}");
    assert!(!months.contains("Otoño"));

    let days = a
        .get(&format!("{url}?start_date__year=2031&start_date__month=1"))
        .await
        .text();
    for day in ["1 de enero", "15 de enero", "31 de enero"] {
        assert!(
            days.contains(&format!("{day} <span class=\"muted\">(1)</span>")),
            "{day}: {days}"
        );
    }
    let one = a
        .get(&format!(
            "{url}?start_date__year=2031&start_date__month=1&start_date__day=31"
        ))
        .await
        .text();
    assert!(
        one.contains("Fin de Enero") && !one.contains("Mitad de Enero"),
        "{one}"
    );
    assert!(one.contains("‹ enero 2031"), "{one}");

    // With a search, the counts are of what the search finds.
    let searched = a.get(&format!("{url}?q=enero")).await.text();
    assert!(
        searched.contains("2031 <span class=\"muted\">(2)</span>"),
        "{searched}"
    );
    assert!(!searched.contains("2030 <span"), "{searched}");

    // A malformed part is said and ignored; nothing breaks.
    for bad in [
        "start_date__year=abc",
        "start_date__year=2031&start_date__month=13",
        "start_date__year=2031&start_date__month=2&start_date__day=30",
    ] {
        let res = a.get(&format!("{url}?{bad}")).await;
        assert_eq!(res.status_code(), 200, "{bad}");
        assert!(res.text().contains("no es válido"), "{bad}");
    }
    // Orders and payments drill down by creation.
    assert!(a.get("/admin/events/order/").await.status_code() == 200);
    assert!(
        a.get("/admin/payments/payment/?created_at__year=2026")
            .await
            .status_code()
            == 200
    );
}

async fn paid_order(
    db: &sea_orm::DatabaseConnection,
    event: Uuid,
    number: &str,
    status: &str,
) -> Uuid {
    use tuki_backend::models::_entities::orders;
    let now = chrono::Utc::now().fixed_offset();
    let id = Uuid::new_v4();
    orders::ActiveModel {
        id: Set(id),
        created_at: Set(now),
        updated_at: Set(now),
        order_number: Set(number.into()),
        event_id: Set(event),
        user_id: Set(None),
        reservation_id: Set(None),
        status: Set(status.into()),
        customer_name: Set("Ana Rojas".into()),
        customer_email: Set(format!("{}@correo.cl", number.to_lowercase())),
        customer_phone: Set(String::new()),
        subtotal: Set(10_000),
        service_fee: Set(1_500),
        total: Set(11_500),
        refunded_amount: Set(0),
        access_token_hash: Set("x".repeat(64)),
        paid_at: Set((status == "paid").then_some(now)),
        confirmation_sent: Set(true),
        ticket_holders: Set("[]".into()),
        coupon_id: Set(None),
        coupon_code: Set(String::new()),
        discount: Set(0),
    }
    .insert(db)
    .await
    .unwrap();
    id
}

/// Changelist actions: export the ticked rows (or every listed one) to CSV
/// for whoever may view the model, each ticked row in its history; resend
/// the confirmation of paid orders (superusers only, each mail in the
/// order's history); all behind the forms' token.
#[tokio::test]
async fn changelist_actions_export_csv_and_resend_confirmations() {
    let sink = crate::support::tools::SmtpSink::start();
    let media = tempfile::tempdir().unwrap();
    let app = super::organizer_signup::mailing_app(&sink, media.path()).await;
    staff(&app, "jefa@tuki.cl", true).await;
    let clerk = staff(&app, "clerk@tuki.cl", false).await;
    let db = &app.ctx().db;
    let place = catalogue::place(db).await;
    let event = catalogue::NewEvent::new(&place, "Feria =Cuenta", "feria", "2031-01-01T20:00:00Z")
        .insert(db, &place)
        .await;
    let other = catalogue::NewEvent::new(&place, "Otra Feria", "otra", "2031-02-01T20:00:00Z")
        .insert(db, &place)
        .await;
    let paid = paid_order(db, event, "ORD-PAID0001", "paid").await;
    let pending = paid_order(db, event, "ORD-PEND0002", "pending").await;
    paid_order(db, other, "ORD-OTRA0003", "paid").await;

    let a = Admin::sign_in(&app, "jefa@tuki.cl").await;
    let list = a.get("/admin/events/order/").await.text();
    assert!(
        list.contains("value=\"export_csv\"") && list.contains("value=\"resend_confirmation\"")
    );
    assert!(
        list.contains("class=\"action-select\""),
        "read-only models can be ticked now"
    );

    // Two ticked events to CSV: a download with the listed columns.
    let res = a
        .post(
            "/admin/events/event/",
            &[
                ("action", "export_csv"),
                ("_selected_action", &event.to_string()),
                ("_selected_action", &other.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert!(res
        .header("content-type")
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(res
        .header("content-disposition")
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"event-"));
    let csv = res.text();
    assert!(csv.starts_with("\u{feff}id,Título"), "{csv}");
    assert!(
        csv.contains("'=Cuenta") || csv.contains("Feria =Cuenta"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let history = a
        .get(&format!("/admin/events/event/{event}/history/"))
        .await
        .text();
    assert!(history.contains("Exportado a CSV."), "{history}");

    // Every order the filtered listing shows (the event's two), none else.
    let res = a
        .post(
            &format!("/admin/events/order/?event_id={event}"),
            &[("action", "export_csv"), ("select_across", "1")],
        )
        .await;
    assert_eq!(res.status_code(), 200);
    let csv = res.text();
    assert!(
        csv.contains("ORD-PAID0001") && csv.contains("ORD-PEND0002"),
        "{csv}"
    );
    assert!(!csv.contains("ORD-OTRA0003"), "{csv}");
    let history = a
        .get(&format!("/admin/events/order/{pending}/history/"))
        .await
        .text();
    assert!(history.contains("Exportado a CSV."), "{history}");

    // Resend the confirmations: the paid one is mailed (although it was
    // confirmed before), the pending one skipped.
    let res = a
        .post(
            "/admin/events/order/",
            &[
                ("action", "resend_confirmation"),
                ("_selected_action", &paid.to_string()),
                ("_selected_action", &pending.to_string()),
            ],
        )
        .await;
    let page = a.follow(&res).await;
    assert!(
        page.contains("Se reenvió la confirmación de 1 órdenes."),
        "{page}"
    );
    assert!(page.contains("1 no pagadas se omitieron."), "{page}");
    assert!(sink
        .messages()
        .iter()
        .any(|m| m["rcpt_tos"] == serde_json::json!(["ord-paid0001@correo.cl"])));
    let history = a
        .get(&format!("/admin/events/order/{paid}/history/"))
        .await
        .text();
    assert!(
        history.contains("Reenviado el correo de confirmación."),
        "{history}"
    );

    // Nothing chosen: said, nothing done.
    let res = a
        .post("/admin/events/order/", &[("action", "export_csv")])
        .await;
    assert!(a.follow(&res).await.contains("Debes seleccionar elementos"));

    // Without the form's token: refused.
    let res = a
        .server
        .post("/admin/events/order/")
        .add_header("cookie", a.cookie.clone())
        .add_header("origin", a.origin.clone())
        .form(&[("action", "export_csv"), ("select_across", "1")])
        .await;
    assert_eq!(res.status_code(), 403);

    // Staff who may not view orders export nothing; viewers may export but
    // not resend (superusers only).
    let c = Admin::sign_in(&app, "clerk@tuki.cl").await;
    let res = c
        .post(
            "/admin/events/order/",
            &[("action", "export_csv"), ("select_across", "1")],
        )
        .await;
    assert_eq!(res.status_code(), 403);
    assert!(!res.text().contains("ORD-PAID0001"));
    {
        use sea_orm::ConnectionTrait;
        db.execute_raw(tuki_backend::models::sql::statement(
            db.get_database_backend(),
            "INSERT INTO admin_permissions (user_id, codename) VALUES ($1, 'order.view')",
            [clerk.id.into()],
        ))
        .await
        .unwrap();
    }
    let c = Admin::sign_in(&app, "clerk@tuki.cl").await;
    let res = c
        .post(
            "/admin/events/order/",
            &[("action", "export_csv"), ("select_across", "1")],
        )
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert!(res.text().contains("ORD-OTRA0003"));
    let before = sink.messages().len();
    let res = c
        .post(
            "/admin/events/order/",
            &[
                ("action", "resend_confirmation"),
                ("_selected_action", &paid.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status_code(), 403);
    assert_eq!(sink.messages().len(), before);
}
