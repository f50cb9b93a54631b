//! `/static/`: the files of `assets/static/`, embedded at build time under
//! content-hashed names (`admin/admin.3f2a1b9c0d4e.css`, cached for a year,
//! immutable) and under their plain names (cached briefly). Templates link
//! them with `static_url(path="admin/admin.css")`. A name that is not there
//! is a plain 404 — never an error page with 200, never a 500.

use std::{collections::HashMap, sync::LazyLock};

use axum::{
    extract::Path,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use loco_rs::prelude::*;

/// One embedded file.
pub struct StaticFile {
    pub name: &'static str,
    pub hashed: &'static str,
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/static_manifest.rs"));

/// Hashed and plain names → (file, served under its hashed name).
static INDEX: LazyLock<HashMap<&'static str, (&'static StaticFile, bool)>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for f in FILES {
        map.insert(f.name, (f, false));
        map.insert(f.hashed, (f, true));
    }
    map
});

/// The URL of a static file by its plain name, if there is such a file.
#[must_use]
pub fn url(name: &str) -> Option<String> {
    FILES
        .iter()
        .find(|f| f.name == name)
        .map(|f| format!("/static/{}", f.hashed))
}

/// Tera's `static_url(path="…")`. A missing file is logged and linked by its
/// plain name (which answers 404) instead of failing the whole page.
///
/// # Errors
/// When `path` is not given.
pub fn static_url(kwargs: tera::Kwargs, _: &tera::State) -> tera::TeraResult<String> {
    let path: &str = kwargs.must_get("path")?;
    Ok(url(path).unwrap_or_else(|| {
        tracing::warn!(path, "static_url: no such static file");
        format!("/static/{path}")
    }))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `GET /static/{*path}`
async fn serve(Path(path): Path<String>) -> Response {
    let Some((file, hashed)) = INDEX.get(path.as_str()) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "No encontrado.",
        )
            .into_response();
    };
    let cache = if *hashed {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(file.name)),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        file.bytes,
    )
        .into_response()
}

pub fn routes() -> Routes {
    Routes::new().prefix("/static").add("/{*path}", get(serve))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_static_url_in_the_templates_names_an_embedded_file() {
        let mut checked = 0;
        let mut stack = vec![std::path::PathBuf::from(crate::app::TEMPLATES_DIR)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                for part in text.split("static_url(path=\"").skip(1) {
                    let name = part.split('"').next().unwrap();
                    assert!(
                        url(name).is_some(),
                        "{}: no static file {name}",
                        p.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 0);
    }

    #[test]
    fn hashed_names_carry_a_digest_and_keep_the_extension() {
        let css = url("admin/admin.css").unwrap();
        assert!(css.starts_with("/static/admin/admin."), "{css}");
        assert!(css.ends_with(".css"));
        assert_eq!(css.len(), "/static/admin/admin..css".len() + 12);
    }
}
