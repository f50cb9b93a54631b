//! The app booted in the test environment on a database of its own: a fresh
//! SQLite file, or — when `DATABASE_URL=postgres://…` — a fresh PostgreSQL
//! database, dropped (with its open connections) when the test ends.

use std::net::SocketAddr;

use loco_rs::{
    app::{AppContext, Hooks},
    boot::{BootResult, StartMode},
    environment::Environment,
    TestServer,
};
use sea_orm::{ConnectionTrait, Database};
use tuki_backend::app::App;

enum TestDb {
    /// Kept only to delete the file's directory when the test ends.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

pub struct TestApp {
    pub boot: BootResult,
    db: TestDb,
}

impl TestApp {
    pub async fn boot() -> Self {
        Self::boot_with(|_| {}).await
    }

    /// Boots with the test config changed by `adjust` first.
    pub async fn boot_with(adjust: impl FnOnce(&mut loco_rs::config::Config)) -> Self {
        let env = Environment::Test;
        let mut config = App::load_config(&env).await.expect("test config");
        adjust(&mut config);
        let db = if config.database.uri.starts_with("postgres") {
            let mut admin = url::Url::parse(&config.database.uri).expect("DATABASE_URL");
            admin.set_path("/postgres");
            let name = format!("tuki_test_{}", uuid::Uuid::new_v4().simple());
            let conn = Database::connect(admin.as_str())
                .await
                .expect("admin connection");
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the test database");
            conn.close().await.ok();
            let mut url = admin.clone();
            url.set_path(&format!("/{name}"));
            config.database.uri = url.to_string();
            TestDb::Postgres {
                admin_url: admin.to_string(),
                name,
            }
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            config.database.uri = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("t.sqlite").display()
            );
            TestDb::Sqlite(dir)
        };
        let boot = App::boot(StartMode::ServerOnly, &env, config)
            .await
            .expect("boot the app");
        Self { boot, db }
    }

    #[must_use]
    pub fn ctx(&self) -> &AppContext {
        &self.boot.app_context
    }

    /// Another instance of the app on the same database (and Redis): what a
    /// restarted or second Cloud Run instance is.
    pub async fn another_instance(&self) -> TestServer {
        let boot = App::boot(
            StartMode::ServerOnly,
            &Environment::Test,
            self.ctx().config.clone(),
        )
        .await
        .expect("boot a second instance");
        let router = boot.router.expect("a router");
        TestServer::new(router.into_make_service_with_connect_info::<SocketAddr>())
            .expect("test server")
    }

    /// A test client over the full router (every middleware included).
    #[must_use]
    pub fn server(&self) -> TestServer {
        let router = self.boot.router.clone().expect("a router");
        TestServer::new(router.into_make_service_with_connect_info::<SocketAddr>())
            .expect("test server")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = &self.db {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime: use a thread with its own.
            std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().expect("runtime");
                rt.block_on(async {
                    if let Ok(conn) = Database::connect(&admin_url).await {
                        let _ = conn
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}
