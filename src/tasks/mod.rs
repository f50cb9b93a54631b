pub mod create_initial_superuser;
pub mod migrate;
pub mod rebuild_sales;
pub mod reconcile_payments;
pub mod release_expired_holds;
pub mod seed_demo;
