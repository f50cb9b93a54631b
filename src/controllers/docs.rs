//! The API's OpenAPI description, generated from the handlers' annotations:
//! `/api/schema/` (YAML, as drf-spectacular served it; JSON with
//! `?format=json` or `Accept: application/json`) and a Swagger UI at
//! `/api/docs/`, served from files built into the binary (no CDN).
//!
//! Open in development; in production only for signed-in staff, as the Django
//! deployment had it.

use std::sync::{Arc, LazyLock};

use axum::{
    extract::{OriginalUri, Path, Query},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::CookieJar;
use loco_rs::prelude::*;
use serde::Deserialize;
use utoipa::OpenApi;

use super::api::{self, auth::Buyer, Api, Detail, FieldErrors};
use crate::views::events::{
    AvailabilitySummary, CategoryResponse, EventCategoryDetail, EventDetailResponse,
    EventImageResponse, EventLocation, LocationResponse, PriceResponse, PublicEventResponse,
    TierMetadata, TierResponse,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tuki API",
        version = "1",
        description = "Tuki's API for the web and mobile frontends: the catalogue, buyer accounts, checkout with Webpay Plus, tickets. \
            Every path answers with and without its trailing slash."
    ),
    components(schemas(
        Detail,
        FieldErrors,
        PublicEventResponse,
        EventDetailResponse,
        TierResponse,
        EventLocation,
        EventCategoryDetail,
        EventImageResponse,
        PriceResponse,
        TierMetadata,
        AvailabilitySummary,
        CategoryResponse,
        LocationResponse,
    )),
    modifiers(&Tables, &BearerAuth, &EdgeRefusals),
    tags(
        (name = "events", description = "The public catalogue and event pages"),
        (name = "catalogue", description = "Lists for the frontends' filters"),
        (name = "auth", description = "Buyer accounts: JWT access (8 h) and refresh (30 days) tokens"),
        (name = "checkout", description = "Reserve seats, book an order, read it"),
        (name = "payments", description = "Webpay Plus"),
        (name = "tickets", description = "Tickets, QR codes and check-in"),
    )
)]
pub struct ApiDoc;

/// The paths, read from the controllers' tables (the routes served), with
/// the schemas their operations use.
struct Tables;

impl utoipa::Modify for Tables {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for table in api::tables() {
            for op in table.documented() {
                openapi
                    .paths
                    .add_path_operation(&op.path, op.methods, op.operation);
                for (name, schema) in op.schemas {
                    components.schemas.entry(name).or_insert(schema);
                }
            }
        }
    }
}

/// `Authorization: Bearer <access token>` as the `bearer` security scheme.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// What the edge refuses before any handler runs (`middleware::nul`): every
/// operation may answer 400 with the field that holds text PostgreSQL cannot
/// store; said once here rather than in every handler's annotation.
struct EdgeRefusals;

impl utoipa::Modify for EdgeRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let refused = ResponseBuilder::new()
            .description(
                "Invalid input: the field (or query parameter) named holds text that cannot be \
                 stored, such as a NUL character, or the body is not the documented JSON",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("FieldErrors")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .entry("400".to_string())
                    .or_insert_with(|| RefOr::T(refused.clone()));
            }
        }
    }
}

/// The spec, rendered once.
static SPEC: LazyLock<(String, String)> = LazyLock::new(|| {
    let doc = ApiDoc::openapi();
    let json = doc.to_pretty_json().unwrap_or_default();
    let yaml = doc.to_yaml().unwrap_or_default();
    (json, yaml)
});

static SWAGGER: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::from("/api/schema/?format=json")
            .try_it_out_enabled(true)
            .validator_url("none"),
    )
});

/// The JSON spec (for tests and tools).
#[must_use]
pub fn spec_json() -> &'static str {
    &SPEC.0
}

/// Production shows the docs to staff only: a request with a staff user's
/// access token (`Authorization: Bearer …`) passes; anyone else gets DRF's
/// `IsAdminUser` answer; staff signed in to `/admin/` see the browser UI.
fn refused(api: &Api, viewer: Option<&crate::models::users::Model>) -> Option<Response> {
    if !api.settings.production || viewer.is_some_and(|u| u.is_active && u.is_staff) {
        return None;
    }
    Some(
        (
            StatusCode::FORBIDDEN,
            Json(Detail {
                detail: "Las credenciales de autenticación no se proveyeron.".to_string(),
            }),
        )
            .into_response(),
    )
}

#[derive(Deserialize)]
struct SchemaQuery {
    format: Option<String>,
}

async fn schema(
    State(ctx): State<AppContext>,
    jar: CookieJar,
    api: Api,
    Buyer(viewer): Buyer,
    Query(q): Query<SchemaQuery>,
    headers: HeaderMap,
) -> Response {
    let viewer = match viewer {
        Some(v) => Some(v),
        None => super::admin::staff_session(&ctx, &jar)
            .await
            .map(|(u, _)| u),
    };
    if let Some(denied) = refused(&api, viewer.as_ref()) {
        return denied;
    }
    let wants_json = match q.format.as_deref() {
        Some(f) => f.eq_ignore_ascii_case("json"),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("json")),
    };
    if wants_json {
        (
            [(
                header::CONTENT_TYPE,
                "application/vnd.oai.openapi+json; charset=utf-8",
            )],
            SPEC.0.clone(),
        )
            .into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                "application/vnd.oai.openapi; charset=utf-8",
            )],
            SPEC.1.clone(),
        )
            .into_response()
    }
}

async fn docs_index(
    State(ctx): State<AppContext>,
    jar: CookieJar,
    api: Api,
    Buyer(viewer): Buyer,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let viewer = match viewer {
        Some(v) => Some(v),
        None => super::admin::staff_session(&ctx, &jar)
            .await
            .map(|(u, _)| u),
    };
    if let Some(denied) = refused(&api, viewer.as_ref()) {
        return denied;
    }
    // The UI's files are relative to `/api/docs/`: the page needs its slash.
    if !uri.path().ends_with('/') {
        return Redirect::permanent("/api/docs/").into_response();
    }
    swagger_file("index.html")
}

async fn docs_file(
    State(ctx): State<AppContext>,
    jar: CookieJar,
    api: Api,
    Buyer(viewer): Buyer,
    Path(tail): Path<String>,
) -> Response {
    let viewer = match viewer {
        Some(v) => Some(v),
        None => super::admin::staff_session(&ctx, &jar)
            .await
            .map(|(u, _)| u),
    };
    if let Some(denied) = refused(&api, viewer.as_ref()) {
        return denied;
    }
    swagger_file(&tail)
}

fn swagger_file(tail: &str) -> Response {
    match utoipa_swagger_ui::serve(tail, SWAGGER.clone()) {
        Ok(Some(file)) => {
            let mut response = (
                [(header::CONTENT_TYPE, file.content_type)],
                file.bytes.into_owned(),
            )
                .into_response();
            if file.gzpipped {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(Detail {
                detail: "No encontrado.".to_string(),
            }),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "swagger ui");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn routes() -> Routes {
    Routes::new()
        .prefix("/api")
        .add("/schema/", get(schema))
        .add("/docs/", get(docs_index))
        .add("/docs/{*tail}", get(docs_file))
}
