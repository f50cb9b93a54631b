mod cloudsql_socket;
mod concurrency;
mod config_errors;
mod deploy_files;
mod runtime;
mod tasks;
