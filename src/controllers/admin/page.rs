//! What every per-model page starts from, resolved once by its extractor:
//! the signed-in staff member ([`Page`]), the model of the URL and the right
//! to act on it ([`OnModel`]), the object ([`OnObject`]), and for a POST the
//! form with its CSRF check ([`Posted`]). A page that cannot go on is an
//! [`AdminError`] carrying the page that says why (404 for an unknown model
//! or object, 403 without permission or with a failed CSRF check).

use std::{marker::PhantomData, sync::Arc};

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::{request::Parts, StatusCode},
    response::Response,
};
use axum_extra::extract::cookie::CookieJar;
use loco_rs::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use uuid::Uuid;

use super::{csrf_ok, forbidden, redirect_with_message, staff_page, Staff, CSRF_FAILED};
use crate::{
    admin::{
        error::{AdminError, AdminResult},
        form::FormData,
        hooks::Editor,
        site::{self, Action, ModelAdmin},
        store::{self, Row},
    },
    platform::settings::Settings,
};

#[derive(Deserialize)]
struct ModelPath {
    app: String,
    model: String,
}

#[derive(Deserialize)]
struct ObjectPath {
    app: String,
    model: String,
    id: String,
}

/// A signed-in staff member's request: the view, the cookies, the settings.
pub struct Page {
    pub ctx: AppContext,
    pub v: TeraView,
    pub jar: CookieJar,
    pub staff: Staff,
    pub settings: Arc<Settings>,
}

impl Page {
    #[must_use]
    pub const fn editor(&self) -> Editor<'_> {
        Editor {
            user: &self.staff.user,
            perms: &self.staff.perms,
        }
    }

    /// A signed-in page (with the message of the last POST, shown once).
    #[must_use]
    pub fn render(&self, template: &str, data: Json, status: StatusCode) -> Response {
        staff_page(&self.v, &self.staff, &self.jar, template, data, status)
    }

    /// 404 with a page saying what is missing.
    #[must_use]
    pub fn not_found(&self, what: &str) -> AdminError {
        AdminError::answer(self.render(
            "admin/not_found.html",
            json!({ "what": what }),
            StatusCode::NOT_FOUND,
        ))
    }

    /// 403: the user lacks the permission.
    #[must_use]
    pub fn denied(&self) -> AdminError {
        AdminError::answer(forbidden(
            &self.v,
            "No tienes permiso para hacer esto. Pide a un superusuario que te lo asigne.",
        ))
    }

    /// A 303 to `to` that leaves `message` for the next page.
    #[must_use]
    pub fn redirect(&self, to: &str, message: &str) -> Response {
        redirect_with_message(self.jar.clone(), to, message, &self.settings)
    }

    /// The model of a URL, if the user may `action` it.
    fn model(&self, app: &str, model: &str, action: Action) -> AdminResult<&'static ModelAdmin> {
        let m = site::find(app, model).ok_or_else(|| self.not_found("Esta página no existe."))?;
        if !self.staff.perms.can(m, action) {
            return Err(self.denied());
        }
        Ok(m)
    }

    /// The object of a URL.
    async fn object(&self, m: &ModelAdmin, id: &str) -> AdminResult<Row> {
        let missing = || {
            self.not_found(&format!(
                "No existe {} con el ID «{id}». ¿Quizás fue eliminado?",
                m.the()
            ))
        };
        let uuid = Uuid::parse_str(id).map_err(|_| missing())?;
        store::get(&self.ctx.db, m, uuid).await?.ok_or_else(missing)
    }
}

impl FromRequestParts<AppContext> for Page {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> AdminResult<Self> {
        let staff = Staff::from_request_parts(parts, ctx)
            .await
            .map_err(AdminError::answer)?;
        let ViewEngine(v) = ViewEngine::<TeraView>::from_request_parts(parts, ctx).await?;
        Ok(Self {
            ctx: ctx.clone(),
            v,
            jar: CookieJar::from_headers(&parts.headers),
            staff,
            settings: crate::platform::context::settings(ctx)?,
        })
    }
}

/// What a page does with its model: the permission it needs, and whether
/// objects protected from the editor are refused (for pages that change).
pub trait Need: Send + Sync + 'static {
    const ACTION: Action;
    const EDITS: bool;
}

/// Shows (the change form is read-only without the change permission).
pub struct View;
/// Adds a new object.
pub struct Add;
/// Changes an object.
pub struct Change;
/// Deletes objects.
pub struct Delete;

impl Need for View {
    const ACTION: Action = Action::View;
    const EDITS: bool = false;
}
impl Need for Add {
    const ACTION: Action = Action::Add;
    const EDITS: bool = true;
}
impl Need for Change {
    const ACTION: Action = Action::Change;
    const EDITS: bool = true;
}
impl Need for Delete {
    const ACTION: Action = Action::Delete;
    const EDITS: bool = true;
}

/// `/{app}/{model}/…` the user may `N`.
pub struct OnModel<N> {
    pub page: Page,
    pub m: &'static ModelAdmin,
    need: PhantomData<N>,
}

impl<N: Need> OnModel<N> {
    async fn resolve(page: Page, parts: &mut Parts) -> AdminResult<Self> {
        let Path(path) = Path::<ModelPath>::from_request_parts(parts, &page.ctx)
            .await
            .map_err(|_| page.not_found("Esta página no existe."))?;
        let m = page.model(&path.app, &path.model, N::ACTION)?;
        Ok(Self {
            page,
            m,
            need: PhantomData,
        })
    }
}

impl<N: Need> FromRequestParts<AppContext> for OnModel<N> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> AdminResult<Self> {
        let page = Page::from_request_parts(parts, ctx).await?;
        Self::resolve(page, parts).await
    }
}

/// `/{app}/{model}/{id}/…` the user may `N`.
pub struct OnObject<N> {
    pub page: Page,
    pub m: &'static ModelAdmin,
    pub row: Row,
    need: PhantomData<N>,
}

impl<N: Need> OnObject<N> {
    async fn resolve(page: Page, parts: &mut Parts) -> AdminResult<Self> {
        let Path(path) = Path::<ObjectPath>::from_request_parts(parts, &page.ctx)
            .await
            .map_err(|_| page.not_found("Esta página no existe."))?;
        let m = page.model(&path.app, &path.model, N::ACTION)?;
        let row = page.object(m, &path.id).await?;
        if N::EDITS && m.hooks.protected(m, &row, page.editor()) {
            return Err(page.denied());
        }
        Ok(Self {
            page,
            m,
            row,
            need: PhantomData,
        })
    }

    /// The editor may change this object (not only view it).
    #[must_use]
    pub fn can_change(&self) -> bool {
        can_change(&self.page, self.m, &self.row)
    }
}

/// The editor may change this object of `m`.
#[must_use]
pub fn can_change(page: &Page, m: &ModelAdmin, row: &Row) -> bool {
    page.staff.perms.can(m, Action::Change) && !m.hooks.protected(m, row, page.editor())
}

impl<N: Need> FromRequestParts<AppContext> for OnObject<N> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> AdminResult<Self> {
        let page = Page::from_request_parts(parts, ctx).await?;
        Self::resolve(page, parts).await
    }
}

/// A POST: the form, after the session's CSRF token and the origin are
/// checked (before anything is looked up, as Django's middleware does).
pub struct Posted<T>(pub T, pub FormData);

async fn posted(req: Request, ctx: &AppContext) -> AdminResult<(Page, Parts, FormData)> {
    let (mut parts, body) = req.into_parts();
    let page = Page::from_request_parts(&mut parts, ctx).await?;
    let form = FormData::from_request(Request::from_parts(parts.clone(), body), ctx)
        .await
        .map_err(AdminError::answer)?;
    if !csrf_ok(&page.staff, &parts.headers, &page.settings, &form) {
        return Err(AdminError::answer(forbidden(&page.v, CSRF_FAILED)));
    }
    Ok((page, parts, form))
}

impl<N: Need> FromRequest<AppContext> for Posted<OnModel<N>> {
    type Rejection = AdminError;

    async fn from_request(req: Request, ctx: &AppContext) -> AdminResult<Self> {
        let (page, mut parts, form) = posted(req, ctx).await?;
        Ok(Self(OnModel::resolve(page, &mut parts).await?, form))
    }
}

impl<N: Need> FromRequest<AppContext> for Posted<OnObject<N>> {
    type Rejection = AdminError;

    async fn from_request(req: Request, ctx: &AppContext) -> AdminResult<Self> {
        let (page, mut parts, form) = posted(req, ctx).await?;
        Ok(Self(OnObject::resolve(page, &mut parts).await?, form))
    }
}
