//! Telling a database that is away (down, restarting, busy) from one that refuses
//! what was asked: the first is waited out, the second is a fault.

use crate::StoreError;

impl StoreError {
    /// Whether the database is away (down, restarting, unreachable, busy) rather
    /// than refusing what was asked: worth waiting for and trying again.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Sql(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // PostgreSQL: connection exceptions (08), operator intervention
                // such as a shutdown (57); SQLite: busy (5) and locked (6).
                code.starts_with("08") || code.starts_with("57") || code == "5" || code == "6"
            }
            _ => false,
        }
    }
}
