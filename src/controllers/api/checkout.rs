//! Buying: reserve seats, book an order, pay it with Webpay Plus, read it.
//!
//! `POST /api/v1/events/{id}/reserve/`, `POST /api/v1/events/{id}/book/`,
//! `GET /api/v1/orders/{order_number}/?token=…`, `GET /api/v1/orders/`,
//! `POST /api/v1/payments/create_payment/`, `GET|POST /api/v1/payments/webpay_return/`.

use crate::models::status::OrderStatus;
use axum::{
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use chrono::{Duration, Utc};
use loco_rs::prelude::*;

use super::{drf::Body, purchase, Table};
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{
    auth::{Buyer, ClientIp, SignedIn},
    page_number, Api, ApiError, JsonBody, Page, RequestUrl, PAGE_SIZE,
};
use crate::views::orders::{order_view, LineResponse, OrderResponse, ReservationResponse};
use crate::{
    mailers::order_confirmation,
    models::{
        _entities::{events, order_items, ticket_tiers, tickets},
        orders::{self, Refunded},
        organizer_members::{self, Role},
        payments::Outcome,
    },
    payments::checkout::{self, CheckoutError, Customer, Line},
    payments::flow::{self, PaymentError, ReturnParams},
};

impl From<CheckoutError> for ApiError {
    fn from(err: CheckoutError) -> Self {
        match err {
            CheckoutError::NotFound => Self::NotFound("No encontrado."),
            CheckoutError::Invalid(errors) => Self::Fields(errors),
            CheckoutError::NotOnSale(detail) => Self::Conflict(json!({ "detail": detail })),
            CheckoutError::SoldOut {
                tier_id,
                tier_name,
                available,
            } => Self::Conflict(json!({
                "detail": format!("No quedan suficientes entradas de «{tier_name}»."),
                "tier_id": tier_id,
                "available": available,
            })),
            CheckoutError::Reservation(detail) => Self::Conflict(json!({ "detail": detail })),
            CheckoutError::Limit(detail) => Self::Limit(detail),
            CheckoutError::Db(e) => e.into(),
        }
    }
}

/// An event by id, or by slug (the frontends link both).
async fn event_id(api: &Api, key: &str) -> Result<Uuid, ApiError> {
    if let Ok(id) = Uuid::parse_str(key) {
        return Ok(id);
    }
    events::Entity::find()
        .filter(events::Column::Slug.eq(key))
        .one(&api.db)
        .await?
        .map(|e| e.id)
        .ok_or(ApiError::NotFound("No encontrado."))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReserveRequest {
    pub tiers: Vec<Line>,
}

/// Holds seats for a while (`RESERVATION_MINUTES`, default 15).
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/reserve/",
    tag = "checkout",
    params(("id" = String, Path, description = "The event's id or slug")),
    request_body(content = super::bodies::ReserveBody, description = "backtuki's `{tickets: [{tierId, quantity, customPrice?}], reservationId?, holdMinutes?}` (answered 200 with `{reservationId, expiresAt, items, holdMinutes}`), or `{tiers: [{tier_id, quantity}]}` (answered 201 with the reservation)"),
    responses(
        (status = 200, description = "Seats held (backtuki's body)", body = super::purchase::Reservation),
        (status = 201, description = "Seats held until `expires_at`", body = ReservationResponse),
        (status = 400, description = "Unknown tier, bad quantity, over a per-order limit", body = super::FieldErrors),
        (status = 404, description = "Unknown, draft, private or deleted event", body = super::Detail),
        (status = 409, description = "Not on sale, or not enough seats in the named tier",
            example = json!({"detail": "No quedan suficientes entradas de «General».", "tier_id": "…", "available": 2})),
        (status = 429, description = "Too many live reservations or reserve requests from this client", body = super::Detail),
    )
)]
pub async fn reserve(
    State(ctx): State<AppContext>,
    Buyer(user): Buyer,
    ClientIp(ip): ClientIp,
    Path(key): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api = Api::of(&ctx)?;
    let client = checkout::Client::new(user.map(|u| u.id), &ip);
    let limits = api.settings.limits;
    // Counted before anything is looked at, as sign-ins are.
    crate::platform::context::throttle(&ctx)?
        .limit(
            &format!("reserve:{}", client.key),
            u64::from(limits.reserve_attempts),
        )
        .await
        .map_err(ApiError::TooManyRequests)?;
    let event_id = event_id(&api, &key).await?;
    let now = Utc::now();
    if purchase::is_backtuki(&body) {
        let max = api.settings.reservation_minutes;
        let held = purchase::reserve(&api.db, event_id, &client, &limits, &body, max, now).await?;
        return Ok(Json(held).into_response());
    }
    let req: ReserveRequest = serde_json::from_value(body).map_err(|e| super::shape_error(&e))?;
    let hold = Duration::minutes(i64::from(api.settings.reservation_minutes));
    let reserved =
        checkout::reserve(&api.db, event_id, &client, &limits, &req.tiers, hold, now).await?;
    // Holds come and go by the thousand: the catalogue shows them within its
    // staleness bound rather than emptying this instance's cache each time.
    let fee_bps = reserved.service_fee_bps;
    let items: Vec<LineResponse> = reserved
        .items
        .iter()
        .map(|(i, t)| LineResponse {
            tier_id: i.tier_id,
            tier_name: t.name.clone(),
            quantity: i.quantity,
            unit_price: i.unit_price,
            discount: 0,
            total: i64::from(i.quantity) * i.unit_price,
        })
        .collect();
    let subtotal: i64 = items.iter().map(|i| i.total).sum();
    let fee = checkout::service_fee(subtotal, fee_bps);
    Ok((
        StatusCode::CREATED,
        Json(ReservationResponse {
            reservation_id: reserved.reservation.id,
            event_id,
            status: reserved.reservation.status.clone(),
            expires_at: reserved.reservation.expires_at.to_rfc3339(),
            items,
            subtotal,
            service_fee: fee,
            total: subtotal + fee,
            currency: "CLP",
        }),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BookRequest {
    pub reservation_id: Uuid,
    pub customer: Customer,
    /// A discount code of the event's organizer.
    #[serde(default)]
    pub coupon_code: Option<String>,
}

/// The order as the buyer sees it. `token` is put in the ticket links.
async fn order_response(
    api: &Api,
    url: &RequestUrl,
    order: &orders::Model,
    token: Option<&str>,
) -> Result<OrderResponse, ApiError> {
    let event = events::Entity::find_by_id(order.event_id)
        .one(&api.db)
        .await?
        .map(|e| (e.id, e.title, e.slug, e.start_date));
    let items = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(order.id))
        .order_by_asc(order_items::Column::CreatedAt)
        .all(&api.db)
        .await?;
    let issued = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .find_also_related(ticket_tiers::Entity)
        .order_by_asc(tickets::Column::CreatedAt)
        .order_by_asc(tickets::Column::Id)
        .all(&api.db)
        .await?;
    let hold = if OrderStatus::Pending.is(&order.status) {
        order.hold_expires_at(&api.db).await?
    } else {
        None
    };
    Ok(order_view(
        &url.origin(),
        order,
        token,
        event,
        &items,
        &issued,
        hold,
    ))
}

/// Turns a reservation into an order: pending until paid (free orders are
/// confirmed at once, with their tickets).
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/book/",
    tag = "checkout",
    params(("id" = String, Path, description = "The event's id or slug")),
    request_body(content = super::bodies::BookBody, description = "backtuki's `{customerInfo: {name, email, phone?}, ticketHolders?, couponCode?, reservationId?, tickets?}` (answered with `{bookingId, orderNumber, accessToken, status, totalAmount, originalAmount, discount, coupon_applied, payment_required, message, next_step?}`), or `{reservation_id, customer: {name, email, phone?}}` (answered with the order)"),
    responses(
        (status = 201, description = "The order, with its access token (shown once)", body = OrderResponse),
        (status = 400, description = "Invalid customer data or unknown reservation", body = super::FieldErrors),
        (status = 404, description = "Unknown event", body = super::Detail),
        (status = 409, description = "The reservation expired or already has an order", body = super::Detail),
        (status = 429, description = "Too many unpaid orders with this email", body = super::Detail),
    )
)]
pub async fn book(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    Buyer(user): Buyer,
    ClientIp(ip): ClientIp,
    Path(key): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let event_id = event_id(&api, &key).await?;
    // A discount code counts against the same guesses as the public check.
    let code = ["couponCode", "coupon_code"]
        .iter()
        .find_map(|k| body.get(*k).and_then(serde_json::Value::as_str));
    if code.is_some_and(|c| !c.trim().is_empty()) {
        crate::platform::context::throttle(&ctx)?
            .limit(&format!("{COUPON_TRIES}:ip:{ip}"), COUPON_TRIES_PER_WINDOW)
            .await
            .map_err(ApiError::TooManyRequests)?;
    }
    if purchase::is_backtuki(&body) {
        return book_backtuki(&ctx, &api, &url, user, &ip, event_id, &body).await;
    }
    let req: BookRequest = serde_json::from_value(body).map_err(|e| super::shape_error(&e))?;
    let new = checkout::NewOrder {
        event_id,
        reservation_id: req.reservation_id,
        customer: &req.customer,
        user_id: user.map(|u| u.id),
        limits: &api.settings.limits,
        secret: &api.settings.secret_key,
        coupon: req.coupon_code.as_deref(),
        now: Utc::now(),
    };
    let booked = checkout::book(&api.db, &new).await?;
    if OrderStatus::Paid.is(&booked.order.status) {
        api.cache.invalidate();
        let base = format!("{}://{}", url.scheme, url.host);
        order_confirmation::send(&ctx, booked.order.id, &base).await?;
    }
    let mut body = match booked.written {
        // A new pending order: answered from what its statement wrote.
        Some(written) => order_view(
            &url.origin(),
            &booked.order,
            Some(&booked.access_token),
            Some(written.event),
            &written.items,
            &[],
            written.hold_expires_at,
        ),
        None => order_response(&api, &url, &booked.order, Some(&booked.access_token)).await?,
    };
    body.access_token = Some(booked.access_token);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Book in backtuki's dialect: with its reservation, or holding the
/// `tickets` first when there is none; the ticket holders go on the order.
async fn book_backtuki(
    ctx: &AppContext,
    api: &Api,
    url: &RequestUrl,
    user: Option<crate::models::users::Model>,
    ip: &str,
    event_id: Uuid,
    body: &serde_json::Value,
) -> Result<Response, ApiError> {
    let booking = purchase::booking(body)?;
    let now = Utc::now();
    let user_id = user.map(|u| u.id);
    let held_here = booking.reservation.is_none();
    let reservation = match booking.reservation {
        Some(id) => id,
        None => {
            let lines = purchase::lines_of(body)
                .ok_or_else(|| ApiError::Field("tickets", "Elige al menos una entrada.".into()))?;
            let client = checkout::Client::new(user_id, ip);
            let hold = Duration::minutes(i64::from(api.settings.reservation_minutes));
            checkout::reserve(
                &api.db,
                event_id,
                &client,
                &api.settings.limits,
                &lines,
                hold,
                now,
            )
            .await
            .map_err(|e| purchase::renamed(e.into()))?
            .reservation
            .id
        }
    };
    let new = checkout::NewOrder {
        event_id,
        reservation_id: reservation,
        customer: &booking.customer,
        user_id,
        limits: &api.settings.limits,
        secret: &api.settings.secret_key,
        coupon: booking.coupon.as_deref(),
        now,
    };
    let booked = match checkout::book(&api.db, &new).await {
        Ok(booked) => booked,
        Err(e) => {
            // A hold made for this request alone is given back with the
            // refusal: a refused booking leaves nothing behind.
            if held_here {
                let txn = api.db.begin().await?;
                crate::models::reservations::end(
                    &txn,
                    reservation,
                    crate::models::status::ReservationStatus::Released,
                    Utc::now(),
                )
                .await?;
                txn.commit().await?;
            }
            return Err(purchase::renamed(e.into()));
        }
    };
    booked.order.set_holders(&api.db, &booking.holders).await?;
    if OrderStatus::Paid.is(&booked.order.status) {
        api.cache.invalidate();
        let base = format!("{}://{}", url.scheme, url.host);
        order_confirmation::send(ctx, booked.order.id, &base).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(purchase::booked(&booked.order, &booked.access_token)),
    )
        .into_response())
}

/// The counter of a client's discount-code tries (checks and bookings).
pub const COUPON_TRIES: &str = "coupon-check";
/// Tries per client per throttle window.
pub const COUPON_TRIES_PER_WINDOW: u64 = 30;

/// An order its reader may see: the signed-in owner, or whoever holds the
/// order's access token. Anyone else gets the same 404 as for no order.
pub async fn readable_order(
    api: &Api,
    number: &str,
    user: Option<&crate::models::users::Model>,
    token: Option<&str>,
) -> Result<orders::Model, ApiError> {
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number))
        .one(&api.db)
        .await?
        .ok_or(ApiError::NotFound("No encontrado."))?;
    may_read(&order, user, token)?;
    Ok(order)
}

/// Whether the reader may see an order it already has: its signed-in owner or
/// the holder of its access token; anyone else the same 404 as for no order.
///
/// # Errors
/// 404 for anyone else.
pub fn may_read(
    order: &orders::Model,
    user: Option<&crate::models::users::Model>,
    token: Option<&str>,
) -> Result<(), ApiError> {
    let owner = user.is_some_and(|u| order.user_id == Some(u.id));
    let token_ok = token.is_some_and(|t| {
        bool::from(
            crate::platform::tokens::sha256_hex(t)
                .as_bytes()
                .ct_eq(order.access_token_hash.as_bytes()),
        )
    });
    if owner || token_ok {
        Ok(())
    } else {
        Err(ApiError::NotFound("No encontrado."))
    }
}

/// An order by its id (backtuki's `OrderDetailSerializer`, with its lines and
/// tickets) or by its number (this server's order). By id: its signed-in
/// owner, staff, the event's organizer or the holder of its access token;
/// by number: its owner or the token holder.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{order_number}/",
    tag = "checkout",
    params(
        ("order_number" = String, Path, description = "The order's id, or its number"),
        ("token" = Option<String>, Query, description = "The order's access token (not needed by its signed-in owner)"),
    ),
    responses(
        (status = 200, description = "By id: backtuki's order; by number: this server's", body = OrderAnswer),
        (status = 401, description = "By id: neither signed in nor a token", body = super::Detail),
        (status = 404, description = "No such order, or not yours", body = super::Detail),
    )
)]
pub async fn order(
    api: Api,
    url: RequestUrl,
    Buyer(user): Buyer,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let token = url.get("token");
    if let Ok(id) = Uuid::parse_str(number.trim()) {
        return order_by_id(&api, user.as_ref(), id, token).await;
    }
    let order = readable_order(&api, &number, user.as_ref(), token).await?;
    Ok(super::private_json(
        order_response(&api, &url, &order, token).await?,
    ))
}

/// `orders/{id}/` or `orders/{order_number}/`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum OrderAnswer {
    ById(Box<crate::views::tickets::OrderDetail>),
    ByNumber(Box<OrderResponse>),
}

async fn order_by_id(
    api: &Api,
    user: Option<&crate::models::users::Model>,
    id: Uuid,
    token: Option<&str>,
) -> Result<Response, ApiError> {
    use crate::models::{
        _entities::{order_items, payments, tickets},
        organizer_members::{self, Role},
    };
    if user.is_none() && token.is_none() {
        return Err(super::NOT_AUTHENTICATED);
    }
    let not_found = ApiError::NotFound("No encontrado.");
    let Some(order) = orders::Entity::find_by_id(id).one(&api.db).await? else {
        return Err(not_found);
    };
    let allowed = may_read(&order, user, token).is_ok()
        || match user {
            Some(u) if u.is_staff || u.is_superuser => true,
            Some(u) => {
                organizer_members::has_role(&api.db, u.id, order.event_id, Role::ManageEvents)
                    .await?
            }
            None => false,
        };
    if !allowed {
        return Err(not_found);
    }
    let event = events::Entity::find_by_id(order.event_id)
        .one(&api.db)
        .await?;
    let items = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(order.id))
        .order_by_asc(order_items::Column::Id)
        .all(&api.db)
        .await?;
    let issued = tickets::Entity::find()
        .filter(tickets::Column::OrderId.eq(order.id))
        .order_by_asc(tickets::Column::CreatedAt)
        .order_by_asc(tickets::Column::Id)
        .all(&api.db)
        .await?;
    let payment = payments::Entity::find()
        .filter(payments::Column::OrderId.eq(order.id))
        .order_by_desc(payments::Column::CreatedAt)
        .order_by_desc(payments::Column::Id)
        .one(&api.db)
        .await?;
    let (title, bps) = event.map_or((String::new(), 0), |e| (e.title, e.service_fee_bps));
    Ok(super::private_json(
        crate::views::tickets::OrderDetail::new(
            &order,
            &title,
            bps,
            &items,
            &issued,
            payment.as_ref(),
        ),
    ))
}

/// The signed-in buyer's orders, newest first; with `event_id`, the
/// organizer's orders of that event (backtuki's dashboard list: filters
/// `status`, `search`, `ordering`, `no_pagination=true`; the page under
/// `results.results` beside `results.statistics`).
#[utoipa::path(
    get,
    path = "/api/v1/orders/",
    tag = "checkout",
    params(
        ("page" = Option<String>, Query),
        ("event_id" = Option<String>, Query, description = "One of the organizer's events"),
        ("status" = Option<String>, Query, description = "With `event_id`: one order status"),
        ("search" = Option<String>, Query, description = "With `event_id`: words in the number, name or email"),
        ("ordering" = Option<String>, Query, description = "With `event_id`: `created_at`, `updated_at`, `total` (`-` descending), comma-separated"),
        ("no_pagination" = Option<String>, Query, description = "With `event_id`: `true` for every order (2000 at most) at once"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The buyer's orders, or with `event_id` the organizer's (`OrderPage`)", body = Page<OrderResponse>),
        (status = 400, description = "A bad `status` or a parameter with a NUL character", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 403, description = "With `event_id`: not a member who reads orders", body = super::Detail),
        (status = 404, description = "A page beyond the last, or not one of the organizer's events", body = super::Detail),
    )
)]
pub async fn my_orders(
    api: Api,
    url: RequestUrl,
    SignedIn(user): SignedIn,
    super::organizers::MaybeMember(member): super::organizers::MaybeMember,
) -> Result<Response, ApiError> {
    // With `event_id`: the organizer's orders of that event (backtuki's
    // dashboard list).
    if let Some(event_id) = url.get("event_id").filter(|e| !e.is_empty()) {
        let member = member.ok_or(ApiError::Forbidden(super::organizers::NOT_ALLOWED))?;
        return super::organizer_orders::list_for_event(&api, &url, &member, event_id).await;
    }
    let query = orders::Entity::find()
        .filter(orders::Column::UserId.eq(user.id))
        .order_by_desc(orders::Column::CreatedAt)
        .order_by_desc(orders::Column::Id);
    let count = query.clone().count(&api.db).await?;
    let page = page_number(url.get("page"), count)?;
    let rows = query
        .paginate(&api.db, PAGE_SIZE)
        .fetch_page(page - 1)
        .await?;
    let mut results = Vec::with_capacity(rows.len());
    for o in &rows {
        results.push(order_response(&api, &url, o, None).await?);
    }
    Ok(Json(Page::new(&url, count, page, results)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreatePaymentRequest {
    pub order_number: String,
    /// The order's access token (not needed by its signed-in owner).
    #[serde(default)]
    pub token: Option<String>,
}

/// `{url, token}`: the frontend posts `token_ws=token` to `url`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatePaymentResponse {
    pub url: String,
    pub token: String,
}

/// Starts paying a pending order with Webpay Plus.
#[utoipa::path(
    post,
    path = "/api/v1/payments/create_payment/",
    tag = "payments",
    request_body(content = super::bodies::PayBody, description = "backtuki's `{order_id, payment_method_id}` (or `{order_id, provider_type, method_type}`), answered 201; or `{order_number, token}`, answered 200 `{url, token}`"),
    responses(
        (status = 200, body = CreatePaymentResponse),
        (status = 201, description = "backtuki's `{success, payment, payment_url, token, redirect_required, message}`", body = Object),
        (status = 400, description = "A field error or a refused Webpay transaction, `{success: false, errors | error}`; or malformed JSON", body = super::accounts::Refusal),
        (status = 403, description = "A signed-in buyer paying someone else's order", body = super::accounts::Refusal),
        (status = 404, description = "No such order, or not yours", body = super::Detail),
        (status = 409, description = "Not pending, or its reservation expired", body = super::Detail),
        (status = 502, description = "Webpay refused the transaction", body = super::Detail),
        (status = 503, description = "Webpay did not answer, or has no credentials yet (`detail` says so in Spanish)", body = super::Detail),
    )
)]
pub async fn create_payment(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    Buyer(user): Buyer,
    Body(body): Body,
) -> Result<Response, ApiError> {
    // Without Webpay credentials nothing can be paid: said first, whatever
    // the order.
    let webpay = crate::platform::context::webpay(&ctx)
        .await?
        .ok_or(ApiError::PaymentsOff)?;
    if body.get("order_id").is_some() {
        return super::pay::create_payment(&api, &webpay, &url, user.as_ref(), &body).await;
    }
    let req: CreatePaymentRequest =
        serde_json::from_value(body).map_err(|e| super::shape_error(&e))?;
    let order =
        readable_order(&api, &req.order_number, user.as_ref(), req.token.as_deref()).await?;
    let return_url = format!(
        "{}://{}/api/v1/payments/webpay_return/",
        url.scheme, url.host
    );
    match flow::create(&api.db, &webpay, &order, &return_url).await {
        Ok(created) => Ok(Json(CreatePaymentResponse {
            url: created.url,
            token: created.token,
        })
        .into_response()),
        Err(PaymentError::NotPending) => Err(ApiError::Conflict(json!({
            "detail": "La orden no está pendiente de pago.",
            "status": order.status,
        }))),
        Err(PaymentError::HoldExpired) => Err(ApiError::Conflict(json!({
            "detail": "La reserva de esta orden expiró; vuelve a reservar."
        }))),
        Err(PaymentError::Webpay(e)) => {
            tracing::error!(order = %order.order_number, error = %e, "webpay create failed");
            if e.outcome_unknown() {
                Err(ApiError::Unavailable)
            } else {
                Err(ApiError::BadGateway(
                    "Webpay rechazó la transacción; intenta de nuevo.",
                ))
            }
        }
        Err(PaymentError::Db(e)) => Err(e.into()),
    }
}

/// Settles a return (commit, or close an aborted or timed-out payment):
/// the order as it is after, and the outcome; a paid order is mailed.
async fn settle_return(
    ctx: &AppContext,
    api: &Api,
    url: &RequestUrl,
    params: &ReturnParams,
) -> Result<(Option<orders::Model>, Outcome), ApiError> {
    let webpay = crate::platform::context::webpay(ctx)
        .await?
        .ok_or(ApiError::PaymentsOff)?;
    let (order, outcome) = flow::handle_return(&api.db, &webpay, params).await?;
    if matches!(outcome, Outcome::Paid | Outcome::Refunded) {
        api.cache.invalidate();
    }
    if let (Outcome::Paid, Some(order)) = (outcome, &order) {
        let base = format!("{}://{}", url.scheme, url.host);
        order_confirmation::send(ctx, order.id, &base).await?;
    }
    Ok((order, outcome))
}

async fn finish_return(
    ctx: &AppContext,
    api: &Api,
    url: &RequestUrl,
    params: ReturnParams,
) -> Result<Response, ApiError> {
    let (order, outcome) = settle_return(ctx, api, url, &params).await?;
    let number = order.map(|o| o.order_number);
    let mut target = url::Url::parse(&format!("{}/payment/result", api.settings.frontend_url))
        .map_err(|_| ApiError::Internal)?;
    {
        let mut q = target.query_pairs_mut();
        if let Some(n) = &number {
            q.append_pair("order", n);
        }
        q.append_pair("status", outcome.as_str());
    }
    Ok(Redirect::to(target.as_str()).into_response())
}

/// The end of a payment. As backtuki's frontend drives it, the frontend
/// posts JSON `{token_ws}` (or the `TBK_*` of an abort or a timeout) and
/// reads `{success, payment, transaction_data, order_status, message}`;
/// a return that reaches this server directly from Webpay (GET, or a form
/// POST) is settled the same way and the buyer sent on to
/// `FRONTEND_URL/payment/result?order=…&status=…`. Repeating a return
/// answers the same and changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/payments/webpay_return/",
    tag = "payments",
    request_body(description = "JSON `{token_ws}` or `{TBK_TOKEN, TBK_ORDEN_COMPRA, TBK_ID_SESION}`, or the same as a form",
        content((super::bodies::WebpayReturn = "application/json"), (super::bodies::WebpayReturn = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Paid (JSON)", body = Object),
        (status = 303, description = "From Webpay itself (a form): to the frontend with `status` = paid, rejected, cancelled, timeout, refunded, pending or error"),
        (status = 400, description = "Not paid (JSON: `{success: false, payment, error, message}`), or an unknown token", body = Object),
        (status = 415, description = "The body is neither JSON nor a form"),
        (status = 503, description = "Webpay has no credentials yet (`detail` says so in Spanish)", body = super::Detail),
    ),
)]
pub async fn webpay_return_post(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        let super::JsonBody(params) =
            <super::JsonBody<ReturnParams> as axum::extract::FromRequest<AppContext>>::from_request(req, &ctx).await?;
        let (order, outcome) = settle_return(&ctx, &api, &url, &params).await?;
        return super::pay::return_answer(&api, &url, &params, order.as_ref(), outcome).await;
    }
    let Form(params) =
        <Form<ReturnParams> as axum::extract::FromRequest<AppContext>>::from_request(req, &ctx)
            .await
            .map_err(|_| ApiError::UnsupportedMedia)?;
    finish_return(&ctx, &api, &url, params).await
}

pub async fn webpay_return_get(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    Query(params): Query<ReturnParams>,
) -> Result<Response, ApiError> {
    finish_return(&ctx, &api, &url, params).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefundRequest {
    /// Pesos to give back; the whole remaining amount when absent.
    pub amount: Option<i64>,
}

/// Refunds a paid order in full or in part through Webpay (superusers, or an
/// admin of the event's organizer; anyone else gets 404). A full refund cancels its tickets and
/// returns their seats to sale.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{order_number}/refund/",
    tag = "payments",
    params(("order_number" = String, Path)),
    request_body = RefundRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = OrderResponse),
        (status = 400, description = "An amount over what is left to refund", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = super::Detail),
        (status = 404, description = "No such order, or not yours to refund", body = super::Detail),
        (status = 409, description = "Not paid, or another refund of it under way", body = super::Detail),
        (status = 502, description = "Webpay refused the refund, or did not confirm it", body = super::Detail),
        (status = 503, description = "Webpay has no credentials yet: nothing refunded", body = super::Detail),
    )
)]
pub async fn refund(
    State(ctx): State<AppContext>,
    api: Api,
    url: RequestUrl,
    SignedIn(user): SignedIn,
    Path(number): Path<String>,
    JsonBody(req): JsonBody<RefundRequest>,
) -> Result<Response, ApiError> {
    let order = orders::Entity::find()
        .filter(orders::Column::OrderNumber.eq(number.as_str()))
        .one(&api.db)
        .await?
        .ok_or(ApiError::NotFound("No encontrado."))?;
    // One rule with the admin: superusers, or admins of the event's
    // organizer. Anyone else learns nothing about the order.
    let allowed = user.is_superuser
        || organizer_members::has_role(&api.db, user.id, order.event_id, Role::Admin).await?;
    if !allowed {
        return Err(ApiError::NotFound("No encontrado."));
    }
    if !OrderStatus::is_paid(&order.status) {
        return Err(ApiError::Conflict(json!({
            "detail": "Solo se reembolsan órdenes pagadas.",
            "status": order.status,
        })));
    }
    let left = order.total - order.refunded_amount;
    let amount = req.amount.unwrap_or(left);
    if amount <= 0 || amount > left {
        return Err(ApiError::Field(
            "amount",
            format!("Debe estar entre 1 y {left}."),
        ));
    }
    let webpay = crate::platform::context::webpay(&ctx)
        .await?
        .ok_or(ApiError::PaymentsOff)?;
    match order.refund(&api.db, &webpay, amount).await? {
        Refunded::Done => {}
        Refunded::TooMuch => {
            return Err(ApiError::Field(
                "amount",
                "Supera lo que queda por reembolsar.".into(),
            ))
        }
        Refunded::NoPayment => {
            return Err(ApiError::Conflict(json!({
                "detail": "La orden no tiene un pago de Webpay que reembolsar."
            })))
        }
        Refunded::InProgress => {
            return Err(ApiError::Conflict(json!({
                "detail": "Ya hay un reembolso en curso para esta orden; intenta en un momento."
            })))
        }
        Refunded::Refused => {
            return Err(ApiError::BadGateway(
                "Webpay no aceptó el reembolso; intenta de nuevo o revisa la transacción.",
            ))
        }
        Refunded::Unknown => {
            return Err(ApiError::BadGateway(
                "Webpay no confirmó el reembolso; quedó en revisión y no se repetirá.",
            ))
        }
    }
    api.cache.invalidate();
    let order = orders::Entity::find_by_id(order.id)
        .one(&api.db)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok(Json(order_response(&api, &url, &order, None).await?).into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_reserve, reserve)
        .doc(__path_book, book)
        .doc(__path_my_orders, my_orders)
        .doc(__path_order, order)
        .doc(__path_refund, refund)
        .doc(__path_create_payment, create_payment)
        .doc(__path_webpay_return_post, webpay_return_post)
        .undocumented("/api/v1/payments/webpay_return/", get(webpay_return_get))
}

pub fn routes() -> Routes {
    table().routes()
}
