//! Records of what people paid — orders, tickets, payments — viewable, never
//! written by hand; a superuser refunds a paid order with the [`Refund`]
//! action.

use async_trait::async_trait;
use loco_rs::prelude::*;
use serde_json::{json, Value as Json};

use crate::{
    admin::{
        audit::{self, Change},
        error::AdminResult,
        fields::{self, Cell, Field, Kind},
        hooks::{Editor, ObjectAction, Plain, Run},
        site::{ModelAdmin, CREATED, ID},
        store::Row,
    },
    models::{
        orders::{self, Refunded},
        status::OrderStatus,
    },
};

const ORDER_STATUS: &[(&str, &str)] = &[
    ("pending", "Pendiente de pago"),
    ("paid", "Pagada"),
    ("cancelled", "Cancelada"),
    ("expired", "Expirada"),
    ("failed", "Pago fallido"),
    ("refunded", "Reembolsada"),
    ("partially_refunded", "Reembolso parcial"),
];
const TICKET_STATUS: &[(&str, &str)] = &[
    ("valid", "Válida"),
    ("used", "Usada"),
    ("cancelled", "Anulada"),
];
const PAYMENT_STATUS: &[(&str, &str)] = &[
    ("created", "Creado"),
    ("committing", "Confirmando"),
    ("authorized", "Autorizado"),
    ("rejected", "Rechazado"),
    ("aborted", "Anulado por el comprador"),
    ("timeout", "Expirado en Webpay"),
    ("failed", "Fallido"),
    ("unknown", "Desconocido"),
];

pub static ORDERS: ModelAdmin = ModelAdmin {
    app: "events",
    name: "order",
    table: "orders",
    verbose: "Orden",
    plural: "Órdenes",
    feminine: true,
    title: "order_number",
    fields: &[
        Field::new("order_number", "Número", Kind::Text(40)).readonly(),
        Field::new("event_id", "Evento", Kind::Fk("event")).readonly(),
        Field::new("user_id", "Usuario", Kind::Fk("user"))
            .null()
            .readonly(),
        Field::new("status", "Estado", Kind::Choice(ORDER_STATUS)).readonly(),
        Field::new("customer_name", "Nombre del comprador", Kind::Text(200)).readonly(),
        Field::new("customer_email", "Correo del comprador", Kind::Email).readonly(),
        Field::new("customer_phone", "Teléfono del comprador", Kind::Text(40)).readonly(),
        Field::new("subtotal", "Subtotal", Kind::Money).readonly(),
        Field::new("service_fee", "Cargo por servicio", Kind::Money).readonly(),
        Field::new("total", "Total", Kind::Money).readonly(),
        Field::new("refunded_amount", "Reembolsado", Kind::Money).readonly(),
        Field::new("paid_at", "Pagada", Kind::DateTime)
            .null()
            .readonly(),
        Field::new("confirmation_sent", "Confirmación enviada", Kind::Bool).readonly(),
        CREATED,
        ID,
    ],
    list: &[
        "order_number",
        "event_id",
        "customer_email",
        "status",
        "total",
        "created_at",
    ],
    search: &["order_number", "customer_email", "customer_name"],
    filters: &["status", "event_id"],
    ordering: "-created_at",
    writable: false,
    children: &[],
    inline: None,
    hooks: &Plain,
    extension: None,
    actions: &[&Refund],
    large: true,
    date_hierarchy: Some("created_at"),
    bulk: &[&ResendConfirmation],
};

pub static TICKETS: ModelAdmin = ModelAdmin {
    app: "events",
    name: "ticket",
    table: "tickets",
    verbose: "Entrada",
    plural: "Entradas",
    feminine: true,
    title: "code",
    fields: &[
        Field::new("code", "Código", Kind::Text(64)).readonly(),
        Field::new("order_id", "Orden", Kind::Fk("order")).readonly(),
        Field::new("event_id", "Evento", Kind::Fk("event")).readonly(),
        Field::new("tier_id", "Tipo de entrada", Kind::Fk("tickettier")).readonly(),
        Field::new("attendee_name", "Asistente", Kind::Text(200)).readonly(),
        Field::new("status", "Estado", Kind::Choice(TICKET_STATUS)).readonly(),
        Field::new("used_at", "Usada", Kind::DateTime)
            .null()
            .readonly(),
        Field::new("used_by", "Validada por", Kind::Fk("user"))
            .null()
            .readonly(),
        CREATED,
        ID,
    ],
    list: &[
        "code",
        "event_id",
        "tier_id",
        "attendee_name",
        "status",
        "used_at",
    ],
    search: &["code", "attendee_name"],
    filters: &["status", "event_id"],
    ordering: "-created_at",
    writable: false,
    children: &[],
    inline: None,
    hooks: &Plain,
    extension: None,
    actions: &[],
    large: false,
    date_hierarchy: None,
    bulk: &[],
};

pub static PAYMENTS: ModelAdmin = ModelAdmin {
    app: "payments",
    name: "payment",
    table: "payments",
    verbose: "Pago",
    plural: "Pagos",
    feminine: false,
    title: "buy_order",
    fields: &[
        Field::new("order_id", "Orden", Kind::Fk("order")).readonly(),
        Field::new("buy_order", "Orden de compra (Webpay)", Kind::Text(40)).readonly(),
        Field::new("amount", "Monto", Kind::Money).readonly(),
        Field::new("status", "Estado", Kind::Choice(PAYMENT_STATUS)).readonly(),
        Field::new(
            "response_code",
            "Código de respuesta",
            Kind::Int {
                min: i64::MIN,
                max: i64::MAX,
            },
        )
        .null()
        .readonly(),
        Field::new(
            "authorization_code",
            "Código de autorización",
            Kind::Text(20),
        )
        .readonly(),
        Field::new("card_last4", "Tarjeta (últimos 4)", Kind::Text(4)).readonly(),
        Field::new("payment_type_code", "Tipo de pago", Kind::Text(4)).readonly(),
        Field::new("refunded_amount", "Reembolsado", Kind::Money).readonly(),
        Field::new("detail", "Detalle", Kind::Textarea).readonly(),
        CREATED,
        ID,
    ],
    list: &[
        "buy_order",
        "order_id",
        "amount",
        "status",
        "card_last4",
        "created_at",
    ],
    search: &["buy_order", "authorization_code"],
    filters: &["status"],
    ordering: "-created_at",
    writable: false,
    children: &[],
    inline: None,
    hooks: &Plain,
    extension: None,
    actions: &[],
    large: false,
    date_hierarchy: Some("created_at"),
    bulk: &[],
};

/// `POST /admin/events/order/{id}/refund/`: part or all of a paid order back
/// through Webpay (superusers; a full refund gives the seats back).
pub struct Refund;

#[async_trait]
impl ObjectAction for Refund {
    fn name(&self) -> &'static str {
        "refund"
    }

    fn allowed(&self, editor: Editor<'_>) -> bool {
        editor.perms.is_superuser()
    }

    fn section(&self, m: &ModelAdmin, row: &Row) -> Option<Json> {
        let left = row.get(m, "total").as_int().unwrap_or(0)
            - row.get(m, "refunded_amount").as_int().unwrap_or(0);
        OrderStatus::is_paid(row.get(m, "status").as_str()).then(|| {
            json!({ "url": format!("{}{}/refund/", m.url(), row.id), "left": left, "left_clp": fields::clp(left) })
        })
    }

    async fn run(&self, ctx: &AppContext, run: Run<'_>) -> AdminResult<String> {
        let Some(order) = orders::Entity::find_by_id(run.row.id).one(&ctx.db).await? else {
            return Ok("La orden ya no existe.".to_string());
        };
        let left = order.total - order.refunded_amount;
        if !OrderStatus::is_paid(&order.status) {
            return Ok("Solo se reembolsan órdenes pagadas.".to_string());
        }
        let amount_field = Field::new("amount", "Monto", Kind::Money);
        let amount = match run.input.get("amount").filter(|a| !a.trim().is_empty()) {
            None => left,
            Some(raw) => match fields::parse(&amount_field, Some(raw)) {
                Ok(Cell::Int(a)) => a,
                _ => return Ok("El monto no es válido; nada fue reembolsado.".to_string()),
            },
        };
        if amount <= 0 || amount > left {
            return Ok(format!(
                "El monto debe estar entre $1 y {}; nada fue reembolsado.",
                fields::clp(left)
            ));
        }
        let Some(webpay) = crate::platform::context::webpay(ctx).await? else {
            return Ok(format!(
                "{} Nada fue reembolsado.",
                crate::payments::credentials::NOT_CONFIGURED
            ));
        };
        let refused = match order.refund(&ctx.db, &webpay, amount).await? {
            Refunded::Done => None,
            Refunded::TooMuch => Some("El monto supera lo que queda por reembolsar; nada fue reembolsado."),
            Refunded::NoPayment => Some("La orden no tiene un pago de Webpay que reembolsar."),
            Refunded::InProgress => Some("Ya hay un reembolso en curso para esta orden; nada fue reembolsado."),
            Refunded::Refused => Some("Webpay no aceptó el reembolso; nada fue reembolsado. Revisa la transacción e inténtalo de nuevo."),
            Refunded::Unknown => Some("Webpay no confirmó el reembolso: el pago quedó «en reembolso» para revisarlo con Transbank; no se repetirá."),
        };
        if let Some(message) = refused {
            return Ok(message.to_string());
        }
        let note = format!("Reembolsado {}.", fields::clp(amount));
        audit::record(
            &ctx.db,
            run.editor.user,
            run.m,
            order.id,
            &order.order_number,
            Change::Changed,
            &note,
        )
        .await?;
        if let Ok(cache) = crate::platform::context::cache(ctx) {
            cache.invalidate();
        }
        Ok(format!("Orden {}: {note}", order.order_number))
    }
}

/// The changelist action "resend the confirmation" of the ticked paid orders
/// (superusers): each mail sent is written to the order's history.
pub struct ResendConfirmation;

#[async_trait]
impl crate::admin::hooks::BulkAction for ResendConfirmation {
    fn name(&self) -> &'static str {
        "resend_confirmation"
    }

    fn label(&self) -> &'static str {
        "Reenviar la confirmación de las órdenes seleccionadas"
    }

    fn allowed(&self, editor: Editor<'_>) -> bool {
        editor.perms.is_superuser()
    }

    async fn run(
        &self,
        ctx: &AppContext,
        m: &ModelAdmin,
        editor: Editor<'_>,
        rows: &[Row],
    ) -> AdminResult<String> {
        let base = crate::platform::context::settings(ctx)?
            .backend_url
            .clone()
            .unwrap_or_default();
        let (mut sent, mut unpaid, mut failed) = (0, 0, 0);
        for row in rows {
            if !OrderStatus::is_paid(row.get(m, "status").as_str()) {
                unpaid += 1;
                continue;
            }
            match crate::mailers::order_confirmation::resend(ctx, row.id, &base).await {
                Ok(()) => {
                    sent += 1;
                    audit::record(
                        &ctx.db,
                        editor.user,
                        m,
                        row.id,
                        &row.title(m),
                        Change::Changed,
                        "Reenviado el correo de confirmación.",
                    )
                    .await?;
                }
                Err(err) => {
                    tracing::warn!(order = %row.id, error = %err, "confirmation not resent");
                    failed += 1;
                }
            }
        }
        let mut message = format!("Se reenvió la confirmación de {sent} órdenes.");
        if unpaid > 0 {
            message.push_str(&format!(" {unpaid} no pagadas se omitieron."));
        }
        if failed > 0 {
            message.push_str(&format!(
                " {failed} no se pudieron enviar (revisa el correo saliente)."
            ));
        }
        Ok(message)
    }
}
