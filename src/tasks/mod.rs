pub mod create_initial_superuser;
pub mod migrate;
pub mod seed_demo;
