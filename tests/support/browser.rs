//! Headless Chromium driven over the W3C WebDriver protocol (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them when missing),
//! with nothing but HTTP from the test: no browser download, no extra crate.

use std::{
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

/// The key W3C WebDriver names elements by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Self {
        ensure_installed();
        let port = super::free_port();
        let profile = tempfile::tempdir().expect("profile dir");
        // A process group of its own: chromedriver and the Chromium it
        // starts end together when the test does, passed or failed.
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let mut browser = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            _profile: profile,
        };
        let started = Instant::now();
        while browser
            .http
            .get(format!("{}/status", browser.base))
            .send()
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The flags that keep Chromium off the (closed) network and sandbox-free as root.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let res: Value = browser
            .http
            .post(format!("{}/session", browser.base))
            .json(&json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
                // The console (CSP refusals, script errors) for `console_errors`.
                "goog:loggingPrefs": { "browser": "ALL" },
            }}}))
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session answer");
        let id = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"));
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res: Value = req
            .send()
            .await
            .expect("WebDriver request")
            .json()
            .await
            .expect("WebDriver answer");
        if res["value"]["error"].is_string() {
            panic!("WebDriver {path}: {}", res["value"]);
        }
        res["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's visible text (retrying while a navigation replaces the page).
    pub async fn text(&self) -> String {
        let started = Instant::now();
        loop {
            let body = self.find("body").await;
            let res: Value = self
                .http
                .get(format!("{}/element/{body}/text", self.base))
                .send()
                .await
                .expect("WebDriver request")
                .json()
                .await
                .expect("WebDriver answer");
            if let Some(text) = res["value"].as_str() {
                return text.to_string();
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no page text: {res}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's text once it contains `needle` (after a click navigates).
    pub async fn wait_for(&self, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text().await;
            if text.contains(needle) || started.elapsed() > Duration::from_secs(5) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first element matching a CSS selector (waiting up to 5 s for it).
    pub async fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let res: Value = self
                .http
                .post(format!("{}/element", self.base))
                .json(&json!({ "using": "css selector", "value": css }))
                .send()
                .await
                .expect("WebDriver request")
                .json()
                .await
                .expect("WebDriver answer");
            if let Some(id) = res["value"][ELEMENT].as_str() {
                return id.to_string();
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no element {css}: {res}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn clear(&self, css: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/clear"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Sets an input's value as a date picker would (typing into a
    /// `datetime-local` depends on the browser's locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "arguments[0].value = arguments[1];",
                "args": [{ ELEMENT: el }, value],
            })),
        )
        .await;
    }

    /// The value a script returns in the page.
    pub async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// What an asynchronous script hands its callback (the last argument).
    pub async fn script_async(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// The console's errors since the last call (Content-Security-Policy
    /// refusals, script errors, failed loads).
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({ "type": "browser" })),
            )
            .await;
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A PNG of the page, for a person to look at.
    pub async fn screenshot(&self, path: &Path) {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        if let Some(b64) = data.as_str() {
            use base64::Engine as _;
            if let Ok(png) = base64::engine::general_purpose::STANDARD.decode(b64) {
                let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
                let _ = std::fs::write(path, png);
            }
        }
    }
}

/// Debian's `chromium` and `chromium-driver`, installed with apt on first use
/// when missing (as `.ci/run` does), so `cargo test` alone passes on a fresh
/// machine of this kind.
fn ensure_installed() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    let present = || {
        ["/usr/bin/chromium", "/usr/bin/chromedriver"]
            .iter()
            .all(|b| Path::new(b).exists())
    };
    INSTALL.call_once(|| {
        if present() {
            return;
        }
        let apt = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let install = [
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ];
        if !apt(&install) {
            apt(&["update"]);
            apt(&install);
        }
    });
    assert!(
        present(),
        "/usr/bin/chromium and /usr/bin/chromedriver are missing and could not be installed: \
         install Debian's chromium and chromium-driver"
    );
}

impl Browser {
    /// Ends Chromium and chromedriver and returns the processes of either
    /// still running afterwards (none, unless the cleanup is broken).
    pub fn close(mut self) -> Vec<u32> {
        self.kill_all();
        leftovers(self.driver.id(), self._profile.path())
    }

    /// Kills the whole process group (chromedriver and the Chromium it
    /// started), then any process still naming this session's profile.
    fn kill_all(&mut self) {
        let group = self.driver.id();
        if let Ok(group) = libc::pid_t::try_from(group) {
            // SAFETY: killpg only sends a signal to the group this test created.
            unsafe {
                libc::killpg(group, libc::SIGKILL);
            }
        }
        let _ = self.driver.wait();
        for pid in leftovers(group, self._profile.path()) {
            if let Ok(pid) = libc::pid_t::try_from(pid) {
                // SAFETY: a process of this test's browser (its group or profile).
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
        let started = Instant::now();
        while !leftovers(group, self._profile.path()).is_empty()
            && started.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Live processes in process group `group`, or whose command line names
/// `profile` (Chromium's helpers carry the profile directory).
fn leftovers(group: u32, profile: &Path) -> Vec<u32> {
    let profile = profile.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let dir = PathBuf::from(format!("/proc/{pid}"));
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            // Fields after the command name: state, ppid, pgrp, …
            let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = after.split_whitespace().collect();
            let zombie = fields.first() == Some(&"Z");
            let in_group = fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(group);
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            let names_profile = String::from_utf8_lossy(&cmdline).contains(&profile);
            !zombie && (in_group || names_profile)
        })
        .collect()
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill_all();
    }
}
