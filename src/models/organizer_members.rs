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
    /// Checks tickets in at the door: those who manage events, and
    /// door-only members (`can_validate_tickets`).
    Door,
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
        Role::Door => Condition::any()
            .add(Column::IsAdmin.eq(true))
            .add(Column::CanManageEvents.eq(true))
            .add(Column::CanValidateTickets.eq(true)),
    };
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::InvitationPending.eq(false))
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

/// Whether `user_id` is a member of any organizer (an accepted one, or
/// also a pending invitation with `or_invited`).
///
/// # Errors
/// The database error.
pub async fn is_member<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    or_invited: bool,
) -> Result<bool, DbErr> {
    use sea_orm::PaginatorTrait;
    let mut query = Entity::find().filter(Column::UserId.eq(user_id));
    if !or_invited {
        query = query.filter(Column::InvitationPending.eq(false));
    }
    Ok(query.count(db).await? > 0)
}

/// Accepts a user's pending invitations: their sign-in by an emailed code
/// proved the address the invitations went to.
///
/// # Errors
/// The database error.
pub async fn accept_invitations<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Expr;
    Ok(Entity::update_many()
        .col_expr(Column::InvitationPending, Expr::value(false))
        .col_expr(
            Column::UpdatedAt,
            Expr::value(chrono::Utc::now().fixed_offset()),
        )
        .filter(Column::UserId.eq(user_id))
        .filter(Column::InvitationPending.eq(true))
        .exec(db)
        .await?
        .rows_affected)
}

/// A user's organizer on the dashboard (backtuki's "primary" one): their
/// oldest membership as an admin, else their oldest membership (pending
/// invitations are not memberships yet).
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
        .filter(Column::InvitationPending.eq(false))
        .find_also_related(super::organizers::Entity)
        .order_by_desc(Column::IsAdmin)
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .one(db)
        .await?
        .and_then(|(m, o)| o.map(|o| (m, o))))
}
