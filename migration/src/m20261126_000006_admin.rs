//! The admin's own tables: the log of every change made through `/admin/`
//! (Django's `django_admin_log`: who, when, which object, what changed) and
//! the per-model permissions a superuser grants to other staff
//! (`{model}.{view|add|change|delete}`, as Django's codenames).
use loco_rs::schema::*;
use sea_orm_migration::{prelude::*, sea_query::ForeignKeyAction as Fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AdminLog::Table)
                .col(uuid(AdminLog::Id).primary_key())
                .col(timestamptz(AdminLog::ActionTime))
                .col(uuid_null(AdminLog::UserId))
                // Kept as text too: the history outlives a deleted account.
                .col(string_len(AdminLog::UserEmail, 254))
                .col(string_len(AdminLog::Model, 60))
                .col(string_len(AdminLog::ObjectId, 64))
                .col(string_len(AdminLog::ObjectRepr, 200))
                .col(
                    small_integer(AdminLog::Action)
                        .check(Expr::col(AdminLog::Action).between(1, 3)),
                )
                .col(text(AdminLog::Message).default(""))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_admin_log_user")
                        .from(AdminLog::Table, AdminLog::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(Fk::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("admin_log_by_object")
                .table(AdminLog::Table)
                .col(AdminLog::Model)
                .col(AdminLog::ObjectId)
                .col(AdminLog::ActionTime)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("admin_log_by_user")
                .table(AdminLog::Table)
                .col(AdminLog::UserId)
                .col(AdminLog::ActionTime)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AdminPermissions::Table)
                .col(uuid(AdminPermissions::UserId))
                .col(string_len(AdminPermissions::Codename, 80))
                .primary_key(
                    Index::create()
                        .col(AdminPermissions::UserId)
                        .col(AdminPermissions::Codename),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_admin_permissions_user")
                        .from(AdminPermissions::Table, AdminPermissions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(Fk::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AdminPermissions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AdminLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AdminLog {
    Table,
    Id,
    ActionTime,
    UserId,
    UserEmail,
    Model,
    ObjectId,
    ObjectRepr,
    Action,
    Message,
}

#[derive(DeriveIden)]
enum AdminPermissions {
    Table,
    UserId,
    Codename,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
