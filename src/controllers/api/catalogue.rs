//! Lists for the frontends' filters: `/api/v1/event-categories/` and
//! `/api/v1/locations/` (DRF page shape; `no_pagination=true` for all).

use axum::response::Response;
use loco_rs::prelude::*;

use super::Table;
use sea_orm::{PaginatorTrait, QueryOrder, QuerySelect};
use serde_json::json;

use super::{
    cached_json, json_bytes, page_number, Api, ApiError, Detail, Page, RequestUrl, PAGE_SIZE,
};
use crate::{
    models::{event_categories, locations},
    views::events::{CategoryResponse, LocationResponse},
};

/// The most rows `no_pagination=true` answers with.
const NO_PAGINATION_MAX: u64 = 500;

/// One page (or the first 500, with `no_pagination=true`) of a query, as DRF
/// lists it.
async fn list<E, T>(
    api: &Api,
    url: &RequestUrl,
    query: sea_orm::Select<E>,
    view: impl Fn(&E::Model) -> T,
) -> Result<Response, ApiError>
where
    E: EntityTrait,
    E::Model: Sync,
    T: serde::Serialize,
{
    let url = &url.canonical();
    cached_json(api, url, || async {
        if url
            .get("no_pagination")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            let all = query.clone().limit(NO_PAGINATION_MAX).all(&api.db).await?;
            let results: Vec<T> = all.iter().map(&view).collect();
            return json_bytes(&json!({ "results": results }));
        }
        let count = query.clone().count(&api.db).await?;
        let page = page_number(url.get("page"), count)?;
        let rows = query
            .paginate(&api.db, PAGE_SIZE)
            .fetch_page(page - 1)
            .await?;
        let results: Vec<T> = rows.iter().map(&view).collect();
        json_bytes(&Page::new(url, count, page, results))
    })
    .await
}

/// Event categories, by name.
#[utoipa::path(
    get,
    path = "/api/v1/event-categories/",
    tag = "catalogue",
    params(
        ("page" = Option<String>, Query, description = "1-based page number, or `last`; 20 per page"),
        ("no_pagination" = Option<bool>, Query, description = "`true`: the first 500 as `{\"results\": […]}`"),
    ),
    responses(
        (status = 200, description = "One page of categories", body = Page<CategoryResponse>),
        (status = 404, description = "A page beyond the last", body = Detail,
            example = json!({"detail": "Página inválida."})),
        (status = 503, description = "The database is not answering", body = Detail),
    )
)]
pub async fn categories(api: Api, url: RequestUrl) -> Result<Response, ApiError> {
    let query = event_categories::Entity::find()
        .order_by_asc(event_categories::Column::Name)
        .order_by_asc(event_categories::Column::Id);
    list(&api, &url, query, CategoryResponse::new).await
}

/// Venues, by name.
#[utoipa::path(
    get,
    path = "/api/v1/locations/",
    tag = "catalogue",
    params(
        ("page" = Option<String>, Query, description = "1-based page number, or `last`; 20 per page"),
        ("no_pagination" = Option<bool>, Query, description = "`true`: the first 500 as `{\"results\": […]}`"),
    ),
    responses(
        (status = 200, description = "One page of venues", body = Page<LocationResponse>),
        (status = 404, description = "A page beyond the last", body = Detail,
            example = json!({"detail": "Página inválida."})),
        (status = 503, description = "The database is not answering", body = Detail),
    )
)]
pub async fn locations(api: Api, url: RequestUrl) -> Result<Response, ApiError> {
    let query = locations::Entity::find()
        .order_by_asc(locations::Column::Name)
        .order_by_asc(locations::Column::Id);
    list(&api, &url, query, LocationResponse::new).await
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_categories, categories)
        .doc(__path_locations, locations)
}

pub fn routes() -> Routes {
    table().routes()
}
