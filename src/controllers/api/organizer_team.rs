//! An organizer's team: `organizers/current/members/` (list, invite) and
//! `organizers/current/members/{id}/` (change the flags, remove). backtuki
//! had no such endpoints (members were made in its admin); these keep its
//! member flags (`is_admin`, `can_manage_events`, `can_view_reports`,
//! `can_manage_settings`).
//!
//! Admins manage the team; admins and settings managers read it; anyone may
//! leave. An invitee gets a password-less account if they had none and signs
//! in by an emailed code. The organizer never loses its last admin: removals
//! and demotions are checked under a lock on the organizer's row, so two
//! admins removing each other at once cannot both succeed.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    Json,
};
use loco_rs::prelude::*;
use sea_orm::{ActiveValue::Set, PaginatorTrait, QueryOrder, QuerySelect, TransactionTrait};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    drf::{Body, Input},
    organizers::{Member, NOT_ALLOWED},
    Api, ApiError, Detail, Table,
};
use crate::{
    admin::audit::Change,
    models::{organizer_members, organizers, users},
    views::events::iso_santiago,
};

/// Members an organizer may have.
const MAX_MEMBERS: u64 = 200;

/// Invitations an organizer may send in 15 minutes (each sends a mail).
const INVITES_PER_ORGANIZER: u64 = 20;

const LAST_ADMIN: &str = "La organización debe conservar al menos un administrador.";

/// A member of the team.
#[derive(Serialize, utoipa::ToSchema)]
#[allow(clippy::struct_excessive_bools)]
pub struct MemberResponse {
    /// The membership's id (what `members/{id}/` takes).
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_admin: bool,
    pub can_manage_events: bool,
    pub can_view_reports: bool,
    pub can_manage_settings: bool,
    /// Checks tickets in at the door (and nothing else, unless other flags
    /// say so).
    pub can_validate_tickets: bool,
    /// Invited, not yet signed in by code (no access yet; their account's
    /// names are not shown).
    pub pending: bool,
    /// Whether this is the signed-in user.
    pub is_you: bool,
    pub created_at: String,
}

impl MemberResponse {
    fn new(m: &organizer_members::Model, u: &users::Model, you: Uuid) -> Self {
        Self {
            id: m.id,
            user_id: u.id,
            email: u.email.clone(),
            first_name: if m.invitation_pending {
                String::new()
            } else {
                u.first_name.clone()
            },
            last_name: if m.invitation_pending {
                String::new()
            } else {
                u.last_name.clone()
            },
            is_admin: m.is_admin,
            can_manage_events: m.can_manage_events,
            can_view_reports: m.can_view_reports,
            can_manage_settings: m.can_manage_settings,
            can_validate_tickets: m.can_validate_tickets,
            pending: m.invitation_pending,
            is_you: u.id == you,
            created_at: iso_santiago(m.created_at),
        }
    }
}

/// The organizer's members, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/organizers/current/members/",
    tag = "organizers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The team", body = Vec<MemberResponse>),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin or settings manager of an organizer", body = Detail),
    )
)]
pub async fn list(api: Api, member: Member) -> Result<Response, ApiError> {
    if !member.manages_settings() {
        return Err(ApiError::Forbidden(NOT_ALLOWED));
    }
    let rows = organizer_members::Entity::find()
        .filter(organizer_members::Column::OrganizerId.eq(member.organizer.id))
        .find_also_related(users::Entity)
        .order_by_asc(organizer_members::Column::CreatedAt)
        .order_by_asc(organizer_members::Column::Id)
        .limit(MAX_MEMBERS)
        .all(&api.db)
        .await?;
    let out: Vec<MemberResponse> = rows
        .iter()
        .filter_map(|(m, u)| {
            u.as_ref()
                .map(|u| MemberResponse::new(m, u, member.user.id))
        })
        .collect();
    Ok(super::private_json(out))
}

/// The five flags, each `None` when not sent.
struct Flags([Option<bool>; 5]);

const FLAG_KEYS: [&str; 5] = [
    "is_admin",
    "can_manage_events",
    "can_view_reports",
    "can_manage_settings",
    "can_validate_tickets",
];

fn read_flags(input: &mut Input) -> Flags {
    Flags(FLAG_KEYS.map(|k| input.has(k).then(|| input.boolean(k, false))))
}

impl Flags {
    fn apply(&self, row: &mut organizer_members::ActiveModel) {
        let [admin, events, reports, settings, door] = self.0;
        if let Some(v) = door {
            row.can_validate_tickets = Set(v);
        }
        if let Some(v) = admin {
            row.is_admin = Set(v);
        }
        if let Some(v) = events {
            row.can_manage_events = Set(v);
        }
        if let Some(v) = reports {
            row.can_view_reports = Set(v);
        }
        if let Some(v) = settings {
            row.can_manage_settings = Set(v);
        }
    }
}

fn require_admin(member: &Member) -> Result<(), ApiError> {
    if member.role.is_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(NOT_ALLOWED))
    }
}

/// Invites someone by email (admins of an active organizer): a pending
/// member with the flags given (by default managing events and reading
/// reports), told by mail to sign in by code; that sign-in (which proves
/// the address) makes them a member. The answer says nothing about the
/// invitee's account.
#[utoipa::path(
    post,
    path = "/api/v1/organizers/current/members/",
    tag = "organizers",
    security(("bearer" = [])),
    request_body(content = super::bodies::MemberInvite, description = "`email` and the member's flags"),
    responses(
        (status = 201, description = "The new member (`invitation_sent`: whether the mail left)", body = MemberResponse),
        (status = 400, description = "A bad email or flag, a deactivated account, or the team is full", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin of an active organizer", body = Detail),
        (status = 409, description = "Already a member or invited", body = Detail),
        (status = 429, description = "Too many invitations from this organizer", body = Detail),
    )
)]
pub async fn invite(
    State(ctx): State<AppContext>,
    api: Api,
    member: Member,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_admin(&member)?;
    if member.organizer.status != "active" {
        return Err(ApiError::Forbidden(NOT_ALLOWED));
    }
    crate::platform::context::throttle(&ctx)?
        .limit(
            &format!("organizer-invite:{}", member.organizer.id),
            INVITES_PER_ORGANIZER,
        )
        .await
        .map_err(ApiError::TooManyRequests)?;
    let mut input = Input::new(body);
    let email = input.email("email");
    let first = input
        .text("first_name", false, true, 150)
        .unwrap_or_default();
    let last = input
        .text("last_name", false, true, 150)
        .unwrap_or_default();
    let flags = read_flags(&mut input);
    input.finish_fields()?;
    let Some(email) = email else {
        return Err(ApiError::Internal);
    };
    let count = organizer_members::Entity::find()
        .filter(organizer_members::Column::OrganizerId.eq(member.organizer.id))
        .count(&api.db)
        .await?;
    if count >= MAX_MEMBERS {
        return Err(ApiError::BadRequest(format!(
            "Un equipo tiene a lo más {MAX_MEMBERS} miembros."
        )));
    }
    let (user, _) = users::find_or_create_guest(&api.db, &email, &first, &last).await?;
    let now = chrono::Utc::now().fixed_offset();
    let mut row = organizer_members::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(member.organizer.id),
        user_id: Set(user.id),
        is_admin: Set(false),
        can_manage_events: Set(true),
        can_view_reports: Set(true),
        can_manage_settings: Set(false),
        invitation_pending: Set(true),
        can_validate_tickets: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    };
    // A door-only invitation (`can_validate_tickets` and no other flag
    // sent) gives the door and nothing else.
    if let [None, None, None, None, Some(true)] = flags.0 {
        row.can_manage_events = Set(false);
        row.can_view_reports = Set(false);
    }
    flags.apply(&mut row);
    let row = match row.insert(&api.db).await {
        Ok(row) => row,
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Err(ApiError::Conflict(
                json!({"detail": "Esa persona ya es parte del equipo."}),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    member
        .log(
            &api,
            "organizermember",
            row.id,
            &format!("{} en {}", user.email, member.organizer.name),
            Change::Added,
            "Invitado.",
        )
        .await;
    let inviter = format!("{} {}", member.user.first_name, member.user.last_name);
    let inviter = if inviter.trim().is_empty() {
        member.user.email.clone()
    } else {
        inviter.trim().to_string()
    };
    let sent = crate::mailers::organizer_invitation::send(
        &ctx,
        &user.email,
        &member.organizer.name,
        &inviter,
    )
    .await;
    if let Err(e) = &sent {
        tracing::warn!(organizer = %member.organizer.id, error = %e, "could not mail an invitation");
    }
    let mut shown = MemberResponse::new(&row, &user, member.user.id);
    shown.first_name = first;
    shown.last_name = last;
    let mut out = serde_json::to_value(shown).map_err(|_| ApiError::Internal)?;
    out["invitation_sent"] = json!(sent.is_ok());
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// One membership of the member's organizer, or 404.
async fn own_membership<C: ConnectionTrait>(
    db: &C,
    member: &Member,
    id: &str,
) -> Result<organizer_members::Model, ApiError> {
    let not_found = ApiError::NotFound("No encontrado.");
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found.clone())?;
    organizer_members::Entity::find_by_id(id)
        .filter(organizer_members::Column::OrganizerId.eq(member.organizer.id))
        .one(db)
        .await?
        .ok_or(not_found)
}

/// Locks the organizer's row (PostgreSQL; SQLite's writes are serial) and
/// says whether `except` is its only admin.
async fn only_admin<C: ConnectionTrait>(
    db: &C,
    organizer_id: Uuid,
    except: Uuid,
) -> Result<bool, ApiError> {
    organizers::Entity::find_by_id(organizer_id)
        .lock_exclusive()
        .one(db)
        .await?;
    let others = organizer_members::Entity::find()
        .filter(organizer_members::Column::OrganizerId.eq(organizer_id))
        .filter(organizer_members::Column::IsAdmin.eq(true))
        .filter(organizer_members::Column::InvitationPending.eq(false))
        .filter(organizer_members::Column::Id.ne(except))
        .count(db)
        .await?;
    Ok(others == 0)
}

/// Changes a member's flags (admins only). The last admin stays an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/organizers/current/members/{id}/",
    tag = "organizers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "A membership of the organizer")),
    request_body(content = super::bodies::MemberFlags, description = "The flags to change"),
    responses(
        (status = 200, description = "The member", body = MemberResponse),
        (status = 400, description = "A bad flag, or the last admin would stop being one", body = super::FieldErrors),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin of an organizer", body = Detail),
        (status = 404, description = "Not a member of this organizer", body = Detail),
    )
)]
pub async fn update(
    api: Api,
    member: Member,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_admin(&member)?;
    let mut input = Input::new(body);
    let flags = read_flags(&mut input);
    input.finish_fields()?;
    let txn = api.db.begin().await?;
    let row = own_membership(&txn, &member, &id).await?;
    if row.is_admin
        && !row.invitation_pending
        && flags.0[0] == Some(false)
        && only_admin(&txn, member.organizer.id, row.id).await?
    {
        return Err(ApiError::Field("is_admin", LAST_ADMIN.into()));
    }
    let mut active: organizer_members::ActiveModel = row.into();
    flags.apply(&mut active);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    let user = users::Entity::find_by_id(row.user_id)
        .one(&api.db)
        .await?
        .ok_or(ApiError::NotFound("No encontrado."))?;
    let flags_now: Vec<String> = FLAG_KEYS
        .iter()
        .zip([
            row.is_admin,
            row.can_manage_events,
            row.can_view_reports,
            row.can_manage_settings,
            row.can_validate_tickets,
        ])
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    member
        .log(
            &api,
            "organizermember",
            row.id,
            &format!("{} en {}", user.email, member.organizer.name),
            Change::Changed,
            &format!("Permisos: {}.", flags_now.join(", ")),
        )
        .await;
    Ok(super::private_json(MemberResponse::new(
        &row,
        &user,
        member.user.id,
    )))
}

/// Removes a member (admins), or leaves the team (anyone, their own
/// membership). The last admin cannot leave.
#[utoipa::path(
    delete,
    path = "/api/v1/organizers/current/members/{id}/",
    tag = "organizers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "A membership of the organizer")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "The last admin cannot leave", body = Detail,
            example = json!({"detail": LAST_ADMIN})),
        (status = 401, description = "Not signed in", body = Detail),
        (status = 403, description = "Not an admin, and not their own membership", body = Detail),
        (status = 404, description = "Not a member of this organizer", body = Detail),
    )
)]
pub async fn remove(
    api: Api,
    member: Member,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let txn = api.db.begin().await?;
    let row = own_membership(&txn, &member, &id).await?;
    if row.user_id != member.user.id {
        require_admin(&member)?;
    }
    if row.is_admin
        && !row.invitation_pending
        && only_admin(&txn, member.organizer.id, row.id).await?
    {
        return Err(ApiError::BadRequest(LAST_ADMIN.into()));
    }
    organizer_members::Entity::delete_many()
        .filter(organizer_members::Column::Id.eq(row.id))
        .filter(organizer_members::Column::OrganizerId.eq(member.organizer.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    member
        .log(
            &api,
            "organizermember",
            row.id,
            &format!("{} en {}", row.user_id, member.organizer.name),
            Change::Deleted,
            if row.user_id == member.user.id {
                "Dejó el equipo."
            } else {
                "Quitado del equipo."
            },
        )
        .await;
    // The removed member's sessions see the change at once: membership is
    // read on every request, never kept in a token.
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub fn table() -> Table {
    Table::new()
        .doc(__path_list, list)
        .doc(__path_invite, invite)
        .doc(__path_update, update)
        .doc(__path_remove, remove)
}

pub fn routes() -> Routes {
    table().routes()
}
