//! Logs: one Cloud Logging JSON object per line on stdout in production
//! (`severity`, `message`, `time`, `httpRequest`, `logging.googleapis.com/trace`),
//! readable text lines in development. Both pass through a [`Redactor`] that
//! removes every secret the settings know of and the password of any URL, so no
//! log line can carry one, whoever wrote the event.
//!
//! Request context comes from the `request` span opened by
//! `middleware::trace`: its `trace`/`span_id` fields become Cloud Logging's trace
//! fields and its `http.*` fields the `httpRequest` object.

use std::{
    fmt::{self, Write as _},
    io::Write,
    sync::LazyLock,
};

use regex::Regex;
use serde_json::{Map, Value};
use tracing::{
    field::{Field, Visit},
    span, Event, Level, Subscriber,
};
use tracing_subscriber::{
    filter::{LevelFilter, Targets},
    fmt::MakeWriter,
    layer::Context,
    prelude::*,
    registry::LookupSpan,
    EnvFilter, Layer,
};

/// The password of `scheme://user:password@host`.
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(://[^:/@\s]*:)[^@\s]+@").expect("valid regex"));

const REDACTED: &str = "[redacted]";

/// Removes known secret values and URL passwords from text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    #[must_use]
    pub fn new(secrets: &[String]) -> Self {
        let mut all = Vec::new();
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            all.push(s.clone());
            // The same value as it appears inside a JSON string.
            let escaped = serde_json::to_string(s).unwrap_or_default();
            let escaped = escaped.trim_matches('"').to_string();
            if escaped != *s {
                all.push(escaped);
            }
        }
        // Longest first, so a secret containing another is removed whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets: all }
    }

    #[must_use]
    pub fn redact(&self, line: &str) -> String {
        let mut out = URL_PASSWORD
            .replace_all(line, format!("${{1}}{REDACTED}@").as_str())
            .into_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = replace_whole(&out, secret);
            }
        }
        out
    }
}

/// Secrets at least this long (production refuses shorter ones) are removed
/// wherever they appear; shorter ones (development only) as whole values, so
/// that a password such as `tuki` does not eat the crate's name in every line.
const ANYWHERE_LEN: usize = crate::platform::settings::MIN_SECRET_LEN;

fn replace_whole(text: &str, secret: &str) -> String {
    if secret.len() >= ANYWHERE_LEN {
        return text.replace(secret, REDACTED);
    }
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(secret) {
        let before = rest[..at]
            .chars()
            .next_back()
            .or_else(|| out.chars().next_back());
        let after = rest[at + secret.len()..].chars().next();
        out.push_str(&rest[..at]);
        if is_word(before) || is_word(after) {
            out.push_str(secret);
        } else {
            out.push_str(REDACTED);
        }
        rest = &rest[at + secret.len()..];
    }
    out.push_str(rest);
    out
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Cloud Logging structured JSON.
    Json,
    /// One human-readable line.
    Text,
}

/// Fields recorded on a span, kept in its extensions.
#[derive(Default)]
struct SpanFields(Map<String, Value>);

/// Collects an event's or span's fields as JSON values.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().into(), Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::from(format!("{value:?}")));
    }
}

/// The project asked of the metadata server at boot (Cloud Run sets no
/// project variable), when neither `GS_PROJECT_ID` nor
/// `GOOGLE_CLOUD_PROJECT` named it.
static DISCOVERED_PROJECT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Asks Google's metadata server for the project id, once, and keeps it for
/// the trace field. Only on Cloud Run (`K_SERVICE` or `CLOUD_RUN_JOB` set);
/// `GCE_METADATA_HOST` names another server (Google's client libraries read
/// the same variable). Two seconds at most; on no answer the trace field is
/// left out, as before.
pub async fn discover_project_id() {
    let on_cloud_run = ["K_SERVICE", "CLOUD_RUN_JOB"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if !on_cloud_run || DISCOVERED_PROJECT.get().is_some() {
        return;
    }
    let host = std::env::var("GCE_METADATA_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "metadata.google.internal".to_string());
    let url = format!(
        "http://{}/computeMetadata/v1/project/project-id",
        host.trim()
    );
    let Ok(client) = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
    else {
        return;
    };
    let answer = client
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .send()
        .await;
    let project = match answer {
        Ok(res) if res.status().is_success() => res.text().await.unwrap_or_default(),
        _ => String::new(),
    };
    let project = project.trim();
    let valid = !project.is_empty()
        && project.len() <= 100
        && project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:".contains(c));
    if valid {
        let _ = DISCOVERED_PROJECT.set(project.to_string());
    } else {
        tracing::warn!("the metadata server named no project: log lines carry no trace field");
    }
}

/// The layer that writes every event as one line.
pub struct CloudLayer<W> {
    format: Format,
    /// `GS_PROJECT_ID`: Cloud Logging's trace field needs it.
    project_id: Option<String>,
    redactor: Redactor,
    writer: W,
}

impl<W> CloudLayer<W> {
    pub const fn new(
        format: Format,
        project_id: Option<String>,
        redactor: Redactor,
        writer: W,
    ) -> Self {
        Self {
            format,
            project_id,
            redactor,
            writer,
        }
    }
}

const fn severity(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

impl<W> CloudLayer<W> {
    fn json_line(
        &self,
        level: Level,
        target: &str,
        fields: Map<String, Value>,
        spans: Map<String, Value>,
    ) -> String {
        let mut out = Map::new();
        out.insert("severity".into(), severity(level).into());
        let mut fields = fields;
        let message = fields.remove("message").unwrap_or(Value::from(""));
        out.insert("message".into(), message);
        out.insert(
            "time".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        );
        out.insert("target".into(), target.into());
        let mut http = Map::new();
        for (key, value) in spans.into_iter().chain(fields) {
            if let Some(name) = key.strip_prefix("http.") {
                http.insert(name.to_string(), value);
            } else if key == "trace" {
                let project = self
                    .project_id
                    .as_deref()
                    .or_else(|| DISCOVERED_PROJECT.get().map(String::as_str));
                if let (Some(project), Some(trace)) = (project, value.as_str()) {
                    out.insert(
                        "logging.googleapis.com/trace".into(),
                        format!("projects/{project}/traces/{trace}").into(),
                    );
                }
            } else if key == "span_id" {
                out.insert("logging.googleapis.com/spanId".into(), value);
            } else {
                out.insert(key, value);
            }
        }
        if !http.is_empty() {
            out.insert("httpRequest".into(), Value::Object(http));
        }
        Value::Object(out).to_string()
    }

    fn text_line(
        level: Level,
        target: &str,
        fields: Map<String, Value>,
        spans: &Map<String, Value>,
    ) -> String {
        let mut fields = fields;
        let message = match fields.remove("message") {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let mut line = format!(
            "{} {:>5} {target}: {message}",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            level.as_str()
        );
        for (key, value) in spans.iter().chain(fields.iter()) {
            match value {
                Value::String(s) => {
                    let _ = write!(line, " {key}={s}");
                }
                other => {
                    let _ = write!(line, " {key}={other}");
                }
            }
        }
        line
    }
}

impl<S, W> Layer<S> for CloudLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut JsonVisitor(&mut fields.0));
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(fields) = ext.get_mut::<SpanFields>() {
            values.record(&mut JsonVisitor(&mut fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        // Fields of the enclosing spans, outermost first so inner ones win.
        let mut spans = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    spans.extend(f.0.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let meta = event.metadata();
        let line = match self.format {
            Format::Json => self.json_line(*meta.level(), meta.target(), fields, spans),
            Format::Text => Self::text_line(*meta.level(), meta.target(), fields, &spans),
        };
        let mut line = self.redactor.redact(&line);
        line.push('\n');
        let _ = self.writer.make_writer().write_all(line.as_bytes());
    }
}

/// The default filter: `level` for this app, Loco and the migrations,
/// `warn` for every other crate.
#[must_use]
pub fn targets(level: &str) -> Targets {
    let level = level.parse::<LevelFilter>().unwrap_or(LevelFilter::INFO);
    Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("tuki_backend", level)
        .with_target("loco_rs", level)
        .with_target("migration", level)
        .with_target("sea_orm_migration", level)
}

/// Installs the global subscriber writing to stdout: `RUST_LOG`'s filter
/// when it is set (an operator's full tracing filter), else [`targets`].
///
/// # Errors
/// A global subscriber was already installed.
pub fn init(
    format: Format,
    level: &str,
    project_id: Option<String>,
    redactor: Redactor,
) -> Result<(), tracing_subscriber::util::TryInitError> {
    let layer = CloudLayer::new(format, project_id, redactor, std::io::stdout);
    // Global filters (one layer, so the same thing): a per-layer filter kept
    // its verdict on an event the database driver's `log` bridge checked
    // and never sent, and dropped this app's next event on that thread.
    match EnvFilter::try_from_default_env() {
        Ok(env) => tracing_subscriber::registry()
            .with(env)
            .with(layer)
            .try_init(),
        Err(_) => tracing_subscriber::registry()
            .with(targets(level))
            .with(layer)
            .try_init(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Self;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn capture(format: Format, secrets: &[String], f: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let layer = CloudLayer::new(
            format,
            Some("tukiprod".into()),
            Redactor::new(secrets),
            buffer.clone(),
        );
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn json_lines_carry_severity_message_trace_and_http_request() {
        let out = capture(Format::Json, &[], || {
            let span = tracing::info_span!(
                "request",
                trace = "105445aa7843bc8bf206b12000100000",
                span_id = "1",
                http.requestMethod = "GET",
                http.status = tracing::field::Empty,
            );
            let _e = span.enter();
            span.record("http.status", 200);
            tracing::warn!(order = "A1", "payment retried");
        });
        let line: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["severity"], "WARNING");
        assert_eq!(line["message"], "payment retried");
        assert_eq!(line["order"], "A1");
        assert_eq!(
            line["logging.googleapis.com/trace"],
            "projects/tukiprod/traces/105445aa7843bc8bf206b12000100000"
        );
        assert_eq!(line["httpRequest"]["requestMethod"], "GET");
        assert_eq!(line["httpRequest"]["status"], 200);
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn secrets_and_url_passwords_never_reach_a_line() {
        let secret = "s3cr\"et-Key-0123456789".to_string();
        for format in [Format::Json, Format::Text] {
            let out = capture(format, std::slice::from_ref(&secret), || {
                tracing::error!(
                    url = "postgres://tuki:hunter2pw@localhost/db",
                    "boot with {secret}"
                );
                tracing::info!(key = %secret, "again");
            });
            assert!(!out.contains("hunter2pw"), "{out}");
            assert!(!out.contains("s3cr"), "{out}");
            assert!(out.contains(REDACTED));
        }
    }

    #[test]
    fn a_short_secret_is_removed_as_a_whole_value_only() {
        let r = Redactor::new(&["tuki".to_string()]);
        assert_eq!(
            r.redact("tuki_backend connected as tuki with tuki."),
            "tuki_backend connected as [redacted] with [redacted]."
        );
        assert_eq!(r.redact("password=tuki&x"), "password=[redacted]&x");
        assert_eq!(r.redact("tukis atuki"), "tukis atuki");
        let long = Redactor::new(&["hunter2pw".to_string()]);
        assert_eq!(long.redact("k\\nhunter2pw%3D"), "k\\n[redacted]%3D");
    }

    #[test]
    fn text_lines_are_readable() {
        let out = capture(Format::Text, &[], || tracing::info!(n = 3, "started"));
        assert!(out.contains(" INFO "), "{out}");
        assert!(out.contains("started n=3"), "{out}");
    }
}
