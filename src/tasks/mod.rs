pub mod create_initial_superuser;
pub mod migrate;
