//! The deploy files stay in step with the code.

use std::{collections::BTreeSet, fs, path::PathBuf};

fn read(path: &str) -> String {
    fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every quoted UPPER_CASE name passed to the settings' variable readers.
fn variables_read_by_settings() -> BTreeSet<String> {
    let source = read("src/platform/settings.rs");
    let re = regex::Regex::new(r#""([A-Z][A-Z0-9]*_[A-Z0-9_]+)""#).unwrap();
    let code = source.split("#[cfg(test)]").next().unwrap();
    re.captures_iter(code)
        .map(|c| c[1].to_string())
        .filter(|name| !name.starts_with("PROD_") && !name.starts_with("DEV_"))
        .collect()
}

#[test]
fn the_env_example_lists_every_variable_the_settings_read() {
    let example: serde_yaml::Mapping =
        serde_yaml::from_str(&read("cloud-run-env.example.yaml")).expect("valid YAML");
    let listed: BTreeSet<String> = example
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    let read_by_code = variables_read_by_settings();
    assert!(read_by_code.contains("SECRET_KEY") && read_by_code.contains("DB_HOST"));
    // The superuser variables and the Django database of `task import_django`
    // are given to those one-off jobs with --set-env-vars;
    // Google's own variables (a key file, an emulator) are never set on Cloud Run.
    let google = ["GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST"];
    let missing: Vec<_> = read_by_code
        .iter()
        .filter(|v| {
            !v.starts_with("DJANGO_SUPERUSER_")
                && !v.starts_with("DJANGO_DB")
                && v.as_str() != "DJANGO_DATABASE_URL"
                && !google.contains(&v.as_str())
                && !listed.contains(*v)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "not in cloud-run-env.example.yaml: {missing:?}"
    );
    let unknown: Vec<_> = listed
        .iter()
        .filter(|v| !read_by_code.contains(*v))
        .collect();
    assert!(unknown.is_empty(), "listed but never read: {unknown:?}");
}

#[test]
fn the_real_env_file_is_git_ignored() {
    assert!(read(".gitignore")
        .lines()
        .any(|l| l.trim() == "cloud-run-env.yaml"));
}

#[test]
fn the_image_context_leaves_out_build_output_and_secrets() {
    let ignored = read(".dockerignore");
    for entry in ["target/", ".git/", "cloud-run-env.yaml", "**/*.sqlite"] {
        assert!(
            ignored.lines().any(|l| l.trim() == entry),
            ".dockerignore lacks {entry}"
        );
    }
}

#[test]
fn cloud_build_tags_the_seed_images() {
    let web = read("cloudbuild-backend.yaml");
    assert!(
        web.contains("us-central1-docker.pkg.dev/$PROJECT_ID/tuki-repo/tuki-backend:v4-backend")
    );
    assert!(web.contains("Dockerfile.backend"));
    let migrate = read("cloudbuild-migrate.yaml");
    assert!(
        migrate.contains("us-central1-docker.pkg.dev/$PROJECT_ID/tuki-repo/tuki-migrate:latest")
    );
    assert!(migrate.contains("--target=migrate"));
    // One build tags both images, from the cached build stage.
    assert!(web.contains("us-central1-docker.pkg.dev/$PROJECT_ID/tuki-repo/tuki-migrate:latest"));
    assert!(web.contains("--target=migrate") && web.contains("--target=web"));
    assert!(web.contains("--cache-from="));
    let dockerfile = read("Dockerfile.backend");
    let deps = dockerfile.find("COPY Cargo.toml Cargo.lock").unwrap();
    let sources = dockerfile.find("COPY . .").unwrap();
    assert!(
        deps < sources,
        "dependencies are built before the sources are copied"
    );
}

#[test]
fn the_dockerfile_runs_the_cli_as_non_root_in_production() {
    let dockerfile = read("Dockerfile.backend");
    assert!(dockerfile.contains("LOCO_ENV=production"));
    assert!(dockerfile.contains("USER nonroot"));
    assert!(dockerfile.contains(r#"CMD ["/app/tuki_backend-cli", "task", "migrate"]"#));
    for dir in ["config", "templates", "assets"] {
        assert!(
            dockerfile.contains(&format!("COPY {dir} /app/{dir}")),
            "{dir}"
        );
    }
    let (_, cmd) = crate::support::dockerfile_web_command();
    assert_eq!(cmd, ["/app/tuki_backend-cli", "start"]);
}

/// Every job DEPLOY.md deploys says its command (an existing job of the
/// Django deployment would otherwise keep Django's) and attaches Cloud SQL.
#[test]
fn every_deployed_job_names_its_command_and_its_cloud_sql_instance() {
    let deploy = read("DEPLOY.md");
    let jobs: Vec<&str> = deploy.split("gcloud run jobs deploy ").skip(1).collect();
    assert!(jobs.len() >= 4, "{} jobs", jobs.len());
    for job in jobs {
        let block = job.split("```").next().unwrap();
        let name = block.split_whitespace().next().unwrap();
        assert!(
            block.contains("--command /app/tuki_backend-cli"),
            "{name}: no --command"
        );
        assert!(
            block.contains("--set-cloudsql-instances"),
            "{name}: no Cloud SQL"
        );
    }
}

/// `gcloud` refuses `--env-vars-file` together with `--set-env-vars` (one
/// group, at most one of them): no command in DEPLOY.md gives both.
#[test]
fn no_deploy_command_gives_an_env_file_and_env_vars_together() {
    let deploy = read("DEPLOY.md");
    for command in deploy.split("gcloud ").skip(1) {
        let command = command.split("```").next().unwrap();
        let command = command.split("\n\n").next().unwrap();
        assert!(
            !(command.contains("--env-vars-file") && command.contains("--set-env-vars")),
            "gcloud {command}"
        );
    }
}
