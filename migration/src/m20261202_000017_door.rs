//! The door: validator sessions (one person scanning at one event, with
//! counters), the validation log (every scan, check-in and check-out, who
//! and when), notes on tickets, and door-only team members
//! (`can_validate_tickets`: they scan tickets and nothing else).
use loco_rs::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> crate::columns::Columns {
    vec![(
        OrganizerMembers::Table.into_iden(),
        boolean(OrganizerMembers::CanValidateTickets)
            .default(false)
            .to_owned(),
    )]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::columns::add(m, columns()).await?;
        m.create_table(
            Table::create()
                .table(ValidatorSessions::Table)
                .col(uuid(ValidatorSessions::Id).primary_key())
                .col(uuid(ValidatorSessions::OrganizerId))
                .col(uuid(ValidatorSessions::EventId))
                .col(uuid(ValidatorSessions::UserId))
                .col(string_len(ValidatorSessions::ValidatorName, 100))
                .col(timestamptz(ValidatorSessions::StartTime))
                .col(timestamptz_null(ValidatorSessions::EndTime))
                .col(boolean(ValidatorSessions::IsActive).default(true))
                .col(text(ValidatorSessions::DeviceInfo).default("{}"))
                .col(text(ValidatorSessions::Location).default("{}"))
                .col(integer(ValidatorSessions::TotalScans).default(0))
                .col(integer(ValidatorSessions::SuccessfulValidations).default(0))
                .col(integer(ValidatorSessions::FailedValidations).default(0))
                .col(integer(ValidatorSessions::TicketsCheckedIn).default(0))
                .col(timestamptz(ValidatorSessions::CreatedAt))
                .col(timestamptz(ValidatorSessions::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ValidatorSessions::Table, ValidatorSessions::EventId)
                        .to(Events::Table, Events::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ValidatorSessions::Table, ValidatorSessions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX validator_sessions_user_event ON validator_sessions (user_id, event_id, is_active)",
            )
            .await?;
        // One open session per scanner and event, whoever opens it.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX validator_sessions_open ON validator_sessions (user_id, event_id) WHERE is_active",
            )
            .await?;
        m.create_table(
            Table::create()
                .table(ValidationLogs::Table)
                .col(uuid(ValidationLogs::Id).primary_key())
                .col(uuid(ValidationLogs::EventId))
                .col(uuid_null(ValidationLogs::SessionId))
                .col(uuid_null(ValidationLogs::TicketId))
                .col(uuid_null(ValidationLogs::UserId))
                .col(string_len(ValidationLogs::ValidatorName, 100).default(""))
                .col(string_len(ValidationLogs::Action, 20).check(
                    Expr::col(ValidationLogs::Action).is_in([
                        "scan",
                        "validate",
                        "check_in",
                        "check_out",
                        "status_change",
                        "note_added",
                        "manual_override",
                    ]),
                ))
                .col(
                    string_len(ValidationLogs::Status, 10).check(
                        Expr::col(ValidationLogs::Status)
                            .is_in(["success", "error", "warning", "info"]),
                    ),
                )
                .col(text(ValidationLogs::Message).default(""))
                .col(string_len(ValidationLogs::FromStatus, 20).default(""))
                .col(string_len(ValidationLogs::ToStatus, 20).default(""))
                .col(text(ValidationLogs::QrData).default(""))
                .col(timestamptz(ValidationLogs::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ValidationLogs::Table, ValidationLogs::EventId)
                        .to(Events::Table, Events::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for sql in [
            "CREATE INDEX validation_logs_event ON validation_logs (event_id, created_at)",
            "CREATE INDEX validation_logs_session ON validation_logs (session_id, created_at)",
            "CREATE INDEX validation_logs_ticket ON validation_logs (ticket_id)",
        ] {
            m.get_connection().execute_unprepared(sql).await?;
        }
        m.create_table(
            Table::create()
                .table(TicketNotes::Table)
                .col(uuid(TicketNotes::Id).primary_key())
                .col(uuid(TicketNotes::TicketId))
                .col(uuid(TicketNotes::UserId))
                .col(uuid_null(TicketNotes::SessionId))
                .col(
                    string_len(TicketNotes::NoteType, 20)
                        .default("general")
                        .check(Expr::col(TicketNotes::NoteType).is_in([
                            "general",
                            "check_in",
                            "issue",
                            "resolution",
                            "security",
                            "vip",
                        ])),
                )
                .col(string_len(TicketNotes::Title, 200).default(""))
                .col(text(TicketNotes::Content))
                .col(boolean(TicketNotes::IsImportant).default(false))
                .col(timestamptz(TicketNotes::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TicketNotes::Table, TicketNotes::TicketId)
                        .to(Tickets::Table, Tickets::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["ticket_notes", "validation_logs", "validator_sessions"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        crate::columns::drop(m, columns()).await
    }
}

#[derive(DeriveIden)]
enum OrganizerMembers {
    Table,
    CanValidateTickets,
}

#[derive(DeriveIden)]
enum ValidatorSessions {
    Table,
    Id,
    OrganizerId,
    EventId,
    UserId,
    ValidatorName,
    StartTime,
    EndTime,
    IsActive,
    DeviceInfo,
    Location,
    TotalScans,
    SuccessfulValidations,
    FailedValidations,
    TicketsCheckedIn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ValidationLogs {
    Table,
    Id,
    EventId,
    SessionId,
    TicketId,
    UserId,
    ValidatorName,
    Action,
    Status,
    Message,
    FromStatus,
    ToStatus,
    QrData,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TicketNotes {
    Table,
    Id,
    TicketId,
    UserId,
    SessionId,
    NoteType,
    Title,
    Content,
    IsImportant,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}
