//! Request bodies read as Django REST framework reads them, for the
//! endpoints whose answers the frontends parse field by field: every key is
//! checked and every problem collected under its name with DRF's Spanish
//! message (`Este campo es requerido.`, …), then refused at once as backtuki
//! does (`{"success": false, "message": …, "errors": {…}}`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ApiError;
use crate::models::users::Email;

pub const REQUIRED: &str = "Este campo es requerido.";
pub const NULL: &str = "Este campo no puede ser nulo.";
pub const BLANK: &str = "Este campo no puede estar en blanco.";
pub const NOT_A_STRING: &str = "Not a valid string.";
pub const BAD_EMAIL: &str = "Introduzca una dirección de correo electrónico válida.";

/// A JSON body's keys, with the errors found so far.
pub struct Input {
    map: Map<String, Value>,
    errors: BTreeMap<String, Vec<String>>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Null => "NoneType",
        Value::Object(_) => "dict",
    }
}

impl Input {
    #[must_use]
    pub fn new(body: Value) -> Self {
        match body {
            Value::Object(map) => Self {
                map,
                errors: BTreeMap::new(),
            },
            other => {
                let mut errors = BTreeMap::new();
                errors.insert(
                    "non_field_errors".to_string(),
                    vec![format!(
                        "Datos inválidos. Se esperaba un diccionario pero es un {}.",
                        type_name(&other)
                    )],
                );
                Self {
                    map: Map::new(),
                    errors,
                }
            }
        }
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors
            .entry(key.to_string())
            .or_default()
            .push(message.into());
    }

    #[must_use]
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Whether the body has `key` at all.
    #[must_use]
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// A text field (DRF's `CharField`: numbers become text, surrounding
    /// spaces are trimmed, blank refused unless `allow_blank`).
    pub fn text(
        &mut self,
        key: &str,
        required: bool,
        allow_blank: bool,
        max: usize,
    ) -> Option<String> {
        let text = match self.map.get(key) {
            None => {
                if required {
                    self.error(key, REQUIRED);
                }
                return None;
            }
            Some(Value::Null) => {
                self.error(key, NULL);
                return None;
            }
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                self.error(key, NOT_A_STRING);
                return None;
            }
        };
        if text.is_empty() && !allow_blank {
            self.error(key, BLANK);
            return None;
        }
        if text.chars().count() > max {
            self.error(
                key,
                format!("Asegúrese de que este campo no tenga más de {max} caracteres."),
            );
            return None;
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            self.error(key, "No puede tener caracteres de control.");
            return None;
        }
        Some(text)
    }

    /// A required email address, in lower case.
    pub fn email(&mut self, key: &str) -> Option<String> {
        let raw = self.text(key, true, false, 254)?;
        if Email::parse(&raw).is_err() {
            self.error(key, BAD_EMAIL);
            return None;
        }
        Some(raw.to_lowercase())
    }

    /// A required one-time code: six digits (inner spaces ignored).
    pub fn code(&mut self, key: &str) -> Option<String> {
        let raw = self.text(key, true, false, 64)?;
        let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if !code.chars().all(|c| c.is_ascii_digit()) {
            self.error(key, "El código debe contener solo números");
            return None;
        }
        if code.len() != 6 {
            self.error(key, "El código debe tener exactamente 6 dígitos");
            return None;
        }
        Some(code)
    }

    /// An optional boolean (DRF's `BooleanField`).
    pub fn boolean(&mut self, key: &str, default: bool) -> bool {
        match self.map.get(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) if n.as_i64() == Some(1) => true,
            Some(Value::Number(n)) if n.as_i64() == Some(0) => false,
            Some(Value::String(s)) => match s.trim().to_lowercase().as_str() {
                "true" | "1" | "yes" | "on" | "t" | "y" => true,
                "false" | "0" | "no" | "off" | "f" | "n" => false,
                _ => {
                    self.error(key, "Must be a valid boolean.");
                    default
                }
            },
            Some(_) => {
                self.error(key, "Must be a valid boolean.");
                default
            }
        }
    }

    /// An optional whole number from `min` to `max` (DRF's `IntegerField`:
    /// a number or a numeric string); `Some(None)` when sent as `null`.
    pub fn integer(&mut self, key: &str, min: i32, max: i32) -> Option<Option<i32>> {
        let n = match self.map.get(key)? {
            Value::Null => return Some(None),
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (i64::from(min)..=i64::from(max)).contains(&n) => {
                Some(i32::try_from(n).ok())
            }
            Some(n) if n < i64::from(min) => {
                self.error(
                    key,
                    format!("Asegúrese de que este valor es mayor o igual a {min}."),
                );
                None
            }
            Some(_) => {
                self.error(
                    key,
                    format!("Asegúrese de que este valor es menor o igual a {max}."),
                );
                None
            }
            None => {
                self.error(key, "Introduzca un número entero válido.");
                None
            }
        }
    }

    /// Any JSON value under `key` (an object stored as given).
    #[must_use]
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// Done reading: the collected errors as DRF's generic views answer them
    /// (`{"field": ["…"]}`).
    ///
    /// # Errors
    /// 400 with every field's messages.
    pub fn finish_fields(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Fields(self.errors))
        }
    }

    /// Done reading: the collected errors as backtuki's refusal.
    ///
    /// # Errors
    /// 400 `{"success": false, "message": message, "errors": {…}}`.
    pub fn finish(self, message: &str) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Envelope(
                axum::http::StatusCode::BAD_REQUEST,
                message.to_string(),
                Some(self.errors),
            ))
        }
    }
}

/// A JSON body read as a value (any shape; [`Input`] checks it).
pub struct Body(pub Value);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        // DRF reads an empty body as no fields (`{}`): a POST without a
        // body is an action with no options, not malformed JSON.
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Value::Object(Map::new())));
        }
        serde_json::from_slice::<Value>(&bytes)
            .map(Self)
            .map_err(|e| super::shape_error(&e))
    }
}
