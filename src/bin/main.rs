use std::process::ExitCode;

use loco_rs::{
    app::Hooks,
    boot::{create_app, start, ServeParams, StartMode},
    cli,
    environment::Environment,
};
use migration::Migrator;
use tuki_backend::{
    app::{init_logger, App},
    platform::logging::Redactor,
};

/// mimalloc instead of glibc's malloc: a request allocates and frees many small
/// buffers (glibc's allocator was a fifth of the server's CPU under load).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `start` in production, exactly as the image runs it (`LOCO_ENV=production`,
/// `tuki_backend-cli start`). It boots once, with no banner on stdout, where
/// every line must be a Cloud Logging JSON object (Loco's own CLI prints its
/// banner and opens a second database pool before booting).
fn is_production_start(args: &[String]) -> bool {
    let env_var = std::env::var("LOCO_ENV").ok();
    match args.get(1..).unwrap_or_default() {
        [cmd] => cmd == "start" && env_var.as_deref() == Some("production"),
        [flag, env, cmd] => {
            (flag == "-e" || flag == "--environment") && env == "production" && cmd == "start"
        }
        _ => false,
    }
}

async fn start_production() -> loco_rs::Result<()> {
    let environment = Environment::Production;
    let config = App::load_config(&environment).await?;
    init_logger(&config)?;
    let boot = create_app::<App, Migrator>(StartMode::ServerOnly, &environment, config).await?;
    let serve = ServeParams {
        port: boot.app_context.config.server.port,
        binding: boot.app_context.config.server.binding.clone(),
    };
    tracing::info!(
        port = serve.port,
        version = %App::app_version(),
        "listening on {}:{}",
        serve.binding,
        serve.port
    );
    start::<App>(boot, serve, true).await
}

/// `task NAME --dry-run` is Loco's `task NAME dry_run:true` (Loco's task
/// command takes only `key:value` parameters): the process runs itself again
/// with the parameter spelled Loco's way.
fn respell_dry_run(args: &[String]) -> Option<std::io::Error> {
    use std::os::unix::process::CommandExt as _;
    let task_at = args.iter().position(|a| a == "task")?;
    if !args[task_at..].iter().any(|a| a == "--dry-run") {
        return None;
    }
    let respelled = args[1..].iter().enumerate().map(|(i, a)| {
        if i + 1 > task_at && a == "--dry-run" {
            "dry_run:true".to_string()
        } else {
            a.clone()
        }
    });
    let exe = std::env::current_exe().ok()?;
    Some(std::process::Command::new(exe).args(respelled).exec())
}

/// Small pages only. mimalloc commits its arena up front, and with
/// transparent huge pages every 2 MiB of it the process touches becomes
/// resident at once: 17-22 MB of heap at idle instead of 10 MB (the deployed
/// build, measured in `bench/README.md`), which a 256 MiB instance pays
/// for and a service of this size gains nothing from. Set before the
/// runtime starts its threads and allocates, so later faults take 4 KiB.
fn small_pages() {
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("could not turn transparent huge pages off: {err}");
    }
}

fn main() -> ExitCode {
    small_pages();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => {
            eprintln!("could not start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(err) = respell_dry_run(&args) {
        eprintln!("--dry-run: cannot run again as dry_run:true: {err}");
        return ExitCode::FAILURE;
    }
    let outcome = if is_production_start(&args) {
        start_production().await
    } else {
        cli::main::<App, Migrator>().await
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line an operator can act on (a missing variable, an unreachable
            // database), never a config dump, a panic trace or a password.
            let line = err.to_string().replace(['\n', '\r'], " ");
            eprintln!("{}", Redactor::default().redact(line.trim()));
            ExitCode::FAILURE
        }
    }
}
