//! `seed_demo`'s data set: the reference's distribution, deterministic, rerunnable.

use sea_orm::{EntityTrait, PaginatorTrait};
use tuki_backend::models::{
    _entities::{events, ticket_tiers},
    demo,
    events::{Model as Event, PublicFilters},
};

use crate::support::app::TestApp;

#[tokio::test]
async fn seed_demo_writes_the_reference_distribution_and_can_run_again() {
    let app = TestApp::boot().await;
    let db = &app.ctx().db;
    let base = demo::default_base();
    let first = demo::seed(db, 42, base).await.unwrap();
    assert_eq!(
        (
            first.organizers,
            first.categories,
            first.locations,
            first.events,
            first.tiers
        ),
        (20, 10, 50, 2000, 6000)
    );
    let page_one = Event::public_page(db, &PublicFilters::default(), Some((0, 20)))
        .await
        .unwrap();

    // Again: same rows, nothing doubled.
    let second = demo::seed(db, 42, base).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(events::Entity::find().count(db).await.unwrap(), 2000);
    assert_eq!(ticket_tiers::Entity::find().count(db).await.unwrap(), 6000);
    // Listed: 1,000 future + 500 past published events (drafts, private and
    // deleted ones are not), as the Django reference with past events.
    assert_eq!(
        Event::public_count(db, &PublicFilters::default())
            .await
            .unwrap(),
        1500
    );
    let again = Event::public_page(db, &PublicFilters::default(), Some((0, 20)))
        .await
        .unwrap();
    let ids = |rows: &[tuki_backend::models::events::PublicListRow]| {
        rows.iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(&again), ids(&page_one), "deterministic ids and order");
}
