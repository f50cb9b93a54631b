//! One table per API controller: each documented handler is served at the
//! path and method its `#[utoipa::path]` annotation names, and the OpenAPI
//! description's paths (with the schemas they use) are read from the same
//! tables (`controllers::docs`) — there is no second site map to keep in
//! step with the routes.

use axum::{
    handler::Handler,
    routing::{MethodFilter, MethodRouter},
};
use loco_rs::prelude::{AppContext, Routes};
use utoipa::openapi::{
    path::{HttpMethod, Operation},
    schema::Schema,
    RefOr,
};

/// A documented operation: where it is served, and how it is described.
pub struct Documented {
    pub path: String,
    pub methods: Vec<HttpMethod>,
    pub operation: Operation,
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

#[derive(Default)]
pub struct Table {
    routes: Routes,
    documented: Vec<Documented>,
}

const fn filter(method: &HttpMethod) -> MethodFilter {
    match method {
        HttpMethod::Get => MethodFilter::GET,
        HttpMethod::Post => MethodFilter::POST,
        HttpMethod::Put => MethodFilter::PUT,
        HttpMethod::Delete => MethodFilter::DELETE,
        HttpMethod::Options => MethodFilter::OPTIONS,
        HttpMethod::Head => MethodFilter::HEAD,
        HttpMethod::Patch => MethodFilter::PATCH,
        HttpMethod::Trace => MethodFilter::TRACE,
    }
}

impl Table {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// `handler` at the path and methods of its annotation (`doc` is the
    /// annotation's generated `__path_…` item).
    #[must_use]
    pub fn doc<D, H, T>(mut self, _doc: D, handler: H) -> Self
    where
        D: utoipa::Path + utoipa::__dev::SchemaReferences,
        H: Handler<T, AppContext>,
        T: 'static,
    {
        let path = D::path();
        let methods = D::methods();
        let router = methods.iter().fold(MethodRouter::new(), |router, m| {
            router.on(filter(m), handler.clone())
        });
        self.routes = self.routes.add(&path, router);
        let mut schemas = Vec::new();
        D::schemas(&mut schemas);
        self.documented.push(Documented {
            path,
            methods,
            operation: D::operation(),
            schemas,
        });
        self
    }

    /// A route the description leaves out (Webpay's GET return, the same
    /// handling as its documented POST).
    #[must_use]
    pub fn undocumented(mut self, path: &str, router: MethodRouter<AppContext>) -> Self {
        self.routes = self.routes.add(path, router);
        self
    }

    #[must_use]
    pub fn routes(self) -> Routes {
        self.routes
    }

    #[must_use]
    pub fn documented(self) -> Vec<Documented> {
        self.documented
    }
}
