//! The door's one rule: a ticket goes in once. A check-in is one
//! conditional `UPDATE` (`valid` → `used`, with when and by whom), so of two
//! scans of one ticket at once on any instances exactly one lets it in; a
//! check-out is the reverse (`used` → `valid`). Every scan is written to the
//! validation log and counted on the scanner's session.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::{
    _entities::{tickets, users, validation_logs, validator_sessions},
    status::TicketStatus,
};

/// What a scan did.
#[derive(Debug)]
pub enum Outcome {
    /// Let in (or, for a check-out, let out): the ticket as it is now.
    Done(tickets::Model),
    /// Already in: when and by whom are on the ticket.
    AlreadyIn(tickets::Model),
    /// Cancelled (refunded): never valid.
    Cancelled(tickets::Model),
    /// A check-out of a ticket that is not in.
    NotIn(tickets::Model),
}

/// Who scans, and on which session.
#[derive(Debug, Clone, Copy)]
pub struct Scanner<'a> {
    pub user: &'a users::Model,
    pub session: Option<&'a validator_sessions::Model>,
}

impl Scanner<'_> {
    fn name(&self) -> String {
        self.session
            .map_or_else(|| self.user.email.clone(), |s| s.validator_name.clone())
    }
}

/// One line of the validation log.
pub struct Entry<'a> {
    pub event: Uuid,
    pub ticket: Option<Uuid>,
    pub action: &'a str,
    pub status: &'a str,
    pub message: String,
    pub from: &'a str,
    pub to: &'a str,
    pub qr_data: &'a str,
}

/// Writes a log line and counts it on the session.
///
/// # Errors
/// The database error.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    scanner: Scanner<'_>,
    entry: Entry<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    validation_logs::ActiveModel {
        id: Set(Uuid::new_v4()),
        event_id: Set(entry.event),
        session_id: Set(scanner.session.map(|s| s.id)),
        ticket_id: Set(entry.ticket),
        user_id: Set(Some(scanner.user.id)),
        validator_name: Set(scanner.name().chars().take(100).collect()),
        action: Set(entry.action.into()),
        status: Set(entry.status.into()),
        message: Set(entry.message),
        from_status: Set(entry.from.into()),
        to_status: Set(entry.to.into()),
        qr_data: Set(entry.qr_data.chars().take(2_000).collect()),
        created_at: Set(now.fixed_offset()),
    }
    .insert(db)
    .await?;
    if let Some(session) = scanner.session {
        let ok = entry.status == "success";
        let add = |c: validator_sessions::Column, yes: bool| Expr::col(c).add(i32::from(yes));
        validator_sessions::Entity::update_many()
            .col_expr(
                validator_sessions::Column::TotalScans,
                add(
                    validator_sessions::Column::TotalScans,
                    entry.action != "note_added",
                ),
            )
            .col_expr(
                validator_sessions::Column::SuccessfulValidations,
                add(
                    validator_sessions::Column::SuccessfulValidations,
                    ok && entry.action != "note_added",
                ),
            )
            .col_expr(
                validator_sessions::Column::FailedValidations,
                add(validator_sessions::Column::FailedValidations, !ok),
            )
            .col_expr(
                validator_sessions::Column::TicketsCheckedIn,
                add(
                    validator_sessions::Column::TicketsCheckedIn,
                    ok && entry.action == "check_in",
                ),
            )
            .col_expr(
                validator_sessions::Column::UpdatedAt,
                Expr::value(now.fixed_offset()),
            )
            .filter(validator_sessions::Column::Id.eq(session.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

async fn reload<C: ConnectionTrait>(
    db: &C,
    ticket: &tickets::Model,
) -> Result<tickets::Model, DbErr> {
    Ok(tickets::Entity::find_by_id(ticket.id)
        .one(db)
        .await?
        .unwrap_or_else(|| ticket.clone()))
}

/// Lets a ticket in once.
///
/// # Errors
/// The database error.
pub async fn check_in<C: ConnectionTrait>(
    db: &C,
    ticket: &tickets::Model,
    scanner: Scanner<'_>,
    qr_data: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    let nowf = now.fixed_offset();
    let marked = tickets::Entity::update_many()
        .col_expr(tickets::Column::Status, Expr::value(TicketStatus::Used))
        .col_expr(tickets::Column::UsedAt, Expr::value(nowf))
        .col_expr(tickets::Column::UsedBy, Expr::value(scanner.user.id))
        .col_expr(tickets::Column::UpdatedAt, Expr::value(nowf))
        .filter(tickets::Column::Id.eq(ticket.id))
        .filter(tickets::Column::Status.eq(TicketStatus::Valid))
        .exec(db)
        .await?;
    let current = reload(db, ticket).await?;
    let (outcome, status, message) = if marked.rows_affected == 1 {
        let message = format!("Check-in realizado por {}", scanner.name());
        (Outcome::Done(current), "success", message)
    } else if TicketStatus::Used.is(&current.status) {
        let when = current
            .used_at
            .map(crate::views::events::iso_santiago)
            .unwrap_or_default();
        (
            Outcome::AlreadyIn(current),
            "warning",
            format!("Entrada ya ingresada el {when}"),
        )
    } else {
        (
            Outcome::Cancelled(current),
            "error",
            "Entrada anulada".to_string(),
        )
    };
    record(
        db,
        scanner,
        Entry {
            event: ticket.event_id,
            ticket: Some(ticket.id),
            action: "check_in",
            status,
            message,
            from: if status == "success" { "pending" } else { "" },
            to: if status == "success" {
                "checked_in"
            } else {
                ""
            },
            qr_data,
        },
        now,
    )
    .await?;
    Ok(outcome)
}

/// Lets a ticket that is in out again (it can then go in again).
///
/// # Errors
/// The database error.
pub async fn check_out<C: ConnectionTrait>(
    db: &C,
    ticket: &tickets::Model,
    scanner: Scanner<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome, DbErr> {
    let nowf = now.fixed_offset();
    let released = tickets::Entity::update_many()
        .col_expr(tickets::Column::Status, Expr::value(TicketStatus::Valid))
        .col_expr(
            tickets::Column::UsedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(tickets::Column::UsedBy, Expr::value(Option::<Uuid>::None))
        .col_expr(tickets::Column::UpdatedAt, Expr::value(nowf))
        .filter(tickets::Column::Id.eq(ticket.id))
        .filter(tickets::Column::Status.eq(TicketStatus::Used))
        .exec(db)
        .await?;
    let current = reload(db, ticket).await?;
    if released.rows_affected == 0 {
        return Ok(if TicketStatus::Cancelled.is(&current.status) {
            Outcome::Cancelled(current)
        } else {
            Outcome::NotIn(current)
        });
    }
    record(
        db,
        scanner,
        Entry {
            event: ticket.event_id,
            ticket: Some(ticket.id),
            action: "check_out",
            status: "success",
            message: format!("Check-out realizado por {}", scanner.name()),
            from: "checked_in",
            to: "checked_out",
            qr_data: "",
        },
        now,
    )
    .await?;
    Ok(Outcome::Done(current))
}

/// The user's open session at an event, or a new one named by their
/// email (scans made without starting one).
///
/// # Errors
/// The database error.
pub async fn session_of<C: ConnectionTrait>(
    db: &C,
    user: &users::Model,
    organizer: Uuid,
    event: Uuid,
    now: DateTime<Utc>,
) -> Result<validator_sessions::Model, DbErr> {
    let open = || async {
        validator_sessions::Entity::find()
            .filter(validator_sessions::Column::UserId.eq(user.id))
            .filter(validator_sessions::Column::EventId.eq(event))
            .filter(validator_sessions::Column::IsActive.eq(true))
            .one(db)
            .await
    };
    if let Some(open) = open().await? {
        return Ok(open);
    }
    let row = new_session(user, organizer, event, &user.email, "{}", "{}", now);
    match row.insert(db).await {
        Ok(s) => Ok(s),
        // Opened meanwhile by a concurrent scan: that one.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            open().await?.ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// Closes the user's open sessions at the event and opens a new one.
///
/// # Errors
/// The database error.
#[allow(clippy::too_many_arguments)]
pub async fn start<C: ConnectionTrait>(
    db: &C,
    user: &users::Model,
    organizer: Uuid,
    event: Uuid,
    name: &str,
    device_info: &str,
    location: &str,
    now: DateTime<Utc>,
) -> Result<validator_sessions::Model, DbErr> {
    // Closing and opening race with another start: the unique index on
    // open sessions lets one win; the loser tries again.
    for _ in 0..3 {
        end_open(db, user.id, Some(event), now).await?;
        let row = new_session(user, organizer, event, name, device_info, location, now);
        match row.insert(db).await {
            Err(e)
                if matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) => {}
            done => return done,
        }
    }
    Err(DbErr::Custom(
        "validator session: too much contention".into(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn new_session(
    user: &users::Model,
    organizer: Uuid,
    event: Uuid,
    name: &str,
    device_info: &str,
    location: &str,
    now: DateTime<Utc>,
) -> validator_sessions::ActiveModel {
    let nowf = now.fixed_offset();
    validator_sessions::ActiveModel {
        id: Set(Uuid::new_v4()),
        organizer_id: Set(organizer),
        event_id: Set(event),
        user_id: Set(user.id),
        validator_name: Set(name.chars().take(100).collect()),
        start_time: Set(nowf),
        end_time: Set(None),
        is_active: Set(true),
        device_info: Set(device_info.into()),
        location: Set(location.into()),
        total_scans: Set(0),
        successful_validations: Set(0),
        failed_validations: Set(0),
        tickets_checked_in: Set(0),
        created_at: Set(nowf),
        updated_at: Set(nowf),
    }
}

/// Ends the user's open sessions (at one event, or everywhere when `event`
/// is `None`). Returns how many ended.
///
/// # Errors
/// The database error.
pub async fn end_open<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    event: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut q = validator_sessions::Entity::update_many()
        .col_expr(validator_sessions::Column::IsActive, Expr::value(false))
        .col_expr(
            validator_sessions::Column::EndTime,
            Expr::value(now.fixed_offset()),
        )
        .filter(validator_sessions::Column::UserId.eq(user))
        .filter(validator_sessions::Column::IsActive.eq(true));
    if let Some(event) = event {
        q = q.filter(validator_sessions::Column::EventId.eq(event));
    }
    Ok(q.exec(db).await?.rows_affected)
}
