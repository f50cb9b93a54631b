//! A stand-in for Transbank's Webpay Plus REST API v1.2, served over HTTP on a
//! local port: create, commit, status and refund as Transbank documents them
//! (same paths, headers, bodies, 422 `error_message`s). The test plays the
//! buyer with [`FakeWebpay::pay`] / [`FakeWebpay::decline`].

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

pub const COMMERCE_CODE: &str = "597055555532";
pub const API_KEY: &str = "579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C";
const API: &str = "/rswebpaytransaction/api/webpay/v1.2/transactions";

#[derive(Debug, Clone)]
pub struct Tx {
    pub buy_order: String,
    pub session_id: String,
    pub amount: i64,
    pub return_url: String,
    /// What the buyer did on Webpay's form: None (nothing yet), true (card
    /// approved), false (declined).
    pub approved: Option<bool>,
    pub committed: bool,
    pub status: String,
    pub refunded: i64,
}

#[derive(Default)]
pub struct Inner {
    pub txs: Mutex<HashMap<String, Tx>>,
    pub creates: AtomicUsize,
    pub commits: AtomicUsize,
    pub refunds: AtomicUsize,
    /// The next N commits answer 500 after doing their work (an answer lost
    /// on the way back).
    pub lose_commit_answers: AtomicUsize,
    /// The next N refunds answer 500 after doing their work.
    pub lose_refund_answers: AtomicUsize,
    /// The next N status calls answer 503 (Transbank unreachable).
    pub fail_status: AtomicUsize,
    /// Every request's `Tbk-Api-Key-Secret`, to check it was sent right.
    pub bad_auth: AtomicUsize,
}

#[derive(Clone)]
pub struct FakeWebpay {
    pub inner: Arc<Inner>,
    pub addr: SocketAddr,
}

fn refused(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error_message": message }))).into_response()
}

fn authorized(inner: &Inner, headers: &HeaderMap) -> bool {
    let ok = headers.get("Tbk-Api-Key-Id").and_then(|v| v.to_str().ok()) == Some(COMMERCE_CODE)
        && headers
            .get("Tbk-Api-Key-Secret")
            .and_then(|v| v.to_str().ok())
            == Some(API_KEY);
    if !ok {
        inner.bad_auth.fetch_add(1, Ordering::SeqCst);
    }
    ok
}

fn view(tx: &Tx) -> Value {
    let paid = tx.committed && tx.approved == Some(true);
    json!({
        "vci": if paid { "TSY" } else { "" },
        "amount": tx.amount,
        "status": tx.status,
        "buy_order": tx.buy_order,
        "session_id": tx.session_id,
        "card_detail": {"card_number": "6623"},
        "accounting_date": "1126",
        "transaction_date": "2026-11-26T12:00:00.000Z",
        "authorization_code": if paid { "1213" } else { "000000" },
        "payment_type_code": "VN",
        "response_code": if paid { 0 } else { -1 },
        "installments_number": 0,
        "balance": tx.amount - tx.refunded,
    })
}

async fn create(
    State(fake): State<FakeWebpay>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&fake.inner, &headers) {
        return refused(StatusCode::UNAUTHORIZED, "Not Authorized");
    }
    let buy_order = body["buy_order"].as_str().unwrap_or("");
    let session_id = body["session_id"].as_str().unwrap_or("");
    let amount = body["amount"].as_i64().unwrap_or(0);
    let return_url = body["return_url"].as_str().unwrap_or("");
    if buy_order.is_empty() || buy_order.len() > 26 {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid value for parameter: buy_order",
        );
    }
    if session_id.is_empty() || session_id.len() > 61 {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid value for parameter: session_id",
        );
    }
    if amount <= 0 {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid value for parameter: amount",
        );
    }
    if !return_url.starts_with("http") {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid value for parameter: return_url",
        );
    }
    fake.inner.creates.fetch_add(1, Ordering::SeqCst);
    let token = format!("01ab{}", uuid::Uuid::new_v4().simple());
    fake.inner.txs.lock().unwrap().insert(
        token.clone(),
        Tx {
            buy_order: buy_order.into(),
            session_id: session_id.into(),
            amount,
            return_url: return_url.into(),
            approved: None,
            committed: false,
            status: "INITIALIZED".into(),
            refunded: 0,
        },
    );
    Json(json!({
        "token": token,
        "url": format!("http://{}/webpayserver/init_transaction.cgi", fake.addr),
    }))
    .into_response()
}

async fn commit(
    State(fake): State<FakeWebpay>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    if !authorized(&fake.inner, &headers) {
        return refused(StatusCode::UNAUTHORIZED, "Not Authorized");
    }
    let answer = {
        let mut txs = fake.inner.txs.lock().unwrap();
        let Some(tx) = txs.get_mut(&token) else {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid value for parameter: token",
            );
        };
        if tx.committed {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Invalid status '{}' for transaction while authorizing. Commerce has already authorized it", tx.status),
            );
        }
        let Some(approved) = tx.approved else {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid status 'INITIALIZED' for transaction while authorizing",
            );
        };
        tx.committed = true;
        tx.status = if approved { "AUTHORIZED" } else { "FAILED" }.into();
        fake.inner.commits.fetch_add(1, Ordering::SeqCst);
        view(tx)
    };
    if fake
        .inner
        .lose_commit_answers
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return refused(StatusCode::INTERNAL_SERVER_ERROR, "upstream error");
    }
    Json(answer).into_response()
}

async fn status(
    State(fake): State<FakeWebpay>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    if !authorized(&fake.inner, &headers) {
        return refused(StatusCode::UNAUTHORIZED, "Not Authorized");
    }
    if fake
        .inner
        .fail_status
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return refused(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    }
    let txs = fake.inner.txs.lock().unwrap();
    match txs.get(&token) {
        Some(tx) => Json(view(tx)).into_response(),
        None => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid value for parameter: token",
        ),
    }
}

async fn refund(
    State(fake): State<FakeWebpay>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&fake.inner, &headers) {
        return refused(StatusCode::UNAUTHORIZED, "Not Authorized");
    }
    let amount = body["amount"].as_i64().unwrap_or(0);
    let mut txs = fake.inner.txs.lock().unwrap();
    let Some(tx) = txs.get_mut(&token) else {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid value for parameter: token",
        );
    };
    if !(tx.committed && tx.approved == Some(true)) {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Transaction not authorized",
        );
    }
    if amount <= 0 || amount > tx.amount - tx.refunded {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid value for parameter: amount",
        );
    }
    fake.inner.refunds.fetch_add(1, Ordering::SeqCst);
    let lost = fake
        .inner
        .lose_refund_answers
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    // A whole amount on the same day is reversed; anything else is nullified.
    if tx.refunded == 0 && amount == tx.amount {
        tx.refunded = amount;
        tx.status = "REVERSED".into();
        if lost {
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "lost answer");
        }
        return Json(json!({"type": "REVERSED"})).into_response();
    }
    tx.refunded += amount;
    tx.status = if tx.refunded == tx.amount {
        "NULLIFIED".into()
    } else {
        "PARTIALLY_NULLIFIED".into()
    };
    if lost {
        return refused(StatusCode::INTERNAL_SERVER_ERROR, "lost answer");
    }
    Json(json!({
        "type": "NULLIFIED",
        "authorization_code": "123456",
        "authorization_date": "2026-11-26T12:00:00.000Z",
        "nullified_amount": amount,
        "balance": tx.amount - tx.refunded,
        "response_code": 0,
    }))
    .into_response()
}

impl FakeWebpay {
    /// Starts the stand-in on a free local port (in the test's runtime).
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = Self {
            inner: Arc::new(Inner::default()),
            addr,
        };
        let app = Router::new()
            .route(API, post(create))
            .route(&format!("{API}/{{token}}"), get(status).put(commit))
            .route(&format!("{API}/{{token}}/refunds"), post(refund))
            .with_state(fake.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        fake
    }

    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The buyer approves the card payment on Webpay's form.
    pub fn pay(&self, token: &str) {
        self.inner
            .txs
            .lock()
            .unwrap()
            .get_mut(token)
            .unwrap()
            .approved = Some(true);
    }

    /// The buyer paid and the transaction was committed without this server
    /// hearing of it (a commit whose answer was lost): Transbank's status now
    /// says AUTHORIZED.
    pub fn authorize_without_us(&self, token: &str) {
        let mut txs = self.inner.txs.lock().unwrap();
        let tx = txs.get_mut(token).unwrap();
        tx.approved = Some(true);
        tx.committed = true;
        tx.status = "AUTHORIZED".into();
    }

    /// A transaction another shop system created and committed (backtuki's,
    /// before the cut-over): Transbank knows it as AUTHORIZED.
    pub fn committed_elsewhere(&self, token: &str, buy_order: &str, amount: i64) {
        self.inner.txs.lock().unwrap().insert(
            token.into(),
            Tx {
                buy_order: buy_order.into(),
                session_id: String::new(),
                amount,
                return_url: String::new(),
                approved: Some(true),
                committed: true,
                status: "AUTHORIZED".into(),
                refunded: 0,
            },
        );
    }

    /// The card is declined on Webpay's form.
    pub fn decline(&self, token: &str) {
        self.inner
            .txs
            .lock()
            .unwrap()
            .get_mut(token)
            .unwrap()
            .approved = Some(false);
    }

    #[must_use]
    pub fn tx(&self, token: &str) -> Tx {
        self.inner.txs.lock().unwrap()[token].clone()
    }

    #[must_use]
    pub fn created(&self) -> usize {
        self.inner.creates.load(Ordering::SeqCst)
    }

    #[must_use]
    pub fn commits(&self) -> usize {
        self.inner.commits.load(Ordering::SeqCst)
    }

    #[must_use]
    pub fn refunds(&self) -> usize {
        self.inner.refunds.load(Ordering::SeqCst)
    }
}
