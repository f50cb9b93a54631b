//! A missing or malformed variable stops the process at boot with one line
//! naming it: exit code ≠ 0, no config dump, no panic trace.

use crate::support::{cli, free_port, production_env, run, text, STRONG_SECRET};

/// Starts production with `vars` applied over a configuration that boots, and
/// returns (exit success, stderr).
fn start_with(vars: &[(&str, Option<&str>)]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = cli();
    production_env(
        &mut cmd,
        &crate::support::sqlite_url(dir.path()),
        free_port(),
    );
    cmd.arg("start");
    for (k, v) in vars {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = run(&mut cmd);
    (out.status.success(), text(&out.stderr), text(&out.stdout))
}

fn assert_one_line_naming(vars: &[(&str, Option<&str>)], variable: &str) {
    let (ok, stderr, stdout) = start_with(vars);
    assert!(!ok, "{vars:?}: should not start; stdout: {stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{vars:?}: one line expected, got {stderr:?}"
    );
    assert!(
        lines[0].contains(variable),
        "{vars:?}: {stderr:?} should name {variable}"
    );
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"));
    assert!(
        !stderr.contains(STRONG_SECRET),
        "the secret key leaked: {stderr}"
    );
}

#[test]
fn a_missing_secret_key_stops_production() {
    assert_one_line_naming(&[("SECRET_KEY", None)], "SECRET_KEY");
}

#[test]
fn a_weak_secret_key_stops_production() {
    assert_one_line_naming(&[("SECRET_KEY", Some("short-key"))], "SECRET_KEY");
    assert_one_line_naming(&[("SECRET_KEY", Some(&"x".repeat(40)))], "SECRET_KEY");
}

#[test]
fn gcp_without_bucket_or_project_stops_production() {
    assert_one_line_naming(
        &[
            ("USE_GCP", Some("true")),
            ("GS_PROJECT_ID", Some("tukiprod")),
        ],
        "GS_BUCKET_NAME",
    );
    assert_one_line_naming(
        &[("USE_GCP", Some("true")), ("GS_BUCKET_NAME", Some("media"))],
        "GS_PROJECT_ID",
    );
}

#[test]
fn redis_without_url_stops_production() {
    assert_one_line_naming(&[("USE_REDIS", Some("true"))], "REDIS_URL");
}

#[test]
fn a_cors_wildcard_stops_production() {
    assert_one_line_naming(
        &[("CORS_ALLOWED_ORIGINS", Some("*"))],
        "CORS_ALLOWED_ORIGINS",
    );
}

#[test]
fn malformed_values_stop_production_naming_the_variable() {
    for (name, value) in [
        ("USE_GCP", "sí"),
        ("DB_POOL_MAX", "lots"),
        ("FRONTEND_URL", "tuki.cl"),
        ("REDIS_URL", "nope"),
        ("DATABASE_URL", "mysql://db/tuki"),
    ] {
        assert_one_line_naming(&[(name, Some(value))], name);
    }
}

#[test]
fn no_database_at_all_stops_production_naming_db_name() {
    assert_one_line_naming(&[("DATABASE_URL", None)], "DB_NAME");
}

#[test]
fn a_socket_database_with_a_bad_port_names_db_port() {
    assert_one_line_naming(
        &[
            ("DATABASE_URL", None),
            ("DB_NAME", Some("tuki")),
            ("DB_USER", Some("tuki")),
            ("DB_HOST", Some("/cloudsql/p:r:i")),
            ("DB_PORT", Some("five")),
        ],
        "DB_PORT",
    );
}

#[test]
fn media_storage_that_cannot_be_used_stops_production() {
    // A media directory that cannot be made (its parent is a file).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let root = file.join("media").display().to_string();
    assert_one_line_naming(&[("MEDIA_ROOT", Some(&root))], "MEDIA_ROOT");
    assert_one_line_naming(
        &[
            ("USE_GCP", Some("true")),
            ("GS_PROJECT_ID", Some("p")),
            ("GS_BUCKET_NAME", Some("b")),
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                Some("/nonexistent/key.json"),
            ),
        ],
        "GOOGLE_APPLICATION_CREDENTIALS",
    );
    assert_one_line_naming(
        &[
            ("USE_GCP", Some("true")),
            ("GS_PROJECT_ID", Some("p")),
            ("GS_BUCKET_NAME", Some("b")),
            ("GS_ACCESS_KEY_ID", Some("GOOG1EXAMPLE")),
        ],
        "GS_SECRET_ACCESS_KEY",
    );
}
