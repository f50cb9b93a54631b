//! The one error of the admin's pages. A page that cannot go on (an unknown
//! model or object, no permission, a failed CSRF check) is answered by the
//! page the user sees, built where the request's view and session are known;
//! the rest (a busy hashing queue, a database failure) answers as itself.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use sea_orm::DbErr;

use crate::accounts::passwords::HashError;

#[derive(Debug)]
pub enum AdminError {
    /// An answer already rendered (404, 403 pages).
    Answer(Box<Response>),
    /// Password hashing is at capacity: 503, retry shortly.
    Busy,
    /// Anything else: Loco's 500.
    Internal(loco_rs::Error),
}

pub type AdminResult<T = Response> = Result<T, AdminError>;

impl AdminError {
    #[must_use]
    pub fn answer(res: Response) -> Self {
        Self::Answer(Box::new(res))
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            Self::Answer(res) => *res,
            Self::Busy => {
                let mut res = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Hay muchas solicitudes en este momento. Intenta de nuevo en unos segundos.",
                )
                    .into_response();
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(2));
                res
            }
            Self::Internal(e) => e.into_response(),
        }
    }
}

impl From<loco_rs::Error> for AdminError {
    fn from(e: loco_rs::Error) -> Self {
        Self::Internal(e)
    }
}

impl From<DbErr> for AdminError {
    fn from(e: DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl From<HashError> for AdminError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Busy,
            e => Self::Internal(loco_rs::Error::string(&e.to_string())),
        }
    }
}

impl From<loco_rs::model::ModelError> for AdminError {
    fn from(e: loco_rs::model::ModelError) -> Self {
        match e {
            loco_rs::model::ModelError::Any(e) if e.is::<crate::accounts::passwords::Busy>() => {
                Self::Busy
            }
            e => Self::Internal(e.into()),
        }
    }
}
