//! An event's orders and attendees as CSV files or Excel workbooks
//! (`?export_format=excel`), on backtuki's paths
//! (`events/{id}/export_orders/`, `events/{id}/export_attendees/`) and
//! column headers, streamed: rows are read 1,000 at a time by keyset and
//! written as they come (CSV to the answer, a workbook to its temporary
//! file, then sent), so a 100,000-ticket event never sits in memory.
//!
//! Dates are es-CL (`dd-mm-aaaa hh:mm:ss`, Santiago time), amounts whole
//! pesos; a cell a spreadsheet would take for a formula (`=`, `+`, `-`, `@`)
//! is prefixed with `'` (backtuki's files were open to formula injection).
//! Admins and report readers export.

use std::collections::HashMap;

use axum::{
    body::Body,
    extract::Path,
    http::header,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::America::Santiago;
use loco_rs::prelude::*;
use sea_orm::{Condition, DatabaseConnection, FromQueryResult, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{organizer_events::own_event_by_id, organizers::Member, Api, ApiError, Detail, Table};
use crate::{
    models::{
        _entities::{events, order_items, orders, payments, ticket_tiers},
        status::{OrderStatus, TicketStatus},
    },
    views::tickets::{paid_by, payment_method, split_name},
};

/// Rows read per statement.
const BATCH: u64 = 1_000;

const ORDER_HEADERS: [&str; 26] = [
    "Número de Orden",
    "Estado de Orden",
    "Fecha de Creación",
    "Fecha de Pago",
    "Email del Comprador",
    "Nombre del Comprador",
    "Apellido del Comprador",
    "Teléfono",
    "Subtotal",
    "Impuestos",
    "Comisión de Servicio",
    "Descuento",
    "Total",
    "Moneda",
    "Método de Pago",
    "ID de Transacción",
    "Cupón Usado",
    "Código de Cupón",
    "IP de Compra",
    "User Agent",
    "Cantidad de Tickets",
    "Tipos de Tickets",
    "Precios Unitarios",
    "Notas",
    "Monto Reembolsado",
    "Razón de Reembolso",
];

const ATTENDEE_HEADERS: [&str; 25] = [
    "Número de Ticket",
    "Nombre",
    "Apellido",
    "Email",
    "Tipo de Ticket",
    "Precio del Ticket",
    "Estado del Ticket",
    "Estado de Check-in",
    "Fecha de Check-in",
    "Check-in por",
    "Estado de Aprobación",
    "Aprobado por",
    "Fecha de Aprobación",
    "Razón de Rechazo",
    "Número de Orden",
    "Estado de Orden",
    "Método de Pago",
    "Total de Orden",
    "Fecha de Compra",
    "Fecha de Pago",
    "Teléfono del Comprador",
    "Nombre del Comprador",
    "IP de Compra",
    "Cupón Usado",
    "Descuento Aplicado",
];

/// One CSV field: quoted when it holds a separator, quote or line break;
/// a leading formula character is neutralised.
fn field(out: &mut String, value: &str) {
    let guarded;
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{value}");
        guarded.as_str()
    } else {
        value
    };
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// One CSV line of `values` (quoted and neutralised as [`field`] does), CRLF-ended.
pub fn csv_line<S: AsRef<str>>(out: &mut String, values: &[S]) {
    for (n, v) in values.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        field(out, v.as_ref());
    }
    out.push_str("\r\n");
}

/// `02-12-2026 15:30:00`, Santiago time.
fn when(at: Option<DateTime<FixedOffset>>) -> String {
    at.map(|t| {
        t.with_timezone(&Santiago)
            .format("%d-%m-%Y %H:%M:%S")
            .to_string()
    })
    .unwrap_or_default()
}

fn order_status(status: &str) -> &'static str {
    match OrderStatus::parse(status) {
        Some(OrderStatus::Pending) => "Pendiente",
        Some(OrderStatus::Paid) => "Pagado",
        Some(OrderStatus::PartiallyRefunded) => "Reembolsado parcialmente",
        Some(OrderStatus::Refunded) => "Reembolsado",
        Some(OrderStatus::Cancelled) => "Cancelado",
        Some(OrderStatus::Expired) => "Expirado",
        Some(OrderStatus::Failed) | None => "Fallido",
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Orders,
    Attendees,
}

/// Where the stream is: the header not yet written, no row yet, after the
/// last row's keyset, or done.
enum Cursor {
    Start,
    First,
    After(DateTime<FixedOffset>, Uuid),
    Done,
}

/// The rows of an event after `from` up to and including `last`, by
/// `(created, id)`: row comparisons, which the index on
/// `(event_id, created_at, id)` answers as a range.
fn between(
    created: impl ColumnTrait,
    id: impl ColumnTrait,
    from: Option<(DateTime<FixedOffset>, Uuid)>,
    last: Option<(DateTime<FixedOffset>, Uuid)>,
) -> Condition {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let key = || {
        Expr::tuple([
            Expr::col(created.as_column_ref()),
            Expr::col(id.as_column_ref()),
        ])
    };
    let mut range = Condition::all();
    if let Some((at, row)) = from {
        range = range.add(key().gt(Expr::tuple([Expr::val(at), Expr::val(row)])));
    }
    if let Some((at, row)) = last {
        range = range.add(key().lte(Expr::tuple([Expr::val(at), Expr::val(row)])));
    }
    range
}

/// A batch of rows, and the keyset after its last.
type Batch = (Vec<Vec<String>>, Option<(DateTime<FixedOffset>, Uuid)>);

/// A batch of orders with their lines and Webpay buy orders. The lines and
/// payments are read by the batch's keyset range, not by a list of its
/// ids: every statement stays a few hundred bytes (a 1,000-id list made
/// 20 KB statements, which TLS split and Nagle's algorithm then held for
/// the server's delayed ACK, 40 ms each).
async fn order_rows(
    db: &DatabaseConnection,
    event: Uuid,
    cursor: Option<(DateTime<FixedOffset>, Uuid)>,
) -> Result<Batch, sea_orm::DbErr> {
    let rows = orders::Entity::find()
        .filter(orders::Column::EventId.eq(event))
        .filter(between(
            orders::Column::CreatedAt,
            orders::Column::Id,
            cursor,
            None,
        ))
        .order_by_asc(orders::Column::CreatedAt)
        .order_by_asc(orders::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    let Some(last) = rows.last().map(|o| (o.created_at, o.id)) else {
        return Ok((Vec::new(), None));
    };
    let in_batch = || {
        Condition::all()
            .add(orders::Column::EventId.eq(event))
            .add(between(
                orders::Column::CreatedAt,
                orders::Column::Id,
                cursor,
                Some(last),
            ))
    };
    let mut items: HashMap<Uuid, Vec<order_items::Model>> = HashMap::new();
    for i in order_items::Entity::find()
        .inner_join(orders::Entity)
        .filter(in_batch())
        .order_by_asc(order_items::Column::Id)
        .all(db)
        .await?
    {
        items.entry(i.order_id).or_default().push(i);
    }
    let mut paid_with: HashMap<Uuid, String> = HashMap::new();
    for p in payments::Entity::find()
        .inner_join(orders::Entity)
        .filter(in_batch())
        .order_by_asc(payments::Column::CreatedAt)
        .all(db)
        .await?
    {
        paid_with.insert(p.order_id, p.buy_order);
    }
    let mut out = Vec::with_capacity(rows.len());
    for o in &rows {
        let lines = items.get(&o.id).map_or(&[][..], Vec::as_slice);
        let (first, last) = split_name(&o.customer_name);
        let quantity: i32 = lines.iter().map(|i| i.quantity).sum();
        let kinds: Vec<String> = lines
            .iter()
            .map(|i| format!("{} (x{})", i.tier_name, i.quantity))
            .collect();
        let prices: Vec<String> = lines
            .iter()
            .map(|i| format!("{}: ${}", i.tier_name, i.unit_price))
            .collect();
        out.push(vec![
            o.order_number.clone(),
            order_status(&o.status).into(),
            when(Some(o.created_at)),
            when(o.paid_at),
            o.customer_email.clone(),
            first,
            last,
            o.customer_phone.clone(),
            (o.subtotal + o.discount).to_string(),
            "0".into(),
            o.service_fee.to_string(),
            o.discount.to_string(),
            o.total.to_string(),
            "CLP".into(),
            payment_method(o).into(),
            paid_with.get(&o.id).cloned().unwrap_or_default(),
            if o.coupon_code.is_empty() {
                "No"
            } else {
                "Sí"
            }
            .into(),
            o.coupon_code.clone(),
            String::new(),
            String::new(),
            quantity.to_string(),
            kinds.join("; "),
            prices.join("; "),
            String::new(),
            o.refunded_amount.to_string(),
            String::new(),
        ]);
    }
    Ok((out, Some(last)))
}

/// One attendee: a ticket with what the export shows of its order.
#[derive(FromQueryResult)]
struct AttendeeRow {
    id: Uuid,
    created_at: DateTime<FixedOffset>,
    code: String,
    attendee_name: String,
    status: String,
    used_at: Option<DateTime<FixedOffset>>,
    tier_id: Uuid,
    unit_price: Option<i64>,
    scanner: Option<String>,
    customer_email: String,
    order_number: String,
    order_status: String,
    total: i64,
    ordered_at: DateTime<FixedOffset>,
    paid_at: Option<DateTime<FixedOffset>>,
    customer_phone: String,
    customer_name: String,
    coupon_code: String,
    discount: i64,
}

/// A batch of attendees, in one statement: the ticket, its order, its
/// line's price and who scanned it.
async fn attendee_rows(
    db: &DatabaseConnection,
    event: Uuid,
    tiers: &HashMap<Uuid, String>,
    cursor: Option<(DateTime<FixedOffset>, Uuid)>,
) -> Result<Batch, sea_orm::DbErr> {
    let mut values: Vec<sea_orm::Value> = vec![event.into()];
    let after = match cursor {
        Some((at, id)) => {
            values.extend([at.into(), id.into()]);
            "AND (t.created_at, t.id) > ($2, $3)"
        }
        None => "",
    };
    let sql = format!(
        "SELECT t.id AS id, t.created_at AS created_at, t.code AS code, \
           t.attendee_name AS attendee_name, t.status AS status, t.used_at AS used_at, \
           t.tier_id AS tier_id, \
           (SELECT i.unit_price FROM order_items i \
             WHERE i.order_id = t.order_id AND i.tier_id = t.tier_id ORDER BY i.id LIMIT 1) AS unit_price, \
           u.email AS scanner, o.customer_email AS customer_email, o.order_number AS order_number, \
           o.status AS order_status, o.total AS total, o.created_at AS ordered_at, \
           o.paid_at AS paid_at, o.customer_phone AS customer_phone, \
           o.customer_name AS customer_name, o.coupon_code AS coupon_code, o.discount AS discount \
         FROM tickets t JOIN orders o ON o.id = t.order_id LEFT JOIN users u ON u.id = t.used_by \
         WHERE t.event_id = $1 {after} ORDER BY t.created_at, t.id LIMIT {BATCH}"
    );
    let rows = AttendeeRow::find_by_statement(crate::models::sql::statement(
        db.get_database_backend(),
        &sql,
        values,
    ))
    .all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for t in &rows {
        let (first, last) = split_name(&t.attendee_name);
        let used = TicketStatus::Used.is(&t.status);
        out.push(vec![
            t.code.clone(),
            first,
            last,
            t.customer_email.clone(),
            tiers.get(&t.tier_id).cloned().unwrap_or_default(),
            t.unit_price.map(|p| p.to_string()).unwrap_or_default(),
            match TicketStatus::parse(&t.status) {
                Some(TicketStatus::Valid) => "Activo",
                Some(TicketStatus::Used) => "Usado",
                _ => "Cancelado",
            }
            .into(),
            if used { "Ingresado" } else { "Pendiente" }.into(),
            when(t.used_at),
            t.scanner.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            t.order_number.clone(),
            order_status(&t.order_status).into(),
            paid_by(t.total).into(),
            t.total.to_string(),
            when(Some(t.ordered_at)),
            when(t.paid_at),
            t.customer_phone.clone(),
            t.customer_name.trim().to_string(),
            String::new(),
            if t.coupon_code.is_empty() {
                "No"
            } else {
                "Sí"
            }
            .into(),
            t.discount.to_string(),
        ]);
    }
    Ok((out, rows.last().map(|t| (t.created_at, t.id))))
}

fn stream(
    db: DatabaseConnection,
    event: Uuid,
    kind: Kind,
    tiers: HashMap<Uuid, String>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(Cursor::Start, move |cursor| {
        let db = db.clone();
        let tiers = tiers.clone();
        async move {
            let from = match cursor {
                Cursor::Done => return None,
                Cursor::Start => {
                    let mut head = String::from("\u{feff}");
                    match kind {
                        Kind::Orders => csv_line(&mut head, &ORDER_HEADERS),
                        Kind::Attendees => csv_line(&mut head, &ATTENDEE_HEADERS),
                    }
                    return Some((Ok(Bytes::from(head)), Cursor::First));
                }
                Cursor::First => None,
                Cursor::After(at, id) => Some((at, id)),
            };
            let batch = match kind {
                Kind::Orders => order_rows(&db, event, from).await,
                Kind::Attendees => attendee_rows(&db, event, &tiers, from).await,
            };
            match batch {
                Ok((rows, Some((at, id)))) => {
                    let mut text = String::with_capacity(rows.len() * 256);
                    for row in &rows {
                        csv_line(&mut text, row);
                    }
                    Some((Ok(Bytes::from(text)), Cursor::After(at, id)))
                }
                Ok((_, None)) => None,
                Err(e) => {
                    tracing::error!(error = %e, "an export stopped");
                    Some((Err(std::io::Error::other(e.to_string())), Cursor::Done))
                }
            }
        }
    })
}

/// Columns written as numbers in the workbook (amounts and counts).
fn numeric(kind: Kind, column: usize) -> bool {
    match kind {
        Kind::Orders => matches!(column, 8..=12 | 20 | 24),
        Kind::Attendees => matches!(column, 5 | 17 | 24),
    }
}

/// The workbook of an export, written to `path` by a blocking thread that
/// takes the rows batch by batch: rows go to the sheet's own temporary file
/// (the writer's constant-memory mode), so memory stays flat whatever the
/// event's size.
async fn write_xlsx(
    db: &DatabaseConnection,
    event: Uuid,
    kind: Kind,
    tiers: &HashMap<Uuid, String>,
    path: std::path::PathBuf,
) -> Result<(), ApiError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<String>>>(2);
    let writer = tokio::task::spawn_blocking(move || -> Result<(), rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name(match kind {
            Kind::Orders => "Pedidos",
            Kind::Attendees => "Asistentes",
        })?;
        let bold = Format::new().set_bold();
        let headers: &[&str] = match kind {
            Kind::Orders => &ORDER_HEADERS,
            Kind::Attendees => &ATTENDEE_HEADERS,
        };
        for (c, h) in headers.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            sheet.set_column_width(c, 18)?;
            sheet.write_string_with_format(0, c, *h, &bold)?;
        }
        let mut r: u32 = 1;
        for rows in rx {
            for row in rows {
                for (c, cell) in row.iter().enumerate() {
                    let col = u16::try_from(c).unwrap_or(u16::MAX);
                    match cell.parse::<i64>() {
                        #[allow(clippy::cast_precision_loss)]
                        Ok(n) if numeric(kind, c) => {
                            sheet.write_number(r, col, n as f64)?;
                        }
                        // Text is text in a workbook: no formula is ever
                        // made from a cell.
                        _ if !cell.is_empty() => {
                            sheet.write_string(r, col, cell.as_str())?;
                        }
                        _ => {}
                    }
                }
                r += 1;
            }
        }
        book.save(&path)
    });
    let mut cursor = None;
    loop {
        let (rows, next) = match kind {
            Kind::Orders => order_rows(db, event, cursor).await?,
            Kind::Attendees => attendee_rows(db, event, tiers, cursor).await?,
        };
        if !rows.is_empty() && tx.send(rows).is_err() {
            break;
        }
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    drop(tx);
    writer
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the workbook writer stopped");
            ApiError::Internal
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "writing a workbook");
            ApiError::Internal
        })
}

/// A file streamed 64 KiB at a time; it is unlinked once open (its data
/// lives until the stream ends).
fn file_stream(
    path: &std::path::Path,
) -> Result<impl futures_util::Stream<Item = Result<Bytes, std::io::Error>>, std::io::Error> {
    let file = std::fs::File::open(path)?;
    std::fs::remove_file(path)?;
    let file = std::sync::Arc::new(std::sync::Mutex::new(file));
    Ok(futures_util::stream::unfold(file, |file| async move {
        let reader = file.clone();
        let chunk = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut buf = vec![0; 64 * 1024];
            let n = reader
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>(buf)
        })
        .await
        .map_err(std::io::Error::other);
        match chunk {
            Ok(Ok(buf)) if buf.is_empty() => None,
            Ok(Ok(buf)) => Some((Ok(Bytes::from(buf)), file)),
            Ok(Err(e)) | Err(e) => Some((Err(e), file)),
        }
    }))
}

async fn export(
    api: &Api,
    member: &Member,
    id: &str,
    kind: Kind,
    url: &super::RequestUrl,
) -> Result<Response, ApiError> {
    member.require_reports()?;
    let id = Uuid::parse_str(id.trim()).map_err(|_| ApiError::NotFound("No encontrado."))?;
    let event: events::Model = own_event_by_id(api, member, id).await?;
    if matches!(kind, Kind::Orders)
        && orders::Entity::find()
            .filter(orders::Column::EventId.eq(event.id))
            .one(&api.db)
            .await?
            .is_none()
    {
        return Err(ApiError::NotFound(
            "No hay órdenes para exportar para este evento",
        ));
    }
    let tiers: HashMap<Uuid, String> = ticket_tiers::Entity::find()
        .filter(ticket_tiers::Column::EventId.eq(event.id))
        .all(&api.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let excel = matches!(
        url.get("export_format").map(str::to_lowercase).as_deref(),
        Some("excel" | "xlsx")
    );
    let name = format!(
        "{}_{}_{}.{}",
        match kind {
            Kind::Orders => "pedidos",
            Kind::Attendees => "asistentes",
        },
        event.slug,
        Utc::now().format("%Y%m%d_%H%M%S"),
        if excel { "xlsx" } else { "csv" }
    );
    if excel {
        let path = std::env::temp_dir().join(format!("tuki-export-{}.xlsx", Uuid::new_v4()));
        let written = write_xlsx(&api.db, event.id, kind, &tiers, path.clone()).await;
        if let Err(e) = written {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        let body = file_stream(&path).map_err(|e| {
            tracing::error!(error = %e, "opening a workbook");
            ApiError::Internal
        })?;
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (header::CACHE_CONTROL, "private, no-store".to_string()),
            ],
            Body::from_stream(body),
        )
            .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        Body::from_stream(stream(api.db.clone(), event.id, kind, tiers)),
    )
        .into_response())
}

/// Every order of one of the organizer's events as CSV or an Excel
/// workbook (any state, oldest first).
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/export_orders/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "One of the organizer's events"),
        ("export_format" = Option<String>, Query, description = "`csv` (default) or `excel` (an .xlsx workbook)"),
    ),
    responses(
        (status = 200, description = "The CSV file (UTF-8 with BOM), streamed; or the .xlsx workbook", content_type = "text/csv"),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin or report reader", body = Detail),
        (status = 404, description = "Not one of the organizer's events, or it has no orders", body = Detail),
    )
)]
pub async fn export_orders(
    api: Api,
    member: Member,
    url: super::RequestUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    export(&api, &member, &id, Kind::Orders, &url).await
}

/// Every ticket of one of the organizer's events as CSV or an Excel
/// workbook (oldest first).
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/export_attendees/",
    tag = "organizer sales",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "One of the organizer's events"),
        ("export_format" = Option<String>, Query, description = "`csv` (default) or `excel` (an .xlsx workbook)"),
    ),
    responses(
        (status = 200, description = "The CSV file (UTF-8 with BOM), streamed; or the .xlsx workbook", content_type = "text/csv"),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin or report reader", body = Detail),
        (status = 404, description = "Not one of the organizer's events", body = Detail),
    )
)]
pub async fn export_attendees(
    api: Api,
    member: Member,
    url: super::RequestUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    export(&api, &member, &id, Kind::Attendees, &url).await
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_export_orders, export_orders)
        .doc(__path_export_attendees, export_attendees)
}

pub fn routes() -> Routes {
    table().routes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_quoted_and_formulas_neutralised() {
        let mut out = String::new();
        super::csv_line(&mut out, &["a,b", "=1+1", "di \"jo\"", "+56 9", "ok"]);
        assert_eq!(out, "\"a,b\",'=1+1,\"di \"\"jo\"\"\",'+56 9,ok\r\n");
    }
}
