//! The Cloud Run Jobs: `task migrate` and `task create_initial_superuser`, run
//! as production runs them (only the database variables set).

use std::process::Command;

use crate::support::{cli, run, sqlite_url, text};

/// A production job environment: the database and nothing else.
fn job(database_url: &str, args: &[&str]) -> Command {
    let mut cmd = cli();
    cmd.env("LOCO_ENV", "production")
        .env("DATABASE_URL", database_url)
        .args(args);
    cmd
}

fn superuser(database_url: &str, vars: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = job(database_url, &["task", "create_initial_superuser"]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

const ADMIN: [(&str, &str); 3] = [
    ("DJANGO_SUPERUSER_USERNAME", "admin"),
    ("DJANGO_SUPERUSER_EMAIL", "admin@tuki.cl"),
    ("DJANGO_SUPERUSER_PASSWORD", "TukiAdmin-2026-strong"),
];

#[test]
fn migrate_applies_then_is_a_no_op_without_web_variables() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let first = run(&mut job(&url, &["task", "migrate"]));
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("applied"),
        "{}",
        text(&first.stdout)
    );
    let second = run(&mut job(&url, &["task", "migrate"]));
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stdout).contains("no pending migrations"));
    // Loco's own command keeps working too.
    let loco = run(&mut job(&url, &["db", "migrate"]));
    assert!(loco.status.success(), "{}", text(&loco.stderr));
}

#[test]
fn migrate_against_an_unreachable_database_fails_with_one_line_and_no_password() {
    let url = "postgres://tuki:Sup3rSecretPw@127.0.0.1:9/tuki";
    let out = run(&mut job(url, &["task", "migrate"]));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("Sup3rSecretPw"), "{stderr}");
    assert!(!text(&out.stdout).contains("Sup3rSecretPw"));
}

/// The stored user for an email, read straight from the job's database.
fn stored_user(database_url: &str, email: &str) -> tuki_backend::models::users::Model {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = sea_orm::Database::connect(database_url).await.unwrap();
        tuki_backend::models::users::Model::find_by_email(&db, email)
            .await
            .unwrap()
            .expect("the user exists")
    })
}

#[test]
fn create_initial_superuser_creates_once_then_leaves_it_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert!(run(&mut job(&url, &["task", "migrate"])).status.success());

    let created = superuser(&url, &ADMIN);
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(
        text(&created.stdout).contains("created"),
        "{}",
        text(&created.stdout)
    );
    assert!(!text(&created.stdout).contains("TukiAdmin-2026-strong"));
    let before = stored_user(&url, "admin@tuki.cl");
    assert!(before.is_superuser && before.is_staff && before.is_active);
    assert_eq!(before.username, "admin");

    // Same email in another case, other username: exists, exit 0, unchanged.
    let again = superuser(
        &url,
        &[
            ("DJANGO_SUPERUSER_USERNAME", "admin2"),
            ("DJANGO_SUPERUSER_EMAIL", "ADMIN@tuki.cl"),
            ("DJANGO_SUPERUSER_PASSWORD", "another-password"),
        ],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("already exists"),
        "{}",
        text(&again.stdout)
    );

    // Same username, other email: exists too.
    let same_username = superuser(
        &url,
        &[
            ("DJANGO_SUPERUSER_USERNAME", "admin"),
            ("DJANGO_SUPERUSER_EMAIL", "other@tuki.cl"),
            ("DJANGO_SUPERUSER_PASSWORD", "another-password"),
        ],
    );
    assert!(same_username.status.success());
    assert!(text(&same_username.stdout).contains("already exists"));

    // Nothing about the existing superuser changed, and no second user appeared.
    let after = stored_user(&url, "admin@tuki.cl");
    assert_eq!(after, before);
    assert!(after.verify_password("TukiAdmin-2026-strong").ok());
}

#[test]
fn create_initial_superuser_names_a_missing_variable() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert!(run(&mut job(&url, &["task", "migrate"])).status.success());
    for missing in ADMIN.map(|(k, _)| k) {
        let vars: Vec<_> = ADMIN
            .iter()
            .copied()
            .filter(|(k, _)| *k != missing)
            .collect();
        let out = superuser(&url, &vars);
        assert!(!out.status.success(), "{missing} missing should fail");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(missing), "{stderr}");
    }
}

#[test]
fn create_initial_superuser_refuses_a_malformed_email() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert!(run(&mut job(&url, &["task", "migrate"])).status.success());
    let out = superuser(
        &url,
        &[
            ("DJANGO_SUPERUSER_USERNAME", "admin"),
            ("DJANGO_SUPERUSER_EMAIL", "not-an-email"),
            ("DJANGO_SUPERUSER_PASSWORD", "x-password-1"),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("DJANGO_SUPERUSER_EMAIL"));
}

#[test]
fn seed_demo_writes_the_catalogue_and_its_posters_to_media_storage() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let media = dir.path().join("media");
    assert!(run(&mut job(&url, &["task", "migrate"])).status.success());
    let mut cmd = job(&url, &["task", "seed_demo"]);
    cmd.env("MEDIA_ROOT", &media);
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2000 events"),
        "{}",
        text(&out.stdout)
    );
    let poster = std::fs::read_to_string(media.join("demo/musica.svg")).unwrap();
    assert!(poster.starts_with("<svg") && poster.contains("Música"));
    assert_eq!(std::fs::read_dir(media.join("demo")).unwrap().count(), 10);
}

#[test]
fn the_checkout_jobs_run_with_only_the_database_and_can_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert!(run(&mut job(&url, &["task", "migrate"])).status.success());
    for _ in 0..2 {
        let out = run(&mut job(&url, &["task", "release_expired_holds"]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("0 reservations released"));
        let out = run(&mut job(&url, &["task", "reconcile_payments"]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("0 payments settled"));
    }
}

/// The schedule for a single machine names the tasks Cloud Scheduler runs,
/// and each runs (twice, like an overlapping schedule) with the database
/// variables only.
#[test]
fn the_scheduled_tasks_are_listed_and_run_with_only_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert!(run(&mut job(&url, &["task", "migrate"])).status.success());
    let out = run(&mut job(
        &url,
        &["scheduler", "--config", "config/scheduler.yaml", "--list"],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    let deploy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/DEPLOY.md")).unwrap();
    for (task, says) in [
        ("release_expired_holds", "0 reservations released"),
        ("expire_abandoned_orders", "0 orders expired"),
        ("reconcile_payments", "0 payments settled"),
        ("send_confirmations", "0 confirmations sent"),
        ("send_event_reminders", "0 reminders sent"),
    ] {
        assert!(listed.contains(task), "{task} not scheduled: {listed}");
        assert!(deploy.contains(task), "{task} not in DEPLOY.md");
        for _ in 0..2 {
            let out = run(&mut job(&url, &["task", task]));
            assert!(out.status.success(), "{task}: {}", text(&out.stderr));
            assert!(
                text(&out.stdout).contains(says),
                "{task}: {}",
                text(&out.stdout)
            );
        }
    }
}

/// `task import_django` with the Django database missing or wrong: one line
/// naming the variable, no password, nothing written.
#[test]
fn import_django_names_the_variable_when_the_django_database_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert!(run(&mut job(&url, &["task", "migrate"])).status.success());
    let import = |vars: &[(&str, &str)]| {
        let mut cmd = job(&url, &["task", "import_django"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        run(&mut cmd)
    };
    for (vars, named) in [
        (vec![], "DJANGO_DATABASE_URL"),
        (
            vec![("DJANGO_DATABASE_URL", "mysql://u:p@db/backtuki")],
            "DJANGO_DATABASE_URL",
        ),
        (
            vec![(
                "DJANGO_DATABASE_URL",
                "postgres://tuki:Sup3rSecretPw@127.0.0.1:9/backtuki",
            )],
            "DJANGO_DATABASE_URL",
        ),
        (vec![("DJANGO_DB_NAME", "backtuki")], "DJANGO_DB_USER"),
        (
            vec![
                ("DJANGO_DB_NAME", "backtuki"),
                ("DJANGO_DB_USER", "tuki"),
                ("DJANGO_DB_HOST", "localhost"),
                ("DJANGO_DB_PORT", "port"),
            ],
            "DJANGO_DB_PORT",
        ),
    ] {
        let out = import(&vars);
        assert!(!out.status.success(), "{vars:?}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{vars:?}: {stderr}");
        assert!(stderr.contains(named), "{vars:?}: {stderr}");
        assert!(!stderr.contains("Sup3rSecretPw"), "{stderr}");
    }
}

/// The job as an operator runs it: `--dry-run` first (nothing written), then
/// the import, then again (nothing more written). PostgreSQL only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_django_runs_as_a_job_dry_then_for_real() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    use tuki_backend::models::_entities::{orders, users};

    let app = crate::support::app::TestApp::boot().await;
    let database_url = app.ctx().config.database.uri.clone();
    if !database_url.starts_with("postgres") {
        eprintln!("skipped: the import reads PostgreSQL (DATABASE_URL=postgres://…)");
        return;
    }
    let backtuki = crate::requests::django_import::Backtuki::create(&database_url).await;
    let import = |extra: &[&str]| {
        let mut args = vec!["task", "import_django"];
        args.extend_from_slice(extra);
        let mut cmd = job(&database_url, &args);
        cmd.env("DJANGO_DATABASE_URL", &backtuki.url);
        run(&mut cmd)
    };
    let db = &app.ctx().db;

    // Not backtuki's database: one line naming the variable.
    let mut cmd = job(&database_url, &["task", "import_django"]);
    cmd.env("DJANGO_DATABASE_URL", &database_url);
    let out = run(&mut cmd);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("DJANGO_DATABASE_URL") && stderr.contains("users_user"),
        "{stderr}"
    );

    // In production every line is a Cloud Logging JSON entry, as the server's.
    let messages = |out: &std::process::Output| -> String {
        text(&out.stdout)
            .lines()
            .map(|l| {
                let entry: serde_json::Value =
                    serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}"));
                assert!(entry["severity"].is_string(), "{l}");
                entry["message"].as_str().unwrap().to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let dry = import(&["--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let report = messages(&dry);
    let skip = text(&dry.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["rule"] == "email_case_duplicate")
        .expect("a finding with its rule as a field");
    assert_eq!(skip["severity"], "WARNING");
    assert_eq!(skip["table"], "users");
    assert!(
        report.contains("--dry-run (nothing was written)"),
        "{report}"
    );
    assert!(report.contains("email_case_duplicate"), "{report}");
    assert_eq!(users::Entity::find().count(db).await.unwrap(), 0);

    let real = import(&[]);
    assert!(real.status.success(), "{}", text(&real.stderr));
    let report = messages(&real);
    let orders_line = report
        .lines()
        .find(|l| l.starts_with("orders "))
        .unwrap_or_default()
        .to_string();
    assert!(orders_line.contains("written    2007"), "{report}");
    assert_eq!(orders::Entity::find().count(db).await.unwrap(), 2_007);

    let again = import(&["dry_run:false"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let report = messages(&again);
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("orders ") && l.contains("written       0")),
        "{report}"
    );
    assert_eq!(orders::Entity::find().count(db).await.unwrap(), 2_007);
}
