//! The organizer sign-up wizard, on backtuki's paths and shapes:
//! `organizers/onboarding/start/` (= `organizer-onboarding/current/`),
//! `organizers/onboarding/step/` (= `organizer-onboarding/save_step/`) and
//! `organizers/onboarding/complete/`.
//!
//! A wizard is anonymous: its id (a random UUID) is what lets a browser carry
//! on with it. New wizards are counted per client; each step's values are
//! checked as they are saved; completing makes the organizer `pending` with
//! its contact's account as first admin, and the organizer becomes `active`
//! when that admin first signs in by an emailed code (the email is proved).

use axum::{extract::State, response::Response};
use loco_rs::prelude::*;
use sea_orm::ActiveValue::Set;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    auth::ClientIp,
    drf::{Body, Input},
    organizers::{subdomain_problem, OrganizerResponse, RESERVED},
    Api, ApiError, Detail, RequestUrl, Table,
};
use crate::{
    models::{
        organizer_onboardings::{self, complete, CompleteError, TYPES},
        organizers::SIZES,
        users,
    },
    views::events::iso_santiago,
};

/// New wizards per client address in 15 minutes.
const STARTS_PER_CLIENT: u64 = 20;

/// A wizard as backtuki's `OrganizerOnboardingSerializer` shows it. The
/// survey answers backtuki never stored are always `""`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OnboardingResponse {
    pub id: Uuid,
    pub organizer: Option<Uuid>,
    #[schema(value_type = Vec<String>)]
    pub selected_types: Value,
    pub organization_name: String,
    pub organization_slug: String,
    pub organization_size: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub has_experience: &'static str,
    pub has_experience_display: &'static str,
    pub experience_years: &'static str,
    pub experience_years_display: &'static str,
    pub event_size: &'static str,
    pub event_size_display: &'static str,
    pub experience_type: &'static str,
    pub experience_type_display: &'static str,
    pub experience_frequency: &'static str,
    pub experience_frequency_display: &'static str,
    pub accommodation_type: &'static str,
    pub accommodation_type_display: &'static str,
    pub accommodation_capacity: &'static str,
    pub accommodation_capacity_display: &'static str,
    pub completed_step: i32,
    pub is_completed: bool,
    pub created_at: String,
}

impl From<&organizer_onboardings::Model> for OnboardingResponse {
    fn from(o: &organizer_onboardings::Model) -> Self {
        Self {
            id: o.id,
            organizer: o.organizer_id,
            selected_types: serde_json::from_str(&o.selected_types).unwrap_or_else(|_| json!([])),
            organization_name: o.organization_name.clone(),
            organization_slug: o.organization_slug.clone(),
            organization_size: o.organization_size.clone(),
            contact_name: o.contact_name.clone(),
            contact_email: o.contact_email.clone(),
            contact_phone: o.contact_phone.clone(),
            has_experience: "",
            has_experience_display: "",
            experience_years: "",
            experience_years_display: "",
            event_size: "",
            event_size_display: "",
            experience_type: "",
            experience_type_display: "",
            experience_frequency: "",
            experience_frequency_display: "",
            accommodation_type: "",
            accommodation_type_display: "",
            accommodation_capacity: "",
            accommodation_capacity_display: "",
            completed_step: o.completed_step,
            is_completed: o.is_completed,
            created_at: iso_santiago(o.created_at),
        }
    }
}

fn wizard_id(raw: Option<&Value>) -> Option<Uuid> {
    match raw {
        Some(Value::String(s)) => Uuid::parse_str(s.trim()).ok(),
        _ => None,
    }
}

async fn find(api: &Api, id: Uuid) -> Result<organizer_onboardings::Model, ApiError> {
    organizer_onboardings::Entity::find_by_id(id)
        .one(&api.db)
        .await?
        .ok_or(ApiError::NotFound("No encontrado."))
}

/// A wizard by `?id=`, or a new one without it.
#[utoipa::path(
    get,
    path = "/api/v1/organizers/onboarding/start/",
    tag = "organizers",
    params(("id" = Option<String>, Query, description = "A wizard already started")),
    responses(
        (status = 200, description = "The wizard", body = OnboardingResponse),
        (status = 400, description = "A parameter with a NUL character", body = super::FieldErrors),
        (status = 404, description = "No such wizard", body = Detail),
        (status = 429, description = "Too many new wizards from this client", body = Detail),
    )
)]
pub async fn start(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    ClientIp(ip): ClientIp,
) -> Result<Response, ApiError> {
    if let Some(id) = url.get("id").filter(|s| !s.trim().is_empty()) {
        let id = Uuid::parse_str(id.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
        let row = find(&api, id).await?;
        return Ok(super::private_json(OnboardingResponse::from(&row)));
    }
    crate::platform::context::throttle(&ctx)?
        .limit(&format!("organizer-onboarding:ip:{ip}"), STARTS_PER_CLIENT)
        .await
        .map_err(ApiError::TooManyRequests)?;
    let now = chrono::Utc::now().fixed_offset();
    let row = organizer_onboardings::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(None),
        selected_types: Set("[]".into()),
        organization_name: Set(String::new()),
        organization_slug: Set(String::new()),
        organization_size: Set(String::new()),
        contact_name: Set(String::new()),
        contact_email: Set(String::new()),
        contact_phone: Set(String::new()),
        completed_step: Set(0),
        is_completed: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&api.db)
    .await?;
    Ok(super::private_json(OnboardingResponse::from(&row)))
}

fn invalid_request() -> ApiError {
    ApiError::BadRequest(
        "Invalid request. 'onboarding_id', 'step', and 'data' are required.".into(),
    )
}

/// Step 1's business types: a list of known kinds.
fn read_types(input: &mut Input) -> Option<String> {
    let raw = input.raw("selected_types")?.clone();
    let Value::Array(items) = raw else {
        input.error("selected_types", "Se esperaba una lista de ítems.");
        return None;
    };
    let mut kinds: Vec<String> = Vec::new();
    for item in items {
        match item.as_str().map(str::trim) {
            Some(kind) if TYPES.contains(&kind) => {
                if !kinds.iter().any(|k| k == kind) {
                    kinds.push(kind.to_string());
                }
            }
            _ => {
                input.error(
                    "selected_types",
                    format!("Tipos válidos: {}.", TYPES[..3].join(", ")),
                );
                return None;
            }
        }
    }
    Some(serde_json::to_string(&kinds).unwrap_or_else(|_| "[]".into()))
}

/// Saves one step's values (1: business types; 2: the organization's name,
/// subdomain and size; 3: the contact), each checked.
#[utoipa::path(
    post,
    path = "/api/v1/organizers/onboarding/step/",
    tag = "organizers",
    request_body(content = super::bodies::OnboardingStep, description = "`{onboarding_id, step, data}`"),
    responses(
        (status = 200, description = "The wizard with the step saved", body = OnboardingResponse),
        (status = 400, description = "Missing keys, a step other than 1–3, a completed wizard, or the data's field errors", body = super::FieldErrors),
        (status = 404, description = "No such wizard", body = Detail),
    )
)]
pub async fn step(api: Api, Body(body): Body) -> Result<Response, ApiError> {
    let Value::Object(map) = body else {
        return Err(invalid_request());
    };
    let step = match map.get("step") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    let data = map.get("data").cloned();
    let (Some(id), Some(step), Some(data @ Value::Object(_))) =
        (map.get("onboarding_id"), step, data)
    else {
        return Err(invalid_request());
    };
    if !(1..=3).contains(&step) {
        return Err(ApiError::Field("step", "El paso debe ser 1, 2 o 3.".into()));
    }
    let id = wizard_id(Some(id)).ok_or(ApiError::NotFound("No encontrado."))?;
    let row = find(&api, id).await?;
    if row.is_completed {
        return Err(ApiError::BadRequest(
            "Este registro ya fue completado.".into(),
        ));
    }
    let mut input = Input::new(data);
    let mut active: organizer_onboardings::ActiveModel = row.clone().into();
    match step {
        1 => {
            if let Some(types) = read_types(&mut input) {
                active.selected_types = Set(types);
            }
        }
        2 => {
            if let Some(name) = input.text("organization_name", false, true, 200) {
                active.organization_name = Set(name);
            }
            if let Some(slug) = input.text("organization_slug", false, true, 50) {
                let slug = slug.to_lowercase();
                match subdomain_problem(&slug) {
                    Some(problem) if !slug.is_empty() => {
                        input.error("organization_slug", problem);
                    }
                    _ if RESERVED.contains(&slug.as_str()) => input.error(
                        "organization_slug",
                        format!("\"{slug}\" es un subdominio reservado del sistema."),
                    ),
                    _ => active.organization_slug = Set(slug),
                }
            }
            if let Some(size) = input.text("organization_size", false, true, 10) {
                if SIZES.contains(&size.as_str()) {
                    active.organization_size = Set(size);
                } else {
                    input.error(
                        "organization_size",
                        format!("\"{size}\" no es una elección válida."),
                    );
                }
            }
        }
        _ => {
            if let Some(name) = input.text("contact_name", false, true, 255) {
                active.contact_name = Set(name);
            }
            if input.has("contact_email") {
                if let Some(email) = input.email("contact_email") {
                    active.contact_email = Set(email);
                }
            }
            if let Some(phone) = input.text("contact_phone", false, true, 30) {
                active.contact_phone = Set(phone);
            }
        }
    }
    input.finish_fields()?;
    active.completed_step = Set(row.completed_step.max(i32::try_from(step).unwrap_or(3)));
    let row = active.update(&api.db).await?;
    Ok(super::private_json(OnboardingResponse::from(&row)))
}

/// Makes the organizer from a wizard: `pending`, with no member, until its
/// contact signs in by a code sent to the contact email
/// (`auth/organizer/otp/send/` then `validate/`): that proves the address and
/// makes them its admin and the organizer `active`. An email without an
/// account gets one (with the optional `password`); an existing account is
/// not touched. No tokens are returned.
#[utoipa::path(
    post,
    path = "/api/v1/organizers/onboarding/complete/",
    tag = "organizers",
    request_body(content = super::bodies::OnboardingComplete, description = "`{onboarding_id, password?}`"),
    responses(
        (status = 200, description = "The new organizer", body = OrganizerResponse),
        (status = 400, description = "Missing steps (`Missing required fields: …`), completed already, a taken subdomain or a weak password", body = super::FieldErrors),
        (status = 404, description = "No such wizard", body = Detail),
        (status = 409, description = "Another sign-up took the subdomain or email at the same moment", body = Detail),
        (status = 429, description = "Too many completions from this client", body = Detail),
        (status = 503, description = "Password hashing at capacity: retry after `Retry-After` seconds", body = Detail),
    )
)]
pub async fn finish(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    ClientIp(ip): ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    // Counted first: a completion may hash a password.
    crate::platform::context::throttle(&ctx)?
        .limit(
            &format!("organizer-onboarding-complete:ip:{ip}"),
            STARTS_PER_CLIENT,
        )
        .await
        .map_err(ApiError::TooManyRequests)?;
    let mut input = Input::new(body);
    let id = input.raw("onboarding_id").cloned();
    let password = input.text("password", false, true, 128);
    if id.is_none() {
        return Err(ApiError::BadRequest(
            "Invalid request. 'onboarding_id' is required.".into(),
        ));
    }
    let id = wizard_id(id.as_ref()).ok_or(ApiError::NotFound("No encontrado."))?;
    let row = find(&api, id).await?;
    if row.is_completed {
        return Err(ApiError::BadRequest(
            "Este registro ya fue completado.".into(),
        ));
    }
    let missing: Vec<&str> = [
        ("selected_types", row.selected_types == "[]"),
        ("organization_name", row.organization_name.is_empty()),
        ("organization_slug", row.organization_slug.is_empty()),
        ("contact_name", row.contact_name.is_empty()),
        ("contact_email", row.contact_email.is_empty()),
    ]
    .into_iter()
    .filter_map(|(key, absent)| absent.then_some(key))
    .collect();
    if !missing.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "Missing required fields: {}",
            missing.join(", ")
        )));
    }
    let password = password.filter(|p| !p.is_empty());
    if let Some(p) = &password {
        if let Some(problem) = users::password_problem(p, &row.contact_email) {
            input.error("password", problem);
        }
    }
    input.finish_fields()?;
    // The cheap refusals before any hashing: a taken subdomain, and an email
    // that already has an account (whose password is never the wizard's).
    let taken = || {
        ApiError::Field(
            "organization_slug",
            format!(
                "El subdominio \"{}\" ya está en uso.",
                row.organization_slug
            ),
        )
    };
    if crate::models::organizers::Entity::find()
        .filter(crate::models::organizers::Column::Slug.eq(row.organization_slug.as_str()))
        .one(&api.db)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let known = users::Model::find_by_email(&api.db, &row.contact_email)
        .await?
        .is_some();
    let password = password.filter(|_| !known);
    let hash =
        match password {
            None => None,
            Some(p) => Some(crate::accounts::passwords::hash_async(&p).await.map_err(
                |e| match e {
                    crate::accounts::passwords::HashError::Busy => ApiError::Busy,
                    crate::accounts::passwords::HashError::Failed => ApiError::Internal,
                },
            )?),
        };
    let done = complete(&api.db, row.id, hash).await.map_err(|e| match e {
        CompleteError::NotFound => ApiError::NotFound("No encontrado."),
        CompleteError::Completed => ApiError::BadRequest("Este registro ya fue completado.".into()),
        CompleteError::SlugTaken => taken(),
        CompleteError::Race => ApiError::Conflict(json!({
            "detail": "Otro registro tomó este subdominio o email recién; inténtalo de nuevo."
        })),
        CompleteError::Db(e) => e.into(),
    })?;
    tracing::info!(
        organizer = %done.organizer.id,
        user = %done.user.id,
        new_account = done.new_account,
        "organizer signed up"
    );
    Ok(super::private_json(OrganizerResponse::new(
        &done.organizer,
        &url.media_base(&api.settings),
    )))
}

/// `start` under backtuki's other path.
#[utoipa::path(
    get,
    path = "/api/v1/organizer-onboarding/current/",
    tag = "organizers",
    params(("id" = Option<String>, Query, description = "A wizard already started")),
    responses(
        (status = 200, description = "The wizard", body = OnboardingResponse),
        (status = 400, description = "A parameter with a NUL character", body = super::FieldErrors),
        (status = 404, description = "No such wizard", body = Detail),
        (status = 429, description = "Too many new wizards from this client", body = Detail),
    )
)]
pub async fn current(
    ctx: State<AppContext>,
    api: Api,
    url: RequestUrl,
    ip: ClientIp,
) -> Result<Response, ApiError> {
    start(ctx, api, url, ip).await
}

/// `step` under backtuki's other path.
#[utoipa::path(
    post,
    path = "/api/v1/organizer-onboarding/save_step/",
    tag = "organizers",
    request_body(content = super::bodies::OnboardingStep, description = "`{onboarding_id, step, data}`"),
    responses(
        (status = 200, description = "The wizard with the step saved", body = OnboardingResponse),
        (status = 400, description = "Missing keys, a step other than 1–3, a completed wizard, or the data's field errors", body = super::FieldErrors),
        (status = 404, description = "No such wizard", body = Detail),
    )
)]
pub async fn save_step(api: Api, body: Body) -> Result<Response, ApiError> {
    step(api, body).await
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_start, start)
        .doc(__path_step, step)
        .doc(__path_finish, finish)
        .doc(__path_current, current)
        .doc(__path_save_step, save_step)
}

pub fn routes() -> Routes {
    table().routes()
}
