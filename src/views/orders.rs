//! What buyers read about their reservations, orders and tickets.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use uuid::Uuid;

use crate::models::_entities::{order_items, orders, ticket_tiers, tickets};

#[derive(Serialize, utoipa::ToSchema)]
pub struct LineResponse {
    pub tier_id: Uuid,
    pub tier_name: String,
    pub quantity: i32,
    pub unit_price: i64,
    /// This line's share of the order's discount code.
    pub discount: i64,
    /// quantity × unit price − discount.
    pub total: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReservationResponse {
    pub reservation_id: Uuid,
    pub event_id: Uuid,
    pub status: String,
    pub expires_at: String,
    pub items: Vec<LineResponse>,
    pub subtotal: i64,
    pub service_fee: i64,
    pub total: i64,
    pub currency: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderEvent {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    pub start_date: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CustomerResponse {
    pub name: String,
    pub email: String,
    pub phone: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketResponse {
    pub id: Uuid,
    pub tier_name: String,
    /// What the QR code holds (show it only to the ticket's owner).
    pub code: String,
    pub status: String,
    pub used_at: Option<String>,
    /// The QR code image (PNG; `?format=svg` for SVG).
    pub qr_url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrderResponse {
    pub order_number: String,
    pub status: String,
    pub event: Option<OrderEvent>,
    pub customer: CustomerResponse,
    pub items: Vec<LineResponse>,
    /// The tickets at their listed prices.
    pub subtotal: i64,
    pub service_fee: i64,
    /// Taken off by `coupon_code`.
    pub discount: i64,
    pub coupon_code: Option<String>,
    /// subtotal + service fee − discount: what the buyer pays.
    pub total: i64,
    pub refunded_amount: i64,
    pub currency: &'static str,
    pub created_at: String,
    pub paid_at: Option<String>,
    /// Until when the seats are held for payment (pending orders).
    pub hold_expires_at: Option<String>,
    pub tickets: Vec<TicketResponse>,
    /// Shown once, when the order is made: the frontend keeps it to read the
    /// order and its tickets without an account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

/// The answer for an order from its parts; `base` is this API's origin
/// (the ticket QR links), `token` the order's access token for them.
pub fn order_view(
    base: &str,
    order: &orders::Model,
    token: Option<&str>,
    event: Option<(Uuid, String, String, DateTime<FixedOffset>)>,
    items: &[order_items::Model],
    issued: &[(tickets::Model, Option<ticket_tiers::Model>)],
    hold: Option<DateTime<FixedOffset>>,
) -> OrderResponse {
    let query = token.map_or_else(String::new, |t| format!("?token={t}"));
    OrderResponse {
        order_number: order.order_number.clone(),
        status: order.status.clone(),
        event: event.map(|(id, title, slug, start)| OrderEvent {
            id,
            title,
            slug,
            start_date: start.to_rfc3339(),
        }),
        customer: CustomerResponse {
            name: order.customer_name.clone(),
            email: order.customer_email.clone(),
            phone: order.customer_phone.clone(),
        },
        items: items
            .iter()
            .map(|i| LineResponse {
                tier_id: i.tier_id,
                tier_name: i.tier_name.clone(),
                quantity: i.quantity,
                unit_price: i.unit_price,
                discount: i.discount,
                total: i64::from(i.quantity) * i.unit_price - i.discount,
            })
            .collect(),
        subtotal: order.subtotal + order.discount,
        service_fee: order.service_fee,
        discount: order.discount,
        coupon_code: Some(order.coupon_code.clone()).filter(|c| !c.is_empty()),
        total: order.total,
        refunded_amount: order.refunded_amount,
        currency: "CLP",
        created_at: order.created_at.to_rfc3339(),
        paid_at: order.paid_at.map(|t| t.to_rfc3339()),
        hold_expires_at: hold.map(|t| t.to_rfc3339()),
        tickets: issued
            .iter()
            .map(|(t, tier)| TicketResponse {
                id: t.id,
                tier_name: tier.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                code: t.code.clone(),
                status: t.status.clone(),
                used_at: t.used_at.map(|x| x.to_rfc3339()),
                qr_url: format!("{base}/api/v1/tickets/{}/qr/{query}", t.id),
            })
            .collect(),
        access_token: None,
    }
}

/// One of the signed-in buyer's tickets.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MyTicket {
    pub id: Uuid,
    pub order_number: String,
    pub event_id: Uuid,
    pub event_title: String,
    pub event_start: String,
    pub tier_name: String,
    pub code: String,
    pub status: String,
    pub used_at: Option<String>,
}
