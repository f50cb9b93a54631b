//! Real protocol peers the tests start: Python packages from PyPI, installed
//! once per checkout into a virtualenv under Cargo's target directory (nothing
//! is installed by hand, and nothing outside `target/`).

use std::{
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use super::free_port;

static INSTALL: Mutex<()> = Mutex::new(());

/// The virtualenv's `bin/` with `package==version` installed.
///
/// # Panics
/// When Python or PyPI cannot be reached: the message says what to install.
pub fn python_tool(package: &str, version: &str) -> PathBuf {
    let _guard = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tools");
    let venv = root.join(format!("{package}-{version}"));
    let bin = venv.join("bin");
    if venv.join(".installed").exists() {
        return bin;
    }
    // A half-made virtualenv (an earlier run stopped) is made again.
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::create_dir_all(&root).expect("target/tmp/tools");
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("{package}=={version}"))
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "could not install {package}=={version} from PyPI (python3 with venv and pip is needed)"
    );
    std::fs::write(venv.join(".installed"), "").expect("mark the tool installed");
    bin
}

/// A child process killed when the test ends.
pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Peer {
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on port {port} within 30 s");
}

/// PyPI `gcp-storage-emulator`: Google Cloud Storage's JSON API (uploads,
/// downloads, deletes) and public object URLs `/{bucket}/{object}`, in memory,
/// with `bucket` created.
#[must_use]
pub fn gcs_emulator(bucket: &str) -> Peer {
    let bin = python_tool("gcp-storage-emulator", "2026.7.19");
    let port = free_port();
    let mut child = Command::new(bin.join("gcp-storage-emulator"))
        .args(["start", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args(["--default-bucket", bucket, "--in-memory", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gcp-storage-emulator");
    wait_for_port(port, &mut child, "gcp-storage-emulator");
    Peer { child, port }
}

/// An S3 server (PyPI `moto[server]`) that checks every request's AWS
/// signature against an HMAC key pair it issued — what Google Cloud Storage's
/// S3-interoperable XML API does with HMAC keys — with `bucket` created.
pub struct S3StandIn {
    pub peer: Peer,
    pub access_key_id: String,
    pub secret_access_key: String,
    bin: PathBuf,
}

/// Runs `tests/support/s3_stand_in.py` with `args`; its JSON answer.
fn s3_script(bin: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/s3_stand_in.py");
    let out = Command::new(bin.join("python"))
        .arg(script)
        .args(args)
        .output()
        .expect("run the S3 helper");
    assert!(
        out.status.success(),
        "S3 helper {}: {}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the S3 helper's JSON")
}

impl S3StandIn {
    #[must_use]
    pub fn start(bucket: &str) -> Self {
        let bin = python_tool("moto[server]", "5.2.5");
        let port = free_port();
        let mut child = Command::new(bin.join("moto_server"))
            .args(["-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            // The helper's three IAM calls and the bucket go unsigned; every
            // request after them must be signed with the issued key.
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "4")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        wait_for_port(port, &mut child, "moto_server");
        let peer = Peer { child, port };
        let keys = s3_script(&bin, &["setup", &peer.url(), bucket]);
        Self {
            access_key_id: keys["id"].as_str().expect("id").to_string(),
            secret_access_key: keys["secret"].as_str().expect("secret").to_string(),
            peer,
            bin,
        }
    }

    /// An object read back with a signed request: its content type, cache
    /// control and bytes (base64), or `{"missing": true}`.
    #[must_use]
    pub fn get(&self, bucket: &str, key: &str) -> serde_json::Value {
        let url = self.peer.url();
        let (id, secret) = (&self.access_key_id, &self.secret_access_key);
        s3_script(&self.bin, &["get", &url, bucket, key, id, secret])
    }
}

/// A real SMTP server (PyPI `aiosmtpd`) that writes each message it receives,
/// decoded, as JSON into its directory.
pub struct SmtpSink {
    pub peer: Peer,
    pub dir: tempfile::TempDir,
}

impl SmtpSink {
    #[must_use]
    pub fn start() -> Self {
        let bin = python_tool("aiosmtpd", "1.4.6");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(bin.join("python"))
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SMTP sink");
        wait_for_port(port, &mut child, "the SMTP sink");
        Self {
            peer: Peer { child, port },
            dir,
        }
    }

    /// Every message received so far, oldest first.
    #[must_use]
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect()
    }
}
