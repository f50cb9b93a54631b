//! `task create_initial_superuser`: the Cloud Run Job `tuki-create-su`. Reads
//! Django's variables `DJANGO_SUPERUSER_USERNAME`, `_EMAIL` and `_PASSWORD`;
//! does nothing (and says so) when a user with that email or username exists.

use loco_rs::prelude::*;

use crate::models::users::{CreateUserError, Email, Model as User, NewUser};

pub struct CreateInitialSuperuser;

fn required(name: &str) -> Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Error::Message(format!("{name} is not set")))
}

#[async_trait]
impl Task for CreateInitialSuperuser {
    fn task(&self) -> TaskInfo {
        TaskInfo {
            name: "create_initial_superuser".to_string(),
            detail:
                "Create the first superuser from DJANGO_SUPERUSER_USERNAME, _EMAIL and _PASSWORD"
                    .to_string(),
        }
    }

    async fn run(&self, ctx: &AppContext, _vars: &task::Vars) -> Result<()> {
        let username = required("DJANGO_SUPERUSER_USERNAME")?.trim().to_string();
        let email = required("DJANGO_SUPERUSER_EMAIL")?;
        let password = required("DJANGO_SUPERUSER_PASSWORD")?;
        let email = Email::parse(&email)
            .map_err(|e| Error::Message(format!("DJANGO_SUPERUSER_EMAIL: {e}")))?;

        let exists = || {
            super::say!(
                ctx,
                "create_initial_superuser: a user with email {} or username {username} already exists; nothing changed",
                email.as_str()
            );
            Ok(())
        };
        if User::find_by_email_or_username(&ctx.db, email.as_str(), &username)
            .await?
            .is_some()
        {
            return exists();
        }
        let new = NewUser {
            email: &email,
            username: &username,
            password: &password,
            is_staff: true,
            is_superuser: true,
        };
        match User::create(&ctx.db, &new).await {
            Ok(user) => {
                super::say!(
                    ctx,
                    "create_initial_superuser: superuser {} <{}> created",
                    user.username,
                    user.email
                );
                Ok(())
            }
            // Another job created it between the check and the insert.
            Err(CreateUserError::Exists) => exists(),
            Err(CreateUserError::Db(err)) => Err(err.into()),
            Err(err) => Err(Error::Message(err.to_string())),
        }
    }
}
