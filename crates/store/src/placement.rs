//! Where a partition's tables live. A single-district service keeps them where
//! the database URL points (its default schema, or its SQLite file). A city
//! served one medical group per partition keeps each group's journal, custody,
//! outbox and lease apart on one shared database: one PostgreSQL schema per
//! partition (`lf_` and the partition's name), or one SQLite file beside the
//! named one. `labflight cluster status` reads every partition's schema.

use crate::{Result, Store};
use sqlx::{Connection, Row};

/// The prefix of every partition's PostgreSQL schema.
const SCHEMA_PREFIX: &str = "lf_";

/// The PostgreSQL schema of `partition`'s tables: `lf_` and its name in lower
/// case, any character but a letter or digit as `_`.
pub fn partition_schema(partition: &str) -> String {
    let name: String = partition
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{SCHEMA_PREFIX}{name}")
}

/// `url` with a SQLite file of its own for `partition`: `…/labflight.db`
/// becomes `…/labflight.LH-PH.db` (query kept).
fn sqlite_partition_url(url: &str, partition: &str) -> String {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let slash = path.rfind('/').map_or(0, |i| i + 1);
    let file = &path[slash..];
    let named = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{partition}.{ext}"),
        _ => format!("{file}.{partition}"),
    };
    let mut out = format!("{}{named}", &path[..slash]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Creates `schema` if it is missing (two processes may race to: the loser's
/// error is harmless when the schema is there after all).
pub(crate) async fn create_schema(url: &str, schema: &str) -> std::result::Result<(), sqlx::Error> {
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .execute(&mut conn)
        .await;
    if let Err(e) = created {
        let exists = sqlx::query(
            "SELECT 1 FROM information_schema.schemata WHERE CAST(schema_name AS TEXT) = $1",
        )
        .bind(schema)
        .fetch_optional(&mut conn)
        .await?
        .is_some();
        if !exists {
            return Err(e);
        }
    }
    conn.close().await
}

impl Store {
    /// The store of one partition of a city (`None`: the single-district place,
    /// as [`Store::open`]).
    pub async fn open_partition(url: &str, partition: Option<&str>) -> Result<Store> {
        match partition {
            None => Store::open(url).await,
            Some(p) if url.starts_with("sqlite:") => {
                Store::open(&sqlite_partition_url(url, p)).await
            }
            Some(p) => Store::open_in(url, Some(partition_schema(p))).await,
        }
    }

    /// Every partition's store on this PostgreSQL database (the schemas with a
    /// lease table), by schema; none on SQLite (one file per partition).
    pub async fn partition_stores(&self, url: &str) -> Result<Vec<(String, Store)>> {
        if self.backend() == crate::Backend::Sqlite {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT CAST(table_schema AS TEXT) FROM information_schema.tables \
             WHERE table_name = 'partition_leases' AND table_schema LIKE 'lf\\_%' \
             ORDER BY table_schema",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let schema: String = r.try_get(0)?;
            let store = Store::open_in(url, Some(schema.clone())).await?;
            out.push((schema, store));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_become_schemas_and_files() {
        assert_eq!(partition_schema("LH-PH"), "lf_lh_ph");
        assert_eq!(partition_schema("BA.TCM"), "lf_ba_tcm");
        assert_eq!(
            sqlite_partition_url("sqlite://runs/labflight.db", "LH-PH"),
            "sqlite://runs/labflight.LH-PH.db"
        );
        assert_eq!(
            sqlite_partition_url("sqlite:///tmp/x/svc.db?mode=rwc", "YT-PH"),
            "sqlite:///tmp/x/svc.YT-PH.db?mode=rwc"
        );
        assert_eq!(
            sqlite_partition_url("sqlite://labflight", "G"),
            "sqlite://labflight.G"
        );
    }
}
