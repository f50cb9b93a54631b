//! Cloud SQL as Cloud Run sees it: PostgreSQL reachable only through a unix
//! socket in `/cloudsql/PROJECT:REGION:INSTANCE`, addressed by `DB_HOST`. This
//! test starts such a server (`listen_addresses=''`) and runs the production
//! binary's jobs and service against it, then takes the database away.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use crate::support::{cli, free_port, image_start_command, run, text, Server, STRONG_SECRET};

const DB_PASSWORD: &str = "s0cket P@ss/word";

/// The PostgreSQL server binaries (`initdb`, `pg_ctl`) of this machine.
fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop().expect("initdb")
}

fn is_root() -> bool {
    text(&Command::new("id").arg("-u").output().unwrap().stdout).trim() == "0"
}

/// A PostgreSQL tool, run as the `postgres` user when we are root (initdb
/// refuses root).
fn pg_command(bin: &Path, tool: &str, as_postgres: bool) -> Command {
    let exe = bin.join(tool);
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

/// A socket-only cluster, stopped when dropped.
struct SocketPostgres {
    bin: PathBuf,
    as_postgres: bool,
    data: PathBuf,
    socket_dir: PathBuf,
    _root: tempfile::TempDir,
}

impl SocketPostgres {
    fn start() -> Self {
        let bin = pg_bin();
        let as_postgres = is_root();
        let tool = |name: &str, args: &[&str]| {
            let out = pg_command(&bin, name, as_postgres)
                .args(args)
                .output()
                .expect("run a PostgreSQL tool");
            assert!(
                out.status.success(),
                "{name} {args:?}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        };
        let root = tempfile::Builder::new()
            .prefix("tuki-pg")
            .tempdir()
            .unwrap();
        let data = root.path().join("data");
        let socket_dir = root
            .path()
            .join("cloudsql")
            .join("tukiprod:us-central1:tuki-db");
        std::fs::create_dir_all(&socket_dir).unwrap();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(root.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let data_s = data.to_str().unwrap();
        tool(
            "initdb",
            &["-D", data_s, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c fsync=off",
            socket_dir.display()
        );
        tool(
            "pg_ctl",
            &[
                "-D",
                data_s,
                "-o",
                &options,
                "-l",
                &format!("{data_s}.log"),
                "-w",
                "start",
            ],
        );
        Self {
            bin,
            as_postgres,
            data,
            socket_dir,
            _root: root,
        }
    }

    fn stop(&self) {
        let _ = pg_command(&self.bin, "pg_ctl", self.as_postgres)
            .args([
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }

    /// The Cloud Run variables for this database (no DATABASE_URL).
    fn apply(&self, cmd: &mut Command) {
        cmd.env("LOCO_ENV", "production")
            .env("DB_NAME", "postgres")
            .env("DB_USER", "postgres")
            .env("DB_PASSWORD", DB_PASSWORD)
            .env("DB_HOST", &self.socket_dir)
            .env("DB_PORT", "5432");
    }
}

impl Drop for SocketPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn the_service_and_its_jobs_run_on_a_socket_only_postgres_and_healthz_outlives_it() {
    let pg = SocketPostgres::start();
    // No TCP listener: only the socket file exists.
    assert!(pg.socket_dir.join(".s.PGSQL.5432").exists());

    // Jobs: migrate twice (the second is a no-op), then the superuser.
    for expected in ["applied", "no pending migrations"] {
        let mut migrate = cli();
        pg.apply(&mut migrate);
        let out = run(migrate.args(["task", "migrate"]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(expected),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    let mut su = cli();
    pg.apply(&mut su);
    su.args(["task", "create_initial_superuser"])
        .env("DJANGO_SUPERUSER_USERNAME", "admin")
        .env("DJANGO_SUPERUSER_EMAIL", "admin@tuki.cl")
        .env("DJANGO_SUPERUSER_PASSWORD", "TukiAdmin-socket-1");
    let out = run(&mut su);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The service, started as the image starts it.
    let port = free_port();
    let mut start = image_start_command();
    pg.apply(&mut start);
    start
        .env("PORT", port.to_string())
        .env("SECRET_KEY", STRONG_SECRET)
        .env("TRANSBANK_COMMERCE_CODE", "597000000001")
        .env("TRANSBANK_API_KEY", "tbk-test-api-key-value")
        .env("ALLOWED_HOSTS", "127.0.0.1");
    let mut server = Server::start(start, port).await;
    let client = reqwest::Client::new();
    let ready = client.get(server.url("/_readiness")).send().await.unwrap();
    assert_eq!(
        ready.status(),
        200,
        "the database answers through the socket"
    );

    // Take the database away: health stays up, readiness reports it.
    pg.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        let res = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "ok");
    }
    // Readiness answers are reused for a second (one database ping a second
    // per instance, however many ask).
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let not_ready = client.get(server.url("/_readiness")).send().await.unwrap();
    assert_eq!(not_ready.status(), 503);

    assert!(server.terminate().success());
    let logs = format!("{}{}", server.stdout(), server.stderr());
    assert!(
        !logs.contains(DB_PASSWORD) && !logs.contains("s0cket%20P%40ss"),
        "{logs}"
    );
}
