//! Test helpers: the booted app ([`app`]) and the real binary, run as Cloud
//! Run and its Jobs run it.

pub mod app;
pub mod browser;
pub mod catalogue;
pub mod tools;
pub mod webpay;

use std::{
    io::Read,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

pub const STRONG_SECRET: &str = "k3J9x!Qm2vT8zR5wL0pN7bY4cH6dF1sA-test";

/// The CLI binary with an empty environment (nothing leaks in from the test
/// process: `DATABASE_URL` in CI, for one), run from the project root where
/// `config/` and `templates/` are.
#[must_use]
pub fn cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tuki_backend-cli"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    cmd
}

#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A fresh SQLite database URL in `dir`.
#[must_use]
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("tuki.sqlite").display())
}

/// A production environment that boots: strong key, the database, hosts.
pub fn production_env(cmd: &mut Command, database_url: &str, port: u16) {
    cmd.env("LOCO_ENV", "production")
        .env("PORT", port.to_string())
        .env("DATABASE_URL", database_url)
        .env("SECRET_KEY", STRONG_SECRET)
        .env("TRANSBANK_COMMERCE_CODE", "597000000001")
        .env("TRANSBANK_API_KEY", "tbk-test-api-key-value")
        .env("ALLOWED_HOSTS", "localhost,127.0.0.1");
}

/// Runs a command to completion (with a time limit) and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the CLI");
    let started = Instant::now();
    let pid = child.id();
    let output = thread::spawn(move || child.wait_with_output().expect("wait for the CLI"));
    while !output.is_finished() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "CLI (pid {pid}) still running after 60 s"
        );
        thread::sleep(Duration::from_millis(20));
    }
    output.join().expect("join")
}

#[must_use]
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A server process whose stdout and stderr are collected.
pub struct Server {
    pub child: Child,
    pub port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn collect(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let sink = buf.clone();
    thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buf
}

impl Server {
    /// Spawns `cmd` and waits until `/healthz` answers 200.
    pub async fn start(mut cmd: Command, port: u16) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the server");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        let mut server = Self {
            child,
            port,
            stdout,
            stderr,
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "server exited with {status}: {}{}",
                    server.stdout(),
                    server.stderr()
                );
            }
            let ok = client
                .get(server.url("/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ok {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not answer /healthz in 30 s: {}",
                server.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    #[must_use]
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    #[must_use]
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM (what Cloud Run sends) and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no exit 15 s after SIGTERM"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The start command of the web image, read from `Dockerfile.backend`: its
/// `ENV` lines and the `CMD` of the last stage, with `/app/` mapped to the
/// built binary. The tests start the server exactly that way.
#[must_use]
pub fn dockerfile_web_command() -> (Vec<(String, String)>, Vec<String>) {
    let dockerfile = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Dockerfile.backend"),
    )
    .expect("Dockerfile.backend");
    let mut env = Vec::new();
    let mut cmd = Vec::new();
    for line in dockerfile.lines() {
        if let Some(rest) = line.strip_prefix("ENV ") {
            for pair in rest.split_whitespace() {
                if let Some((k, v)) = pair.split_once('=') {
                    env.push((k.to_string(), v.to_string()));
                }
            }
        }
        if let Some(rest) = line.strip_prefix("CMD ") {
            cmd = serde_json::from_str::<Vec<String>>(rest).expect("CMD in exec form");
        }
    }
    (env, cmd)
}

/// `dockerfile_web_command` as a runnable command (the image's binary path
/// replaced by the one cargo built).
#[must_use]
pub fn image_start_command() -> Command {
    let (env, argv) = dockerfile_web_command();
    assert_eq!(argv[0], "/app/tuki_backend-cli", "the image runs the CLI");
    let mut cmd = cli();
    cmd.args(&argv[1..]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}
