//! The deployment's environment contract (DESIGN.md, "Environment variables"),
//! read once at boot into a typed, checked [`Settings`].
//!
//! Every variable keeps its Django name so the same `cloud-run-env.yaml` drives
//! both backends. A missing or malformed value is a [`SettingsError`] whose
//! `Display` is one line naming the variable; `bin/main.rs` prints it and exits
//! non-zero. In production nothing falls back silently to a development value.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// Tuki's Cloud Run defaults (the Django `cloudrun` settings), used when the
/// variable is unset in production.
const PROD_ALLOWED_HOSTS: &str = "*.run.app,tuki.live,www.tuki.live,api.tuki.live,prop.cl";
const PROD_CSRF_TRUSTED_ORIGINS: &str =
    "https://*.run.app,https://tuki.live,https://www.tuki.live,https://api.tuki.live,https://prop.cl";
const PROD_CORS_ALLOWED_ORIGINS: &str =
    "https://tuki.live,https://www.tuki.live,https://api.tuki.live,https://prop.cl";
const PROD_FRONTEND_URL: &str = "https://tuki.cl";

const DEV_ALLOWED_HOSTS: &str = "localhost,127.0.0.1,[::1],.localhost";
const DEV_ORIGINS: &str =
    "http://localhost:3000,http://localhost:5173,http://127.0.0.1:3000,http://127.0.0.1:5173";
const DEV_FRONTEND_URL: &str = "http://localhost:3000";
/// Development and test only; production refuses to start without its own key.
const DEV_SECRET_KEY: &str = "insecure-development-key-never-use-in-production";

/// A `SECRET_KEY` shorter than this is refused in production.
pub const MIN_SECRET_KEY_LEN: usize = 32;

/// Transbank's public Webpay Plus integration host.
pub const TRANSBANK_INTEGRATION_URL: &str = "https://webpay3gint.transbank.cl";
/// Transbank's production Webpay Plus host.
pub const TRANSBANK_PRODUCTION_URL: &str = "https://webpay3g.transbank.cl";

/// What the process was started to do: serving needs the web-facing variables,
/// a Cloud Run Job (`task …`, `db …`) needs only the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Serve,
    Job,
}

impl Purpose {
    /// `tuki_backend-cli start …` serves; every other command is a job.
    #[must_use]
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Self {
        if args.into_iter().skip(1).any(|a| a == "start") {
            Self::Serve
        } else {
            Self::Job
        }
    }
}

/// One configuration problem, named by its variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub var: &'static str,
    pub problem: String,
}

impl SettingsError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error: {}: {}", self.var, self.problem)
    }
}

impl std::error::Error for SettingsError {}

type SResult<T> = Result<T, SettingsError>;

/// Transbank's public Webpay Plus test commerce (integration environment only;
/// published in Transbank's documentation, not a secret).
pub const TRANSBANK_TEST_COMMERCE_CODE: &str = "597055555532";
pub const TRANSBANK_TEST_API_KEY: &str =
    "579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C";

/// Webpay Plus credentials and host.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Transbank {
    pub sandbox: bool,
    /// The commerce code (`Tbk-Api-Key-Id`); the public test commerce in the sandbox.
    pub commerce_code: String,
    /// The API key (`Tbk-Api-Key-Secret`); empty only for a job that does not pay.
    pub api_key: String,
    /// `TRANSBANK_API_BASE_URL`, else the integration or production host.
    pub api_base_url: String,
}

/// Outgoing mail (Django's `EMAIL_*` names). `None`: no SMTP server set — mail
/// is not sent (logged instead) outside the test environment's stub.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `EMAIL_USE_TLS`: STARTTLS (port 587).
    pub starttls: bool,
    /// `EMAIL_USE_SSL`: implicit TLS (port 465).
    pub implicit_tls: bool,
}

/// Where media files (event images) are stored.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MediaBackend {
    /// A directory on local disk (`MEDIA_ROOT`), served under `/media/`.
    Local { root: String },
    /// Google Cloud Storage through its JSON API. Credentials: the key file in
    /// `GOOGLE_APPLICATION_CREDENTIALS` when set, else the Cloud Run service
    /// account (metadata server). `api_endpoint` is `STORAGE_EMULATOR_HOST`.
    Gcs {
        bucket: String,
        credentials_file: Option<String>,
        api_endpoint: Option<String>,
    },
    /// Google Cloud Storage through its S3-interoperable XML API with HMAC keys
    /// (`GS_ACCESS_KEY_ID` / `GS_SECRET_ACCESS_KEY`), for use outside Google Cloud.
    GcsHmac {
        bucket: String,
        access_key_id: String,
        secret_access_key: String,
        endpoint: String,
    },
}

/// Media storage and the public address of what it stores.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Media {
    pub backend: MediaBackend,
    /// The public URL prefix of stored files, ending in `/`; `None`: this
    /// server's `/media/` on the request's own scheme and host.
    pub public_base: Option<String>,
}

/// Google's public download host for objects in a bucket.
pub const GCS_PUBLIC_HOST: &str = "https://storage.googleapis.com";

/// The checked settings. Serialized into Loco's `config.settings` at boot and
/// read back once into the shared store (see `app.rs`).
#[derive(Clone, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)]
pub struct Settings {
    /// Production rules apply: HTTPS redirect, HSTS, strict checks.
    pub production: bool,
    pub secret_key: String,
    /// `SECRET_KEY_FALLBACKS` (Django's name): earlier keys, comma-separated,
    /// still accepted to open what they sealed (the Webpay key saved in the
    /// admin, re-sealed under `SECRET_KEY` when read).
    pub secret_key_fallbacks: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub csrf_trusted_origins: Vec<String>,
    /// Empty means no cross-origin access; `["*"]` (development only) any origin.
    pub cors_allowed_origins: Vec<String>,
    pub use_gcp: bool,
    pub gs_project_id: Option<String>,
    /// The project Cloud Logging's `trace` field names: `GS_PROJECT_ID`,
    /// else `GOOGLE_CLOUD_PROJECT`.
    pub log_project_id: Option<String>,
    pub gs_bucket_name: Option<String>,
    pub media: Media,
    pub use_redis: bool,
    pub redis_url: Option<String>,
    pub frontend_url: String,
    /// `BACKEND_URL`: this API's public origin, for links in mail sent by a
    /// job (a request uses its own origin). Without it jobs send no mail
    /// with links.
    pub backend_url: Option<String>,
    pub transbank: Transbank,
    /// How long a reservation holds its seats (`RESERVATION_MINUTES`, default 15).
    pub reservation_minutes: u32,
    /// What one client may take at once (see [`Limits`]).
    pub limits: Limits,
    /// How many proxies in front of this server append to `X-Forwarded-For`
    /// (`NUM_PROXIES`, as DRF names it; 1 on Cloud Run: Google's front end).
    pub num_proxies: usize,
    pub smtp: Option<Smtp>,
    /// `DEFAULT_FROM_EMAIL`.
    pub from_email: String,
    /// The database URL composed from `DB_*`, when they are set (else the
    /// config's `DATABASE_URL`/default stands).
    pub database_url: Option<String>,
    pub db_pool_max: Option<u32>,
    /// Write one access-log line per request (config `settings.access_log`).
    pub access_log: bool,
    /// How stale a cached catalogue answer may be, in seconds (0: no cache).
    /// `CATALOGUE_CACHE_SECONDS`, else the config, else 10.
    pub catalogue_cache_seconds: u64,
    /// Values that must never appear in a log line (see `logging.rs`).
    pub secrets: Vec<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets stay out of every Debug print.
        f.debug_struct("Settings")
            .field("production", &self.production)
            .field("secret_key", &"[redacted]")
            .field("allowed_hosts", &self.allowed_hosts)
            .field("csrf_trusted_origins", &self.csrf_trusted_origins)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("use_gcp", &self.use_gcp)
            .field("gs_project_id", &self.gs_project_id)
            .field("gs_bucket_name", &self.gs_bucket_name)
            .field("media_public_base", &self.media.public_base)
            .field("use_redis", &self.use_redis)
            .field("frontend_url", &self.frontend_url)
            .field("transbank_sandbox", &self.transbank.sandbox)
            .field("db_pool_max", &self.db_pool_max)
            .field("access_log", &self.access_log)
            .finish_non_exhaustive()
    }
}

/// Tunables that come from the config file's `settings:` block, not from the
/// Django variables.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FileSettings {
    #[serde(default)]
    pub access_log: bool,
    /// How stale a cached catalogue answer may be (seconds; 0: no cache).
    #[serde(default)]
    pub catalogue_cache_seconds: Option<u64>,
}

/// The sender of Tuki's mail unless `DEFAULT_FROM_EMAIL` says.
pub const DEFAULT_FROM: &str = "Tuki <no-reply@tuki.cl>";

/// What one buyer may take at once, counted in the database so every
/// instance agrees.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Limits {
    /// Tickets in one order when neither the event nor the tier says fewer
    /// (`MAX_TICKETS_PER_ORDER`, default 10; an event's own maximum may be
    /// higher, never above [`Limits::HARD_TICKETS_PER_ORDER`]).
    pub tickets_per_order: u32,
    /// Live (unexpired, unpaid) reservations per client: the signed-in user,
    /// else the client's address (`MAX_LIVE_HOLDS_PER_CLIENT`, default 4).
    pub holds_per_client: u32,
    /// Pending (booked, unpaid) orders per buyer email
    /// (`MAX_PENDING_ORDERS_PER_EMAIL`, default 3).
    pub pending_orders_per_email: u32,
    /// Reserve requests per client in 15 minutes (`RESERVE_RATE_LIMIT`,
    /// default 30).
    pub reserve_attempts: u32,
}

impl Limits {
    /// No order is ever larger than this, whatever an event says.
    pub const HARD_TICKETS_PER_ORDER: u32 = 100;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            tickets_per_order: 10,
            holds_per_client: 4,
            pending_orders_per_email: 3,
            reserve_attempts: 30,
        }
    }
}

/// A whole number in `range`, or `default` when unset.
fn number_var<T>(
    vars: &dyn Vars,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> SResult<T>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    match var(vars, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<T>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                SettingsError::new(
                    name,
                    format!(
                        "{v:?} is not a whole number between {} and {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

/// Secrets shorter than this cannot be kept out of the logs reliably (they
/// turn up inside ordinary words), so production refuses them.
pub const MIN_SECRET_LEN: usize = 8;

/// How long a reservation holds seats unless `RESERVATION_MINUTES` says.
pub const DEFAULT_RESERVATION_MINUTES: u32 = 15;

/// The catalogue's cache bound when neither the config nor the environment says.
pub const DEFAULT_CATALOGUE_CACHE_SECONDS: u64 = 10;

/// Reads variables; a trait object so tests pass a map instead of the process
/// environment.
pub trait Vars {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<S: std::hash::BuildHasher> Vars for std::collections::HashMap<&str, &str, S> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::HashMap::get(self, name).map(|v| (*v).to_string())
    }
}

/// A variable's value with surrounding blanks removed; unset and empty are the same.
fn var(vars: &dyn Vars, name: &str) -> Option<String> {
    vars.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Django-decouple's booleans.
fn parse_bool(name: &'static str, value: &str) -> SResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "y" | "t" => Ok(true),
        "false" | "0" | "no" | "off" | "n" | "f" => Ok(false),
        _ => Err(SettingsError::new(
            name,
            format!("expected true or false, got {value:?}"),
        )),
    }
}

fn bool_var(vars: &dyn Vars, name: &'static str, default: bool) -> SResult<bool> {
    var(vars, name).map_or(Ok(default), |v| parse_bool(name, &v))
}

/// A comma list: blanks trimmed, empty items dropped.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn list_var(vars: &dyn Vars, name: &str, default: &str) -> Vec<String> {
    list(&var(vars, name).unwrap_or_else(|| default.to_string()))
}

/// An origin is `scheme://host[:port]` and nothing else. `*.` may open the host
/// when `wildcard` is allowed (CSRF trusted origins).
fn check_origin(name: &'static str, origin: &str, wildcard: bool) -> SResult<()> {
    let bad = |why: &str| SettingsError::new(name, format!("{origin:?} {why}"));
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or_else(|| bad("is not an origin like https://example.com"))?;
    if scheme != "http" && scheme != "https" {
        return Err(bad("must start with http:// or https://"));
    }
    let host = if wildcard {
        rest.strip_prefix("*.").unwrap_or(rest)
    } else {
        rest
    };
    let parsed = Url::parse(&format!("{scheme}://{host}"))
        .map_err(|_| bad("is not an origin like https://example.com"))?;
    if parsed.path() != "/" || origin.ends_with('/') || parsed.query().is_some() {
        return Err(bad("must not have a path"));
    }
    Ok(())
}

fn check_host_pattern(host: &str) -> SResult<()> {
    let valid = host == "*"
        || host
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
    if valid {
        Ok(())
    } else {
        Err(SettingsError::new(
            "ALLOWED_HOSTS",
            format!("{host:?} is not a host name or pattern"),
        ))
    }
}

fn http_url_var(vars: &dyn Vars, name: &'static str, default: &str) -> SResult<String> {
    let value = var(vars, name).unwrap_or_else(|| default.to_string());
    match Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(value.trim_end_matches('/').to_string())
        }
        _ => Err(SettingsError::new(
            name,
            format!("{value:?} is not an http(s) URL"),
        )),
    }
}

/// The password part of a URL, percent-decoded, if any.
fn url_password(url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    Some(percent_decode(parsed.password()?))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Percent-encodes one URL component (user, password, database name).
fn encode(component: &str) -> String {
    url::form_urlencoded::byte_serialize(component.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The names of one set of PostgreSQL connection variables: the app's own
/// (`DB_*`) or the Django database an import reads (`DJANGO_DB_*`).
struct DbVarNames {
    name: &'static str,
    user: &'static str,
    password: &'static str,
    host: &'static str,
    port: &'static str,
    together: &'static str,
}

const APP_DB: DbVarNames = DbVarNames {
    name: "DB_NAME",
    user: "DB_USER",
    password: "DB_PASSWORD",
    host: "DB_HOST",
    port: "DB_PORT",
    together: "is not set (DB_NAME, DB_USER and DB_HOST go together)",
};

const DJANGO_DB: DbVarNames = DbVarNames {
    name: "DJANGO_DB_NAME",
    user: "DJANGO_DB_USER",
    password: "DJANGO_DB_PASSWORD",
    host: "DJANGO_DB_HOST",
    port: "DJANGO_DB_PORT",
    together: "is not set (DJANGO_DB_NAME, DJANGO_DB_USER and DJANGO_DB_HOST go together)",
};

/// The PostgreSQL URL for `DB_*`: TCP for a host name, a unix-socket directory
/// (`?host=/cloudsql/PROJECT:REGION:INSTANCE`) for a `DB_HOST` that starts with `/`.
fn database_url_from_parts(vars: &dyn Vars) -> SResult<Option<String>> {
    url_from_parts(vars, &APP_DB)
}

fn url_from_parts(vars: &dyn Vars, names: &DbVarNames) -> SResult<Option<String>> {
    let any_set = [names.name, names.user, names.host, names.password]
        .iter()
        .any(|n| var(vars, n).is_some());
    if !any_set {
        return Ok(None);
    }
    let required = |name: &'static str| {
        var(vars, name).ok_or_else(|| SettingsError::new(name, names.together))
    };
    let name = required(names.name)?;
    let user = required(names.user)?;
    let host = required(names.host)?;
    let password = vars.get(names.password).unwrap_or_default();
    let port =
        match var(vars, names.port) {
            None => 5432,
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                SettingsError::new(names.port, format!("{p:?} is not a port number"))
            })?,
        };
    let credentials = if password.is_empty() {
        encode(&user)
    } else {
        format!("{}:{}", encode(&user), encode(&password))
    };
    // Cloud SQL's connector exposes the instance as a unix socket; SSL is not
    // used on a socket (Django had sslmode=disable).
    let url = if host.starts_with('/') {
        format!(
            "postgres://{credentials}@localhost:{port}/{}?host={}&sslmode=disable&application_name=tuki-backend",
            encode(&name),
            encode(&host)
        )
    } else {
        if host.contains(['/', '@', '?', '#', ' ']) {
            return Err(SettingsError::new(
                names.host,
                format!("{host:?} is neither a host name nor a socket directory starting with /"),
            ));
        }
        format!(
            "postgres://{credentials}@{host}:{port}/{}?application_name=tuki-backend",
            encode(&name)
        )
    };
    Ok(Some(url))
}

/// The Django database `task import_django` reads: `DJANGO_DATABASE_URL`, else
/// `DJANGO_DB_NAME`/`_USER`/`_PASSWORD`/`_HOST`/`_PORT` (a `/cloudsql/…` host
/// is the instance's socket, as for `DB_HOST`). PostgreSQL only.
///
/// # Errors
/// One line naming the variable that is missing or malformed.
pub fn django_database_url(vars: &dyn Vars) -> SResult<String> {
    if let Some(url) = var(vars, "DJANGO_DATABASE_URL") {
        let url = url
            .strip_prefix("postgresql://")
            .map_or_else(|| url.clone(), |rest| format!("postgres://{rest}"));
        return match Url::parse(&url) {
            Ok(parsed) if parsed.scheme() == "postgres" => Ok(url),
            _ => Err(SettingsError::new(
                "DJANGO_DATABASE_URL",
                "is not a postgres:// URL (the Django database is PostgreSQL)",
            )),
        };
    }
    url_from_parts(vars, &DJANGO_DB)?.ok_or_else(|| {
        SettingsError::new(
            "DJANGO_DATABASE_URL",
            "is not set: give the Django database as DJANGO_DATABASE_URL=postgres://… \
             (or DJANGO_DB_NAME, DJANGO_DB_USER, DJANGO_DB_PASSWORD and DJANGO_DB_HOST)",
        )
    })
}

/// Checks `DATABASE_URL` when it is set; `postgresql://` is normalised to
/// `postgres://` (the scheme the tools here recognise).
fn database_url_override(vars: &dyn Vars) -> SResult<Option<String>> {
    let Some(url) = var(vars, "DATABASE_URL") else {
        return Ok(None);
    };
    let url = url
        .strip_prefix("postgresql://")
        .map_or_else(|| url.clone(), |rest| format!("postgres://{rest}"));
    if !(url.starts_with("postgres://") || url.starts_with("sqlite:")) {
        return Err(SettingsError::new(
            "DATABASE_URL",
            "must start with postgres://, postgresql:// or sqlite:",
        ));
    }
    if url.starts_with("postgres://") && Url::parse(&url).is_err() {
        return Err(SettingsError::new("DATABASE_URL", "is not a valid URL"));
    }
    Ok(Some(url))
}

/// The media backend: local disk unless `USE_GCP=true`; then GCS, by HMAC keys
/// when they are set, else by the key file or the service account.
fn media_settings(
    vars: &dyn Vars,
    use_gcp: bool,
    bucket: Option<&str>,
    serving: bool,
) -> SResult<Media> {
    let custom_endpoint = match var(vars, "GS_CUSTOM_ENDPOINT") {
        Some(_) => Some(format!(
            "{}/",
            http_url_var(vars, "GS_CUSTOM_ENDPOINT", "")?
        )),
        None => None,
    };
    let bucket = match (use_gcp, bucket) {
        (false, _) => None,
        (true, Some(b)) => Some(b.to_string()),
        // A job does not touch media; it may run without the bucket.
        (true, None) if !serving => None,
        (true, None) => {
            return Err(SettingsError::new(
                "GS_BUCKET_NAME",
                "is not set but USE_GCP=true needs it",
            ))
        }
    };
    let Some(bucket) = bucket else {
        let root = var(vars, "MEDIA_ROOT").unwrap_or_else(|| "media".to_string());
        return Ok(Media {
            backend: MediaBackend::Local { root },
            public_base: None,
        });
    };
    let access_key_id = var(vars, "GS_ACCESS_KEY_ID");
    let secret_access_key = var(vars, "GS_SECRET_ACCESS_KEY");
    let emulator = match var(vars, "STORAGE_EMULATOR_HOST") {
        Some(_) => Some(http_url_var(vars, "STORAGE_EMULATOR_HOST", "")?),
        None => None,
    };
    let api_host = emulator
        .clone()
        .unwrap_or_else(|| GCS_PUBLIC_HOST.to_string());
    let public_base = custom_endpoint.unwrap_or_else(|| format!("{api_host}/{}/", encode(&bucket)));
    let backend = match (access_key_id, secret_access_key) {
        (Some(access_key_id), Some(secret_access_key)) => MediaBackend::GcsHmac {
            bucket,
            access_key_id,
            secret_access_key,
            endpoint: api_host,
        },
        (Some(_), None) => {
            return Err(SettingsError::new(
                "GS_SECRET_ACCESS_KEY",
                "is not set but GS_ACCESS_KEY_ID is (HMAC keys go together)",
            ))
        }
        (None, Some(_)) => {
            return Err(SettingsError::new(
                "GS_ACCESS_KEY_ID",
                "is not set but GS_SECRET_ACCESS_KEY is (HMAC keys go together)",
            ))
        }
        (None, None) => {
            let credentials_file = var(vars, "GOOGLE_APPLICATION_CREDENTIALS");
            if let Some(path) = &credentials_file {
                if serving && !std::path::Path::new(path).is_file() {
                    return Err(SettingsError::new(
                        "GOOGLE_APPLICATION_CREDENTIALS",
                        format!(
                            "{path:?} is not a readable file (unset it to use the service account)"
                        ),
                    ));
                }
            }
            MediaBackend::Gcs {
                bucket,
                credentials_file,
                api_endpoint: emulator,
            }
        }
    };
    Ok(Media {
        backend,
        public_base: Some(public_base),
    })
}

fn check_secret_key(key: &str) -> SResult<()> {
    let distinct = key.chars().collect::<std::collections::BTreeSet<_>>().len();
    if key.chars().count() < MIN_SECRET_KEY_LEN {
        return Err(SettingsError::new(
            "SECRET_KEY",
            format!("is too short: at least {MIN_SECRET_KEY_LEN} characters are required"),
        ));
    }
    if distinct < 5 || key.starts_with("django-insecure") || key == DEV_SECRET_KEY {
        return Err(SettingsError::new(
            "SECRET_KEY",
            "is weak: use a long random value (e.g. openssl rand -base64 48)",
        ));
    }
    Ok(())
}

impl Settings {
    /// Reads and checks every variable.
    ///
    /// # Errors
    /// The first variable that is missing (where required) or malformed.
    #[allow(clippy::too_many_lines)]
    pub fn from_vars(
        vars: &dyn Vars,
        production: bool,
        purpose: Purpose,
        file: &FileSettings,
    ) -> SResult<Self> {
        let serving = purpose == Purpose::Serve;
        let strict = production && serving;

        // Database (every purpose needs it).
        let database_url = match database_url_override(vars)? {
            Some(url) => Some(url),
            None => database_url_from_parts(vars)?,
        };
        if production && database_url.is_none() {
            return Err(SettingsError::new(
                "DB_NAME",
                "is not set: set DB_NAME, DB_USER, DB_PASSWORD and DB_HOST (or DATABASE_URL)",
            ));
        }
        let db_pool_max = match var(vars, "DB_POOL_MAX") {
            None => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| {
                        SettingsError::new(
                            "DB_POOL_MAX",
                            format!("{v:?} is not a number between 1 and 1000"),
                        )
                    })?,
            ),
        };

        // Secret key.
        let secret_key = match var(vars, "SECRET_KEY") {
            Some(key) => {
                if strict {
                    check_secret_key(&key)?;
                }
                key
            }
            None if strict => {
                return Err(SettingsError::new(
                    "SECRET_KEY",
                    "is not set: production needs a long random value",
                ))
            }
            None => DEV_SECRET_KEY.to_string(),
        };
        let secret_key_fallbacks: Vec<String> = var(vars, "SECRET_KEY_FALLBACKS")
            .map(|v| {
                v.split(',')
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();

        // Hosts and origins.
        let (hosts_default, csrf_default, cors_default, frontend_default) = if production {
            (
                PROD_ALLOWED_HOSTS,
                PROD_CSRF_TRUSTED_ORIGINS,
                PROD_CORS_ALLOWED_ORIGINS,
                PROD_FRONTEND_URL,
            )
        } else {
            (
                DEV_ALLOWED_HOSTS,
                DEV_ORIGINS,
                DEV_ORIGINS,
                DEV_FRONTEND_URL,
            )
        };
        let allowed_hosts = list_var(vars, "ALLOWED_HOSTS", hosts_default)
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect::<Vec<_>>();
        for host in &allowed_hosts {
            check_host_pattern(host)?;
        }
        let csrf_trusted_origins = list_var(vars, "CSRF_TRUSTED_ORIGINS", csrf_default);
        for origin in &csrf_trusted_origins {
            check_origin("CSRF_TRUSTED_ORIGINS", origin, true)?;
        }
        let cors_allowed_origins = list_var(vars, "CORS_ALLOWED_ORIGINS", cors_default);
        for origin in &cors_allowed_origins {
            if origin == "*" {
                if production {
                    return Err(SettingsError::new(
                        "CORS_ALLOWED_ORIGINS",
                        "\"*\" is not allowed in production: list the frontend origins",
                    ));
                }
                continue;
            }
            check_origin("CORS_ALLOWED_ORIGINS", origin, false)?;
        }
        let frontend_url = http_url_var(vars, "FRONTEND_URL", frontend_default)?;
        let backend_url = match var(vars, "BACKEND_URL") {
            Some(_) => Some(http_url_var(vars, "BACKEND_URL", "")?),
            None => None,
        };

        // Media storage.
        let use_gcp = bool_var(vars, "USE_GCP", false)?;
        let gs_project_id = var(vars, "GS_PROJECT_ID");
        let log_project_id = gs_project_id
            .clone()
            .or_else(|| var(vars, "GOOGLE_CLOUD_PROJECT"));
        let gs_bucket_name = var(vars, "GS_BUCKET_NAME");
        if use_gcp && serving {
            if gs_bucket_name.is_none() {
                return Err(SettingsError::new(
                    "GS_BUCKET_NAME",
                    "is not set but USE_GCP=true needs it",
                ));
            }
            if gs_project_id.is_none() {
                return Err(SettingsError::new(
                    "GS_PROJECT_ID",
                    "is not set but USE_GCP=true needs it",
                ));
            }
        }

        let media = media_settings(vars, use_gcp, gs_bucket_name.as_deref(), serving)?;

        // Cache and sessions.
        let use_redis = bool_var(vars, "USE_REDIS", false)?;
        let redis_url = var(vars, "REDIS_URL");
        if let Some(url) = &redis_url {
            let ok = Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "redis" | "rediss") && u.host().is_some());
            if !ok {
                return Err(SettingsError::new(
                    "REDIS_URL",
                    "is not a redis:// or rediss:// URL",
                ));
            }
        } else if use_redis && serving {
            return Err(SettingsError::new(
                "REDIS_URL",
                "is not set but USE_REDIS=true needs it",
            ));
        }

        // Payments.
        let sandbox = bool_var(vars, "TRANSBANK_WEBPAY_PLUS_SANDBOX", !production)?;
        let api_base_url = match var(vars, "TRANSBANK_API_BASE_URL") {
            Some(_) => http_url_var(vars, "TRANSBANK_API_BASE_URL", "")?,
            None if sandbox => TRANSBANK_INTEGRATION_URL.to_string(),
            None => TRANSBANK_PRODUCTION_URL.to_string(),
        };
        let (commerce_code, api_key) = match (
            var(vars, "TRANSBANK_COMMERCE_CODE"),
            var(vars, "TRANSBANK_API_KEY"),
        ) {
            (Some(code), Some(key)) => (code, key),
            (None, None) if sandbox => (
                TRANSBANK_TEST_COMMERCE_CODE.to_string(),
                TRANSBANK_TEST_API_KEY.to_string(),
            ),
            // Neither: the ones a superuser saves in the admin (backtuki
            // kept them in its database); payments answer 503 until then.
            (None, None) => (String::new(), String::new()),
            (code, key) if !serving || !production => (
                code.unwrap_or_default(),
                key.unwrap_or_default(),
            ),
            (None, Some(_)) => {
                return Err(SettingsError::new(
                    "TRANSBANK_COMMERCE_CODE",
                    "is not set but TRANSBANK_API_KEY is: set both, or neither to use the ones saved in the admin",
                ))
            }
            (Some(_), None) => {
                return Err(SettingsError::new(
                    "TRANSBANK_API_KEY",
                    "is not set but TRANSBANK_COMMERCE_CODE is: set both, or neither to use the ones saved in the admin",
                ))
            }
        };
        if !commerce_code.is_empty() && !commerce_code.chars().all(|c| c.is_ascii_digit()) {
            return Err(SettingsError::new(
                "TRANSBANK_COMMERCE_CODE",
                "is not a commerce code (digits only)",
            ));
        }
        let transbank = Transbank {
            sandbox,
            commerce_code,
            api_key,
            api_base_url,
        };
        let reservation_minutes = match var(vars, "RESERVATION_MINUTES") {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=180).contains(n))
                .ok_or_else(|| {
                    SettingsError::new(
                        "RESERVATION_MINUTES",
                        format!("{v:?} is not a number of minutes between 1 and 180"),
                    )
                })?,
            None => DEFAULT_RESERVATION_MINUTES,
        };

        let defaults = Limits::default();
        let limits = Limits {
            tickets_per_order: number_var(
                vars,
                "MAX_TICKETS_PER_ORDER",
                defaults.tickets_per_order,
                1..=Limits::HARD_TICKETS_PER_ORDER,
            )?,
            holds_per_client: number_var(
                vars,
                "MAX_LIVE_HOLDS_PER_CLIENT",
                defaults.holds_per_client,
                1..=1000,
            )?,
            pending_orders_per_email: number_var(
                vars,
                "MAX_PENDING_ORDERS_PER_EMAIL",
                defaults.pending_orders_per_email,
                1..=1000,
            )?,
            reserve_attempts: number_var(
                vars,
                "RESERVE_RATE_LIMIT",
                defaults.reserve_attempts,
                1..=100_000,
            )?,
        };
        let num_proxies = number_var(vars, "NUM_PROXIES", 1, 0..=5)?;

        let smtp = match var(vars, "EMAIL_HOST") {
            None => None,
            Some(host) => {
                let port = match var(vars, "EMAIL_PORT") {
                    None => 587,
                    Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                        SettingsError::new("EMAIL_PORT", format!("{p:?} is not a port number"))
                    })?,
                };
                let implicit_tls = bool_var(vars, "EMAIL_USE_SSL", false)?;
                let starttls = bool_var(vars, "EMAIL_USE_TLS", !implicit_tls)?;
                if starttls && implicit_tls {
                    return Err(SettingsError::new(
                        "EMAIL_USE_SSL",
                        "and EMAIL_USE_TLS cannot both be true (465 is SSL, 587 is TLS)",
                    ));
                }
                Some(Smtp {
                    host,
                    port,
                    user: var(vars, "EMAIL_HOST_USER"),
                    password: vars.get("EMAIL_HOST_PASSWORD").filter(|p| !p.is_empty()),
                    starttls,
                    implicit_tls,
                })
            }
        };
        let from_email =
            var(vars, "DEFAULT_FROM_EMAIL").unwrap_or_else(|| DEFAULT_FROM.to_string());
        if crate::models::users::Email::parse(
            from_email
                .rsplit_once('<')
                .map_or(from_email.as_str(), |(_, a)| a.trim_end_matches('>')),
        )
        .is_err()
        {
            return Err(SettingsError::new(
                "DEFAULT_FROM_EMAIL",
                format!("{from_email:?} is not an address like Tuki <no-reply@tuki.cl>"),
            ));
        }

        let catalogue_cache_seconds = match var(vars, "CATALOGUE_CACHE_SECONDS") {
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= 3600)
                .ok_or_else(|| {
                    SettingsError::new(
                        "CATALOGUE_CACHE_SECONDS",
                        format!("{v:?} is not a number of seconds between 0 and 3600"),
                    )
                })?,
            None => file
                .catalogue_cache_seconds
                .unwrap_or(DEFAULT_CATALOGUE_CACHE_SECONDS),
        };

        let mut secrets = vec![secret_key.clone()];
        secrets.extend(secret_key_fallbacks.iter().cloned());
        let mut named: Vec<(&'static str, String)> = Vec::new();
        named.extend(
            vars.get("DB_PASSWORD")
                .filter(|p| !p.is_empty())
                .map(|p| ("DB_PASSWORD", p)),
        );
        if transbank.api_key != TRANSBANK_TEST_API_KEY && !transbank.api_key.is_empty() {
            named.push(("TRANSBANK_API_KEY", transbank.api_key.clone()));
        }
        named.extend(
            var(vars, "DJANGO_SUPERUSER_PASSWORD").map(|p| ("DJANGO_SUPERUSER_PASSWORD", p)),
        );
        named.extend(
            smtp.as_ref()
                .and_then(|s| s.password.clone())
                .map(|p| ("EMAIL_HOST_PASSWORD", p)),
        );
        if let MediaBackend::GcsHmac {
            secret_access_key, ..
        } = &media.backend
        {
            named.push(("GS_SECRET_ACCESS_KEY", secret_access_key.clone()));
        }
        named.extend(
            redis_url
                .as_deref()
                .and_then(url_password)
                .map(|p| ("REDIS_URL", p)),
        );
        named.extend(
            database_url
                .as_deref()
                .and_then(url_password)
                .map(|p| ("DATABASE_URL", p)),
        );
        for (name, value) in named {
            if production && value.chars().count() < MIN_SECRET_LEN {
                return Err(SettingsError::new(
                    name,
                    format!(
                        "is too short to keep out of the logs: production needs at least {MIN_SECRET_LEN} characters"
                    ),
                ));
            }
            secrets.push(value);
        }
        secrets.retain(|s| !s.is_empty());
        secrets.sort();
        secrets.dedup();

        Ok(Self {
            production,
            secret_key,
            allowed_hosts,
            csrf_trusted_origins,
            cors_allowed_origins,
            use_gcp,
            gs_project_id,
            log_project_id,
            backend_url,
            gs_bucket_name,
            media,
            use_redis,
            redis_url,
            frontend_url,
            transbank,
            reservation_minutes,
            limits,
            num_proxies,
            smtp,
            from_email,
            database_url,
            db_pool_max,
            access_log: file.access_log,
            catalogue_cache_seconds,
            secrets,
            secret_key_fallbacks,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const STRONG: &str = "k3J9x!Qm2vT8zR5wL0pN7bY4cH6dF1sA";

    fn prod(vars: &[(&str, &str)]) -> SResult<Settings> {
        let mut map: HashMap<&str, &str> = HashMap::from([
            ("SECRET_KEY", STRONG),
            ("TRANSBANK_COMMERCE_CODE", "597000000001"),
            ("TRANSBANK_API_KEY", "tbk-production-key-value"),
            ("DB_NAME", "tuki"),
            ("DB_USER", "tuki"),
            ("DB_PASSWORD", "p@ss word/1"),
            ("DB_HOST", "/cloudsql/tukiprod:us-central1:tuki-db-prod"),
        ]);
        for (k, v) in vars {
            map.insert(k, v);
        }
        Settings::from_vars(&map, true, Purpose::Serve, &FileSettings::default())
    }

    fn err_var(r: SResult<Settings>) -> &'static str {
        r.expect_err("should be refused").var
    }

    #[test]
    fn production_refuses_secrets_too_short_to_keep_out_of_the_logs() {
        assert_eq!(err_var(prod(&[("DB_PASSWORD", "tuki")])), "DB_PASSWORD");
        assert_eq!(
            err_var(prod(&[
                ("EMAIL_HOST", "smtp.example.com"),
                ("EMAIL_HOST_PASSWORD", "pw")
            ])),
            "EMAIL_HOST_PASSWORD"
        );
        assert_eq!(
            err_var(prod(&[
                ("USE_REDIS", "true"),
                ("REDIS_URL", "redis://:abc@r:6379/0")
            ])),
            "REDIS_URL"
        );
        // Development keeps a short one (redacted as a whole value only).
        let dev = Settings::from_vars(
            &HashMap::from([
                ("DB_NAME", "t"),
                ("DB_USER", "t"),
                ("DB_HOST", "localhost"),
                ("DB_PASSWORD", "tuki"),
            ]),
            false,
            Purpose::Serve,
            &FileSettings::default(),
        )
        .unwrap();
        assert!(dev.secrets.contains(&"tuki".to_string()));
    }

    #[test]
    fn limits_and_proxies_are_read_and_bounded() {
        let s = prod(&[]).unwrap();
        assert_eq!((s.limits, s.num_proxies), (Limits::default(), 1));
        let s = prod(&[
            ("MAX_TICKETS_PER_ORDER", "6"),
            ("MAX_LIVE_HOLDS_PER_CLIENT", "2"),
            ("MAX_PENDING_ORDERS_PER_EMAIL", "1"),
            ("RESERVE_RATE_LIMIT", "9"),
            ("NUM_PROXIES", "0"),
        ])
        .unwrap();
        assert_eq!(
            (s.limits.tickets_per_order, s.limits.holds_per_client),
            (6, 2)
        );
        assert_eq!(
            (s.limits.pending_orders_per_email, s.limits.reserve_attempts),
            (1, 9)
        );
        assert_eq!(s.num_proxies, 0);
        for (var, bad) in [
            ("MAX_TICKETS_PER_ORDER", "101"),
            ("MAX_TICKETS_PER_ORDER", "0"),
            ("MAX_LIVE_HOLDS_PER_CLIENT", "x"),
            ("NUM_PROXIES", "9"),
        ] {
            assert_eq!(err_var(prod(&[(var, bad)])), var);
        }
    }

    #[test]
    fn a_unix_socket_host_becomes_a_socket_url_with_the_password_encoded() {
        let s = prod(&[]).unwrap();
        assert_eq!(
            s.database_url.as_deref(),
            Some(
                "postgres://tuki:p%40ss%20word%2F1@localhost:5432/tuki?host=%2Fcloudsql%2Ftukiprod%3Aus-central1%3Atuki-db-prod&sslmode=disable&application_name=tuki-backend"
            )
        );
        assert!(s.secrets.contains(&"p@ss word/1".to_string()));
    }

    #[test]
    fn a_tcp_host_and_port_become_a_tcp_url() {
        let s = prod(&[("DB_HOST", "10.0.0.5"), ("DB_PORT", "6432")]).unwrap();
        assert_eq!(
            s.database_url.as_deref(),
            Some("postgres://tuki:p%40ss%20word%2F1@10.0.0.5:6432/tuki?application_name=tuki-backend")
        );
    }

    #[test]
    fn database_url_overrides_the_parts_and_postgresql_scheme_is_normalised() {
        let s = prod(&[("DATABASE_URL", "postgresql://u:secretpw@db/x")]).unwrap();
        assert_eq!(
            s.database_url.as_deref(),
            Some("postgres://u:secretpw@db/x")
        );
        assert!(s.secrets.contains(&"secretpw".to_string()));
    }

    #[test]
    fn production_refuses_a_missing_or_weak_secret_key() {
        let mut vars =
            HashMap::from([("DB_NAME", "t"), ("DB_USER", "t"), ("DB_HOST", "localhost")]);
        let none = Settings::from_vars(&vars, true, Purpose::Serve, &FileSettings::default());
        assert_eq!(err_var(none), "SECRET_KEY");
        vars.insert("SECRET_KEY", "short");
        let short = Settings::from_vars(&vars, true, Purpose::Serve, &FileSettings::default());
        assert_eq!(err_var(short), "SECRET_KEY");
        assert_eq!(
            err_var(prod(&[("SECRET_KEY", &"a".repeat(40))])),
            "SECRET_KEY"
        );
        assert_eq!(
            err_var(prod(&[(
                "SECRET_KEY",
                "django-insecure-0123456789abcdefghijklmnop"
            )])),
            "SECRET_KEY"
        );
    }

    #[test]
    fn a_job_does_not_need_the_web_variables() {
        let vars = HashMap::from([
            ("DB_NAME", "t"),
            ("DB_USER", "t"),
            ("DB_HOST", "/cloudsql/p:r:i"),
            ("USE_GCP", "true"),
            ("USE_REDIS", "true"),
        ]);
        let s = Settings::from_vars(&vars, true, Purpose::Job, &FileSettings::default()).unwrap();
        assert!(s.database_url.is_some());
    }

    #[test]
    fn production_needs_a_database() {
        let vars = HashMap::from([("SECRET_KEY", STRONG)]);
        let r = Settings::from_vars(&vars, true, Purpose::Job, &FileSettings::default());
        assert_eq!(err_var(r), "DB_NAME");
        let partial = prod(&[("DB_USER", "")]);
        assert_eq!(err_var(partial), "DB_USER");
    }

    #[test]
    fn media_is_local_by_default_and_on_the_bucket_with_use_gcp() {
        let s = prod(&[]).unwrap();
        assert!(matches!(&s.media.backend, MediaBackend::Local { root } if root == "media"));
        assert_eq!(s.media.public_base, None);
        let gcp = [
            ("USE_GCP", "true"),
            ("GS_PROJECT_ID", "tukiprod"),
            ("GS_BUCKET_NAME", "tuki-media"),
        ];
        let s = prod(&gcp).unwrap();
        assert!(matches!(
            &s.media.backend,
            MediaBackend::Gcs { bucket, credentials_file: None, api_endpoint: None } if bucket == "tuki-media"
        ));
        assert_eq!(
            s.media.public_base.as_deref(),
            Some("https://storage.googleapis.com/tuki-media/")
        );
        let cdn = prod(
            &[
                gcp.as_slice(),
                &[("GS_CUSTOM_ENDPOINT", "https://media.tuki.cl/")],
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(
            cdn.media.public_base.as_deref(),
            Some("https://media.tuki.cl/")
        );
        let emulated = prod(
            &[
                gcp.as_slice(),
                &[("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9023")],
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(
            emulated.media.public_base.as_deref(),
            Some("http://127.0.0.1:9023/tuki-media/")
        );
    }

    #[test]
    fn gcs_credentials_are_checked_at_boot() {
        let gcp = [
            ("USE_GCP", "true"),
            ("GS_PROJECT_ID", "tukiprod"),
            ("GS_BUCKET_NAME", "tuki-media"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| prod(&[gcp.as_slice(), extra].concat());
        assert_eq!(
            err_var(with(&[(
                "GOOGLE_APPLICATION_CREDENTIALS",
                "/nonexistent/key.json"
            )])),
            "GOOGLE_APPLICATION_CREDENTIALS"
        );
        assert_eq!(
            err_var(with(&[("GS_ACCESS_KEY_ID", "GOOG1EXAMPLE")])),
            "GS_SECRET_ACCESS_KEY"
        );
        assert_eq!(
            err_var(with(&[("GS_SECRET_ACCESS_KEY", "hmac-secret-value")])),
            "GS_ACCESS_KEY_ID"
        );
        let hmac = with(&[
            ("GS_ACCESS_KEY_ID", "GOOG1EXAMPLE"),
            ("GS_SECRET_ACCESS_KEY", "hmac-secret-value"),
        ])
        .unwrap();
        assert!(matches!(
            &hmac.media.backend,
            MediaBackend::GcsHmac { endpoint, .. } if endpoint == "https://storage.googleapis.com"
        ));
        // The HMAC secret never reaches a log line.
        assert!(hmac.secrets.contains(&"hmac-secret-value".to_string()));
        assert_eq!(
            err_var(with(&[("GS_CUSTOM_ENDPOINT", "media.tuki.cl")])),
            "GS_CUSTOM_ENDPOINT"
        );
    }

    #[test]
    fn rules_that_span_variables_name_the_missing_one() {
        assert_eq!(
            err_var(prod(&[("USE_GCP", "true"), ("GS_PROJECT_ID", "p")])),
            "GS_BUCKET_NAME"
        );
        assert_eq!(
            err_var(prod(&[("USE_GCP", "true"), ("GS_BUCKET_NAME", "b")])),
            "GS_PROJECT_ID"
        );
        assert_eq!(err_var(prod(&[("USE_REDIS", "true")])), "REDIS_URL");
        assert!(prod(&[
            ("USE_REDIS", "true"),
            ("REDIS_URL", "redis://10.0.0.3:6379/0")
        ])
        .is_ok());
    }

    #[test]
    fn malformed_values_name_their_variable() {
        for (name, value) in [
            ("USE_GCP", "maybe"),
            ("USE_REDIS", "si"),
            ("DB_PORT", "54x"),
            ("DB_POOL_MAX", "0"),
            ("REDIS_URL", "localhost:6379"),
            ("CORS_ALLOWED_ORIGINS", "https://tuki.live/path"),
            ("CORS_ALLOWED_ORIGINS", "tuki.live"),
            ("CSRF_TRUSTED_ORIGINS", "ftp://x.cl"),
            ("FRONTEND_URL", "tuki.cl"),
            ("TRANSBANK_WEBPAY_PLUS_SANDBOX", "2"),
            ("TRANSBANK_API_BASE_URL", "nope"),
            ("ALLOWED_HOSTS", "bad host"),
            ("DATABASE_URL", "mysql://x"),
            ("CATALOGUE_CACHE_SECONDS", "ten"),
        ] {
            assert_eq!(err_var(prod(&[(name, value)])), name, "{name}={value}");
        }
    }

    #[test]
    fn cors_wildcard_is_refused_in_production_only() {
        assert_eq!(
            err_var(prod(&[("CORS_ALLOWED_ORIGINS", "*")])),
            "CORS_ALLOWED_ORIGINS"
        );
        let vars = HashMap::from([("CORS_ALLOWED_ORIGINS", "*")]);
        let dev = Settings::from_vars(&vars, false, Purpose::Serve, &FileSettings::default());
        assert_eq!(dev.unwrap().cors_allowed_origins, vec!["*"]);
    }

    #[test]
    fn backend_url_is_an_http_origin_when_set() {
        assert_eq!(prod(&[]).unwrap().backend_url, None);
        let s = prod(&[("BACKEND_URL", "https://api.tuki.cl/")]).unwrap();
        assert_eq!(s.backend_url.as_deref(), Some("https://api.tuki.cl"));
        assert_eq!(
            err_var(prod(&[("BACKEND_URL", "api.tuki.cl")])),
            "BACKEND_URL"
        );
    }

    #[test]
    fn the_log_project_is_gs_project_id_else_google_cloud_project() {
        assert_eq!(prod(&[]).unwrap().log_project_id, None);
        let s = prod(&[("GOOGLE_CLOUD_PROJECT", "tukiprod")]).unwrap();
        assert_eq!(s.log_project_id.as_deref(), Some("tukiprod"));
        let s = prod(&[
            ("GOOGLE_CLOUD_PROJECT", "otro"),
            ("GS_PROJECT_ID", "tukiprod"),
        ])
        .unwrap();
        assert_eq!(s.log_project_id.as_deref(), Some("tukiprod"));
    }

    #[test]
    fn production_defaults_are_tukis_cloud_run_values() {
        let s = prod(&[]).unwrap();
        assert!(s.allowed_hosts.contains(&"*.run.app".to_string()));
        assert!(s
            .csrf_trusted_origins
            .contains(&"https://*.run.app".to_string()));
        assert_eq!(s.frontend_url, "https://tuki.cl");
        assert!(!s.transbank.sandbox);
        assert_eq!(s.transbank.api_base_url, TRANSBANK_PRODUCTION_URL);
        assert!(!s.use_redis && !s.use_gcp);
    }

    #[test]
    fn production_webpay_needs_its_own_commerce_and_the_sandbox_uses_the_public_one() {
        let mut map: HashMap<&str, &str> = HashMap::from([
            ("SECRET_KEY", STRONG),
            ("DATABASE_URL", "postgres://u@db/x"),
        ]);
        let serve = |m: &HashMap<&str, &str>| {
            Settings::from_vars(m, true, Purpose::Serve, &FileSettings::default())
        };
        // Neither: the admin's credentials (payments 503 until saved).
        let s = serve(&map).unwrap();
        assert!(s.transbank.commerce_code.is_empty() && s.transbank.api_key.is_empty());
        map.insert("TRANSBANK_COMMERCE_CODE", "597000000001");
        assert_eq!(err_var(serve(&map)), "TRANSBANK_API_KEY");
        map.remove("TRANSBANK_COMMERCE_CODE");
        map.insert("TRANSBANK_API_KEY", "tbk-production-key-value");
        assert_eq!(err_var(serve(&map)), "TRANSBANK_COMMERCE_CODE");
        map.insert("TRANSBANK_COMMERCE_CODE", "abc");
        map.insert("TRANSBANK_API_KEY", "tbk-production-key-value");
        assert_eq!(err_var(serve(&map)), "TRANSBANK_COMMERCE_CODE");
        map.insert("TRANSBANK_COMMERCE_CODE", "597000000001");
        let s = serve(&map).unwrap();
        assert!(s.secrets.contains(&"tbk-production-key-value".to_string()));
        // A job needs no Webpay credentials.
        let job = Settings::from_vars(
            &HashMap::from([("DATABASE_URL", "postgres://u@db/x")]),
            true,
            Purpose::Job,
            &FileSettings::default(),
        );
        assert!(job.is_ok());
        // The sandbox falls back to Transbank's public test commerce.
        let sandbox = Settings::from_vars(
            &HashMap::from([
                ("SECRET_KEY", STRONG),
                ("DATABASE_URL", "postgres://u@db/x"),
                ("TRANSBANK_WEBPAY_PLUS_SANDBOX", "true"),
            ]),
            true,
            Purpose::Serve,
            &FileSettings::default(),
        )
        .unwrap();
        assert_eq!(
            sandbox.transbank.commerce_code,
            TRANSBANK_TEST_COMMERCE_CODE
        );
        assert_eq!(sandbox.transbank.api_base_url, TRANSBANK_INTEGRATION_URL);
    }

    #[test]
    fn development_needs_nothing_set() {
        let none: HashMap<&str, &str> = HashMap::new();
        let s =
            Settings::from_vars(&none, false, Purpose::Serve, &FileSettings::default()).unwrap();
        assert!(s.database_url.is_none());
        assert!(s.transbank.sandbox);
        assert_eq!(s.transbank.api_base_url, TRANSBANK_INTEGRATION_URL);
    }

    #[test]
    fn debug_output_hides_the_secret_key() {
        let s = prod(&[]).unwrap();
        assert!(!format!("{s:?}").contains(STRONG));
    }

    #[test]
    fn purpose_is_serve_only_for_start() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        assert_eq!(
            Purpose::from_args(args(&["cli", "-e", "production", "start"])),
            Purpose::Serve
        );
        assert_eq!(
            Purpose::from_args(args(&["cli", "task", "migrate"])),
            Purpose::Job
        );
        assert_eq!(
            Purpose::from_args(args(&["cli", "db", "migrate"])),
            Purpose::Job
        );
    }
}
