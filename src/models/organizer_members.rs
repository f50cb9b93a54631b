use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::_entities::events;
pub use super::_entities::organizer_members::{self, ActiveModel, Column, Entity, Model};

crate::touch_updated_at!(ActiveModel);

/// What a member of an organizer may do at its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Administers the organizer (refunds).
    Admin,
    /// Manages events: checks tickets in at the door and reads the events'
    /// orders and tickets (ticket numbers let people in, so report readers do
    /// not); admins may too.
    ManageEvents,
}

/// Whether `user_id` is a member with `role` of the organizer of `event_id`.
///
/// # Errors
/// The database error.
pub async fn has_role<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    event_id: Uuid,
    role: Role,
) -> Result<bool, DbErr> {
    let allowed = match role {
        Role::Admin => Condition::all().add(Column::IsAdmin.eq(true)),
        Role::ManageEvents => Condition::any()
            .add(Column::IsAdmin.eq(true))
            .add(Column::CanManageEvents.eq(true)),
    };
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(allowed)
        .filter(
            Column::OrganizerId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(events::Column::OrganizerId)
                    .from(events::Entity)
                    .and_where(events::Column::Id.eq(event_id))
                    .to_owned(),
            ),
        )
        .one(db)
        .await?
        .is_some())
}

/// Whether `user_id` is a member of any organizer.
///
/// # Errors
/// The database error.
pub async fn is_member<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<bool, DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .count(db)
        .await?
        > 0)
}

/// A user's organizer on the dashboard (backtuki's "primary" one): their
/// oldest membership as an admin, else their oldest membership.
///
/// # Errors
/// The database error.
pub async fn primary<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Option<(Model, super::organizers::Model)>, DbErr> {
    use sea_orm::QueryOrder;
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .find_also_related(super::organizers::Entity)
        .order_by_desc(Column::IsAdmin)
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .one(db)
        .await?
        .and_then(|(m, o)| o.map(|o| (m, o))))
}
