//! The Cloud Run runtime contract, on the image's own start command
//! (`Dockerfile.backend`'s ENV and CMD) in production.

use std::time::Duration;

use loco_rs::controller::middleware::limit_payload::DefaultBodyLimitKind;
use serde_json::Value;

use crate::support::{
    cli, free_port, image_start_command, production_env, sqlite_url, Server, STRONG_SECRET,
};

async fn production_server(extra: &[(&str, &str)]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = image_start_command();
    production_env(&mut cmd, &sqlite_url(dir.path()), port);
    cmd.env("CORS_ALLOWED_ORIGINS", "https://tuki.live");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    (Server::start(cmd, port).await, dir)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_image_command_serves_healthz_as_plain_ok() {
    let (server, _dir) = production_server(&[]).await;
    let res = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(res.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn hosts_outside_allowed_hosts_get_400_except_on_healthz() {
    let (server, _dir) = production_server(&[]).await;
    let c = client();
    let evil = c
        .get(server.url("/_ping"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 400);
    let probe = c
        .get(server.url("/healthz"))
        .header("Host", "169.254.8.1:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    let good = c.get(server.url("/_ping")).send().await.unwrap();
    assert_eq!(good.status(), 200);
}

#[tokio::test]
async fn plain_http_behind_the_front_end_is_redirected_to_https() {
    let (server, _dir) = production_server(&[]).await;
    let c = client();
    let res = c
        .get(server.url("/_ping?a=1"))
        .header("Host", "localhost")
        .header("X-Forwarded-Proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "https://localhost/_ping?a=1");
    let https = c
        .get(server.url("/_ping"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(https.status(), 200);
    let health = c
        .get(server.url("/healthz"))
        .header("X-Forwarded-Proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn responses_carry_the_security_headers() {
    let (server, _dir) = production_server(&[]).await;
    let res = client().get(server.url("/_ping")).send().await.unwrap();
    let h = res.headers();
    assert_eq!(
        h["strict-transport-security"],
        "max-age=31536000; includeSubDomains; preload"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(!h.contains_key("x-powered-by"));
}

#[tokio::test]
async fn cors_answers_listed_origins_with_credentials_and_no_one_else() {
    let (server, _dir) = production_server(&[]).await;
    let c = client();
    let preflight = |origin: &'static str| {
        c.request(reqwest::Method::OPTIONS, server.url("/_ping"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type,authorization",
            )
            .send()
    };
    let ok = preflight("https://tuki.live").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://tuki.live"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let other = preflight("https://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn logs_are_cloud_logging_json_with_trace_and_no_secret() {
    let (mut server, _dir) = production_server(&[
        ("GS_PROJECT_ID", "tukiprod"),
        ("ACCESS_LOG", "true"),
        ("TRANSBANK_API_KEY", "tbk-api-key-secret-value"),
    ])
    .await;
    let res = client()
        .get(server.url("/_ping"))
        .header(
            "X-Cloud-Trace-Context",
            "105445aa7843bc8bf206b12000100000/7;o=1",
        )
        .header("User-Agent", STRONG_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.terminate().success());
    let stdout = server.stdout();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(lines
        .iter()
        .all(|l| l["severity"].is_string() && l["message"].is_string()));
    let access = lines
        .iter()
        .find(|l| l["httpRequest"]["requestUrl"] == "/_ping")
        .unwrap_or_else(|| panic!("no access line in {stdout}"));
    assert_eq!(
        access["logging.googleapis.com/trace"],
        "projects/tukiprod/traces/105445aa7843bc8bf206b12000100000"
    );
    // The header's decimal span id as Cloud Logging's 16 hex digits.
    assert_eq!(access["logging.googleapis.com/spanId"], "0000000000000007");
    assert_eq!(access["httpRequest"]["status"], 200);
    // No X-Forwarded-For: the connection's own peer (the server passes it
    // to every request).
    assert_eq!(access["httpRequest"]["remoteIp"], "127.0.0.1");
    let all = format!("{stdout}{}", server.stderr());
    assert!(!all.contains(STRONG_SECRET), "SECRET_KEY in a log line");
    assert!(!all.contains("tbk-api-key-secret-value"));
}

/// A stand-in for Google's metadata server: the project id, to requests
/// that say `Metadata-Flavor: Google` (as the real one requires).
async fn metadata_server(project: &'static str) -> std::net::SocketAddr {
    use axum::{http::HeaderMap, routing::get, Router};
    let app = Router::new().route(
        "/computeMetadata/v1/project/project-id",
        get(move |headers: HeaderMap| async move {
            if headers
                .get("metadata-flavor")
                .is_some_and(|v| v == "Google")
            {
                (axum::http::StatusCode::OK, project)
            } else {
                (axum::http::StatusCode::FORBIDDEN, "")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    addr
}

#[tokio::test]
async fn on_cloud_run_without_a_project_variable_the_trace_names_the_metadata_servers_project() {
    let metadata = metadata_server("tuki-metadata").await;
    let (mut server, _dir) = production_server(&[
        ("K_SERVICE", "tuki-backend"),
        ("GCE_METADATA_HOST", &metadata.to_string()),
        ("ACCESS_LOG", "true"),
    ])
    .await;
    let res = client()
        .get(server.url("/_ping"))
        .header(
            "X-Cloud-Trace-Context",
            "aaaabbbbccccddddeeeeffff00001111/12;o=1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.terminate().success());
    let stdout = server.stdout();
    let access: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["httpRequest"]["requestUrl"] == "/_ping")
        .unwrap_or_else(|| panic!("no access line in {stdout}"));
    assert_eq!(
        access["logging.googleapis.com/trace"],
        "projects/tuki-metadata/traces/aaaabbbbccccddddeeeeffff00001111"
    );
}

#[tokio::test]
async fn sigterm_exits_zero_in_production() {
    let (mut server, _dir) = production_server(&[]).await;
    let status = server.terminate();
    assert!(status.success(), "{status}: {}", server.stderr());
}

#[tokio::test]
async fn a_request_in_flight_during_sigterm_still_gets_its_response() {
    // The slow endpoint exists in the test environment only; the shutdown path
    // (Loco's graceful axum serve) is the same in every environment.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = cli();
    cmd.env("LOCO_ENV", "test")
        .env("DATABASE_URL", sqlite_url(dir.path()))
        .args(["start", "--port", &port.to_string()]);
    let mut server = Server::start(cmd, port).await;
    let url = server.url("/__test/slow?ms=1500");
    let in_flight = tokio::spawn(async move { reqwest::get(url).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let status = tokio::task::spawn_blocking(move || {
        let status = server.terminate();
        (status, server)
    });
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "slept 1500 ms");
    let (status, server) = status.await.unwrap();
    assert!(status.success(), "{status}");
    // Once it has stopped, nothing listens any more.
    assert!(reqwest::get(server.url("/healthz")).await.is_err());
}

#[test]
fn production_config_limits_bodies_and_times_out_like_cloud_run() {
    let config = loco_rs::environment::Environment::Production
        .load()
        .expect("production.yaml renders with nothing set");
    let middlewares = &config.server.middlewares;
    let limit = middlewares.limit_payload.as_ref().expect("limit_payload");
    assert!(matches!(
        limit.body_limit,
        DefaultBodyLimitKind::Limit(n) if n == 10_000_000
    ));
    let timeout = middlewares
        .timeout_request
        .as_ref()
        .expect("timeout_request");
    assert!(timeout.enable);
    assert_eq!(timeout.timeout, 300_000);
    assert_eq!(config.server.binding, "0.0.0.0");
    assert_eq!(config.server.port, 8080);
    assert!(
        !config.database.auto_migrate,
        "migrations are a Cloud Run Job"
    );
}

#[tokio::test]
async fn development_logs_are_human_readable_text() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = cli();
    cmd.env("DATABASE_URL", sqlite_url(dir.path()))
        .env("PORT", port.to_string())
        .args(["start"]);
    let mut server = Server::start(cmd, port).await;
    assert!(server.terminate().success());
    let stdout = server.stdout();
    let log_lines: Vec<&str> = stdout.lines().filter(|l| l.contains(" INFO ")).collect();
    assert!(!log_lines.is_empty(), "{stdout}");
    assert!(log_lines
        .iter()
        .all(|l| serde_json::from_str::<Value>(l).is_err()));
}

#[tokio::test]
async fn api_docs_and_schema_are_closed_to_anonymous_callers_in_production() {
    let (server, dir) = production_server(&[]).await;
    let c = client();
    // A superuser made by the operators' job may read the schema.
    let url = sqlite_url(dir.path());
    for args in [
        &["task", "migrate"][..],
        &["task", "create_initial_superuser"][..],
    ] {
        let mut job = cli();
        job.env("LOCO_ENV", "production")
            .env("DATABASE_URL", &url)
            .env("DJANGO_SUPERUSER_USERNAME", "admin")
            .env("DJANGO_SUPERUSER_EMAIL", "admin@tuki.cl")
            .env("DJANGO_SUPERUSER_PASSWORD", "Operadora-2026-fuerte")
            .args(args);
        assert!(crate::support::run(&mut job).status.success());
    }
    let pair: Value = c
        .post(server.url("/api/v1/auth/token/"))
        .header("X-Forwarded-Proto", "https")
        .json(&serde_json::json!({"email": "admin@tuki.cl", "password": "Operadora-2026-fuerte"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let staff = c
        .get(server.url("/api/schema/?format=json"))
        .header("X-Forwarded-Proto", "https")
        .bearer_auth(pair["access"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 200);
    for path in [
        "/api/schema/",
        "/api/docs/",
        "/api/docs/swagger-initializer.js",
    ] {
        let res = c
            .get(server.url(path))
            .header("X-Forwarded-Proto", "https")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["detail"],
            "Las credenciales de autenticación no se proveyeron."
        );
    }
}

#[tokio::test]
async fn production_with_media_on_gcs_boots_as_the_service_account() {
    // No key file and no metadata server here: credentials are fetched when
    // the first file is written, never at boot (Cloud Run provides them).
    let (server, _dir) = production_server(&[
        ("USE_GCP", "true"),
        ("GS_PROJECT_ID", "tukiprod"),
        ("GS_BUCKET_NAME", "tuki-media"),
    ])
    .await;
    let res = client()
        .get(server.url("/_ping"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Nothing is served from local disk when media is in the bucket.
    let res = client()
        .get(server.url("/media/events/x.png"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_admin_signs_in_the_operators_superuser_with_secure_cookies_in_production() {
    // The deploy's order: migrate and create the superuser as jobs, then serve.
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    for args in [
        &["task", "migrate"][..],
        &["task", "create_initial_superuser"],
    ] {
        let out = crate::support::run(
            cli()
                .env("LOCO_ENV", "production")
                .env("DATABASE_URL", &db)
                .env("DJANGO_SUPERUSER_USERNAME", "admin")
                .env("DJANGO_SUPERUSER_EMAIL", "admin@tuki.cl")
                .env("DJANGO_SUPERUSER_PASSWORD", "TukiAdmin-2026-strong")
                .args(args),
        );
        assert!(out.status.success(), "{args:?} failed");
    }
    let port = free_port();
    let mut cmd = image_start_command();
    production_env(&mut cmd, &db, port);
    let server = Server::start(cmd, port).await;
    let https = |req: reqwest::RequestBuilder| req.header("x-forwarded-proto", "https");

    let res = https(client().get(server.url("/admin/")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/admin/login/?next=/admin/");
    let form = https(client().get(server.url("/admin/login/")))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let csrf_cookie = form.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(csrf_cookie.contains("Secure") && csrf_cookie.contains("HttpOnly"));
    let token = csrf_cookie
        .trim_start_matches("tuki_csrftoken=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let signed_in = https(client().post(server.url("/admin/login/")))
        .header("cookie", format!("tuki_csrftoken={token}"))
        .header("origin", format!("https://127.0.0.1:{port}"))
        .form(&[
            ("email", "admin@tuki.cl"),
            ("password", "TukiAdmin-2026-strong"),
            ("csrfmiddlewaretoken", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 302);
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tuki_session="))
        .expect("a session cookie");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Max-Age=86400"] {
        assert!(session.contains(attr), "{session}");
    }
    let cookie = session.split(';').next().unwrap().to_string();
    let index = https(client().get(server.url("/admin/")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.text().await.unwrap().contains("Sitio administrativo"));
}

/// The seed's env file names no Transbank credential (backtuki kept them in
/// its database): production starts on it, serves the catalogue, the admin
/// and accounts, says once in its log that Webpay waits for credentials, and
/// payments answer 503 with a Spanish message.
#[tokio::test]
async fn production_boots_on_the_seed_variables_and_payments_wait_for_webpay() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // The migrate job first, with the database variables only.
    let mut job = cli();
    job.env("LOCO_ENV", "production")
        .env("DATABASE_URL", sqlite_url(dir.path()))
        .args(["task", "migrate"]);
    assert!(crate::support::run(&mut job).status.success());
    let mut cmd = image_start_command();
    production_env(&mut cmd, &sqlite_url(dir.path()), port);
    cmd.env_remove("TRANSBANK_COMMERCE_CODE")
        .env_remove("TRANSBANK_API_KEY")
        .env("CSRF_TRUSTED_ORIGINS", "https://tuki.cl")
        .env("CORS_ALLOWED_ORIGINS", "https://tuki.cl")
        .env("USE_GCP", "false")
        .env("USE_REDIS", "false")
        .env("DJANGO_SETTINGS_MODULE", "config.settings.cloudrun")
        .env("FRONTEND_URL", "https://tuki.cl");
    let mut server = Server::start(cmd, port).await;
    let c = client();
    for path in ["/healthz", "/api/v1/events/public_list/", "/admin/login/"] {
        let res = c.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let res = c
        .post(server.url("/api/v1/payments/create_payment/"))
        .json(&serde_json::json!({"order_number": "TKT-NADA", "token": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Los pagos no están disponibles"),
        "{body}"
    );
    assert!(server.terminate().success());
    let log = format!("{}{}", server.stdout(), server.stderr());
    assert_eq!(
        log.matches("Webpay is not configured").count(),
        1,
        "said once: {log}"
    );
}
