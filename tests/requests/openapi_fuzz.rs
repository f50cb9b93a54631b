//! The OpenAPI description is the truth about every answer (issue 11), so
//! frontends can generate their clients from it: Schemathesis (from PyPI)
//! fuzzes the running app from its own description — with a signed-in buyer
//! who also administers the organizer of an event on sale, and Webpay's
//! stand-in — and must find no server error, no
//! answer outside its schema, no undocumented status code or content type.
//! The run is bounded and deterministic (the same cases every time).

use std::{net::SocketAddr, process::Command};

use serde_json::{json, Value};

use super::checkout::{boot_with_webpay, on_sale};
use crate::support::{tools::python_tool, webpay::FakeWebpay};

/// Schemathesis' version: a new one generates other cases, so it moves on
/// purpose.
const SCHEMATHESIS: &str = "4.32.5";
/// Cases per operation.
const MAX_EXAMPLES: &str = "15";

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let bin = python_tool("schemathesis", SCHEMATHESIS);
    let fake = FakeWebpay::start().await;
    let app = boot_with_webpay(&fake).await;
    on_sale(
        &app.ctx().db,
        "fuzz",
        vec![(5_000, Some(100), 0), (0, None, 0)],
    )
    .await;
    let server = app.server();
    let res = server
        .post("/api/v1/auth/register/")
        .json(&json!({"email": "fuzz@example.cl", "password": "Entrada-segura-91", "first_name": "Ana"}))
        .await;
    assert_eq!(res.status_code(), 202, "{}", res.text());
    let pair: Value = server
        .post("/api/v1/auth/token/")
        .json(&json!({"email": "fuzz@example.cl", "password": "Entrada-segura-91"}))
        .await
        .json();
    let access = pair["access"]
        .as_str()
        .expect("an access token")
        .to_string();
    // The same user administers the event's organizer, so the organizer
    // endpoints are fuzzed past their refusals too.
    {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
        use tuki_backend::models::{
            _entities::{events, organizer_members},
            users,
        };
        let db = &app.ctx().db;
        let user = users::Model::find_by_email(db, "fuzz@example.cl")
            .await
            .unwrap()
            .unwrap();
        let event = events::Entity::find().one(db).await.unwrap().unwrap();
        let now = chrono::Utc::now().fixed_offset();
        organizer_members::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            organizer_id: Set(event.organizer_id),
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
        .insert(db)
        .await
        .unwrap();
    }

    // The app on a real port: Schemathesis is another process.
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

    let reports = tempfile::tempdir().unwrap();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(bin.join("st"))
            .current_dir(reports.path())
            .args([
                "run",
                &format!("http://127.0.0.1:{port}/api/schema/?format=json"),
                "--checks",
                "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance",
                "--max-examples",
                MAX_EXAMPLES,
                "--generation-deterministic",
                // One worker: Python's parser is not safe across threads for
                // Hypothesis' lambda descriptions (seen as a rare internal error).
                "--workers",
                "1",
                "--no-color",
                "--header",
                &format!("Authorization: Bearer {access}"),
            ])
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let summary = out.find("SUMMARY").map_or(out.as_ref(), |at| &out[at..]);
    println!("{summary}");
    assert!(
        run.status.success(),
        "Schemathesis found failures:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        out.contains("Tested: ") && !out.contains("Tested: 0"),
        "nothing was tested:\n{out}"
    );
}
