//! Text that PostgreSQL refuses, refused first: a NUL character (`\0`) in a
//! path, a query parameter, a form field or a JSON string would make the
//! database error out (a 500). Every request is checked once, here, before
//! any handler parses it: a 400 naming the parameter or field instead.
//! Bodies are only looked into when their raw bytes can hold a NUL at all
//! (`%00` in a form, `\u0000` in JSON), so ordinary requests pass untouched.

use axum::{
    body::Body,
    extract::Request,
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

const MESSAGE: &str = "No puede contener el carácter nulo (\\u0000).";

/// Bodies larger than this are left to the handlers' own limits.
const MAX_SCANNED: usize = 10 * 1024 * 1024;

fn refuse(field: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ field: [MESSAGE] }))).into_response()
}

fn has_escaped_nul(bytes: &[u8], needle: &[u8]) -> bool {
    bytes
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The first form field (by name) whose name or value holds a NUL.
fn form_field_with_nul(raw: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(raw)
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', ""))
}

/// The path (`customer.name`, `tiers.0.name`) of the first JSON string or
/// key holding a NUL.
fn json_path_with_nul(value: &Value, at: &str) -> Option<String> {
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() {
            "non_field_errors".into()
        } else {
            at.to_string()
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| json_path_with_nul(v, &join(&i.to_string()))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(&k.replace('\0', "")))
            } else {
                json_path_with_nul(v, &join(k))
            }
        }),
        _ => None,
    }
}

pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if has_escaped_nul(path.as_bytes(), b"%00") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "detail": format!("La ruta: {MESSAGE}") })),
        )
            .into_response();
    }
    if let Some(field) = req
        .uri()
        .query()
        .and_then(|q| form_field_with_nul(q.as_bytes()))
    {
        return refuse(&field);
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    // Multipart bodies (uploads) are checked field by field where they are
    // read; a bodiless request has nothing to check.
    if kind.starts_with("multipart/")
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v == "0")
    {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_SCANNED).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"detail": "El cuerpo de la solicitud es demasiado grande."})),
        )
            .into_response();
    };
    // Whatever the declared type (handlers may parse JSON from any), look
    // for a NUL as raw bytes, percent-encoded, or escaped in JSON.
    let raw = bytes.contains(&0);
    if raw || has_escaped_nul(&bytes, b"\\u0000") || has_escaped_nul(&bytes, b"%00") {
        let field = match serde_json::from_slice::<Value>(&bytes) {
            // JSON: only its strings and keys matter ("%00" in one is text).
            Ok(v) => json_path_with_nul(&v, ""),
            Err(_) => form_field_with_nul(&bytes).or_else(|| raw.then(|| "detail".to_string())),
        };
        if let Some(field) = field {
            return refuse(&field);
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_holding_a_nul_is_named() {
        let v: Value =
            serde_json::from_str(r#"{"a": "ok", "customer": {"name": "x\u0000"}}"#).unwrap();
        assert_eq!(json_path_with_nul(&v, "").as_deref(), Some("customer.name"));
        let v: Value =
            serde_json::from_str(r#"{"tiers": [{"n": "ok"}, {"n": "\u0000"}]}"#).unwrap();
        assert_eq!(json_path_with_nul(&v, "").as_deref(), Some("tiers.1.n"));
        let v: Value = serde_json::from_str(r#"{"code": "a\\u0000"}"#).unwrap();
        assert_eq!(json_path_with_nul(&v, ""), None);
        assert_eq!(
            form_field_with_nul(b"a=1&code=4%00").as_deref(),
            Some("code")
        );
        assert_eq!(form_field_with_nul(b"a=1&code=4%2500"), None);
        let v: Value = serde_json::from_str(r#"{"discount": "100%00"}"#).unwrap();
        assert_eq!(json_path_with_nul(&v, ""), None);
    }
}
