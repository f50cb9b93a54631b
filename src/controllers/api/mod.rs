//! The JSON API under `/api/v1/`, with DRF's shapes: page
//! `{"count","next","previous","results"}`, errors `{"detail": …}` or
//! `{"field": ["…"]}`; each path answers with and without its trailing slash
//! (`middleware::slash`).

pub mod accounts;
pub mod auth;
pub mod bodies;
pub mod catalogue;
pub mod checkout;
pub mod confirmation;
pub mod door;
pub mod drf;
pub mod events;
pub mod organizer_auth;
pub mod organizer_categories;
pub mod organizer_coupons;
pub mod organizer_courtesy;
pub mod organizer_events;
pub mod organizer_exports;
pub mod organizer_onboarding;
pub mod organizer_orders;
pub mod organizer_stats;
pub mod organizer_team;
pub mod organizer_tiers;
pub mod organizers;
pub mod otp;
pub mod pay;
pub mod purchase;
pub mod reservations;
pub mod table;
pub mod tickets;

pub use table::Table;

/// Every API controller's table, for the OpenAPI description.
#[must_use]
pub fn tables() -> Vec<Table> {
    vec![
        events::table(),
        catalogue::table(),
        auth::table(),
        accounts::table(),
        otp::table(),
        pay::table(),
        confirmation::table(),
        reservations::table(),
        checkout::table(),
        tickets::table(),
        organizers::table(),
        organizer_auth::table(),
        organizer_events::table(),
        organizer_tiers::table(),
        organizer_onboarding::table(),
        organizer_team::table(),
        organizer_categories::table(),
        organizer_orders::table(),
        organizer_stats::table(),
        organizer_exports::table(),
        organizer_coupons::table(),
        door::table(),
        organizer_courtesy::table(),
    ]
}

use std::future::Future;

use axum::{
    body::Bytes,
    extract::FromRequestParts,
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use loco_rs::app::AppContext;
use serde::Serialize;
use serde_json::json;

use crate::{middleware::https::forwarded_scheme, views::events::MediaBase};

pub const PAGE_SIZE: u64 = 20;

/// A client-facing API error with a fixed public message; causes go to the log.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// 404 `{"detail": …}`.
    NotFound(&'static str),
    /// 400 `{"field": ["message"]}`.
    Field(&'static str, String),
    /// 400 with several fields' messages.
    Fields(std::collections::BTreeMap<String, Vec<String>>),
    /// 400 `{"detail": …}`: the request as a whole is wrong (bad JSON).
    BadRequest(String),
    /// 401 `{"detail", "code"}` (simplejwt's shape), with `WWW-Authenticate`.
    Unauthorized(&'static str, &'static str),
    /// 403 `{"detail": …}`.
    Forbidden(&'static str),
    /// 409 with a body that says what is in the way.
    Conflict(serde_json::Value),
    /// 429: too many attempts; retry after this many seconds.
    TooManyRequests(u64),
    /// 429 with its own message: a per-client limit (holds, pending orders).
    Limit(String),
    /// 502: a payment provider answered with an error.
    BadGateway(&'static str),
    /// 503: the database (or another dependency) is not answering.
    Unavailable,
    /// 503: Webpay has no credentials yet (neither in the environment nor
    /// saved in the admin).
    PaymentsOff,
    /// 503 with `Retry-After`: at capacity for slow work (password hashing).
    Busy,
    /// backtuki's own shape: `{"success": false, "message": …}` with the
    /// fields' errors under `errors` when there are any.
    Envelope(
        StatusCode,
        String,
        Option<std::collections::BTreeMap<String, Vec<String>>>,
    ),
    /// 415: the body is in a format the endpoint does not read.
    UnsupportedMedia,
    /// 500: unexpected.
    Internal,
}

impl ApiError {
    /// backtuki's `{"success": false, "message": …}` with this status.
    #[must_use]
    pub fn refused(status: StatusCode, message: &str) -> Self {
        Self::Envelope(status, message.to_string(), None)
    }
}

/// simplejwt's answer to a missing, bad or expired token.
pub const TOKEN_NOT_VALID: ApiError = ApiError::Unauthorized(
    "El token dado no es válido para ningún tipo de token",
    "token_not_valid",
);
/// DRF's answer when a signed-in user is required.
pub const NOT_AUTHENTICATED: ApiError = ApiError::Unauthorized(
    "Las credenciales de autenticación no se proveyeron.",
    "not_authenticated",
);

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        if matches!(
            err,
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_)
        ) {
            tracing::error!(error = %err, "database unavailable");
            Self::Unavailable
        } else {
            tracing::error!(error = %err, "database error");
            Self::Internal
        }
    }
}

impl From<loco_rs::model::ModelError> for ApiError {
    fn from(err: loco_rs::model::ModelError) -> Self {
        match err {
            loco_rs::model::ModelError::DbErr(e) => e.into(),
            loco_rs::model::ModelError::Any(e) if e.is::<crate::accounts::passwords::Busy>() => {
                Self::Busy
            }
            other => {
                tracing::error!(error = %other, "model error");
                Self::Internal
            }
        }
    }
}

impl From<loco_rs::Error> for ApiError {
    fn from(err: loco_rs::Error) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::Internal
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound(detail) => (StatusCode::NOT_FOUND, Json(json!({ "detail": detail }))),
            Self::Field(field, message) => {
                (StatusCode::BAD_REQUEST, Json(json!({ field: [message] })))
            }
            Self::Fields(errors) => (StatusCode::BAD_REQUEST, Json(json!(errors))),
            Self::BadRequest(detail) => {
                (StatusCode::BAD_REQUEST, Json(json!({ "detail": detail })))
            }
            Self::Unauthorized(detail, code) => {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"api\"")],
                    Json(json!({ "detail": detail, "code": code })),
                )
                    .into_response()
            }
            Self::Forbidden(detail) => (StatusCode::FORBIDDEN, Json(json!({ "detail": detail }))),
            Self::Conflict(body) => (StatusCode::CONFLICT, Json(body)),
            Self::TooManyRequests(seconds) => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, seconds.to_string())],
                    Json(json!({
                        "detail": format!(
                            "Demasiados intentos. Intenta de nuevo en {} minutos.",
                            seconds.div_ceil(60)
                        )
                    })),
                )
                    .into_response()
            }
            Self::Limit(detail) => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "60")],
                    Json(json!({ "detail": detail })),
                )
                    .into_response()
            }
            Self::BadGateway(detail) => {
                (StatusCode::BAD_GATEWAY, Json(json!({ "detail": detail })))
            }
            Self::Busy => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "2")],
                    Json(json!({
                        "detail": "Hay muchas solicitudes en este momento. Intenta de nuevo en unos segundos."
                    })),
                )
                    .into_response()
            }
            Self::Envelope(status, message, errors) => {
                let mut body = json!({ "success": false, "message": message });
                if let Some(errors) = errors {
                    body["errors"] = json!(errors);
                }
                (status, Json(body))
            }
            Self::UnsupportedMedia => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({"detail": "Tipo de medio incompatible en la solicitud."})),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"detail": "Servicio no disponible temporalmente."})),
            ),
            Self::PaymentsOff => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"detail": crate::payments::credentials::NOT_CONFIGURED})),
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"detail": "Error interno del servidor."})),
            ),
        }
        .into_response()
    }
}

/// A body that did not parse as `T`: the field serde named (missing, or of
/// the wrong type) as DRF would, or the JSON as a whole.
#[must_use]
pub fn shape_error(e: &serde_json::Error) -> ApiError {
    if !e.is_data() {
        return ApiError::BadRequest("JSON mal formado.".into());
    }
    // "missing field `x`" / "invalid type …": name the field if serde did.
    let message = e.to_string();
    let field = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field"))
        .map_or_else(|| "non_field_errors".to_string(), str::to_string);
    let text = if message.starts_with("missing field") {
        "Este campo es requerido.".to_string()
    } else {
        format!(
            "Dato inválido: {}",
            message.split(" at line").next().unwrap_or("")
        )
    };
    ApiError::Fields(std::collections::BTreeMap::from([(field, vec![text])]))
}

/// A JSON request body. Malformed JSON or a wrong shape is a 400 naming what
/// is wrong (axum's own rejection would be a 422 in plain text).
pub struct JsonBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        serde_json::from_slice::<T>(&bytes)
            .map(Self)
            .map_err(|e| shape_error(&e))
    }
}

/// A JSON answer about one person's order or tickets: never kept by a
/// browser or a shared cache (`Cache-Control: private, no-store`).
pub fn private_json<T: serde::Serialize>(body: T) -> Response {
    (
        [(axum::http::header::CACHE_CONTROL, "private, no-store")],
        Json(body),
    )
        .into_response()
}

/// What an API handler needs from the app, taken by reference from the
/// router's state: extracting `State<AppContext>` clones the whole context
/// (its config included) on every request.
#[derive(Clone)]
pub struct Api {
    pub db: sea_orm::DatabaseConnection,
    pub settings: std::sync::Arc<crate::platform::settings::Settings>,
    pub cache: std::sync::Arc<crate::platform::cache::ResponseCache>,
}

impl Api {
    /// The handles of `ctx`.
    ///
    /// # Errors
    /// When the app's shared store was not set up (never after boot).
    pub fn of(ctx: &AppContext) -> Result<Self, ApiError> {
        Ok(Self {
            db: ctx.db.clone(),
            settings: crate::platform::context::settings(ctx)?,
            cache: crate::platform::context::cache(ctx)?,
        })
    }
}

impl FromRequestParts<AppContext> for Api {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, ctx: &AppContext) -> Result<Self, Self::Rejection> {
        Self::of(ctx)
    }
}

/// The request as the client addressed it: scheme (from `X-Forwarded-Proto`
/// behind Google's front end), host, path and query pairs in order.
#[derive(Debug, Clone)]
pub struct RequestUrl {
    pub scheme: String,
    pub host: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The query string as sent (part of the cache key).
    pub raw_query: String,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let scheme = forwarded_scheme(&parts.headers)
            .filter(|s| s.eq_ignore_ascii_case("https"))
            .map_or("http", |_| "https")
            .to_string();
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| {
                parts
                    .uri
                    .authority()
                    .map(axum::http::uri::Authority::as_str)
            })
            .unwrap_or("localhost");
        // Case and a trailing dot name the same host (and the same cached answer).
        let host = crate::platform::cache::host_key(host);
        // The URI as the client sent it (before the trailing slash was trimmed).
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let raw_query = uri.query().unwrap_or_default().to_string();
        let query = url::form_urlencoded::parse(raw_query.as_bytes())
            .into_owned()
            .collect();
        Ok(Self {
            scheme,
            host,
            path: uri.path().to_string(),
            query,
            raw_query,
        })
    }
}

impl RequestUrl {
    /// Every value of a (repeatable) parameter.
    #[must_use]
    pub fn all(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The last value of a parameter, as Django's `QueryDict.get`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// This URL with `page` set (or removed for page 1), its parameters sorted
    /// by name as DRF's `replace_query_param` writes them.
    #[must_use]
    pub fn with_page(&self, page: Option<u64>) -> String {
        let mut keys: Vec<&str> = Vec::new();
        for (k, _) in &self.query {
            if k != "page" && !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
        if page.is_some() {
            keys.push("page");
        }
        keys.sort_unstable();
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for key in keys {
            if key == "page" {
                if let Some(p) = page {
                    out.append_pair("page", &p.to_string());
                }
            } else {
                for (_, v) in self.query.iter().filter(|(k, _)| k == key) {
                    out.append_pair(key, v);
                }
            }
        }
        let query = out.finish();
        let sep = if query.is_empty() { "" } else { "?" };
        format!("{}://{}{}{sep}{query}", self.scheme, self.host, self.path)
    }

    /// The cache key of the answer to this URL (see `cache::key`).
    #[must_use]
    pub fn cache_key(&self) -> String {
        crate::platform::cache::key(
            &self.scheme,
            &self.host,
            &self.path,
            &crate::platform::cache::canonical_query(&self.path, self.query.iter().cloned()),
        )
    }

    /// This URL with only the catalogue's own parameters, in canonical form
    /// (what its answer, links included, is made from).
    #[must_use]
    pub fn canonical(&self) -> Self {
        let query = crate::platform::cache::canonical_query(&self.path, self.query.iter().cloned());
        let raw_query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&query)
            .finish();
        Self {
            query,
            raw_query,
            ..self.clone()
        }
    }

    /// This API's origin as the client reached it (`https://host`).
    #[must_use]
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }

    /// The media base for image URLs: the bucket's public address, or this
    /// host's `/media/`.
    #[must_use]
    pub fn media_base(&self, settings: &crate::platform::settings::Settings) -> MediaBase {
        match &settings.media.public_base {
            Some(base) => MediaBase(base.clone()),
            None => MediaBase(format!("{}://{}/media/", self.scheme, self.host)),
        }
    }
}

/// DRF's page number: `?page=N` (1-based) or `last`; anything else that is
/// out of range is `Página inválida.`
///
/// # Errors
/// 404 with DRF's Spanish message for a page that does not exist.
pub fn page_number(raw: Option<&str>, count: u64) -> Result<u64, ApiError> {
    let pages = count.div_ceil(PAGE_SIZE).max(1);
    let page = match parse_page(raw)? {
        PageRequest::Number(n) => n,
        PageRequest::Last => pages,
    };
    if page > pages {
        return Err(ApiError::NotFound(INVALID_PAGE));
    }
    Ok(page)
}

/// A JSON body, serialized once.
///
/// # Errors
/// Serialization failure (never for these types).
pub fn json_bytes<T: Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
        tracing::error!(error = %e, "serializing a response");
        ApiError::Internal
    })
}

/// A public GET answered through the catalogue cache: at most
/// `CATALOGUE_CACHE_SECONDS` stale, rendered once for concurrent misses.
///
/// # Errors
/// What `render` fails with (never cached).
pub async fn cached_json<F, Fut>(
    api: &Api,
    url: &RequestUrl,
    render: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Bytes, ApiError>>,
{
    let body = api.cache.get_or_render(url.cache_key(), render).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A requested page before the count is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    Number(u64),
    Last,
}

/// `?page=`: a positive number or `last`; anything else is `Página inválida.`
///
/// # Errors
/// 404 with DRF's Spanish message.
pub fn parse_page(raw: Option<&str>) -> Result<PageRequest, ApiError> {
    match raw {
        None | Some("") => Ok(PageRequest::Number(1)),
        Some("last") => Ok(PageRequest::Last),
        Some(p) => p
            .parse::<u64>()
            .ok()
            // No listing has a billion pages; bigger numbers would overflow OFFSET.
            .filter(|n| (1..=1_000_000_000).contains(n))
            .map(PageRequest::Number)
            .ok_or(ApiError::NotFound(INVALID_PAGE)),
    }
}

pub const INVALID_PAGE: &str = "Página inválida.";

/// DRF's error body: `{"detail": "…"}` (documentation only; errors are built
/// by [`ApiError`]).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub detail: String,
}

/// DRF's validation error body: each invalid field with its messages — or,
/// for a body that is not JSON at all, DRF's `{"detail": …}`.
#[derive(Debug, Serialize)]
pub struct FieldErrors(pub std::collections::BTreeMap<String, Vec<String>>);

impl utoipa::PartialSchema for FieldErrors {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Type};
        let messages = ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .build();
        ObjectBuilder::new()
            .property("detail", ObjectBuilder::new().schema_type(Type::String))
            .additional_properties(Some(AdditionalProperties::RefOr(messages.into())))
            .description(Some(
                "Each invalid field with its messages (`{\"field\": [\"…\"]}`), or `{\"detail\": …}` when the body is not JSON",
            ))
            .into()
    }
}

impl utoipa::ToSchema for FieldErrors {}

/// DRF's page shape (`?no_pagination=true` answers `results` alone).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    #[schema(required = false)]
    pub count: u64,
    #[schema(required = false)]
    pub next: Option<String>,
    #[schema(required = false)]
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> Page<T> {
    #[must_use]
    pub fn new(url: &RequestUrl, count: u64, page: u64, results: Vec<T>) -> Self {
        let pages = count.div_ceil(PAGE_SIZE).max(1);
        Self {
            count,
            next: (page < pages).then(|| url.with_page(Some(page + 1))),
            previous: match page {
                1 => None,
                2 => Some(url.with_page(None)),
                p => Some(url.with_page(Some(p - 1))),
            },
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(query: &[(&str, &str)]) -> RequestUrl {
        RequestUrl {
            scheme: "https".into(),
            host: "api.tuki.live".into(),
            path: "/api/v1/events/public_list/".into(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            raw_query: String::new(),
        }
    }

    #[test]
    fn page_links_sort_parameters_and_drop_page_one_as_drf_does() {
        let u = url(&[
            ("type", "concert"),
            ("page", "2"),
            ("category", "Música"),
            ("type", "party"),
        ]);
        assert_eq!(
            u.with_page(Some(3)),
            "https://api.tuki.live/api/v1/events/public_list/?category=M%C3%BAsica&page=3&type=concert&type=party"
        );
        assert_eq!(
            u.with_page(None),
            "https://api.tuki.live/api/v1/events/public_list/?category=M%C3%BAsica&type=concert&type=party"
        );
        assert_eq!(
            url(&[]).with_page(None),
            "https://api.tuki.live/api/v1/events/public_list/"
        );
    }

    #[test]
    fn page_numbers_outside_the_range_are_invalid() {
        assert_eq!(page_number(None, 0).unwrap(), 1);
        assert_eq!(page_number(Some("3"), 41).unwrap(), 3);
        assert_eq!(page_number(Some("last"), 41).unwrap(), 3);
        for bad in ["0", "4", "-1", "x", "1.5"] {
            assert!(page_number(Some(bad), 41).is_err(), "{bad}");
        }
    }
}
