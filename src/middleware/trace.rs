//! One `request` span per request: the Cloud Trace id from
//! `X-Cloud-Trace-Context` (`TRACE_ID/SPAN_ID;o=1`) and the `httpRequest`
//! fields, so every log line written while serving it is grouped under the
//! request in Cloud Logging. Cloud Run logs each request itself, so the access
//! line is written only when `settings.access_log` is on, or for a 5xx.

use std::time::Instant;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use tracing::{field::Empty, Instrument};

#[derive(Clone, Copy)]
pub struct TraceConfig {
    access_log: bool,
}

impl TraceConfig {
    #[must_use]
    pub const fn new(access_log: bool) -> Self {
        Self { access_log }
    }
}

/// `TRACE_ID/SPAN_ID;o=1` → (`TRACE_ID`, `SPAN_ID`); a malformed header gives nothing.
#[must_use]
pub fn parse_cloud_trace(value: &str) -> Option<(&str, Option<&str>)> {
    let (trace, rest) = value.split_once('/').unwrap_or((value, ""));
    if trace.len() != 32 || !trace.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let span = rest
        .split(';')
        .next()
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()));
    Some((trace, span))
}

pub async fn request_span(State(config): State<TraceConfig>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let trace = header("x-cloud-trace-context").and_then(parse_cloud_trace);
    let remote_ip = header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    // The path only: query strings may carry tokens (order links, password resets).
    let span = tracing::info_span!(
        "request",
        trace = trace.map(|t| t.0),
        span_id = trace.and_then(|t| t.1),
        http.requestMethod = %req.method(),
        http.requestUrl = %req.uri().path(),
        http.userAgent = header("user-agent").unwrap_or_default(),
        http.remoteIp = remote_ip,
        http.protocol = ?req.version(),
        http.status = Empty,
        http.latency = Empty,
    );
    // Cheap clones (a small enum, a shared buffer), kept for the access line.
    let method = req.method().clone();
    let uri = req.uri().clone();
    let started = Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("http.status", status);
    span.record(
        "http.latency",
        format!("{:.6}s", started.elapsed().as_secs_f64()),
    );
    let _entered = span.enter();
    if status >= 500 {
        tracing::error!("{method} {} {status}", uri.path());
    } else if config.access_log {
        tracing::info!("{method} {} {status}", uri.path());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_trace_header_is_parsed() {
        assert_eq!(
            parse_cloud_trace("105445aa7843bc8bf206b12000100000/1;o=1"),
            Some(("105445aa7843bc8bf206b12000100000", Some("1")))
        );
        assert_eq!(
            parse_cloud_trace("105445aa7843bc8bf206b12000100000"),
            Some(("105445aa7843bc8bf206b12000100000", None))
        );
        assert_eq!(parse_cloud_trace("nope/1"), None);
    }
}
