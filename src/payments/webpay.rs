//! Transbank Webpay Plus, REST API v1.2: create, commit, status and refund.
//!
//! The same client talks to Transbank's integration or production host, or to
//! whatever `TRANSBANK_API_BASE_URL` names (a local stand-in in the tests). The
//! API key travels only in the `Tbk-Api-Key-Secret` header: it is never part of
//! an error, a `Debug` print or a log line.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::platform::settings::Transbank;

const API_PATH: &str = "/rswebpaytransaction/api/webpay/v1.2/transactions";

/// What can go wrong talking to Webpay, without any secret in it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WebpayError {
    /// No answer (connection refused, timeout, TLS): the outcome is unknown.
    #[error("Webpay did not answer: {0}")]
    Network(String),
    /// Transbank answered with an error status and (usually) `error_message`.
    #[error("Webpay refused ({status}): {message}")]
    Refused { status: u16, message: String },
    /// An answer that is not the documented JSON.
    #[error("Webpay answered something unexpected ({status}): {message}")]
    Malformed { status: u16, message: String },
}

impl WebpayError {
    /// Whether the request may have had its effect at Transbank anyway (then
    /// `status` must be asked before deciding).
    #[must_use]
    pub const fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Network(_) | Self::Malformed { .. })
            || matches!(self, Self::Refused { status, .. } if *status >= 500)
    }
}

/// `POST /transactions` answer: where to send the buyer, with which token.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Created {
    pub token: String,
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CardDetail {
    #[serde(default)]
    pub card_number: Option<String>,
}

/// The transaction as commit and status describe it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Transaction {
    #[serde(default)]
    pub vci: Option<String>,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub buy_order: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub card_detail: Option<CardDetail>,
    #[serde(default)]
    pub accounting_date: Option<String>,
    #[serde(default)]
    pub transaction_date: Option<String>,
    #[serde(default)]
    pub authorization_code: Option<String>,
    #[serde(default)]
    pub payment_type_code: Option<String>,
    #[serde(default)]
    pub response_code: Option<i64>,
    #[serde(default)]
    pub installments_number: Option<i64>,
    #[serde(default)]
    pub balance: Option<i64>,
}

impl Transaction {
    /// Paid only when Transbank says both `response_code` 0 and `AUTHORIZED`.
    #[must_use]
    pub fn is_authorized(&self) -> bool {
        self.response_code == Some(0) && self.status.as_deref() == Some("AUTHORIZED")
    }
}

/// `POST /transactions/{token}/refunds` answer.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Refund {
    /// `REVERSED` (same day, whole amount) or `NULLIFIED`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub authorization_code: Option<String>,
    #[serde(default)]
    pub nullified_amount: Option<i64>,
    #[serde(default)]
    pub balance: Option<i64>,
    #[serde(default)]
    pub response_code: Option<i64>,
}

#[derive(Clone)]
pub struct Webpay {
    http: reqwest::Client,
    base: String,
    commerce_code: String,
    api_key: String,
}

impl std::fmt::Debug for Webpay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webpay")
            .field("base", &self.base)
            .field("commerce_code", &self.commerce_code)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error_message: Option<String>,
}

impl Webpay {
    /// # Errors
    /// When the HTTP client cannot be built (TLS roots).
    pub fn new(settings: &Transbank) -> Result<Self, WebpayError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| WebpayError::Network(e.to_string()))?;
        Ok(Self {
            http,
            base: settings.api_base_url.trim_end_matches('/').to_string(),
            commerce_code: settings.commerce_code.clone(),
            api_key: settings.api_key.clone(),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, WebpayError> {
        let response = request
            .header("Tbk-Api-Key-Id", &self.commerce_code)
            .header("Tbk-Api-Key-Secret", &self.api_key)
            .header("Content-Type", "application/json")
            .send()
            .await
            // reqwest's errors name the URL, never the headers.
            .map_err(|e| WebpayError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| WebpayError::Network(e.without_url().to_string()))?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<ErrorBody>(&body)
                .ok()
                .and_then(|b| b.error_message)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
            return Err(WebpayError::Refused { status, message });
        }
        serde_json::from_slice(&body).map_err(|e| WebpayError::Malformed {
            status,
            message: e.to_string(),
        })
    }

    /// Starts a payment; the buyer is then sent to `url` with `token_ws`.
    ///
    /// # Errors
    /// [`WebpayError`].
    pub async fn create(
        &self,
        buy_order: &str,
        session_id: &str,
        amount: i64,
        return_url: &str,
    ) -> Result<Created, WebpayError> {
        let body = serde_json::json!({
            "buy_order": buy_order,
            "session_id": session_id,
            "amount": amount,
            "return_url": return_url,
        });
        self.call(
            self.http
                .post(format!("{}{API_PATH}", self.base))
                .json(&body),
        )
        .await
    }

    /// Confirms the payment the buyer made; only then is it charged.
    ///
    /// # Errors
    /// [`WebpayError`].
    pub async fn commit(&self, token: &str) -> Result<Transaction, WebpayError> {
        self.call(
            self.http
                .put(format!("{}{API_PATH}/{}", self.base, encode(token))),
        )
        .await
    }

    /// The transaction's current state (reconciles an unknown outcome).
    ///
    /// # Errors
    /// [`WebpayError`].
    pub async fn status(&self, token: &str) -> Result<Transaction, WebpayError> {
        self.call(
            self.http
                .get(format!("{}{API_PATH}/{}", self.base, encode(token))),
        )
        .await
    }

    /// Gives back `amount` of an authorized payment.
    ///
    /// # Errors
    /// [`WebpayError`].
    pub async fn refund(&self, token: &str, amount: i64) -> Result<Refund, WebpayError> {
        self.call(
            self.http
                .post(format!("{}{API_PATH}/{}/refunds", self.base, encode(token)))
                .json(&serde_json::json!({ "amount": amount })),
        )
        .await
    }
}

fn encode(token: &str) -> String {
    percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC).to_string()
}
