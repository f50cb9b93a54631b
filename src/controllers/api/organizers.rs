//! The organizer dashboard's profile endpoints, on backtuki's paths and shapes:
//! `organizers/current/` (read, `PUT`, `PATCH`), its logo upload, and the
//! sign-up wizard's availability checks for a subdomain and an email.
//!
//! Who may do what is resolved once, by the [`Member`] extractor: the
//! signed-in user's organizer and their flags. Every query below is scoped by
//! it; nothing here takes an organizer id from the request.

use axum::{
    extract::{FromRequest, FromRequestParts, Multipart, State},
    http::request::Parts,
    response::{IntoResponse, Response},
    Json,
};
use chrono::Datelike;
use loco_rs::prelude::*;
use sea_orm::{ActiveValue::Set, PaginatorTrait};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{
    auth::{ClientIp, SignedIn},
    drf::{Body, Input},
    Api, ApiError, Detail, RequestUrl, Table,
};
use crate::{
    admin::audit::Change,
    models::{
        event_images::ImageError,
        organizer_members,
        organizers::{self, SIZES},
        users,
    },
    views::events::{iso_santiago, MediaBase},
};

/// DRF's refusal when a permission class says no.
pub const NOT_ALLOWED: &str = "Usted no tiene permiso para realizar esta acción.";

/// The signed-in member of an organizer, with that organizer (their oldest
/// membership as an admin, else their oldest). Anonymous: 401; signed in
/// without any membership: 403 (backtuki's `IsOrganizer`).
pub struct Member {
    pub user: users::Model,
    pub role: organizer_members::Model,
    pub organizer: organizers::Model,
}

impl FromRequestParts<AppContext> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, ctx).await?;
        let (role, organizer) = organizer_members::primary(&ctx.db, user.id)
            .await?
            .ok_or(ApiError::Forbidden(NOT_ALLOWED))?;
        Ok(Self {
            user,
            role,
            organizer,
        })
    }
}

/// The signed-in member of an organizer when the request carries a bearer
/// token that resolves to one; anything else (no token, a bad one, not a
/// member) is `None`: for public pages an organizer sees differently.
pub struct MaybeMember(pub Option<Member>);

impl FromRequestParts<AppContext> for MaybeMember {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &AppContext,
    ) -> Result<Self, Self::Rejection> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Ok(Self(None));
        }
        Ok(Self(Member::from_request_parts(parts, ctx).await.ok()))
    }
}

impl Member {
    /// Writes a change made from the dashboard into the admin's history, as
    /// this user's (`model` is the admin's name for it: `event`,
    /// `tickettier`, `organizer`, `organizermember`). The change is already
    /// made: a failure to log is reported, not returned.
    pub async fn log(
        &self,
        api: &Api,
        model: &str,
        id: Uuid,
        object: &str,
        change: crate::admin::audit::Change,
        message: &str,
    ) {
        let Some(m) = crate::admin::site::by_name(model) else {
            tracing::warn!(model, "no admin model to log an organizer's change");
            return;
        };
        let message = format!("{message} (panel de organizador)");
        if let Err(e) =
            crate::admin::audit::record(&api.db, &self.user, m, id, object, change, &message).await
        {
            tracing::warn!(model, %id, error = %e, "could not log an organizer's change");
        }
    }

    /// Whether this member may change the organizer's profile: its admins
    /// and those who manage its settings.
    #[must_use]
    pub const fn manages_settings(&self) -> bool {
        self.role.is_admin || self.role.can_manage_settings
    }
}

/// An organizer as backtuki's `OrganizerSerializer` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(clippy::struct_excessive_bools)]
pub struct OrganizerResponse {
    pub id: Uuid,
    pub name: String,
    /// The organizer's public address (read-only).
    pub slug: String,
    pub description: String,
    /// The logo's URL.
    pub logo: Option<String>,
    pub website: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub address: String,
    pub city: String,
    pub country: String,
    /// `""`, `small`, `medium` or `large`.
    pub organization_size: String,
    pub representative_name: String,
    pub representative_email: String,
    pub representative_phone: String,
    /// Always `true`: events are what this server sells.
    pub has_events_module: bool,
    /// Always `false` (not served here).
    pub has_accommodation_module: bool,
    /// Always `false` (not served here).
    pub has_experience_module: bool,
    /// Always `principal`.
    pub experience_dashboard_template: &'static str,
    /// Always `false`.
    pub is_student_center: bool,
    /// Read-only.
    pub onboarding_completed: bool,
    /// `active`, `pending` or `suspended` (read-only: staff decide it).
    pub status: String,
    pub created_at: String,
}

impl OrganizerResponse {
    #[must_use]
    pub fn new(o: &organizers::Model, media: &MediaBase) -> Self {
        Self {
            id: o.id,
            name: o.name.clone(),
            slug: o.slug.clone(),
            description: o.description.clone(),
            logo: Some(o.logo.as_str())
                .filter(|p| !p.is_empty())
                .map(|p| media.url(p)),
            website: o.website.clone(),
            contact_email: o.contact_email.clone(),
            contact_phone: o.contact_phone.clone(),
            address: o.address.clone(),
            city: o.city.clone(),
            country: o.country.clone(),
            organization_size: o.organization_size.clone(),
            representative_name: o.representative_name.clone(),
            representative_email: o.representative_email.clone(),
            representative_phone: o.representative_phone.clone(),
            has_events_module: true,
            has_accommodation_module: false,
            has_experience_module: false,
            experience_dashboard_template: "principal",
            is_student_center: false,
            onboarding_completed: o.onboarding_completed,
            status: o.status.clone(),
            created_at: iso_santiago(o.created_at),
        }
    }
}

/// The signed-in member's organizer.
#[utoipa::path(
    get,
    path = "/api/v1/organizers/current/",
    tag = "organizers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organizer", body = OrganizerResponse),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member of any organizer", body = Detail,
            example = json!({"detail": NOT_ALLOWED})),
    )
)]
pub async fn current(api: Api, url: RequestUrl, member: Member) -> Result<Response, ApiError> {
    Ok(super::private_json(OrganizerResponse::new(
        &member.organizer,
        &url.media_base(&api.settings),
    )))
}

/// A URL as Django's `URLField` takes it: http(s) with a host.
fn is_web_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Sets one text column of an organizer.
type SetText = fn(&mut organizers::ActiveModel, String);

/// Reads the writable fields of the profile; `full` (PUT) requires `name`
/// and `contact_email`. Read-only keys (`slug`, `status`, the module flags…)
/// are ignored, as DRF ignores read-only fields.
fn read_profile(
    body: Value,
    full: bool,
    row: &mut organizers::ActiveModel,
) -> Result<(), ApiError> {
    let mut input = Input::new(body);
    if let Some(name) = input.text("name", full, false, 200) {
        row.name = Set(name);
    }
    let texts: [(&str, usize, SetText); 9] = [
        ("description", 10_000, |r, v| r.description = Set(v)),
        ("contact_phone", 30, |r, v| r.contact_phone = Set(v)),
        ("address", 255, |r, v| r.address = Set(v)),
        ("city", 100, |r, v| r.city = Set(v)),
        ("country", 100, |r, v| r.country = Set(v)),
        ("representative_name", 255, |r, v| {
            r.representative_name = Set(v)
        }),
        ("representative_phone", 30, |r, v| {
            r.representative_phone = Set(v)
        }),
        ("website", 200, |r, v| r.website = Set(v)),
        ("organization_size", 10, |r, v| r.organization_size = Set(v)),
    ];
    for (key, max, set) in texts {
        let Some(value) = input.text(key, false, true, max) else {
            continue;
        };
        if key == "website" && !value.is_empty() && !is_web_url(&value) {
            input.error(key, "Introduzca una URL válida.");
            continue;
        }
        if key == "organization_size" && !SIZES.contains(&value.as_str()) {
            input.error(key, format!("\"{value}\" no es una elección válida."));
            continue;
        }
        set(row, value);
    }
    if full || input.has("contact_email") {
        if let Some(email) = input.email("contact_email") {
            row.contact_email = Set(email);
        }
    }
    if let Some(email) = input.text("representative_email", false, true, 254) {
        if email.is_empty() || users::Email::parse(&email).is_ok() {
            row.representative_email = Set(email.to_lowercase());
        } else {
            input.error("representative_email", super::drf::BAD_EMAIL);
        }
    }
    match input.raw("logo") {
        None => {}
        Some(Value::Null) => row.logo = Set(String::new()),
        Some(_) => input.error(
            "logo",
            "La información enviada no era un archivo. Compruebe el tipo de codificación del formulario.",
        ),
    }
    input.finish_fields()
}

async fn update(
    ctx: &AppContext,
    api: &Api,
    url: &RequestUrl,
    member: Member,
    body: Value,
    full: bool,
) -> Result<Response, ApiError> {
    if !member.manages_settings() {
        return Err(ApiError::Forbidden(NOT_ALLOWED));
    }
    let old_logo = member.organizer.logo.clone();
    let mut row: organizers::ActiveModel = member.organizer.clone().into();
    read_profile(body, full, &mut row)?;
    let saved = row.update(&api.db).await?;
    let before = serde_json::to_value(&member.organizer).unwrap_or_default();
    let after = serde_json::to_value(&saved).unwrap_or_default();
    let mut fields: Vec<&str> = before
        .as_object()
        .map(|b| {
            b.iter()
                .filter(|(k, v)| k.as_str() != "updated_at" && after.get(k.as_str()) != Some(*v))
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default();
    fields.sort_unstable();
    let message = if fields.is_empty() {
        "No ha cambiado ningún campo.".to_string()
    } else {
        format!("Modificado {}.", fields.join(", "))
    };
    member
        .log(
            api,
            "organizer",
            saved.id,
            &saved.name,
            Change::Changed,
            &message,
        )
        .await;
    if saved.logo.is_empty() && !old_logo.is_empty() {
        if let Err(e) = ctx.storage.delete(std::path::Path::new(&old_logo)).await {
            tracing::warn!(key = old_logo, error = %e, "could not delete a cleared logo");
        }
    }
    api.cache.invalidate();
    Ok(super::private_json(OrganizerResponse::new(
        &saved,
        &url.media_base(&api.settings),
    )))
}

/// Replaces the organizer's profile (`name` and `contact_email` required):
/// its admins and settings managers only.
#[utoipa::path(
    put,
    path = "/api/v1/organizers/current/",
    tag = "organizers",
    security(("bearer" = [])),
    request_body(content = super::bodies::OrganizerUpdate, description = "The writable fields; `logo: null` removes the logo"),
    responses(
        (status = 200, description = "The organizer as saved", body = OrganizerResponse),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member, or one who may not change settings", body = Detail),
    )
)]
pub async fn replace(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    member: Member,
    Body(body): Body,
) -> Result<Response, ApiError> {
    update(&ctx, &api, &url, member, body, true).await
}

/// Changes some of the organizer's profile: its admins and settings
/// managers only.
#[utoipa::path(
    patch,
    path = "/api/v1/organizers/current/",
    tag = "organizers",
    security(("bearer" = [])),
    request_body(content = super::bodies::OrganizerUpdate, description = "Any of the writable fields; `logo: null` removes the logo"),
    responses(
        (status = 200, description = "The organizer as saved", body = OrganizerResponse),
        (status = 400, description = "Each wrong field with its messages", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member, or one who may not change settings", body = Detail),
    )
)]
pub async fn amend(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    member: Member,
    Body(body): Body,
) -> Result<Response, ApiError> {
    update(&ctx, &api, &url, member, body, false).await
}

/// `upload-logo`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LogoUploaded {
    pub logo: String,
    pub file_path: String,
    pub message: &'static str,
}

/// A new logo (multipart field `logo`: JPEG, PNG, GIF or WebP, at most
/// 5 MB, recognised by its bytes): its admins and settings managers only.
#[utoipa::path(
    post,
    path = "/api/v1/organizers/current/upload-logo/",
    tag = "organizers",
    security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "`logo`: the image file"),
    responses(
        (status = 200, description = "Stored; the organizer now shows it", body = LogoUploaded),
        (status = 400, description = "No file, not an image, or too big", body = Detail,
            example = json!({"detail": "No file provided. Use \"logo\" as the field name."})),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a member, or one who may not change settings", body = Detail),
        (status = 415, description = "Not a multipart form", body = Detail),
    )
)]
pub async fn upload_logo(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    member: Member,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    if !member.manages_settings() {
        return Err(ApiError::Forbidden(NOT_ALLOWED));
    }
    let mut form = Multipart::from_request(req, &ctx)
        .await
        .map_err(|_| ApiError::UnsupportedMedia)?;
    let mut content = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(format!("Malformed form: {}", e.body_text())))?
    {
        if field.name() == Some("logo") {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::BadRequest(format!("Malformed form: {}", e.body_text())))?;
            content = Some(bytes);
            break;
        }
    }
    let Some(content) = content.filter(|c| !c.is_empty()) else {
        return Err(ApiError::BadRequest(
            "No file provided. Use \"logo\" as the field name.".into(),
        ));
    };
    let saved = match organizers::set_logo(&ctx, &member.organizer, content).await {
        Ok(saved) => saved,
        Err(ImageError::NotAnImage) => {
            return Err(ApiError::BadRequest("File must be an image.".into()))
        }
        Err(ImageError::TooLarge) => {
            return Err(ApiError::BadRequest(
                "File size must be less than 5MB.".into(),
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "a logo could not be stored");
            return Err(ApiError::Internal);
        }
    };
    member
        .log(
            &api,
            "organizer",
            saved.id,
            &saved.name,
            Change::Changed,
            "Modificado logo.",
        )
        .await;
    Ok(Json(LogoUploaded {
        logo: url.media_base(&api.settings).url(&saved.logo),
        file_path: saved.logo,
        message: "Logo uploaded successfully",
    })
    .into_response())
}

/// NameAvailability checks per client address in 15 minutes (the email check
/// tells whether an address has an account).
const CHECKS_PER_CLIENT: u64 = 30;

/// Subdomains the platform keeps for itself.
pub const RESERVED: [&str; 35] = [
    "admin",
    "api",
    "www",
    "mail",
    "ftp",
    "localhost",
    "test",
    "dev",
    "staging",
    "prod",
    "production",
    "app",
    "support",
    "help",
    "docs",
    "blog",
    "news",
    "status",
    "dashboard",
    "panel",
    "control",
    "manage",
    "system",
    "root",
    "user",
    "tuki",
    "eventos",
    "experiencias",
    "alojamientos",
    "tickets",
    "reservas",
    "pagos",
    "facturacion",
    "media",
    "static",
];

/// `check-subdomain` and `check-email`'s answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NameAvailability {
    pub available: bool,
    pub message: String,
    /// Free alternatives (subdomains only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Vec<String>>,
}

/// Why a subdomain is malformed, in backtuki's words.
pub fn subdomain_problem(slug: &str) -> Option<&'static str> {
    if slug.is_empty() {
        Some("El subdominio no puede estar vacío.")
    } else if slug.chars().count() < 3 {
        Some("El subdominio debe tener al menos 3 caracteres.")
    } else if slug.chars().count() > 50 {
        Some("El subdominio no puede tener más de 50 caracteres.")
    } else if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("El subdominio solo puede contener letras minúsculas, números y guiones.")
    } else if slug.starts_with('-') || slug.ends_with('-') {
        Some("El subdominio no puede empezar o terminar con guión.")
    } else if slug.contains("--") {
        Some("El subdominio no puede tener guiones consecutivos.")
    } else {
        None
    }
}

async fn slug_taken(api: &Api, slug: &str) -> Result<bool, ApiError> {
    Ok(organizers::Entity::find()
        .filter(organizers::Column::Slug.eq(slug))
        .count(&api.db)
        .await?
        > 0)
}

async fn count_check(ctx: &AppContext, ip: &str) -> Result<(), ApiError> {
    crate::platform::context::throttle(ctx)?
        .limit(&format!("organizer-check:ip:{ip}"), CHECKS_PER_CLIENT)
        .await
        .map_err(ApiError::TooManyRequests)
}

/// Whether a subdomain (an organizer's slug) is free, with alternatives.
#[utoipa::path(
    get,
    path = "/api/v1/organizers/check-subdomain/",
    tag = "organizers",
    params(("slug" = Option<String>, Query, description = "The subdomain wanted")),
    responses(
        (status = 200, description = "Free, or taken/reserved with free alternatives", body = NameAvailability),
        (status = 400, description = "Malformed (`{available: false, message}`), or a parameter with a NUL character (its errors)", body = Object),
        (status = 429, description = "Too many checks from this client", body = Detail),
    )
)]
pub async fn check_subdomain(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    ClientIp(ip): ClientIp,
) -> Result<Response, ApiError> {
    count_check(&ctx, &ip).await?;
    let slug = url.get("slug").unwrap_or("").trim().to_lowercase();
    if let Some(problem) = subdomain_problem(&slug) {
        return Ok((
            axum::http::StatusCode::BAD_REQUEST,
            Json(NameAvailability {
                available: false,
                message: problem.into(),
                suggestions: Some(Vec::new()),
            }),
        )
            .into_response());
    }
    let reserved = RESERVED.contains(&slug.as_str());
    if !reserved && !slug_taken(&api, &slug).await? {
        return Ok(Json(NameAvailability {
            available: true,
            message: format!("¡Perfecto! \"{slug}\" está disponible."),
            suggestions: Some(Vec::new()),
        })
        .into_response());
    }
    let year = chrono::Utc::now().year();
    let mut suggestions = Vec::new();
    let candidates = (1..=5)
        .map(|n| format!("{slug}{n}"))
        .chain([format!("{slug}{year}"), format!("{slug}-oficial")]);
    for candidate in candidates {
        if suggestions.len() == 3 {
            break;
        }
        if subdomain_problem(&candidate).is_none()
            && !RESERVED.contains(&candidate.as_str())
            && !slug_taken(&api, &candidate).await?
        {
            suggestions.push(candidate);
        }
    }
    let message = if reserved {
        format!("\"{slug}\" es un subdominio reservado del sistema.")
    } else {
        format!("El subdominio \"{slug}\" ya está en uso.")
    };
    Ok(Json(NameAvailability {
        available: false,
        message,
        suggestions: Some(suggestions),
    })
    .into_response())
}

/// Whether an email is free for a new organizer account.
#[utoipa::path(
    get,
    path = "/api/v1/organizers/check-email/",
    tag = "organizers",
    params(("email" = Option<String>, Query, description = "The email wanted")),
    responses(
        (status = 200, description = "Free, or already registered", body = NameAvailability),
        (status = 400, description = "Malformed (`{available: false, message}`), or a parameter with a NUL character (its errors)", body = Object),
        (status = 429, description = "Too many checks from this client", body = Detail),
    )
)]
pub async fn check_email(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    ClientIp(ip): ClientIp,
) -> Result<Response, ApiError> {
    count_check(&ctx, &ip).await?;
    let email = url.get("email").unwrap_or("").trim().to_lowercase();
    let refuse = |message: &str| {
        Ok((
            axum::http::StatusCode::BAD_REQUEST,
            Json(NameAvailability {
                available: false,
                message: message.into(),
                suggestions: None,
            }),
        )
            .into_response())
    };
    if email.is_empty() {
        return refuse("El email no puede estar vacío.");
    }
    if users::Email::parse(&email).is_err() {
        return refuse("El formato del email no es válido.");
    }
    let taken = users::Model::find_by_email(&api.db, &email)
        .await?
        .is_some();
    Ok(Json(NameAvailability {
        available: !taken,
        message: if taken {
            format!("El email \"{email}\" ya está registrado en el sistema.")
        } else {
            format!("¡Perfecto! \"{email}\" está disponible.")
        },
        suggestions: None,
    })
    .into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_current, current)
        .doc(__path_replace, replace)
        .doc(__path_amend, amend)
        .doc(__path_upload_logo, upload_logo)
        .doc(__path_check_subdomain, check_subdomain)
        .doc(__path_check_email, check_email)
}

pub fn routes() -> Routes {
    table().routes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_are_checked_as_backtuki_did() {
        assert_eq!(
            subdomain_problem("ab"),
            Some("El subdominio debe tener al menos 3 caracteres.")
        );
        assert_eq!(
            subdomain_problem("-abc"),
            Some("El subdominio no puede empezar o terminar con guión.")
        );
        assert_eq!(
            subdomain_problem("a--b"),
            Some("El subdominio no puede tener guiones consecutivos.")
        );
        assert_eq!(
            subdomain_problem("Ñuble"),
            Some("El subdominio solo puede contener letras minúsculas, números y guiones.")
        );
        assert_eq!(subdomain_problem("productora-sur"), None);
        assert!(is_web_url("https://tuki.cl/x") && !is_web_url("javascript:alert(1)"));
    }
}
