//! One `request` span per request carrying the Cloud Trace id from
//! `X-Cloud-Trace-Context` (`TRACE_ID/SPAN_ID;o=1`), so every log line written
//! while serving it is grouped under the request in Cloud Logging; the access
//! line adds the `httpRequest` fields. Cloud Run logs each request itself, so the access
//! line is written only when `settings.access_log` is on, or for a 5xx.

use std::time::Instant;

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

#[derive(Clone, Copy)]
pub struct TraceConfig {
    access_log: bool,
    /// Proxies appending to `X-Forwarded-For` (the client is read as the
    /// rate limits read it).
    num_proxies: usize,
}

impl TraceConfig {
    #[must_use]
    pub const fn new(access_log: bool, num_proxies: usize) -> Self {
        Self {
            access_log,
            num_proxies,
        }
    }
}

/// `TRACE_ID/SPAN_ID;o=1` → (`TRACE_ID`, the span): the header's span id is
/// a decimal number, Cloud Logging's `spanId` 16 hex digits. A malformed
/// header gives nothing; a malformed span, no span.
#[must_use]
pub fn parse_cloud_trace(value: &str) -> Option<(&str, Option<String>)> {
    let (trace, rest) = value.split_once('/').unwrap_or((value, ""));
    if trace.len() != 32 || !trace.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let span = rest
        .split(';')
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .map(|n| format!("{n:016x}"));
    Some((trace, span))
}

pub async fn request_span(State(config): State<TraceConfig>, req: Request, next: Next) -> Response {
    let trace = req
        .headers()
        .get("x-cloud-trace-context")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_cloud_trace);
    // Only the trace rides on the span (every line logged while serving the
    // request carries it); the `httpRequest` fields are gathered only when a
    // line about the request is written, which in production is rare.
    let span = tracing::info_span!(
        "request",
        trace = trace.as_ref().map(|t| t.0),
        span_id = trace.as_ref().and_then(|t| t.1.as_deref()),
    );
    let started = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let version = req.version();
    let user_agent = req.headers().get(header::USER_AGENT).cloned();
    let forwarded_for = req.headers().get("x-forwarded-for").cloned();
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    if status >= 500 || config.access_log {
        let _entered = span.enter();
        let text = |v: &Option<axum::http::HeaderValue>| {
            v.as_ref()
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        // The client the front end saw, else the connection's peer.
        let remote_ip = crate::controllers::api::auth::forwarded_client(
            forwarded_for.iter().filter_map(|h| h.to_str().ok()),
            config.num_proxies,
        )
        .or_else(|| peer.map(|ip| ip.to_string()))
        .unwrap_or_default();
        // The path only: query strings may carry tokens (order links, resets).
        let path = loggable_path(uri.path());
        let latency = format!("{:.6}s", started.elapsed().as_secs_f64());
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    http.requestMethod = %method,
                    http.requestUrl = path,
                    http.status = status,
                    http.latency = latency,
                    http.userAgent = text(&user_agent),
                    http.remoteIp = remote_ip,
                    http.protocol = ?version,
                    "{method} {path} {status}"
                )
            };
        }
        if status >= 500 {
            line!(error);
        } else {
            line!(info);
        }
    }
    response
}

/// A path as logged: a ticket number — the ticket's secret, which backtuki's
/// `tickets/{ticket_number}/qr/` puts in the path — is masked.
fn loggable_path(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if let Some(number) = trimmed
        .strip_prefix("/api/v1/tickets/")
        .and_then(|rest| rest.strip_suffix("/qr"))
    {
        if !number.contains('/') && uuid::Uuid::parse_str(number).is_err() {
            return "/api/v1/tickets/[ticket number]/qr/";
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_trace_header_is_parsed() {
        assert_eq!(
            parse_cloud_trace("105445aa7843bc8bf206b12000100000/1;o=1"),
            Some((
                "105445aa7843bc8bf206b12000100000",
                Some("0000000000000001".to_string())
            ))
        );
        assert_eq!(
            parse_cloud_trace("105445aa7843bc8bf206b12000100000/18446744073709551615;o=1"),
            Some((
                "105445aa7843bc8bf206b12000100000",
                Some("ffffffffffffffff".to_string())
            ))
        );
        assert_eq!(
            parse_cloud_trace("105445aa7843bc8bf206b12000100000/x1;o=1"),
            Some(("105445aa7843bc8bf206b12000100000", None))
        );
        assert_eq!(
            parse_cloud_trace("105445aa7843bc8bf206b12000100000"),
            Some(("105445aa7843bc8bf206b12000100000", None))
        );
        assert_eq!(parse_cloud_trace("nope/1"), None);
    }

    #[test]
    fn ticket_numbers_are_not_logged() {
        assert_eq!(
            loggable_path("/api/v1/tickets/sEcReT-c0de_xyz/qr/"),
            "/api/v1/tickets/[ticket number]/qr/"
        );
        let by_id = "/api/v1/tickets/0b5e4a8e-8a1d-4c9e-9d53-1f0c3b1a2d4e/qr/";
        assert_eq!(loggable_path(by_id), by_id);
        assert_eq!(loggable_path("/api/v1/events/x/"), "/api/v1/events/x/");
    }
}
