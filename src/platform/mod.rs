//! What every part runs on: the environment contract (`settings`), the shared
//! services in Loco's store (`context`), logging, the response cache, media
//! storage, the one Redis connection, and random tokens.

pub mod cache;
pub mod context;
pub mod logging;
pub mod pool;
pub mod redis_conn;
pub mod settings;
pub mod sqlite;
pub mod storage;
pub mod tokens;
