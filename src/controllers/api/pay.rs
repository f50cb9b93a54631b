//! Paying as backtuki's frontend drives it: `payment-methods/`, then
//! `payments/create_payment/` by `order_id` and `payment_method_id`, then
//! Transbank returns the buyer to the frontend (`FRONTEND_URL/payment/return
//! ?token=<order access token>`), which posts `token_ws` (or the `TBK_*` of
//! an abort or a timeout) to `payments/webpay_return/` as JSON and reads
//! `{success, payment, transaction_data, order_status, message}`.
//!
//! Underneath are this project's rules: one payment claimed once, a return
//! repeated as often as the buyer reloads answers the same, an aborted or
//! timed-out form closes the payment and gives the seats back, and an
//! unanswered commit is settled by `task reconcile_payments`.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use sea_orm::QueryOrder;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::{uuid, Uuid};

use super::{Api, ApiError, Table};
use crate::{
    models::{
        orders,
        payments::{self, Outcome},
        status::{OrderStatus, PaymentStatus},
        users,
    },
    payments::flow::{self, PaymentError, ReturnParams},
    views::events::iso_santiago,
};

const PROVIDER: Uuid = uuid!("6a0f3c1e-5b8d-4f2a-9c7e-1d2b3a4c5e00");
const CREDIT: Uuid = uuid!("6a0f3c1e-5b8d-4f2a-9c7e-1d2b3a4c5e01");
const DEBIT: Uuid = uuid!("6a0f3c1e-5b8d-4f2a-9c7e-1d2b3a4c5e02");

/// The payment provider (Webpay Plus is the only one).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Provider {
    pub id: Uuid,
    pub name: &'static str,
    pub provider_type: &'static str,
    pub is_active: bool,
    pub min_amount: &'static str,
    pub max_amount: &'static str,
    pub supported_currencies: [&'static str; 1],
}

/// A way to pay (both go through the same Webpay Plus transaction).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Method {
    pub id: Uuid,
    pub provider: Provider,
    pub method_type: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    pub icon_url: &'static str,
    pub requires_registration: bool,
}

fn provider() -> Provider {
    Provider {
        id: PROVIDER,
        name: "Transbank WebPay Plus",
        provider_type: "transbank_webpay_plus",
        is_active: true,
        min_amount: "50.00",
        max_amount: "10000000.00",
        supported_currencies: ["CLP"],
    }
}

fn methods() -> Vec<Method> {
    vec![
        Method {
            id: CREDIT,
            provider: provider(),
            method_type: "credit_card",
            display_name: "Tarjeta de Crédito",
            description: "Paga con tu tarjeta de crédito de forma segura",
            icon_url: "",
            requires_registration: false,
        },
        Method {
            id: DEBIT,
            provider: provider(),
            method_type: "debit_card",
            display_name: "Tarjeta de Débito",
            description: "Paga con tu tarjeta de débito RedCompra",
            icon_url: "",
            requires_registration: false,
        },
    ]
}

/// `{success, payment_methods, count}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MethodList {
    pub success: bool,
    pub payment_methods: Vec<Method>,
    pub count: usize,
}

/// The ways to pay.
#[utoipa::path(
    get,
    path = "/api/v1/payment-methods/",
    tag = "payments",
    responses((status = 200, description = "Webpay Plus by credit or debit card", body = MethodList))
)]
pub async fn payment_methods() -> Response {
    let list = methods();
    Json(MethodList {
        success: true,
        count: list.len(),
        payment_methods: list,
    })
    .into_response()
}

fn refusal(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn field_refusal(field: &str, message: &str) -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        json!({"success": false, "errors": { field: [message] }}),
    )
}

/// Pesos as DRF's decimal strings (`"15000.00"`).
fn pesos(amount: i64) -> String {
    format!("{amount}.00")
}

/// A payment as backtuki's `PaymentSerializer` shows it.
async fn payment_json(
    api: &Api,
    media: &crate::views::events::MediaBase,
    payment: &payments::Model,
    order: &orders::Model,
) -> Result<Value, ApiError> {
    let status = match PaymentStatus::parse(&payment.status) {
        Some(PaymentStatus::Authorized) => "completed",
        Some(
            PaymentStatus::Rejected
            | PaymentStatus::Aborted
            | PaymentStatus::Timeout
            | PaymentStatus::Failed,
        ) => "failed",
        _ => "processing",
    };
    let created = iso_santiago(payment.created_at);
    let completed = (status == "completed").then(|| iso_santiago(payment.updated_at));
    let card = crate::models::events::EventCard::find(&api.db, order.event_id).await?;
    let holders: Vec<Value> = crate::models::tickets::Entity::find()
        .filter(crate::models::tickets::Column::OrderId.eq(order.id))
        .find_also_related(crate::models::_entities::ticket_tiers::Entity)
        .order_by_asc(crate::models::tickets::Column::CreatedAt)
        .order_by_asc(crate::models::tickets::Column::Id)
        .all(&api.db)
        .await?
        .into_iter()
        .map(|(t, tier)| {
            json!({
                "name": t.attendee_name,
                "email": order.customer_email,
                "tier_name": tier.map_or_else(|| "General".to_string(), |x| x.name),
                "ticket_number": t.code,
                "ticket_id": t.id,
            })
        })
        .collect();
    let event_info = card.map(|c| {
        let shown = crate::views::tickets::TicketEvent::new(&c, media);
        json!({
            "id": shown.id,
            "title": shown.title,
            "date": c.event.start_date.to_rfc3339(),
            "location": {"name": shown.location.name, "address": shown.location.address},
            "image": shown.image_url,
            "ticket_holders": holders,
        })
    });
    let method = serde_json::to_value(&methods()[0]).unwrap_or(Value::Null);
    let token = orders::access_token(&api.settings.secret_key, order.id);
    let metadata: Value = serde_json::from_str(&payment.detail).unwrap_or_else(|_| json!({}));
    Ok(json!({
        "id": payment.id,
        "paymentId": payment.id,
        "order_id": order.id,
        "order_total": pesos(order.total),
        "order_number": order.order_number,
        "order_access_token": token,
        "payment_method": method,
        "amount": pesos(payment.amount),
        "paymentAmount": pesos(payment.amount),
        "currency": "CLP",
        "status": status,
        "paymentStatus": status,
        "buy_order": payment.buy_order,
        "buyOrder": payment.buy_order,
        "orderNumber": order.order_number,
        "external_id": payment.token,
        "externalId": payment.token,
        "token": payment.token,
        "created_at": created,
        "createdAt": created,
        "authorized_at": Value::Null,
        "authorizedAt": Value::Null,
        "completed_at": completed,
        "completedAt": completed,
        "metadata": if metadata.is_object() { metadata } else { json!({}) },
        "event_info": event_info,
    }))
}

/// `create_payment` with backtuki's body: `{order_id, payment_method_id}`
/// (or `{order_id, provider_type, method_type}`). Whoever holds the order's
/// id (the `bookingId` its booking answered) may pay it; a signed-in buyer
/// may pay only an order that is theirs or under their email.
///
/// # Errors
/// Database errors; refusals are answered in backtuki's shapes.
pub async fn create_payment(
    api: &Api,
    webpay: &crate::payments::webpay::Webpay,
    url: &super::RequestUrl,
    user: Option<&users::Model>,
    body: &Value,
) -> Result<Response, ApiError> {
    let Some(order_id) = body
        .get("order_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
    else {
        let message = if body.get("order_id").is_some_and(|v| !v.is_null()) {
            "Must be a valid UUID."
        } else {
            "Este campo es requerido."
        };
        return Ok(field_refusal("order_id", message));
    };
    let by_id = body.get("payment_method_id").filter(|v| !v.is_null());
    let method_ok = match by_id {
        Some(v) => v
            .as_str()
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .is_some_and(|id| id == CREDIT || id == DEBIT),
        None => {
            let provider = body.get("provider_type").and_then(Value::as_str);
            let kind = body.get("method_type").and_then(Value::as_str);
            match (provider, kind) {
                (Some("transbank_webpay_plus"), Some("credit_card" | "debit_card")) => true,
                (None, _) | (_, None) => {
                    return Ok(field_refusal(
                        "non_field_errors",
                        "Either payment_method_id or both provider_type and method_type must be provided",
                    ))
                }
                (Some(p), Some(k)) => {
                    return Ok(field_refusal(
                        "non_field_errors",
                        &format!("Payment method not found for provider_type='{p}' and method_type='{k}'"),
                    ))
                }
            }
        }
    };
    if !method_ok {
        return Ok(field_refusal(
            "payment_method_id",
            "Payment method not found or inactive",
        ));
    }
    let Some(order) = orders::Entity::find_by_id(order_id).one(&api.db).await? else {
        return Ok(field_refusal("order_id", "Order not found"));
    };
    if !OrderStatus::Pending.is(&order.status) {
        return Ok(field_refusal("order_id", "Order is not in pending status"));
    }
    if let Some(u) = user {
        let theirs = order.user_id == Some(u.id)
            || order.customer_email.eq_ignore_ascii_case(u.email.trim());
        if !theirs {
            return Ok(refusal(
                StatusCode::FORBIDDEN,
                json!({"success": false, "error": "Unauthorized access to order"}),
            ));
        }
    }
    if order.total < 50 {
        return Ok(field_refusal(
            "non_field_errors",
            &format!("Amount ${}.00 is below minimum $50.00", order.total),
        ));
    }
    let token = orders::access_token(&api.settings.secret_key, order.id);
    let return_url = format!(
        "{}/payment/return?token={token}",
        api.settings.frontend_url.trim_end_matches('/')
    );
    match flow::create(&api.db, webpay, &order, &return_url).await {
        Ok(created) => {
            let payment = payments::Entity::find()
                .filter(payments::Column::Token.eq(created.token.clone()))
                .one(&api.db)
                .await?
                .ok_or(ApiError::Internal)?;
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "success": true,
                    "payment": payment_json(api, &url.media_base(&api.settings), &payment, &order).await?,
                    "payment_url": format!("{}?token_ws={}", created.url, created.token),
                    "token": created.token,
                    "redirect_required": true,
                    "message": "Payment created successfully. Redirect user to payment_url.",
                })),
            )
                .into_response())
        }
        Err(PaymentError::NotPending) => {
            Ok(field_refusal("order_id", "Order is not in pending status"))
        }
        Err(PaymentError::HoldExpired) => Ok(field_refusal(
            "order_id",
            "La reserva de esta orden expiró; vuelve a reservar.",
        )),
        Err(PaymentError::Webpay(e)) => {
            tracing::error!(order = %order.order_number, error = %e, "webpay create failed");
            Ok(refusal(
                StatusCode::BAD_REQUEST,
                json!({"success": false, "payment": Value::Null, "error": "Webpay no respondió; intenta de nuevo.", "redirect_required": false}),
            ))
        }
        Err(PaymentError::Db(e)) => Err(e.into()),
    }
}

/// What the buyer is told of an outcome that is not a payment.
const fn failure(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Rejected => "El pago fue rechazado.",
        Outcome::Cancelled => "El pago fue anulado.",
        Outcome::Timeout => "El tiempo para pagar se agotó.",
        Outcome::Refunded => {
            "El pago llegó cuando las entradas ya no estaban disponibles y fue reembolsado."
        }
        Outcome::Pending => {
            "El pago está en verificación con Transbank; vuelve a consultar en unos minutos."
        }
        Outcome::Paid | Outcome::Error => "No se pudo confirmar el pago.",
    }
}

/// The JSON answer to a return posted by the frontend.
///
/// # Errors
/// Database errors.
pub async fn return_answer(
    api: &Api,
    url: &super::RequestUrl,
    params: &ReturnParams,
    order: Option<&orders::Model>,
    outcome: Outcome,
) -> Result<Response, ApiError> {
    let token = params
        .token_ws
        .as_deref()
        .or(params.tbk_token.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let payment = match token {
        Some(t) => {
            payments::Entity::find()
                .filter(payments::Column::Token.eq(t))
                .one(&api.db)
                .await?
        }
        None => None,
    };
    let Some(order) = order else {
        return Ok(field_refusal("token_ws", "Invalid token"));
    };
    let payment_json = match &payment {
        Some(p) => payment_json(api, &url.media_base(&api.settings), p, order).await?,
        None => Value::Null,
    };
    if outcome == Outcome::Paid {
        let transaction = payment
            .as_ref()
            .and_then(|p| serde_json::from_str::<Value>(&p.detail).ok())
            .unwrap_or_else(|| json!({}));
        return Ok(Json(json!({
            "success": true,
            "payment": payment_json,
            "transaction_data": transaction,
            "order_status": order.status,
            "message": "Payment completed successfully",
        }))
        .into_response());
    }
    Ok(refusal(
        StatusCode::BAD_REQUEST,
        json!({
            "success": false,
            "payment": payment_json,
            "error": failure(outcome),
            "status": outcome.as_str(),
            "order_status": order.status,
            "message": "Payment was not successful",
        }),
    ))
}

pub fn table() -> Table {
    Table::new().doc(__path_payment_methods, payment_methods)
}
