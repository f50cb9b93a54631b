//! Through the real router: health, host check and headers as the app wires them.

use crate::support::app::TestApp;

#[tokio::test]
async fn healthz_answers_ok_as_plain_text() {
    let app = TestApp::boot().await;
    let request = app.server();
    {
        let res = request.get("/healthz").await;
        assert_eq!(res.status_code(), 200);
        assert_eq!(res.text(), "ok");
        assert!(res
            .header("content-type")
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
    }
}

#[tokio::test]
async fn a_host_outside_the_allowed_list_gets_400_but_healthz_does_not() {
    let app = TestApp::boot().await;
    let request = app.server();
    {
        let evil = request
            .get("/_ping")
            .add_header("host", "evil.example")
            .await;
        assert_eq!(evil.status_code(), 400);
        let health = request
            .get("/healthz")
            .add_header("host", "evil.example")
            .await;
        assert_eq!(health.status_code(), 200);
        let local = request
            .get("/_ping")
            .add_header("host", "localhost:5150")
            .await;
        assert_eq!(local.status_code(), 200);
    }
}

#[tokio::test]
async fn responses_carry_security_headers_but_no_hsts_outside_production() {
    let app = TestApp::boot().await;
    let request = app.server();
    {
        let res = request.get("/_ping").add_header("host", "localhost").await;
        assert_eq!(res.header("x-content-type-options"), "nosniff");
        assert_eq!(res.header("x-frame-options"), "DENY");
        assert_eq!(res.header("referrer-policy"), "same-origin");
        assert!(res.maybe_header("strict-transport-security").is_none());
    }
}
