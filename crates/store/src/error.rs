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
    /// A stored row does not read back as what was written.
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
}

/// The store's result.
pub type Result<T> = std::result::Result<T, StoreError>;
