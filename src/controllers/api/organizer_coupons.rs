//! An organizer's discount codes on backtuki's paths (`coupons/…`) and its
//! `CouponSerializer` shape, and the public check of a code at checkout
//! (`coupons/validate/`).
//!
//! Every query is scoped by the [`Member`]'s organizer; changing codes
//! needs a member who manages events, reading them a manager or a report
//! reader. Unlike backtuki: codes are upper case and unique per
//! organizer, values are checked (a percentage 1–100, whole pesos), a code
//! can be limited to tiers and uses per buyer, every use is counted (see
//! `models::coupons`), a deleted code stays on past orders, and the public
//! check shows no usage figures.

use std::collections::HashMap;

use axum::{extract::Path, http::StatusCode, response::Response, Json};
use chrono::{DateTime, FixedOffset, Utc};
use loco_rs::prelude::*;
use rand::Rng;
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveValue::Set,
    Condition, PaginatorTrait, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    drf::{Body, Input},
    events::parse_when,
    organizers::{Member, NOT_ALLOWED},
    page_number, Api, ApiError, Detail, Page, RequestUrl, Table,
};
use crate::{
    models::{
        _entities::{events, ticket_tiers},
        coupons::{self, clp, normalise, FIXED, PERCENTAGE, STATUSES},
    },
    views::events::iso_santiago,
};

fn not_found() -> ApiError {
    ApiError::NotFound("No encontrado.")
}

/// Reading codes: managers of events and report readers.
fn require_read(member: &Member) -> Result<(), ApiError> {
    if member.manages_events() || member.role.can_view_reports {
        Ok(())
    } else {
        Err(ApiError::Forbidden(NOT_ALLOWED))
    }
}

/// One of the organizer's live codes, or 404.
async fn own_coupon(api: &Api, member: &Member, id: &str) -> Result<coupons::Model, ApiError> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    coupons::Entity::find_by_id(id)
        .filter(coupons::Column::OrganizerId.eq(member.organizer.id))
        .filter(coupons::Column::DeletedAt.is_null())
        .one(&api.db)
        .await?
        .ok_or_else(not_found)
}

/// `"10.00"`: backtuki's decimal text.
fn decimal(v: i64) -> String {
    format!("{v}.00")
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CouponAnalytics {
    pub total_uses: i32,
    pub usage_limit: Option<i32>,
    /// Uses per 100 of the limit (one decimal); 0 without a limit.
    pub usage_percentage: f64,
    pub remaining_uses: Option<i32>,
    /// Not usable now (expired, switched off, not started or used up).
    pub is_expired: bool,
    /// Whole days until `endDate`; 0 once past; null without one.
    pub days_until_expiry: Option<i64>,
    pub discount_type: String,
    pub discount_value: f64,
}

/// A code as backtuki's `CouponSerializer` shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[allow(non_snake_case)]
pub struct CouponResponse {
    pub id: Uuid,
    pub code: String,
    pub description: String,
    /// `percentage` or `fixed`.
    pub r#type: String,
    /// Percent (1–100) or pesos, as `"10.00"`.
    pub value: String,
    pub status: String,
    pub is_active: bool,
    pub minPurchase: String,
    pub maxDiscount: Option<String>,
    pub maxUses: Option<i32>,
    /// Uses per buyer (email); null: no limit.
    pub maxUsesPerBuyer: Option<i32>,
    /// Uses taken by orders paid (refunded ones included) or pending with
    /// their seats held.
    pub usedCount: i32,
    pub startDate: Option<String>,
    pub endDate: Option<String>,
    /// The events it is limited to; null: all the organizer's.
    pub events: Option<Vec<Uuid>>,
    pub is_global: bool,
    pub coupon_scope: String,
    /// −1 when global.
    pub applicable_events_count: i64,
    pub is_currently_valid: bool,
    pub analytics: CouponAnalytics,
    /// What it takes off some purchase amounts (CLP).
    pub discount_preview: std::collections::BTreeMap<String, String>,
    /// The tiers it is limited to; empty: every tier.
    pub ticket_tiers: Vec<Uuid>,
    /// Always empty: codes are limited by tier.
    pub ticket_categories: Vec<Uuid>,
    pub created_at: String,
    pub updated_at: String,
}

impl CouponResponse {
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn new(c: &coupons::Model, now: DateTime<Utc>) -> Self {
        let events = c.events();
        let valid = c.problem(now).is_none();
        let scope = match events.as_ref().map(Vec::len) {
            None => "🌍 Global - Aplica a todos los eventos".to_string(),
            Some(0) => "❓ Scope no definido".to_string(),
            Some(1) => "🎯 Evento específico".to_string(),
            Some(n) => format!("📋 Múltiples eventos ({n} eventos)"),
        };
        let preview = [5_000, 10_000, 20_000, 50_000, 100_000]
            .into_iter()
            .map(|amount| {
                (
                    clp(amount),
                    clp(if valid { c.discount_on(amount) } else { 0 }),
                )
            })
            .collect();
        Self {
            id: c.id,
            code: c.code.clone(),
            description: c.description.clone(),
            r#type: c.discount_type.clone(),
            value: decimal(c.discount_value),
            status: c.status.clone(),
            is_active: c.is_active,
            minPurchase: decimal(c.min_purchase),
            maxDiscount: c.max_discount.map(decimal),
            maxUses: c.usage_limit,
            maxUsesPerBuyer: c.per_buyer_limit,
            usedCount: c.used_count,
            startDate: c.start_date.map(iso_santiago),
            endDate: c.end_date.map(iso_santiago),
            is_global: events.is_none(),
            coupon_scope: scope,
            applicable_events_count: events
                .as_ref()
                .map_or(-1, |e| i64::try_from(e.len()).unwrap_or(i64::MAX)),
            events,
            is_currently_valid: valid,
            analytics: CouponAnalytics {
                total_uses: c.used_count,
                usage_limit: c.usage_limit,
                usage_percentage: c.usage_limit.filter(|l| *l > 0).map_or(0.0, |l| {
                    ((f64::from(c.used_count) / f64::from(l) * 1000.0).round() / 10.0).min(100.0)
                }),
                remaining_uses: c.usage_limit.map(|l| l - c.used_count),
                is_expired: !valid,
                days_until_expiry: c
                    .end_date
                    .map(|end| Ord::max((end.to_utc() - now).num_days(), 0)),
                discount_type: c.discount_type.clone(),
                discount_value: c.discount_value as f64,
            },
            discount_preview: preview,
            ticket_tiers: c.tiers(),
            ticket_categories: Vec::new(),
            created_at: iso_santiago(c.created_at),
            updated_at: iso_santiago(c.updated_at),
        }
    }
}

/// Whole pesos (a number, or text such as `"5000"` or `"5000.00"`); `Some(None)`
/// for null.
fn pesos(input: &mut Input, key: &str, min: i64, max: i64) -> Option<Option<i64>> {
    let raw = input.raw(key)?.clone();
    let n = match &raw {
        Value::Null => return Some(None),
        Value::String(s) if s.trim().is_empty() => return Some(None),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            let whole = s
                .strip_suffix(".00")
                .or_else(|| s.strip_suffix(".0"))
                .unwrap_or(s);
            whole.parse::<i64>().ok()
        }
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Some(Some(n)),
        Some(n) if n < min => {
            input.error(
                key,
                format!("Asegúrese de que este valor es mayor o igual a {min}."),
            );
            None
        }
        Some(_) => {
            input.error(
                key,
                format!("Asegúrese de que este valor es menor o igual a {max}."),
            );
            None
        }
        None => {
            input.error(
                key,
                "Introduzca un número entero válido (pesos, sin decimales).",
            );
            None
        }
    }
}

/// An ISO datetime (Santiago when naive), or null.
fn instant(input: &mut Input, key: &'static str) -> Option<Option<DateTime<FixedOffset>>> {
    match input.raw(key)?.clone() {
        Value::Null => Some(None),
        Value::String(s) if s.trim().is_empty() => Some(None),
        Value::String(s) => match parse_when(key, &s) {
            Ok(t) => Some(Some(t)),
            Err(_) => {
                input.error(key, "Fecha/hora con formato erróneo. Use uno de los siguientes formatos en su lugar: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
                None
            }
        },
        _ => {
            input.error(key, "Fecha/hora con formato erróneo. Use uno de los siguientes formatos en su lugar: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].");
            None
        }
    }
}

/// A list of ids under `key` (null: none given as null).
fn id_list(input: &mut Input, key: &str) -> Option<Option<Vec<Uuid>>> {
    match input.raw(key)?.clone() {
        Value::Null => Some(None),
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match item.as_str().and_then(|s| Uuid::parse_str(s.trim()).ok()) {
                    Some(id) if !out.contains(&id) => out.push(id),
                    Some(_) => {}
                    None => {
                        input.error(
                            key,
                            format!("Clave primaria \"{item}\" inválida - objeto no existe."),
                        );
                        return None;
                    }
                }
            }
            Some(Some(out))
        }
        _ => {
            input.error(key, "Se esperaba una lista de elementos.");
            None
        }
    }
}

/// The first of the ids that is not the organizer's (events), or not of
/// the organizer's events (tiers).
async fn foreign_ids(
    api: &Api,
    member: &Member,
    events_list: Option<&[Uuid]>,
    tiers: &[Uuid],
) -> Result<Option<(&'static str, Uuid)>, ApiError> {
    if let Some(list) = events_list.filter(|l| !l.is_empty()) {
        let own: Vec<Uuid> = events::Entity::find()
            .select_only()
            .column(events::Column::Id)
            .filter(events::Column::Id.is_in(list.iter().copied()))
            .filter(events::Column::OrganizerId.eq(member.organizer.id))
            .filter(events::Column::DeletedAt.is_null())
            .into_tuple()
            .all(&api.db)
            .await?;
        if let Some(bad) = list.iter().find(|id| !own.contains(id)) {
            return Ok(Some(("events", *bad)));
        }
    }
    if !tiers.is_empty() {
        let own: Vec<(Uuid, Uuid)> = ticket_tiers::Entity::find()
            .select_only()
            .column(ticket_tiers::Column::Id)
            .column(ticket_tiers::Column::EventId)
            .filter(ticket_tiers::Column::Id.is_in(tiers.iter().copied()))
            .filter(
                ticket_tiers::Column::EventId.in_subquery(
                    Query::select()
                        .column(events::Column::Id)
                        .from(events::Entity)
                        .and_where(events::Column::OrganizerId.eq(member.organizer.id))
                        .to_owned(),
                ),
            )
            .into_tuple()
            .all(&api.db)
            .await?;
        for id in tiers {
            match own.iter().find(|(t, _)| t == id) {
                // A tier of an event the code is not for is no tier of it.
                Some((_, event))
                    if events_list.is_none_or(|l| l.is_empty() || l.contains(event)) => {}
                _ => return Ok(Some(("ticket_tiers", *id))),
            }
        }
    }
    Ok(None)
}

/// Reads a code's fields onto `row`. `full` (create, PUT): `code` and
/// `value` required, absent optional fields reset.
async fn read_fields(
    api: &Api,
    member: &Member,
    body: Value,
    row: &mut coupons::ActiveModel,
    current: Option<&coupons::Model>,
    full: bool,
) -> Result<(), ApiError> {
    let mut input = Input::new(body);
    if let Some(code) = input.text("code", full, false, 50) {
        let code = normalise(&code);
        if code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            row.code = Set(code);
        } else {
            input.error("code", "Solo letras, números, guiones y guiones bajos.");
        }
    }
    if let Some(d) = input.text("description", false, true, 2_000) {
        row.description = Set(d);
    } else if full && !input.has("description") {
        row.description = Set(String::new());
    }
    let kind = match input.raw("type").cloned() {
        Some(Value::String(t)) if [PERCENTAGE, FIXED].contains(&t.trim()) => {
            Some(t.trim().to_string())
        }
        Some(other) => {
            input.error(
                "type",
                format!(
                    "\"{}\" no es una elección válida.",
                    other.as_str().unwrap_or("")
                ),
            );
            None
        }
        None if full => Some(PERCENTAGE.to_string()),
        None => None,
    };
    let kind = kind.or_else(|| current.map(|c| c.discount_type.clone()));
    if let Some(k) = &kind {
        row.discount_type = Set(k.clone());
    }
    let percentage = kind.as_deref() == Some(PERCENTAGE);
    let max_value = if percentage { 100 } else { 100_000_000 };
    match pesos(&mut input, "value", 1, max_value) {
        Some(Some(v)) => row.discount_value = Set(v),
        Some(None) => input.error("value", super::drf::NULL),
        None if full && !input.has("value") => input.error("value", super::drf::REQUIRED),
        None => {
            // Kept: still within the type's range?
            if let Some(c) = current {
                if percentage && c.discount_value > 100 && !input.has("value") {
                    input.error("value", "Un porcentaje va de 1 a 100.");
                }
            }
        }
    }
    if let Some(s) = input.text("status", false, false, 20) {
        if STATUSES.contains(&s.as_str()) {
            row.status = Set(s);
        } else {
            input.error("status", format!("\"{s}\" no es una elección válida."));
        }
    }
    if input.has("is_active") {
        let v = input.boolean("is_active", true);
        row.is_active = Set(v);
    }
    match pesos(&mut input, "minPurchase", 0, 1_000_000_000) {
        Some(v) => row.min_purchase = Set(v.unwrap_or(0)),
        None if full && !input.has("minPurchase") => row.min_purchase = Set(0),
        None => {}
    }
    match pesos(&mut input, "maxDiscount", 1, 1_000_000_000) {
        Some(v) => row.max_discount = Set(v),
        None if full && !input.has("maxDiscount") => row.max_discount = Set(None),
        None => {}
    }
    let used = current.map_or(0, |c| c.used_count);
    match input.integer("maxUses", 1, 10_000_000) {
        Some(Some(n)) if n < used => input.error(
            "maxUses",
            format!("Ya se usó {used} veces: el límite no puede ser menor."),
        ),
        Some(v) => row.usage_limit = Set(v),
        None if full && !input.has("maxUses") => row.usage_limit = Set(None),
        None => {}
    }
    match input.integer("maxUsesPerBuyer", 1, 1_000) {
        Some(v) => row.per_buyer_limit = Set(v),
        None if full && !input.has("maxUsesPerBuyer") => row.per_buyer_limit = Set(None),
        None => {}
    }
    let start = instant(&mut input, "startDate");
    let end = instant(&mut input, "endDate");
    if let Some(v) = start {
        row.start_date = Set(v);
    } else if full && !input.has("startDate") {
        row.start_date = Set(None);
    }
    if let Some(v) = end {
        row.end_date = Set(v);
    } else if full && !input.has("endDate") {
        row.end_date = Set(None);
    }
    let events_list = id_list(&mut input, "events");
    let tiers = id_list(&mut input, "ticket_tiers");
    if let Some(v) = input.raw("ticket_categories") {
        if !(v.is_null() || v.as_array().is_some_and(Vec::is_empty)) {
            input.error(
                "ticket_categories",
                "Limita el cupón por entradas (ticket_tiers), no por categorías.",
            );
        }
    }
    if input.has_errors() {
        return input.finish_fields();
    }
    // Whole-code checks, on the values as they will be saved.
    let start = match &row.start_date {
        sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => *v,
        sea_orm::ActiveValue::NotSet => current.and_then(|c| c.start_date),
    };
    let end = match &row.end_date {
        sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => *v,
        sea_orm::ActiveValue::NotSet => current.and_then(|c| c.end_date),
    };
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            return Err(ApiError::Field(
                "endDate",
                "La fecha de término debe ser posterior a la de inicio.".into(),
            ));
        }
    }
    let events_now: Option<Vec<Uuid>> = match &events_list {
        Some(v) => v.clone(),
        None if full => None,
        None => current.and_then(coupons::Model::events),
    };
    let tiers_now: Vec<Uuid> = match &tiers {
        Some(v) => v.clone().unwrap_or_default(),
        None if full => Vec::new(),
        None => current.map(coupons::Model::tiers).unwrap_or_default(),
    };
    if let Some((field, id)) = foreign_ids(api, member, events_now.as_deref(), &tiers_now).await? {
        return Err(ApiError::Field(
            field,
            format!("Clave primaria \"{id}\" inválida - objeto no existe."),
        ));
    }
    if events_list.is_some() || full {
        row.event_ids =
            Set(events_now.map(|v| serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())));
    }
    if tiers.is_some() || full {
        row.tier_ids = Set(serde_json::to_string(&tiers_now).unwrap_or_else(|_| "[]".into()));
    }
    Ok(())
}

/// Saves a new or changed code; a code the organizer already has → 400.
async fn save(api: &Api, row: coupons::ActiveModel, new: bool) -> Result<coupons::Model, ApiError> {
    let code = match &row.code {
        sea_orm::ActiveValue::Set(c) | sea_orm::ActiveValue::Unchanged(c) => Some(c.clone()),
        sea_orm::ActiveValue::NotSet => None,
    };
    let organizer = match &row.organizer_id {
        sea_orm::ActiveValue::Set(o) | sea_orm::ActiveValue::Unchanged(o) => Some(*o),
        sea_orm::ActiveValue::NotSet => None,
    };
    let id = match &row.id {
        sea_orm::ActiveValue::Set(i) | sea_orm::ActiveValue::Unchanged(i) => Some(*i),
        sea_orm::ActiveValue::NotSet => None,
    };
    if let (Some(code), Some(organizer)) = (code, organizer) {
        let mut taken = coupons::Entity::find()
            .filter(coupons::Column::OrganizerId.eq(organizer))
            .filter(coupons::Column::Code.eq(code))
            .filter(coupons::Column::DeletedAt.is_null());
        if let Some(id) = id {
            taken = taken.filter(coupons::Column::Id.ne(id));
        }
        if taken.count(&api.db).await? > 0 {
            return Err(ApiError::Field(
                "code",
                "Ya existe coupon con este code.".into(),
            ));
        }
    }
    let saved = if new {
        row.insert(&api.db).await
    } else {
        row.update(&api.db).await
    };
    saved.map_err(|e| {
        // Two creations racing on one code: the unique index decides.
        if matches!(
            e.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ) {
            ApiError::Field("code", "Ya existe coupon con este code.".into())
        } else if e.to_string().to_lowercase().contains("check") {
            // `maxUses` lowered below uses taken meanwhile: the table's
            // check refuses it.
            ApiError::Field(
                "maxUses",
                "El límite no puede ser menor que los usos ya tomados.".into(),
            )
        } else {
            e.into()
        }
    })
}

fn blank(member: &Member) -> coupons::ActiveModel {
    let now = Utc::now().fixed_offset();
    coupons::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(member.organizer.id),
        code: sea_orm::ActiveValue::NotSet,
        description: Set(String::new()),
        discount_type: Set(PERCENTAGE.into()),
        discount_value: sea_orm::ActiveValue::NotSet,
        min_purchase: Set(0),
        max_discount: Set(None),
        start_date: Set(None),
        end_date: Set(None),
        usage_limit: Set(None),
        per_buyer_limit: Set(None),
        used_count: Set(0),
        status: Set("active".into()),
        is_active: Set(true),
        event_ids: Set(None),
        tier_ids: Set("[]".into()),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The organizer's codes: with `?event_id=`, those usable on that event
/// (global ones and those listing it).
#[utoipa::path(
    get,
    path = "/api/v1/coupons/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(
        ("event_id" = Option<String>, Query, description = "One of the organizer's events"),
        ("is_active" = Option<String>, Query, description = "`true` or `false`"),
        ("status" = Option<String>, Query, description = "active, expired, used, inactive"),
        ("discount_type" = Option<String>, Query, description = "percentage or fixed"),
        ("search" = Option<String>, Query, description = "Every word in the code or the description"),
        ("ordering" = Option<String>, Query, description = "code, discount_value, created_at, usage_count (`-` for descending; default -created_at)"),
        ("page" = Option<String>, Query, description = "Page number"),
    ),
    responses(
        (status = 200, description = "One page of codes", body = Page<CouponResponse>),
        (status = 400, description = "A bad filter", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager or report reader of an organizer", body = Detail),
        (status = 404, description = "`event_id` not one of the organizer's events", body = Detail),
    )
)]
pub async fn list(api: Api, url: RequestUrl, member: Member) -> Result<Response, ApiError> {
    require_read(&member)?;
    let mut query = coupons::Entity::find()
        .filter(coupons::Column::OrganizerId.eq(member.organizer.id))
        .filter(coupons::Column::DeletedAt.is_null());
    if let Some(raw) = url.get("event_id").filter(|v| !v.trim().is_empty()) {
        let id = Uuid::parse_str(raw.trim()).map_err(|_| not_found())?;
        let event = events::Entity::find_by_id(id)
            .filter(events::Column::OrganizerId.eq(member.organizer.id))
            .one(&api.db)
            .await?
            .ok_or_else(not_found)?;
        query = query.filter(
            Condition::any()
                .add(coupons::Column::EventIds.is_null())
                .add(coupons::Column::EventIds.contains(event.id.to_string())),
        );
    }
    match url.get("is_active").map(str::to_lowercase).as_deref() {
        Some("true" | "1") => query = query.filter(coupons::Column::IsActive.eq(true)),
        Some("false" | "0") => query = query.filter(coupons::Column::IsActive.eq(false)),
        _ => {}
    }
    for (key, column, allowed) in [
        ("status", coupons::Column::Status, &STATUSES[..]),
        (
            "discount_type",
            coupons::Column::DiscountType,
            &[PERCENTAGE, FIXED][..],
        ),
    ] {
        if let Some(v) = url.get(key).filter(|v| !v.is_empty()) {
            if !allowed.contains(&v) {
                return Err(ApiError::Field(
                    key,
                    format!("Escoja una opción válida. {v} no es una de las opciones disponibles."),
                ));
            }
            query = query.filter(column.eq(v));
        }
    }
    if let Some(search) = url.get("search").filter(|s| !s.trim().is_empty()) {
        query = query.filter(super::organizer_orders::every_word_in(
            search,
            &[
                Expr::col(coupons::Column::Code),
                Expr::col(coupons::Column::Description),
            ],
        ));
    }
    query = match url.get("ordering").unwrap_or("-created_at") {
        "code" => query.order_by_asc(coupons::Column::Code),
        "-code" => query.order_by_desc(coupons::Column::Code),
        "discount_value" => query.order_by_asc(coupons::Column::DiscountValue),
        "-discount_value" => query.order_by_desc(coupons::Column::DiscountValue),
        "created_at" => query.order_by_asc(coupons::Column::CreatedAt),
        "usage_count" => query.order_by_asc(coupons::Column::UsedCount),
        "-usage_count" => query.order_by_desc(coupons::Column::UsedCount),
        _ => query.order_by_desc(coupons::Column::CreatedAt),
    }
    .order_by_asc(coupons::Column::Id);
    let count = query.clone().count(&api.db).await?;
    let page = page_number(url.get("page"), count)?;
    let now = Utc::now();
    let results = query
        .paginate(&api.db, super::PAGE_SIZE)
        .fetch_page(page - 1)
        .await?
        .iter()
        .map(|c| CouponResponse::new(c, now))
        .collect();
    Ok(super::private_json(Page::new(&url, count, page, results)))
}

/// A new code.
#[utoipa::path(
    post,
    path = "/api/v1/coupons/",
    tag = "organizer sales",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{code, value, type?, description?, status?, is_active?, minPurchase?, maxDiscount?, maxUses?, maxUsesPerBuyer?, startDate?, endDate?, events?, ticket_tiers?}`"),
    responses(
        (status = 201, description = "The code", body = CouponResponse),
        (status = 400, description = "Its fields' errors", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
    )
)]
pub async fn create(api: Api, member: Member, Body(body): Body) -> Result<Response, ApiError> {
    member.require_events()?;
    let mut row = blank(&member);
    read_fields(&api, &member, body, &mut row, None, true).await?;
    let saved = save(&api, row, true).await?;
    Ok((
        StatusCode::CREATED,
        Json(CouponResponse::new(&saved, Utc::now())),
    )
        .into_response())
}

/// One of the organizer's codes.
#[utoipa::path(
    get,
    path = "/api/v1/coupons/{id}/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The code's id")),
    responses(
        (status = 200, description = "The code", body = CouponResponse),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager or report reader", body = Detail),
        (status = 404, description = "Not one of the organizer's codes", body = Detail),
    )
)]
pub async fn read(api: Api, member: Member, Path(id): Path<String>) -> Result<Response, ApiError> {
    require_read(&member)?;
    let c = own_coupon(&api, &member, &id).await?;
    Ok(super::private_json(CouponResponse::new(&c, Utc::now())))
}

async fn change(
    api: Api,
    member: Member,
    id: String,
    body: Value,
    full: bool,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let current = own_coupon(&api, &member, &id).await?;
    let mut row: coupons::ActiveModel = current.clone().into();
    read_fields(&api, &member, body, &mut row, Some(&current), full).await?;
    let saved = save(&api, row, false).await?;
    Ok(super::private_json(CouponResponse::new(&saved, Utc::now())))
}

/// Replaces a code's fields (those left out are reset).
#[utoipa::path(
    put,
    path = "/api/v1/coupons/{id}/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The code's id")),
    request_body(content = Object, description = "As for creating"),
    responses(
        (status = 200, description = "The code", body = CouponResponse),
        (status = 400, description = "Its fields' errors", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not one of the organizer's codes", body = Detail),
    )
)]
pub async fn replace(
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    change(api, member, id, body, true).await
}

/// Changes the fields sent.
#[utoipa::path(
    patch,
    path = "/api/v1/coupons/{id}/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The code's id")),
    request_body(content = Object, description = "Any of the creation fields"),
    responses(
        (status = 200, description = "The code", body = CouponResponse),
        (status = 400, description = "Its fields' errors", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not one of the organizer's codes", body = Detail),
    )
)]
pub async fn amend(
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    change(api, member, id, body, false).await
}

/// Deletes a code: it can no longer be used nor listed; past orders keep
/// it and their discount.
#[utoipa::path(
    delete,
    path = "/api/v1/coupons/{id}/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The code's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not one of the organizer's codes", body = Detail),
    )
)]
pub async fn destroy(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let c = own_coupon(&api, &member, &id).await?;
    coupons::Entity::update_many()
        .col_expr(
            coupons::Column::DeletedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(coupons::Column::Id.eq(c.id))
        .filter(coupons::Column::DeletedAt.is_null())
        .exec(&api.db)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Switches a code on or off.
#[utoipa::path(
    post,
    path = "/api/v1/coupons/{id}/toggle_active/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The code's id")),
    responses(
        (status = 200, description = "`{detail, coupon}`", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
        (status = 404, description = "Not one of the organizer's codes", body = Detail),
    )
)]
pub async fn toggle_active(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    member.require_events()?;
    let c = own_coupon(&api, &member, &id).await?;
    // One statement: two toggles at once flip twice, never lose one.
    coupons::Entity::update_many()
        .col_expr(
            coupons::Column::IsActive,
            Expr::col(coupons::Column::IsActive).not(),
        )
        .col_expr(
            coupons::Column::UpdatedAt,
            Expr::value(Utc::now().fixed_offset()),
        )
        .filter(coupons::Column::Id.eq(c.id))
        .exec(&api.db)
        .await?;
    let c = own_coupon(&api, &member, &id).await?;
    Ok(super::private_json(json!({
        "detail": if c.is_active { "Coupon is now active." } else { "Coupon is now inactive." },
        "coupon": CouponResponse::new(&c, Utc::now()),
    })))
}

/// Figures over all the organizer's live codes.
#[derive(Serialize, utoipa::ToSchema, Default)]
pub struct CouponCounts {
    pub total_coupons: u64,
    pub active_coupons: u64,
    pub inactive_coupons: u64,
    pub global_coupons: u64,
    pub local_coupons: u64,
    pub used_coupons: u64,
    pub unused_coupons: u64,
    pub total_usage_count: i64,
}

async fn counts(api: &Api, organizer: Uuid) -> Result<CouponCounts, ApiError> {
    #[derive(sea_orm::FromQueryResult)]
    struct Row {
        total: i64,
        active: i64,
        global: i64,
        used: i64,
        uses: i64,
    }
    let backend = api.db.get_database_backend();
    let sql = "SELECT COUNT(*) AS total, \
        COALESCE(SUM(CASE WHEN is_active THEN 1 ELSE 0 END), 0) AS active, \
        COALESCE(SUM(CASE WHEN event_ids IS NULL THEN 1 ELSE 0 END), 0) AS global, \
        COALESCE(SUM(CASE WHEN used_count > 0 THEN 1 ELSE 0 END), 0) AS used, \
        CAST(COALESCE(SUM(used_count), 0) AS BIGINT) AS uses \
        FROM coupons WHERE organizer_id = $1 AND deleted_at IS NULL";
    let row = <Row as sea_orm::FromQueryResult>::find_by_statement(crate::models::sql::statement(
        backend,
        sql,
        [organizer.into()],
    ))
    .one(&api.db)
    .await?;
    let u = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(row.map_or_else(CouponCounts::default, |r| CouponCounts {
        total_coupons: u(r.total),
        active_coupons: u(r.active),
        inactive_coupons: u(r.total - r.active),
        global_coupons: u(r.global),
        local_coupons: u(r.total - r.global),
        used_coupons: u(r.used),
        unused_coupons: u(r.total - r.used),
        total_usage_count: r.uses,
    }))
}

/// Every live code of the organizer, unpaged (at most 2,000), with counts.
#[utoipa::path(
    get,
    path = "/api/v1/coupons/organizer/all/",
    tag = "organizer sales",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{count, results, analytics}`", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager or report reader", body = Detail),
    )
)]
pub async fn organizer_all(api: Api, member: Member) -> Result<Response, ApiError> {
    require_read(&member)?;
    let now = Utc::now();
    let rows = coupons::Entity::find()
        .filter(coupons::Column::OrganizerId.eq(member.organizer.id))
        .filter(coupons::Column::DeletedAt.is_null())
        .order_by_desc(coupons::Column::CreatedAt)
        .limit(2_000)
        .all(&api.db)
        .await?;
    let results: Vec<CouponResponse> = rows.iter().map(|c| CouponResponse::new(c, now)).collect();
    Ok(super::private_json(json!({
        "count": results.len(),
        "results": results,
        "analytics": counts(&api, member.organizer.id).await?,
    })))
}

/// A code's sales.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CouponPerformance {
    pub code: String,
    pub usage_count: i32,
    pub r#type: String,
    pub value: f64,
    /// Paid orders with it.
    pub orders: i64,
    /// Pesos it took off those orders.
    pub discount_total: i64,
    /// What those orders brought in (net of refunds).
    pub revenue: i64,
}

/// The organizer's codes in figures: counts, and the five most used with
/// the paid orders, discount and revenue each brought (SQL aggregates).
#[utoipa::path(
    get,
    path = "/api/v1/coupons/analytics/",
    tag = "organizer sales",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counts, `top_performing_coupons`, `orders_with_coupons`, `total_discount_given`", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager or report reader", body = Detail),
    )
)]
pub async fn analytics(api: Api, member: Member) -> Result<Response, ApiError> {
    #[derive(sea_orm::FromQueryResult)]
    struct Sums {
        coupon_id: Uuid,
        orders: i64,
        discount: i64,
        revenue: i64,
    }
    require_read(&member)?;
    let counts = counts(&api, member.organizer.id).await?;
    let top = coupons::Entity::find()
        .filter(coupons::Column::OrganizerId.eq(member.organizer.id))
        .filter(coupons::Column::DeletedAt.is_null())
        .filter(coupons::Column::UsedCount.gt(0))
        .order_by_desc(coupons::Column::UsedCount)
        .order_by_asc(coupons::Column::Code)
        .limit(5)
        .all(&api.db)
        .await?;
    let backend = api.db.get_database_backend();
    let sql = "SELECT o.coupon_id AS coupon_id, COUNT(*) AS orders, \
        CAST(COALESCE(SUM(o.discount), 0) AS BIGINT) AS discount, \
        CAST(COALESCE(SUM(o.total - o.refunded_amount), 0) AS BIGINT) AS revenue \
        FROM orders o WHERE o.coupon_id IS NOT NULL \
          AND o.status IN ('paid', 'partially_refunded') \
          AND o.event_id IN (SELECT e.id FROM events e WHERE e.organizer_id = $1) \
        GROUP BY o.coupon_id";
    let sums: HashMap<Uuid, Sums> = <Sums as sea_orm::FromQueryResult>::find_by_statement(
        crate::models::sql::statement(backend, sql, [member.organizer.id.into()]),
    )
    .all(&api.db)
    .await?
    .into_iter()
    .map(|s| (s.coupon_id, s))
    .collect();
    #[allow(clippy::cast_precision_loss)]
    let top: Vec<CouponPerformance> = top
        .iter()
        .map(|c| {
            let s = sums.get(&c.id);
            CouponPerformance {
                code: c.code.clone(),
                usage_count: c.used_count,
                r#type: c.discount_type.clone(),
                value: c.discount_value as f64,
                orders: s.map_or(0, |s| s.orders),
                discount_total: s.map_or(0, |s| s.discount),
                revenue: s.map_or(0, |s| s.revenue),
            }
        })
        .collect();
    let mut body = serde_json::to_value(counts).unwrap_or_default();
    body["top_performing_coupons"] = json!(top);
    body["orders_with_coupons"] = json!(sums.values().map(|s| s.orders).sum::<i64>());
    body["total_discount_given"] = json!(sums.values().map(|s| s.discount).sum::<i64>());
    Ok(super::private_json(body))
}

/// Letters and digits that cannot be mistaken for one another.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn random_code(prefix: &str) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..8)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    if prefix.is_empty() {
        tail
    } else {
        format!("{prefix}-{tail}")
    }
}

/// Most codes one bulk request makes.
const MAX_BULK: usize = 500;

/// Many codes at once: `{"coupons": [{…}, …]}` (each checked and saved on
/// its own, as backtuki), or `{"generate": {"count", "prefix"?, …fields}}`:
/// `count` unique random codes sharing the other fields, all made or none.
#[utoipa::path(
    post,
    path = "/api/v1/coupons/bulk_create/",
    tag = "organizer sales",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{coupons: [...]}` or `{generate: {count, prefix?, value, type?, …}}` (at most 500)"),
    responses(
        (status = 200, description = "`{created_count, error_count, created_coupons, errors: [{index, errors}]}`", body = Object),
        (status = 400, description = "No codes asked, or more than 500; or the generated codes' fields' errors", body = Object),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not a manager of the organizer's events", body = Detail),
    )
)]
pub async fn bulk_create(api: Api, member: Member, Body(body): Body) -> Result<Response, ApiError> {
    member.require_events()?;
    let now = Utc::now();
    if let Some(generate) = body.get("generate").filter(|g| g.is_object()) {
        let mut template = generate.clone();
        let count = template
            .get("count")
            .and_then(|c| c.as_u64().or_else(|| c.as_str()?.trim().parse().ok()))
            .filter(|c| (1..=MAX_BULK as u64).contains(c))
            .ok_or_else(|| {
                ApiError::Field("count", format!("Un número entero de 1 a {MAX_BULK}."))
            })?;
        let prefix = normalise(template.get("prefix").and_then(Value::as_str).unwrap_or(""));
        if prefix.len() > 40
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ApiError::Field(
                "prefix",
                "Hasta 40 letras, números, guiones o guiones bajos.".into(),
            ));
        }
        template["code"] = json!(random_code(&prefix));
        let mut first = blank(&member);
        read_fields(&api, &member, template, &mut first, None, true).await?;
        let txn = api.db.begin().await?;
        let mut made = Vec::new();
        let mut codes = std::collections::HashSet::new();
        while made.len() < usize::try_from(count).unwrap_or(0) {
            let code = random_code(&prefix);
            if !codes.insert(code.clone()) {
                continue;
            }
            let taken = coupons::Entity::find()
                .filter(coupons::Column::OrganizerId.eq(member.organizer.id))
                .filter(coupons::Column::Code.eq(code.as_str()))
                .filter(coupons::Column::DeletedAt.is_null())
                .count(&txn)
                .await?;
            if taken > 0 {
                continue;
            }
            let mut row = first.clone();
            row.id = Set(Uuid::new_v4());
            row.code = Set(code);
            made.push(row.insert(&txn).await?);
        }
        txn.commit().await?;
        let created: Vec<CouponResponse> =
            made.iter().map(|c| CouponResponse::new(c, now)).collect();
        return Ok(super::private_json(json!({
            "created_count": created.len(),
            "error_count": 0,
            "created_coupons": created,
            "errors": [],
        })));
    }
    let items = body
        .get("coupons")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::BadRequest("No coupon data provided".into()))?;
    if items.len() > MAX_BULK {
        return Err(ApiError::BadRequest(format!(
            "A lo más {MAX_BULK} cupones por vez."
        )));
    }
    let mut created = Vec::new();
    let mut errors = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let mut row = blank(&member);
        let saved = match read_fields(&api, &member, item.clone(), &mut row, None, true).await {
            Ok(()) => save(&api, row, true).await,
            Err(e) => Err(e),
        };
        match saved {
            Ok(c) => created.push(CouponResponse::new(&c, now)),
            Err(ApiError::Fields(f)) => errors.push(json!({"index": index, "errors": f})),
            Err(ApiError::Field(k, m)) => {
                errors.push(json!({"index": index, "errors": {k: [m]}}));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(super::private_json(json!({
        "created_count": created.len(),
        "error_count": errors.len(),
        "created_coupons": created,
        "errors": errors,
    })))
}

/// Checks a code for the checkout's "Aplicar cupón" (nothing is taken: the
/// use is taken when the order is booked). Shows what it takes off
/// `order_total`, never the code's limits or uses.
#[utoipa::path(
    post,
    path = "/api/v1/coupons/validate/",
    tag = "checkout",
    request_body(content = Object, description = "`{code, event_id, order_total?}` (order_total: the tickets' price, pesos)"),
    responses(
        (status = 200, description = "`{is_valid, detail, coupon_code?, discount_amount?, final_total?, original_total?, savings?, discount_percentage?, discount_type?, discount_value?}`", body = Object),
        (status = 400, description = "No code or event, or no such event on sale: `{is_valid: false, detail}`", body = Object),
        (status = 429, description = "Too many checks from this client", body = Detail),
    )
)]
pub async fn validate(
    State(ctx): State<AppContext>,
    api: Api,
    super::auth::ClientIp(ip): super::auth::ClientIp,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let refuse = |detail: &str| {
        Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"is_valid": false, "detail": detail})),
        )
            .into_response())
    };
    let code = body
        .get("code")
        .and_then(Value::as_str)
        .map(normalise)
        .filter(|c| !c.is_empty() && c.chars().count() <= 50);
    let event = body
        .get("event_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s.trim()).ok());
    let (Some(code), Some(event)) = (code, event) else {
        if body.get("code").is_some() && body.get("event_id").is_some() {
            return refuse("Evento no encontrado.");
        }
        return refuse("Código de cupón y ID de evento son requeridos.");
    };
    // Guessing codes is slow: 30 checks per client per window.
    crate::platform::context::throttle(&ctx)?
        .limit(
            &format!("{}:ip:{ip}", super::checkout::COUPON_TRIES),
            super::checkout::COUPON_TRIES_PER_WINDOW,
        )
        .await
        .map_err(ApiError::TooManyRequests)?;
    let Some(event) = crate::models::events::sellable(&api.db, event).await? else {
        return refuse("Evento no encontrado.");
    };
    let total: i64 = match body.get("order_total") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_f64().map_or(0, |f| f.clamp(0.0, 1e10).round() as i64),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_or(0, |f| f.clamp(0.0, 1e10).round() as i64),
        Some(_) => 0,
    };
    let total = Ord::max(total, 0);
    let coupon = coupons::Entity::find()
        .filter(coupons::Column::OrganizerId.eq(event.organizer_id))
        .filter(coupons::Column::Code.eq(code.as_str()))
        .filter(coupons::Column::DeletedAt.is_null())
        .one(&api.db)
        .await?;
    let Some(coupon) = coupon else {
        return Ok(Json(json!({
            "is_valid": false,
            "detail": "Cupón no encontrado o no válido para este evento.",
        }))
        .into_response());
    };
    let problem = coupon
        .problem(Utc::now())
        .or_else(|| {
            (!coupon.applies_to(event.id))
                .then(|| "El cupón es específico para otro evento".to_string())
        })
        .or_else(|| {
            (coupon.min_purchase > 0 && total < coupon.min_purchase)
                .then(|| format!("Compra mínima requerida: {}", clp(coupon.min_purchase)))
        });
    let discount = coupon.discount_on(total);
    let problem = problem.or_else(|| {
        (total > 0 && discount <= 0)
            .then(|| "El cupón no genera descuento para esta compra".to_string())
    });
    if let Some(detail) = problem {
        return Ok(Json(json!({
            "is_valid": false,
            "detail": detail,
            "coupon_code": coupon.code,
        }))
        .into_response());
    }
    #[allow(clippy::cast_precision_loss)]
    let f = |n: i64| n as f64;
    #[allow(clippy::cast_precision_loss)]
    let percentage = if total > 0 {
        (discount as f64 / total as f64 * 10_000.0).round() / 100.0
    } else {
        0.0
    };
    Ok(Json(json!({
        "is_valid": true,
        "detail": "Cupón válido",
        "coupon_code": coupon.code,
        "discount_type": coupon.discount_type,
        "discount_value": f(coupon.discount_value),
        "limited_to_tiers": coupon.tiers(),
        "discount_amount": f(discount),
        "final_total": f(total - discount),
        "original_total": f(total),
        "savings": f(discount),
        "discount_percentage": percentage,
    }))
    .into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_list, list)
        .doc(__path_create, create)
        .doc(__path_organizer_all, organizer_all)
        .doc(__path_analytics, analytics)
        .doc(__path_bulk_create, bulk_create)
        .doc(__path_validate, validate)
        .doc(__path_read, read)
        .doc(__path_replace, replace)
        .doc(__path_amend, amend)
        .doc(__path_destroy, destroy)
        .doc(__path_toggle_active, toggle_active)
}

pub fn routes() -> Routes {
    table().routes()
}
