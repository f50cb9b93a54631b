//! `ALLOWED_HOSTS`: a request whose Host is not listed gets 400, as Django's
//! host validation answered. Patterns: an exact host, `*` (any), and
//! `.example.com` or `*.example.com` (the domain's subdomains; the leading-dot
//! form also the domain itself, as in Django).

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Any,
    Exact(String),
    /// `.example.com`: the domain and its subdomains.
    DomainAndSubdomains(String),
    /// `*.example.com`: subdomains only.
    Subdomains(String),
}

#[derive(Debug, Clone)]
pub struct AllowedHosts {
    patterns: Vec<Pattern>,
}

impl AllowedHosts {
    #[must_use]
    pub fn new(list: &[String]) -> Self {
        let patterns = list
            .iter()
            .map(|p| {
                let p = p.to_ascii_lowercase();
                if p == "*" {
                    Pattern::Any
                } else if let Some(domain) = p.strip_prefix("*.") {
                    Pattern::Subdomains(format!(".{domain}"))
                } else if p.starts_with('.') {
                    Pattern::DomainAndSubdomains(p)
                } else {
                    Pattern::Exact(p)
                }
            })
            .collect();
        Self { patterns }
    }

    /// Whether a Host header value (port included or not) is allowed.
    #[must_use]
    pub fn allows(&self, host_header: &str) -> bool {
        let Some(host) = host_name(host_header) else {
            return false;
        };
        // Host names are ASCII case-insensitive; most arrive lower-case already.
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(host.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(host)
        };
        let host = host.trim_end_matches('.');
        self.patterns.iter().any(|p| match p {
            Pattern::Any => true,
            Pattern::Exact(h) => h == host,
            Pattern::DomainAndSubdomains(d) => host.ends_with(d.as_str()) || host == &d[1..],
            Pattern::Subdomains(d) => host.ends_with(d.as_str()),
        })
    }
}

/// The host part of a Host header: `[::1]:8080` → `[::1]`, `a.cl:443` → `a.cl`.
fn host_name(value: &str) -> Option<&str> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let host = if value.starts_with('[') {
        let end = value.find(']')?;
        &value[..=end]
    } else {
        match value.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            Some(_) => return None,
            None => value,
        }
    };
    let valid = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c));
    (valid && !host.is_empty()).then_some(host)
}

/// The request's host: the Host header, or the URI's authority (HTTP/2).
#[must_use]
pub fn request_host(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| {
            req.uri()
                .authority()
                .map(axum::http::uri::Authority::as_str)
        })
}

pub async fn check_host(
    State(allowed): State<Arc<AllowedHosts>>,
    req: Request,
    next: Next,
) -> Response {
    if request_host(&req).is_some_and(|h| allowed.allows(h)) {
        next.run(req).await
    } else {
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            Body::from("Bad Request: host not allowed\n"),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(list: &[&str]) -> AllowedHosts {
        AllowedHosts::new(&list.iter().map(|s| (*s).to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn exact_hosts_match_with_or_without_port_and_case() {
        let a = allowed(&["tuki.live", "localhost", "[::1]"]);
        assert!(a.allows("tuki.live"));
        assert!(a.allows("TUKI.live:443"));
        assert!(a.allows("localhost:5150"));
        assert!(a.allows("[::1]:8080"));
        assert!(!a.allows("www.tuki.live"));
        assert!(!a.allows("evil.example"));
        assert!(!a.allows("tuki.live.evil.example"));
        assert!(!a.allows(""));
        assert!(!a.allows("tuki.live:abc"));
    }

    #[test]
    fn star_dot_matches_subdomains_only_and_dot_also_the_domain() {
        let a = allowed(&["*.run.app"]);
        assert!(a.allows("tuki-backend-abc-uc.a.run.app"));
        assert!(!a.allows("run.app"));
        assert!(!a.allows("evilrun.app"));
        let b = allowed(&[".run.app"]);
        assert!(b.allows("x.run.app"));
        assert!(b.allows("run.app"));
        assert!(!b.allows("xrun.app"));
    }

    #[test]
    fn a_single_star_allows_everything() {
        assert!(allowed(&["*"]).allows("anything.example:1"));
    }
}
