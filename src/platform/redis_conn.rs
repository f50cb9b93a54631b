//! One Redis connection per instance, shared by the catalogue cache, the
//! admin's sessions and the attempt counters: connected on first use,
//! multiplexed, and reconnected by redis' connection manager (a dead Redis
//! costs each caller one short timeout, never a new TCP connection per call).

use std::{sync::Arc, time::Duration};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// How long connecting, or one command, may take.
const TIMEOUT: Duration = Duration::from_millis(500);

pub struct RedisConn {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
}

impl RedisConn {
    /// A connection to `url`, opened on first use.
    ///
    /// # Errors
    /// A URL the client refuses.
    pub fn open(url: &str) -> Result<Arc<Self>, redis::RedisError> {
        Ok(Arc::new(Self {
            client: redis::Client::open(url)?,
            conn: OnceCell::new(),
        }))
    }

    /// The shared connection (a cheap handle), or `None` while Redis cannot
    /// be reached (logged; the next call tries again).
    pub async fn get(&self) -> Option<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1);
        let init = ConnectionManager::new_with_config(self.client.clone(), config);
        match self.conn.get_or_try_init(|| init).await {
            Ok(conn) => Some(conn.clone()),
            Err(err) => {
                tracing::warn!(error = %err, "redis unavailable");
                None
            }
        }
    }
}
