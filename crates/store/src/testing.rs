//! Helpers for tests that need a database of their own.

use sqlx::Connection;

/// Drops and creates database `name` through the `admin` URL; returns its URL.
pub async fn fresh_postgres_database(admin: &str, name: &str) -> Result<String, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

/// The local test server's admin URL (trust auth on 127.0.0.1:5432).
pub const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh database `lf_{tag}_{pid}` on the local test server; panics saying
/// PostgreSQL is not running (and what starts it) when nothing listens there.
pub async fn local_postgres_database(tag: &str) -> String {
    if std::net::TcpStream::connect("127.0.0.1:5432").is_err() {
        panic!("PostgreSQL is not running on 127.0.0.1:5432 (bash scripts/test.sh starts it)");
    }
    let name = format!("lf_{tag}_{}", std::process::id());
    fresh_postgres_database(LOCAL_POSTGRES, &name)
        .await
        .unwrap_or_else(|e| panic!("a fresh PostgreSQL database {name}: {e}"))
}

/// A writing transaction of `store` (fenced) left open right after its fence
/// check, as a process paused mid-commit leaves it: the lease row stays
/// share-locked until the transaction ends. Dropping it ends it.
pub async fn paused_mid_commit(
    store: &crate::Store,
) -> crate::Result<sqlx::Transaction<'static, sqlx::Any>> {
    let mut tx = store.pool.begin().await?;
    store.check_fence(&mut tx).await?;
    Ok(tx)
}
