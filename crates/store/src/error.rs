//! Why the store could not do what was asked, and the store's result type.

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened.
    #[error("database `{url}`: {source}")]
    Open {
        /// The database URL, as given.
        url: String,
        /// What sqlx said.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// This process no longer owns the partition it writes for: another took it
    /// over (a newer epoch). Nothing was written; the process must stop acting.
    #[error(
        "partition `{partition}`: fenced, epoch {held} is no longer current (now {current}); this process lost ownership"
    )]
    Fenced {
        /// The partition.
        partition: String,
        /// The epoch this process held.
        held: i64,
        /// The epoch in the database (0: no lease row).
        current: i64,
    },
    /// A stored row does not read back as what was written.
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
}

/// The store's result.
pub type Result<T> = std::result::Result<T, StoreError>;
