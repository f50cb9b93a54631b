//! The admin in a real browser (headless Chromium over WebDriver): a staff
//! member signs in by email, creates an event with a ticket tier, finds it by
//! searching, edits it, reads its history, and sees it published in the
//! public API. Screenshots land in `target/tmp/browser/` for people to look at.

use std::{net::SocketAddr, path::PathBuf};

use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use tuki_backend::models::users::{self, Email, NewUser};

use crate::support::{app::TestApp, browser::Browser, catalogue};

fn shot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/tmp/browser")
        .join(format!("{name}.png"))
}

#[tokio::test]
async fn staff_create_find_edit_and_publish_an_event_in_the_browser() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let place = catalogue::place(db).await;
    let email = Email::parse("ana@tuki.cl").unwrap();
    let user = users::Model::create(
        db,
        &NewUser {
            email: &email,
            username: "ana",
            password: "Clave-de-Ana-2026",
            is_staff: true,
            is_superuser: true,
        },
    )
    .await
    .unwrap();
    let mut active: users::ActiveModel = user.into();
    active.is_active = Set(true);
    active.update(db).await.unwrap();

    // The app on a real port, as a browser needs it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = app.boot.router.clone().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .ok();
    });
    let site = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let b = Browser::start().await;

    // Signed out: /admin/ → the email sign-in form.
    b.goto(&site("/admin/")).await;
    assert!(
        b.url().await.ends_with("/admin/login/?next=/admin/"),
        "{}",
        b.url().await
    );
    b.screenshot(&shot("1-login")).await;
    b.type_into("#id_email", "ana@tuki.cl").await;
    b.type_into("#id_password", "Clave-de-Ana-2026").await;
    b.click("button[type=submit]").await;
    assert!(b
        .wait_for("Sitio administrativo")
        .await
        .contains("Sitio administrativo"));
    b.screenshot(&shot("2-index")).await;

    // A new event with one tier, from the events list.
    b.goto(&site("/admin/events/event/")).await;
    b.click("a.btn[href$='/add/']").await;
    b.type_into("#id_title", "Noche de Cueca en Valparaíso")
        .await;
    b.type_into("#id_slug", "noche-de-cueca-valparaiso").await;
    // The organizer through its search box (organizers are many).
    b.type_into(
        ".field:has(#id_organizer_id) input.autocomplete-search",
        "cordillera",
    )
    .await;
    b.click(&format!(
        "#id_organizer_id option[value='{}']",
        place.organizer
    ))
    .await;
    b.click(&format!("#id_category_id option[value='{}']", place.music))
        .await;
    b.click(&format!(
        "#id_location_id option[value='{}']",
        place.valparaiso
    ))
    .await;
    b.type_into("#id_short_description", "Cueca brava y chora")
        .await;
    b.click("#id_status option[value='published']").await;
    b.set_value("#id_start_date", "2031-09-18T21:00").await;
    b.set_value("#id_end_date", "2031-09-19T02:00").await;
    b.type_into("#id_tickettier-0-name", "General").await;
    b.type_into("#id_tickettier-0-price", "12990").await;
    b.type_into("#id_tickettier-0-capacity", "300").await;
    b.screenshot(&shot("3-add-event")).await;
    b.click("button[name=_save]").await;
    let listed = b.wait_for("correctamente").await;
    assert!(listed.contains("fue agregado correctamente"), "{listed}");
    b.screenshot(&shot("4-added")).await;

    // Found by searching.
    b.type_into("#searchbar", "cueca").await;
    b.click(".toolbar form button[type=submit]").await;
    let found = b.wait_for("1 evento").await;
    assert!(b.url().await.contains("q=cueca"));
    assert!(found.contains("Noche de Cueca en Valparaíso"), "{found}");
    assert!(found.contains("1 evento"), "{found}");
    b.screenshot(&shot("5-search")).await;

    // Edited: a new title, saved and kept on the form.
    b.click("#result_list a[href$='/change/']").await;
    let form = b.wait_for("Modificar evento").await;
    assert!(form.contains("Tipos de entrada"), "{form}");
    b.clear("#id_title").await;
    b.type_into("#id_title", "Gran Noche de Cueca").await;
    b.click("button[name=_continue]").await;
    let edited = b.wait_for("correctamente").await;
    assert!(edited.contains("fue modificado correctamente"), "{edited}");
    b.screenshot(&shot("6-edited")).await;
    let edit_url = url::Url::parse(&b.url().await).unwrap().path().to_string();

    // Its history: who added it, who changed the title.
    b.click("a[href$='/history/']").await;
    let history = b.wait_for("Historial:").await;
    assert!(history.contains("ana@tuki.cl"), "{history}");
    assert!(history.contains("Añadido"), "{history}");
    assert!(history.contains("Modificado Título"), "{history}");
    b.screenshot(&shot("7-history")).await;

    // Published: the public API lists it with its tier's price.
    b.goto(&site("/api/v1/events/public_list/?search=cueca"))
        .await;
    let api = b.wait_for("Cueca").await;
    assert!(api.contains("Gran Noche de Cueca"), "{api}");
    assert!(api.contains("12990"), "{api}");

    // A second tier, its event picked through the autocomplete.
    let event_id = edit_url
        .trim_end_matches("/change/")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    b.goto(&site("/admin/events/tickettier/add/")).await;
    b.type_into(
        ".field:has(#id_event_id) input.autocomplete-search",
        "gran noche",
    )
    .await;
    b.click(&format!("#id_event_id option[value='{event_id}']"))
        .await;
    b.type_into("#id_name", "Platea").await;
    b.type_into("#id_price", "19990").await;
    b.click("button[name=_save]").await;
    let saved = b.wait_for("correctamente").await;
    assert!(saved.contains("fue agregado correctamente"), "{saved}");
    b.screenshot(&shot("8-tier-autocomplete")).await;

    // Orders filtered by that event through the filter's search box.
    b.goto(&site("/admin/events/order/")).await;
    b.type_into(".filter-search input.autocomplete-search", "cueca")
        .await;
    b.click(&format!(".filter-search option[value='{event_id}']"))
        .await;
    let started = std::time::Instant::now();
    while !b.url().await.contains(&format!("event_id={event_id}")) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{}",
            b.url().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let filtered = b.wait_for("Gran Noche de Cueca").await;
    assert!(filtered.contains("Gran Noche de Cueca"), "{filtered}");
    b.screenshot(&shot("9-orders-by-event")).await;

    // Events drilled down by date: the year, then the month, of its start.
    b.goto(&site("/admin/events/event/")).await;
    b.click(".date-hierarchy a[href*='start_date__year=2031']")
        .await;
    b.wait_for("septiembre 2031").await;
    b.click(".date-hierarchy a[href*='start_date__month=9']")
        .await;
    let september = b.wait_for("18 de septiembre").await;
    assert!(september.contains("Gran Noche de Cueca"), "{september}");
    assert!(b.url().await.contains("start_date__month=9"));
    b.screenshot(&shot("10-date-hierarchy")).await;

    // The ticked event exported to CSV by the changelist's action (posted
    // from the page, with its token and cookie, as the "Ir" button does).
    b.goto(&site("/admin/events/event/")).await;
    b.click("input.action-select").await;
    let csv = b
        .script_async(
            "const done = arguments[arguments.length - 1];\
             const f = document.getElementById('result_list').closest('form');\
             const d = new FormData(f);\
             d.set('action', 'export_csv');\
             fetch(f.getAttribute('action'), { method: 'POST', body: new URLSearchParams(d), credentials: 'same-origin' })\
               .then(async (r) => done(r.headers.get('content-type') + '\\n' + await r.text()))\
               .catch((e) => done('error ' + e));",
        )
        .await;
    let csv = csv.as_str().unwrap_or_default();
    assert!(csv.starts_with("text/csv"), "{csv}");
    assert!(csv.contains("Gran Noche de Cueca"), "{csv}");

    // Every admin page the index links to (each changelist and add form),
    // and the event's own pages: none logs a console error (a style or
    // script the Content-Security-Policy refuses, a missing asset).
    b.goto(&site("/admin/")).await;
    b.wait_for("Administración").await;
    let _ = b.console_errors().await;
    let links = b
        .script(
            "return [...new Set([...document.querySelectorAll('a[href^=\"/admin/\"]')]\
             .map(a => a.getAttribute('href'))\
             .filter(h => !h.includes('logout')))];",
        )
        .await;
    let mut pages: Vec<String> = links
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    assert!(pages.len() > 10, "{pages:?}");
    pages.push(edit_url.clone());
    pages.push(edit_url.replace("/change/", "/history/"));
    for page in &pages {
        b.goto(&site(page)).await;
        b.find("body").await;
        let errors = b.console_errors().await;
        assert!(errors.is_empty(), "{page}: {errors:?}");
    }

    // Nothing of the browser is left running.
    let left = b.close();
    assert!(left.is_empty(), "still running after the test: {left:?}");
}
