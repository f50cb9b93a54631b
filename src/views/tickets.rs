//! Tickets and orders as backtuki's frontend reads them: the confirmation
//! page's list (`orders/{n}/tickets/`, `tickets/{id}/pdf-data/`), the ticket
//! serializer (`tickets/by_uuid/`, `orders/{id}/`), the QR answer
//! (`tickets/{ticket_number}/qr/`) and the order serializer.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::events::{iso_santiago, MediaBase, CURRENCY};
use crate::models::{
    _entities::{order_items, orders, payments, tickets},
    events::EventCard,
    status::{PaymentStatus, TicketStatus},
};

/// UTC with `+00:00`, as backtuki writes the datetimes it formats by hand.
#[must_use]
pub fn iso_utc(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Pesos as DRF's decimal strings (`"15000.00"`).
#[must_use]
pub fn pesos(amount: i64) -> String {
    format!("{amount}.00")
}

/// A full name as backtuki's first and last name: the first word, the rest.
#[must_use]
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(' ') {
        Some((first, last)) => (first.to_string(), last.trim().to_string()),
        None => (name.to_string(), String::new()),
    }
}

/// A ticket's state in backtuki's words: `active`, `used` or `cancelled`.
#[must_use]
pub fn ticket_status(status: &str) -> &'static str {
    match TicketStatus::parse(status) {
        Some(TicketStatus::Valid) => "active",
        Some(TicketStatus::Used) => "used",
        _ => "cancelled",
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketLocation {
    /// The venue's name, or `Ubicación no disponible`.
    pub name: String,
    pub address: String,
}

/// The event on a ticket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketEvent {
    pub id: Uuid,
    pub title: String,
    /// UTC.
    pub start_date: String,
    pub location: TicketLocation,
    /// The event's first image.
    pub image_url: Option<String>,
}

impl TicketEvent {
    #[must_use]
    pub fn new(card: &EventCard, media: &MediaBase) -> Self {
        Self {
            id: card.event.id,
            title: card.event.title.clone(),
            start_date: iso_utc(card.event.start_date),
            location: card.venue.as_ref().map_or_else(
                || TicketLocation {
                    name: "Ubicación no disponible".into(),
                    address: String::new(),
                },
                |v| TicketLocation {
                    name: v.name.clone(),
                    address: [v.address.as_str(), v.city.as_str()]
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            ),
            image_url: card.image.as_deref().map(|p| media.url(p)),
        }
    }
}

/// One ticket of the confirmation page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketLine {
    /// What the QR code holds; also the path of `tickets/{ticket_number}/qr/`.
    pub ticket_number: String,
    pub first_name: String,
    pub last_name: String,
    /// The buyer's address (tickets are mailed there).
    pub email: Option<String>,
    pub tier_name: String,
    pub tier_id: Option<Uuid>,
    /// `active`, `used` or `cancelled`.
    pub status: &'static str,
}

impl TicketLine {
    #[must_use]
    pub fn new(t: &tickets::Model, order: &orders::Model, tier_name: Option<&str>) -> Self {
        let (first_name, last_name) = split_name(&t.attendee_name);
        Self {
            ticket_number: t.code.clone(),
            first_name,
            last_name,
            email: Some(order.customer_email.clone()).filter(|e| !e.is_empty()),
            tier_name: tier_name.unwrap_or("General").to_string(),
            tier_id: Some(t.tier_id),
            status: ticket_status(&t.status),
        }
    }
}

/// `orders/{n}/tickets/` and `tickets/{id}/pdf-data/`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderTickets {
    pub success: bool,
    pub order_number: String,
    /// UTC.
    pub order_created_at: String,
    /// The order's state (`pending`: no tickets yet).
    pub status: String,
    pub event: Option<TicketEvent>,
    pub tickets: Vec<TicketLine>,
    pub ticket_count: usize,
}

/// A ticket as backtuki's `TicketSerializer` shows it. Approvals, forms,
/// notes and mail logs do not exist here: their keys answer `null`/empty.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(non_snake_case)]
pub struct TicketDetail {
    pub id: Uuid,
    pub ticket_number: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// `active`, `used` or `cancelled`.
    pub status: &'static str,
    /// `pending` or `checked_in`.
    pub check_in_status: &'static str,
    pub check_in_time: Option<String>,
    /// Who checked it in (a user id).
    pub check_in_by: Option<Uuid>,
    pub approval_status: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub rejection_reason: String,
    #[schema(value_type = Object)]
    pub form_data: serde_json::Value,
    pub attendee_name: String,
    pub order_number: String,
    pub name: String,
    pub checkInStatus: &'static str,
    pub checkInTime: Option<String>,
    pub ticketId: String,
    pub approvalStatus: Option<String>,
    pub approvedBy: Option<String>,
    pub approvedAt: Option<String>,
    pub rejectionReason: String,
    #[schema(value_type = Vec<Object>)]
    pub notes: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub email_logs: Vec<serde_json::Value>,
}

impl TicketDetail {
    #[must_use]
    pub fn new(t: &tickets::Model, order: &orders::Model) -> Self {
        let (first_name, last_name) = split_name(&t.attendee_name);
        let checked_in = TicketStatus::Used.is(&t.status);
        let check_in_status = if checked_in { "checked_in" } else { "pending" };
        let check_in_time = t.used_at.map(iso_santiago);
        Self {
            id: t.id,
            ticket_number: t.code.clone(),
            first_name,
            last_name,
            email: Some(order.customer_email.clone()).filter(|e| !e.is_empty()),
            status: ticket_status(&t.status),
            check_in_status,
            check_in_time: check_in_time.clone(),
            check_in_by: t.used_by,
            approval_status: None,
            approved_by: None,
            approved_at: None,
            rejection_reason: String::new(),
            form_data: serde_json::json!({}),
            attendee_name: t.attendee_name.clone(),
            order_number: order.order_number.clone(),
            name: t.attendee_name.clone(),
            checkInStatus: check_in_status,
            checkInTime: check_in_time,
            ticketId: t.code.clone(),
            approvalStatus: None,
            approvedBy: None,
            approvedAt: None,
            rejectionReason: String::new(),
            notes: Vec::new(),
            email_logs: Vec::new(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderUser {
    pub name: String,
    pub email: String,
}

/// The order of a ticket looked up at the door.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderInfo {
    pub id: Uuid,
    pub order_number: String,
    pub status: String,
    pub total_amount: f64,
    pub subtotal: f64,
    pub taxes: f64,
    pub service_fee: f64,
    pub discount: f64,
    pub payment_method: String,
    /// UTC.
    pub created_at: String,
    pub user: OrderUser,
}

/// `tickets/by_uuid/`: the ticket, its order and the order's other tickets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketWithOrder {
    #[serde(flatten)]
    pub ticket: TicketDetail,
    pub order_info: OrderInfo,
    /// Every ticket of the order, by first then last name.
    pub order_tickets: Vec<TicketDetail>,
}

#[allow(clippy::cast_precision_loss)]
fn float(amount: i64) -> f64 {
    amount as f64
}

/// How an order was paid, in backtuki's words.
#[must_use]
pub fn payment_method(order: &orders::Model) -> &'static str {
    paid_by(order.total)
}

/// How an order of `total` pesos was paid: nothing to pay, or Webpay.
#[must_use]
pub const fn paid_by(total: i64) -> &'static str {
    if total == 0 {
        "free"
    } else {
        "webpay_plus"
    }
}

impl OrderInfo {
    #[must_use]
    pub fn new(order: &orders::Model) -> Self {
        Self {
            id: order.id,
            order_number: order.order_number.clone(),
            status: order.status.clone(),
            total_amount: float(order.total),
            subtotal: float(order.subtotal + order.discount),
            taxes: 0.0,
            service_fee: float(order.service_fee),
            discount: float(order.discount),
            payment_method: payment_method(order).into(),
            created_at: iso_utc(order.created_at),
            user: OrderUser {
                name: order.customer_name.clone(),
                email: order.customer_email.clone(),
            },
        }
    }
}

/// `tickets/{ticket_number}/qr/`'s details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketInfo {
    pub event_title: String,
    /// UTC.
    pub event_date: String,
    pub attendee_name: String,
    pub ticket_type: String,
    pub order_number: String,
}

/// `tickets/{ticket_number}/qr/`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketQr {
    pub success: bool,
    /// `data:image/png;base64,…`; the code holds `ticket_url`.
    pub qr_code: String,
    pub ticket_number: String,
    pub ticket_url: String,
    /// UTC, 30 days from now.
    pub expires_at: String,
    /// What `tickets/validate-qr/` checks with the ticket number.
    pub security_hash: String,
    pub ticket_info: TicketInfo,
}

/// Who attends on one line of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(non_snake_case)]
pub struct Attendee {
    pub name: String,
    pub email: Option<String>,
    pub checkIn: bool,
}

/// One line of an order as backtuki's `OrderItemSerializer`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderItemDetail {
    pub id: Uuid,
    pub ticket_tier: Uuid,
    pub ticket_tier_name: String,
    pub quantity: i32,
    pub unit_price: String,
    pub unit_service_fee: String,
    /// (unit price + unit fee) × quantity.
    pub subtotal: String,
    /// This line's share of the order's discount code.
    pub discount: String,
    pub tickets_count: usize,
    pub attendees: Vec<Attendee>,
}

/// How the order was paid: the latest payment, else what is known.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Uuid>,
    pub payment_method: String,
    pub payment_provider: String,
    /// `completed`, `failed`, `processing`, `refunded` or `unknown`.
    pub payment_status: &'static str,
    /// Transbank's order number of the payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buy_order: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    pub coupon_applied: bool,
    pub coupon_code: Option<String>,
    pub discount_amount: f64,
    pub original_total: Option<f64>,
    pub final_total: f64,
}

/// A payment's state in backtuki's words.
#[must_use]
pub fn payment_status(status: &str) -> &'static str {
    match PaymentStatus::parse(status) {
        Some(PaymentStatus::Authorized) => "completed",
        Some(PaymentStatus::Rejected | PaymentStatus::Aborted | PaymentStatus::Timeout) => "failed",
        Some(PaymentStatus::Failed) => "failed",
        _ => "processing",
    }
}

impl PaymentDetails {
    #[must_use]
    pub fn new(order: &orders::Model, payment: Option<&payments::Model>) -> Self {
        let (payment_id, method, provider, status) = match payment {
            Some(p) => (
                Some(p.id),
                "Webpay Plus",
                "Transbank",
                if p.refunded_amount > 0 {
                    "refunded"
                } else {
                    payment_status(&p.status)
                },
            ),
            None if order.total == 0 => (None, "Gratis", "Tuki", "completed"),
            None => (None, "Método desconocido", "Desconocido", "unknown"),
        };
        Self {
            payment_id,
            payment_method: method.into(),
            payment_provider: provider.into(),
            payment_status: status,
            buy_order: payment.map(|p| p.buy_order.clone()),
            completed_at: payment
                .filter(|p| PaymentStatus::Authorized.is(&p.status))
                .map(|p| iso_utc(p.updated_at)),
            coupon_applied: order.coupon_id.is_some(),
            coupon_code: Some(order.coupon_code.clone()).filter(|c| !c.is_empty()),
            discount_amount: float(order.discount),
            original_total: (order.discount > 0).then(|| float(order.total + order.discount)),
            final_total: float(order.total),
        }
    }
}

/// `orders/{id}/` as backtuki's `OrderDetailSerializer`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderDetail {
    pub id: Uuid,
    pub order_number: String,
    pub event: Uuid,
    pub event_title: String,
    pub status: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub subtotal: String,
    pub taxes: String,
    pub service_fee: String,
    pub total: String,
    pub currency: &'static str,
    pub payment_method: String,
    pub payment_id: String,
    /// The discount code's id.
    pub coupon: Option<Uuid>,
    /// Only when a code was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<String>,
    pub discount: String,
    pub notes: String,
    pub items: Vec<OrderItemDetail>,
    pub buyer_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub refund_reason: String,
    pub refunded_amount: String,
    pub payment_details: PaymentDetails,
    pub subtotal_effective: Option<String>,
    pub service_fee_effective: Option<String>,
    /// The order's tickets (not in the organizer's order list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickets: Option<Vec<TicketDetail>>,
}

impl OrderDetail {
    /// `fee_bps` is the event's service fee rate (each line shows its share).
    #[must_use]
    pub fn new(
        order: &orders::Model,
        event_title: &str,
        fee_bps: i32,
        items: &[order_items::Model],
        tickets: &[tickets::Model],
        payment: Option<&payments::Model>,
    ) -> Self {
        let (first_name, last_name) = split_name(&order.customer_name);
        let items = items
            .iter()
            .map(|i| {
                let unit_fee = crate::payments::checkout::service_fee(i.unit_price, fee_bps);
                let of_line: Vec<&tickets::Model> =
                    tickets.iter().filter(|t| t.tier_id == i.tier_id).collect();
                OrderItemDetail {
                    id: i.id,
                    ticket_tier: i.tier_id,
                    ticket_tier_name: i.tier_name.clone(),
                    quantity: i.quantity,
                    unit_price: pesos(i.unit_price),
                    unit_service_fee: pesos(unit_fee),
                    subtotal: pesos((i.unit_price + unit_fee) * i64::from(i.quantity)),
                    discount: pesos(i.discount),
                    tickets_count: of_line.len(),
                    attendees: of_line
                        .iter()
                        .map(|t| Attendee {
                            name: t.attendee_name.clone(),
                            email: Some(order.customer_email.clone()).filter(|e| !e.is_empty()),
                            checkIn: TicketStatus::Used.is(&t.status),
                        })
                        .collect(),
                }
            })
            .collect();
        Self {
            id: order.id,
            order_number: order.order_number.clone(),
            event: order.event_id,
            event_title: event_title.to_string(),
            status: order.status.clone(),
            email: order.customer_email.clone(),
            first_name,
            last_name,
            phone: order.customer_phone.clone(),
            subtotal: pesos(order.subtotal + order.discount),
            taxes: pesos(0),
            service_fee: pesos(order.service_fee),
            total: pesos(order.total),
            currency: CURRENCY,
            payment_method: payment_method(order).into(),
            payment_id: payment.map(|p| p.id.to_string()).unwrap_or_default(),
            coupon: order.coupon_id,
            coupon_code: Some(order.coupon_code.clone()).filter(|c| !c.is_empty()),
            discount: pesos(order.discount),
            notes: String::new(),
            items,
            buyer_name: order.customer_name.clone(),
            created_at: iso_santiago(order.created_at),
            updated_at: iso_santiago(order.updated_at),
            refund_reason: String::new(),
            refunded_amount: pesos(order.refunded_amount),
            payment_details: PaymentDetails::new(order, payment),
            subtotal_effective: Some(pesos(order.subtotal)),
            service_fee_effective: Some(pesos(order.service_fee)),
            tickets: Some(
                tickets
                    .iter()
                    .map(|t| TicketDetail::new(t, order))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_first_space_and_datetimes_are_utc() {
        assert_eq!(
            split_name("Ana María Pérez"),
            ("Ana".into(), "María Pérez".into())
        );
        assert_eq!(split_name(" Ana "), ("Ana".into(), String::new()));
        let at = DateTime::parse_from_rfc3339("2026-11-25T19:30:00-03:00").unwrap();
        assert_eq!(iso_utc(at), "2026-11-25T22:30:00+00:00");
        assert_eq!(pesos(15_000), "15000.00");
        assert_eq!(ticket_status("valid"), "active");
        assert_eq!(ticket_status("used"), "used");
        assert_eq!(ticket_status("cancelled"), "cancelled");
    }
}
