//! Event images through media storage: on local disk served under `/media/`,
//! and on Google Cloud Storage's JSON API (a real emulator, not a mock).

use std::path::Path;

use base64::Engine as _;
use bytes::Bytes;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use tuki_backend::models::event_images::{self, ImageError};

use crate::support::{
    app::TestApp,
    catalogue::{place, NewEvent},
    tools::{gcs_emulator, S3StandIn},
};

/// A 1×1 PNG.
fn png() -> Bytes {
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap()
        .into()
}

/// The test config with the catalogue cache off and media on `backend`
/// (a bucket when it names one), its files public under `public_base`.
fn with_media(
    backend: Value,
    public_base: Option<String>,
) -> impl FnOnce(&mut loco_rs::config::Config) {
    move |config| {
        let settings = config.settings.as_mut().expect("settings");
        settings["catalogue_cache_seconds"] = 0.into();
        if let Some(bucket) = backend.get("bucket") {
            settings["use_gcp"] = true.into();
            settings["gs_bucket_name"] = bucket.clone();
        }
        settings["media"] = json!({"backend": backend, "public_base": public_base});
    }
}

fn local_media(root: &Path) -> impl FnOnce(&mut loco_rs::config::Config) {
    with_media(
        json!({"kind": "local", "root": root.display().to_string()}),
        None,
    )
}

/// A published event, and an image of it stored through the app's storage.
async fn event_with_image(
    app: &TestApp,
    title: &'static str,
    slug: &'static str,
) -> Result<(uuid::Uuid, event_images::Model), ImageError> {
    let db = &app.ctx().db;
    let p = place(db).await;
    let id = NewEvent::new(&p, title, slug, "2031-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    let image = event_images::add(app.ctx(), id, png(), "Afiche").await?;
    Ok((id, image))
}

fn files_under(root: &Path) -> usize {
    walk(root)
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

#[tokio::test]
async fn an_image_on_local_disk_is_served_under_media_with_an_absolute_url() {
    let media = tempfile::tempdir().unwrap();
    let app = TestApp::boot_with(local_media(media.path())).await;
    let server = app.server();
    let (id, image) = event_with_image(&app, "Con foto", "con-foto")
        .await
        .unwrap();
    assert!(image.path.starts_with(&format!("events/{id}/")));
    assert!(image.path.ends_with(".png"));

    let detail: Value = server.get("/api/v1/events/con-foto/").await.json();
    let url = detail["images"][0]["url"].as_str().unwrap().to_string();
    let host = server.server_address().unwrap();
    let expected = format!(
        "http://{}:{}/media/{}",
        host.host_str().unwrap(),
        host.port().unwrap(),
        image.path
    );
    assert_eq!(url, expected);
    let list: Value = server.get("/api/v1/events/public_list/").await.json();
    assert_eq!(list["results"][0]["image"], url.as_str());

    let res = server.get(&format!("/media/{}", image.path)).await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.header("content-type"), "image/png");
    assert_eq!(
        res.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(res
        .header("content-security-policy")
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(res.as_bytes().as_ref(), png().as_ref());

    // The image proxy (for the ticket PDF's canvas) serves this server's
    // images only, read from the store, with open CORS headers.
    let proxy = |target: &str| {
        server.get(&format!(
            "/api/v1/events/images/proxy/?url={}",
            percent_encoding::utf8_percent_encode(target, percent_encoding::NON_ALPHANUMERIC)
        ))
    };
    let res = proxy(&url).await;
    assert_eq!(res.status_code(), 200);
    assert_eq!(res.header("content-type"), "image/png");
    assert_eq!(res.header("access-control-allow-origin"), "*");
    assert_eq!(res.as_bytes().as_ref(), png().as_ref());
    let base = url.split("/media/").next().unwrap().to_string();
    for (target, status, error) in [
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            400,
            "Invalid image URL domain",
        ),
        (
            format!("http://evil.example/?{url}"),
            400,
            "Invalid image URL domain",
        ),
        (
            format!("{base}/media/../config/production.yaml"),
            400,
            "Invalid image URL domain",
        ),
        (
            format!("{base}/media/events/%2e%2e/%2e%2e/Cargo.toml"),
            400,
            "Invalid image URL domain",
        ),
        (
            format!("{base}/media/events/no-existe.png"),
            404,
            "Image not found",
        ),
    ] {
        let res = proxy(&target).await;
        assert_eq!(res.status_code(), status, "{target}");
        assert_eq!(res.json::<Value>()["error"], error, "{target}");
    }
    let res = server.get("/api/v1/events/images/proxy/").await;
    assert_eq!(res.status_code(), 400);
    assert_eq!(res.json::<Value>()["error"], "Missing url parameter");

    // A second image goes after the first.
    let second = event_images::add(app.ctx(), id, png(), "Otra")
        .await
        .unwrap();
    assert_eq!(second.position, image.position + 1);

    // Removing deletes the row and the file.
    assert!(event_images::remove(app.ctx(), image.id).await.unwrap());
    let res = server.get(&format!("/media/{}", image.path)).await;
    assert_eq!(res.status_code(), 404);
    assert!(res.maybe_header("cache-control").is_none());
    let detail: Value = server.get("/api/v1/events/con-foto/").await.json();
    assert_eq!(detail["images"].as_array().unwrap().len(), 1);
    assert_eq!(files_under(media.path()), 1);
}

#[tokio::test]
async fn media_outside_the_store_or_missing_is_a_404() {
    let media = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(media.path().join("events")).unwrap();
    let app = TestApp::boot_with(local_media(media.path())).await;
    let server = app.server();
    for path in [
        "/media/nope.png",
        "/media/events",
        "/media/events/",
        "/media/../config/test.yaml",
        "/media/%2e%2e/config/test.yaml",
        "/media/..%2fconfig%2ftest.yaml",
    ] {
        let res = server.get(path).await;
        assert!(
            matches!(res.status_code().as_u16(), 400 | 404),
            "{path}: {}",
            res.status_code()
        );
        assert!(!res.text().contains("database"), "{path}");
    }
}

#[tokio::test]
async fn a_file_that_is_not_an_image_or_too_big_is_refused_and_nothing_is_stored() {
    let media = tempfile::tempdir().unwrap();
    let app = TestApp::boot_with(local_media(media.path())).await;
    let db = &app.ctx().db;
    let p = place(db).await;
    let id = NewEvent::new(&p, "Sin foto", "sin-foto", "2031-01-01T12:00:00Z")
        .insert(db, &p)
        .await;
    let svg = Bytes::from_static(
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
    );
    let html = Bytes::from_static(b"<html><body>hola</body></html>");
    for bad in [svg, html, Bytes::new()] {
        let err = event_images::add(app.ctx(), id, bad, "x")
            .await
            .unwrap_err();
        assert!(matches!(err, ImageError::NotAnImage), "{err}");
        assert!(err.is_client_error());
    }
    let mut big = png().to_vec();
    big.resize(event_images::MAX_IMAGE_BYTES + 1, 0);
    let err = event_images::add(app.ctx(), id, big.into(), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, ImageError::TooLarge));
    let err = event_images::add(app.ctx(), uuid::Uuid::new_v4(), png(), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, ImageError::NoSuchEvent));
    assert_eq!(files_under(media.path()), 0);
    let rows = event_images::Entity::find().all(db).await.unwrap();
    assert!(rows.is_empty());
}

#[tokio::test]
async fn on_google_cloud_storage_images_are_uploaded_and_public_urls_point_at_the_bucket() {
    let gcs = gcs_emulator("tuki-media-test");
    let endpoint = gcs.url();
    let app = TestApp::boot_with(with_media(
        json!({
            "kind": "gcs",
            "bucket": "tuki-media-test",
            "credentials_file": null,
            "api_endpoint": endpoint,
        }),
        Some(format!("{endpoint}/tuki-media-test/")),
    ))
    .await;
    let server = app.server();
    let (_, image) = event_with_image(&app, "En la nube", "en-la-nube")
        .await
        .unwrap();

    let detail: Value = server.get("/api/v1/events/en-la-nube/").await.json();
    let url = detail["images"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(url, format!("{}/tuki-media-test/{}", gcs.url(), image.path));
    // The proxy reads the bucket's image through the storage API.
    let res = server
        .get(&format!(
            "/api/v1/events/images/proxy/?url={}",
            percent_encoding::utf8_percent_encode(&url, percent_encoding::NON_ALPHANUMERIC)
        ))
        .await;
    assert_eq!(res.status_code(), 200, "{}", res.text());
    assert_eq!(res.as_bytes().as_ref(), png().as_ref());
    // Nothing is served from this host's /media/ when media is in a bucket.
    assert_eq!(
        server
            .get(&format!("/media/{}", image.path))
            .await
            .status_code(),
        404
    );

    // The object is in the bucket, with its type, read over GCS's own API.
    let http = reqwest::Client::new();
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), png().as_ref());
    let object = format!(
        "{}/storage/v1/b/tuki-media-test/o/{}",
        gcs.url(),
        image.path.replace('/', "%2F")
    );
    let meta: Value = http
        .get(&object)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["contentType"], "image/png");
    assert_eq!(meta["size"], png().len().to_string());

    assert!(event_images::remove(app.ctx(), image.id).await.unwrap());
    assert_eq!(http.get(&object).send().await.unwrap().status(), 404);
}

fn hmac_media(s3: &S3StandIn, secret: &str) -> impl FnOnce(&mut loco_rs::config::Config) {
    let endpoint = s3.peer.url();
    with_media(
        json!({
            "kind": "gcs_hmac",
            "bucket": "tuki-media-test",
            "access_key_id": s3.access_key_id,
            "secret_access_key": secret,
            "endpoint": endpoint,
        }),
        Some(format!("{endpoint}/tuki-media-test/")),
    )
}

#[tokio::test]
async fn with_hmac_keys_images_go_through_the_s3_interoperable_api_signed() {
    let s3 = S3StandIn::start("tuki-media-test");
    let app = TestApp::boot_with(hmac_media(&s3, &s3.secret_access_key)).await;
    let server = app.server();
    let (_, image) = event_with_image(&app, "Interoperable", "interoperable")
        .await
        .unwrap();

    let detail: Value = server.get("/api/v1/events/interoperable/").await.json();
    assert_eq!(
        detail["images"][0]["url"],
        format!("{}/tuki-media-test/{}", s3.peer.url(), image.path)
    );
    // Stored with its type and cache headers, read back with a signed request.
    let object = s3.get("tuki-media-test", &image.path);
    assert_eq!(object["content_type"], "image/png");
    assert_eq!(
        object["cache_control"],
        "public, max-age=31536000, immutable"
    );
    let body = base64::engine::general_purpose::STANDARD
        .decode(object["body_b64"].as_str().unwrap())
        .unwrap();
    assert_eq!(body, png().as_ref());

    assert!(event_images::remove(app.ctx(), image.id).await.unwrap());
    assert_eq!(s3.get("tuki-media-test", &image.path)["missing"], true);

    // A wrong secret is refused by the server's signature check: the upload
    // fails and no image row is saved.
    let wrong = TestApp::boot_with(hmac_media(&s3, "not-the-secret")).await;
    let err = event_with_image(&wrong, "Sin firma", "sin-firma")
        .await
        .unwrap_err();
    assert!(matches!(err, ImageError::Storage(_)), "{err}");
    let rows = event_images::Entity::find().all(&wrong.ctx().db).await;
    assert!(rows.unwrap().is_empty());
}
