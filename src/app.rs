use std::{path::Path, sync::Arc, time::Duration};

use async_trait::async_trait;
use axum::{Extension, Router as AxumRouter};
use loco_rs::{
    app::{AppContext, Hooks},
    bgworker::Queue,
    boot::{create_app, BootResult, StartMode},
    config::Config,
    controller::{
        views::{engines, ViewEngine},
        AppRoutes,
    },
    db::truncate_table,
    environment::Environment,
    task::Tasks,
    Error, Result,
};
use migration::Migrator;
use sha2::{Digest, Sha256};

use crate::{
    controllers, middleware,
    models::_entities::users,
    platform::cache::ResponseCache,
    platform::logging,
    platform::settings::{FileSettings, ProcessEnv, Purpose, Settings},
    tasks,
};

/// Tera templates live here (admin pages, emails).
pub const TEMPLATES_DIR: &str = "templates";

pub struct App;

/// Puts the checked settings where Loco reads its own: the database URL and
/// pool size, the JWT secret, and `config.settings` for the app.
fn apply_settings(config: &mut Config, settings: &Settings) -> Result<()> {
    if let Some(url) = &settings.database_url {
        config.database.uri.clone_from(url);
    }
    if let Some(max) = settings.db_pool_max {
        config.database.max_connections = max;
    }
    if let Some(jwt) = config.auth.as_mut().and_then(|a| a.jwt.as_mut()) {
        jwt.secret.clone_from(&settings.secret_key);
    }
    if let Some(smtp) = &settings.smtp {
        use loco_rs::config::{Mailer, MailerAuth, MailerTls, SmtpMailer};
        config.mailer = Some(Mailer {
            stub: false,
            smtp: Some(SmtpMailer {
                enable: true,
                host: smtp.host.clone(),
                port: smtp.port,
                secure: smtp.starttls,
                tls: Some(if smtp.implicit_tls {
                    MailerTls::Implicit
                } else if smtp.starttls {
                    MailerTls::Starttls
                } else {
                    MailerTls::None
                }),
                auth: smtp.user.as_ref().map(|user| MailerAuth {
                    user: user.clone(),
                    password: smtp.password.clone().unwrap_or_default(),
                }),
                hello_name: None,
            }),
        });
    }
    config.settings = Some(serde_json::to_value(settings)?);
    Ok(())
}

/// Installs the process's logger (`logging.rs`) from the config: JSON when
/// `logger.format` is json (production), text otherwise; nothing when disabled.
///
/// # Errors
/// The settings in the config are unreadable.
pub fn init_logger(config: &Config) -> Result<()> {
    let settings = settings_in(config)?;
    init_logger_with(&config.logger, &settings);
    Ok(())
}

/// The settings in `config.settings`: the object [`App::load_config`] writes
/// (tests adjust it), or the one string `after_context` leaves there.
fn settings_in(config: &Config) -> Result<Settings> {
    match &config.settings {
        Some(serde_json::Value::String(json)) => Ok(serde_json::from_str(json)?),
        _ => config.settings(),
    }
}

fn init_logger_with(logger: &loco_rs::config::Logger, settings: &Settings) {
    if !logger.enable {
        return;
    }
    let format = match logger.format {
        loco_rs::logger::Format::Json => logging::Format::Json,
        _ => logging::Format::Text,
    };
    // A second init in the same process (tests) keeps the first subscriber.
    let _ = logging::init(
        format,
        &logger.level.to_string(),
        settings.log_project_id.clone(),
        logging::Redactor::new(&settings.secrets),
    );
}

#[async_trait]
impl Hooks for App {
    fn app_name() -> &'static str {
        env!("CARGO_CRATE_NAME")
    }

    /// After the migrations: SQLite connections opened before them reload
    /// the schema (see `platform::sqlite`).
    async fn before_run(ctx: &AppContext) -> Result<()> {
        crate::platform::sqlite::reload_schema(&ctx.db).await?;
        if ctx.environment == Environment::Production
            && settings_in(&ctx.config)?.log_project_id.is_none()
        {
            crate::platform::logging::discover_project_id().await;
        }
        // Once, at boot: payments wait for Webpay's credentials.
        // (The database may not be migrated yet: `task migrate` runs as
        // its own job; then the credentials cannot be read either.)
        let gateway = crate::platform::context::gateway(ctx)?;
        let missing = match gateway.webpay(&ctx.db).await {
            Ok((webpay, _)) => webpay.is_none(),
            Err(e) => {
                tracing::warn!(error = %e, "Webpay credentials saved in the admin could not be read");
                !gateway.from_environment()
            }
        };
        if missing {
            tracing::warn!(
                "Webpay is not configured (TRANSBANK_COMMERCE_CODE and TRANSBANK_API_KEY unset, \
                 sandbox off, none usable saved in the admin — one sealed under another SECRET_KEY \
                 does not open): payments answer 503 until a superuser saves the commerce code \
                 and API key at /admin/payments/webpaysettings/"
            );
        }
        Ok(())
    }

    fn app_version() -> String {
        format!(
            "{} ({})",
            env!("CARGO_PKG_VERSION"),
            option_env!("BUILD_SHA").unwrap_or("dev")
        )
    }

    /// Loco's config plus the deployment's variables, checked: a bad one stops
    /// the process here, before any connection is attempted, with one line.
    async fn load_config(env: &Environment) -> Result<Config> {
        let mut config = env.load()?;
        let file: FileSettings = match config.settings.clone() {
            Some(value) => serde_json::from_value(value)?,
            None => FileSettings::default(),
        };
        let settings = Settings::from_vars(
            &ProcessEnv,
            *env == Environment::Production,
            Purpose::from_args(std::env::args()),
            &file,
        )
        .map_err(|e| Error::Message(e.to_string()))?;
        apply_settings(&mut config, &settings)?;
        Ok(config)
    }

    async fn boot(
        mode: StartMode,
        environment: &Environment,
        config: Config,
    ) -> Result<BootResult> {
        create_app::<Self, Migrator>(mode, environment, config).await
    }

    fn init_logger(ctx: &AppContext) -> Result<bool> {
        init_logger_with(
            &ctx.config.logger,
            &*crate::platform::context::settings(ctx)?,
        );
        Ok(true)
    }

    async fn after_context(ctx: AppContext) -> Result<AppContext> {
        // Read once into the shared store (API handlers take `Api`, not a clone
        // of the whole context).
        let settings = settings_in(&ctx.config)?;
        // Before anything below keeps a handle on the pool.
        let mut ctx = ctx;
        ctx.db = crate::platform::pool::without_checkout_ping(ctx.db, &ctx.config.database).await?;
        // One Redis connection for the cache, the sessions and the counters.
        let redis = match (settings.use_redis, settings.redis_url.as_deref()) {
            (true, Some(url)) => Some(
                crate::platform::redis_conn::RedisConn::open(url)
                    .map_err(|e| Error::Message(format!("configuration error: REDIS_URL: {e}")))?,
            ),
            _ => None,
        };
        let shared = ResponseCache::shared_for(redis.as_ref(), &ctx.db);
        // One namespace per database: deployments (or test databases) sharing a
        // Redis never read each other's answers.
        let digest = Sha256::digest(ctx.config.database.uri.as_bytes());
        let namespace = hex::encode(&digest[..6]);
        let cache = ResponseCache::new(
            &namespace,
            Duration::from_secs(settings.catalogue_cache_seconds),
            Some(shared),
        );
        ctx.shared_store.insert(Arc::new(cache));
        // Sign-in attempt counters and admin sessions live with the shared
        // cache: Redis when it is on, else the database.
        let counters = redis.clone().map_or_else(
            || crate::accounts::throttle::Store::Database(ctx.db.clone()),
            crate::accounts::throttle::Store::Redis,
        );
        ctx.shared_store
            .insert(Arc::new(crate::accounts::throttle::LoginThrottle::new(
                counters, &namespace,
            )));
        let sessions = redis.map_or_else(
            || crate::accounts::sessions::SessionStore::Database(ctx.db.clone()),
            crate::accounts::sessions::SessionStore::Redis,
        );
        ctx.shared_store.insert(Arc::new(sessions));
        let gateway = crate::payments::credentials::Gateway::new(
            &settings.transbank,
            &settings.secret_key,
            &settings.secret_key_fallbacks,
        )
        .map_err(|e| Error::Message(format!("Webpay client: {e}")))?;
        ctx.shared_store.insert(Arc::new(gateway));
        // Media: local disk or Google Cloud Storage, through Loco's storage.
        let storage = crate::platform::storage::storage(&settings.media).map_err(|e| {
            let var = match settings.media.backend {
                crate::platform::settings::MediaBackend::Local { .. } => "MEDIA_ROOT",
                _ => "GS_BUCKET_NAME",
            };
            Error::Message(format!(
                "configuration error: {var}: media storage cannot be used: {e}"
            ))
        })?;
        ctx.storage = Arc::new(storage);
        ctx.shared_store.insert(Arc::new(settings));
        // From here on the app reads the settings from the shared store. axum
        // clones the router's state — this whole context — for every request,
        // and the settings' JSON tree was most of that copy (a tenth of the
        // server's CPU on an uncached catalogue page): they stay in the config
        // as one string (Loco's CLI boots a second context from this config).
        ctx.config.settings = Some(serde_json::Value::String(serde_json::to_string(
            &*crate::platform::context::settings(&ctx)?,
        )?));
        Ok(ctx)
    }

    /// The site map. `/healthz` is also answered ahead of every middleware
    /// (`middleware::healthz`).
    fn routes(ctx: &AppContext) -> AppRoutes {
        let routes = AppRoutes::with_default_routes()
            .add_route(controllers::health::routes())
            .add_route(controllers::api::events::routes())
            .add_route(controllers::api::catalogue::routes())
            .add_route(controllers::api::auth::routes())
            .add_route(controllers::api::accounts::routes())
            .add_route(controllers::api::otp::routes())
            .add_route(controllers::api::pay::table().routes())
            .add_route(controllers::api::confirmation::table().routes())
            .add_route(controllers::api::reservations::table().routes())
            .add_route(controllers::api::checkout::routes())
            .add_route(controllers::api::tickets::routes())
            .add_route(controllers::api::organizers::routes())
            .add_route(controllers::api::organizer_auth::routes())
            .add_route(controllers::api::organizer_events::routes())
            .add_route(controllers::api::organizer_tiers::routes())
            .add_route(controllers::api::organizer_onboarding::routes())
            .add_route(controllers::api::organizer_team::routes())
            .add_route(controllers::api::organizer_categories::routes())
            .add_route(controllers::api::organizer_orders::routes())
            .add_route(controllers::api::organizer_stats::routes())
            .add_route(controllers::api::organizer_coupons::routes())
            .add_route(controllers::api::door::routes())
            .add_route(controllers::api::organizer_courtesy::routes())
            .add_route(controllers::api::organizer_exports::routes())
            .add_route(controllers::docs::routes())
            .add_route(controllers::admin::routes())
            .add_route(controllers::statics::routes());
        // A deliberately slow endpoint for the graceful-shutdown test; it exists
        // in the test environment only.
        if ctx.environment == Environment::Test {
            routes.add_route(controllers::health::test_routes())
        } else {
            routes
        }
    }

    async fn after_routes(router: AxumRouter, ctx: &AppContext) -> Result<AxumRouter> {
        // Tera templates from `templates/` (admin pages, emails).
        let tera = engines::TeraView::from_custom_dir(&TEMPLATES_DIR, |tera| {
            tera.register_function("static_url", controllers::statics::static_url);
            Ok(())
        })?;
        let router = router.layer(Extension(ViewEngine::from(tera)));
        let settings = crate::platform::context::settings(ctx)?;
        let router = controllers::media::mount(router, &settings);
        let (router, front) =
            middleware::apply(router, &settings, crate::platform::context::cache(ctx)?);
        ctx.shared_store.insert(front);
        Ok(router)
    }

    /// Loco's server, with Nagle's algorithm off on every connection (as
    /// axum recommends): a streamed answer (an export) is written in many
    /// chunks, and a chunk's small tail must not wait for the client's
    /// delayed ACK.
    async fn serve(
        app: AxumRouter,
        ctx: &AppContext,
        serve_params: &loco_rs::boot::ServeParams,
    ) -> Result<()> {
        use axum::serve::ListenerExt;
        let listener = tokio::net::TcpListener::bind(&format!(
            "{}:{}",
            serve_params.binding, serve_params.port
        ))
        .await?
        .tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::warn!(error = %err, "could not set TCP_NODELAY on a connection");
            }
        });
        let shutdown = {
            let ctx = ctx.clone();
            async move {
                loco_rs::boot::shutdown_signal().await;
                tracing::info!("shutting down...");
                Self::on_shutdown(&ctx).await;
            }
        };
        // The stack `after_routes` built, without the router that only
        // forwards to it (one route lookup and one boxed clone a request).
        let front = ctx
            .shared_store
            .get::<middleware::FrontParts>()
            .and_then(|parts| parts.front());
        match front {
            Some(front) => {
                axum::serve(listener, middleware::peer::MakeWithPeer::new(front))
                    .with_graceful_shutdown(shutdown)
                    .await?;
            }
            None => {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
                )
                .with_graceful_shutdown(shutdown)
                .await?;
            }
        }
        Ok(())
    }

    async fn connect_workers(_ctx: &AppContext, _queue: &Queue) -> Result<()> {
        Ok(())
    }

    fn register_tasks(tasks: &mut Tasks) {
        // tasks-inject (do not remove)
        tasks.register(tasks::release_expired_holds::ReleaseExpiredHolds);
        tasks.register(tasks::reconcile_payments::ReconcilePayments);
        tasks.register(tasks::rebuild_sales::RebuildSales);
        tasks.register(tasks::expire_abandoned_orders::ExpireAbandonedOrders);
        tasks.register(tasks::send_confirmations::SendConfirmations);
        tasks.register(tasks::send_event_reminders::SendEventReminders);
        tasks.register(tasks::migrate::Migrate);
        tasks.register(tasks::create_initial_superuser::CreateInitialSuperuser);
        tasks.register(tasks::seed_demo::SeedDemo);
        tasks.register(tasks::import_django::ImportDjango);
    }

    async fn truncate(ctx: &AppContext) -> Result<()> {
        truncate_table(&ctx.db, users::Entity).await?;
        Ok(())
    }

    async fn seed(_ctx: &AppContext, _base: &Path) -> Result<()> {
        Ok(())
    }
}
