//! `gatehouse migrate-store`: every record of an embedded SQLite store copied into PostgreSQL.
//!
//! Both schemas have the same tables and columns (PostgreSQL's mirrors SQLite's; see
//! `migrations/postgres`), so the copy is table by table, row by row, with no knowledge of what a
//! record means: sealed secrets, code hashes and refresh-token hashes arrive as they were, and
//! work on the other side as long as its processes use the same server key. The whole copy is
//! one PostgreSQL transaction: interrupted, it leaves the target as it was, and rerunning it
//! starts again.

use sqlx::postgres::PgArguments;
use sqlx::sqlite::SqliteRow;
use sqlx::{Arguments, Row, ValueRef};

use crate::{redact_url, OpenOptions, PgStore, SqliteStore};

/// Every table, parents before children (the foreign keys). A table missing here is an error
/// (see [`check_tables`]), so a new migration cannot be forgotten silently.
const TABLES: &[&str] = &[
    "deployment",
    "user_pools",
    "app_clients",
    "signing_keys",
    "users",
    "user_aliases",
    "codes",
    "groups",
    "group_members",
    "user_pool_domains",
    "resource_servers",
    "risk_configurations",
    "auth_sessions",
    "spent_auth_states",
    "devices",
    "pending_sign_ins",
    "passkeys",
    "passkey_registrations",
    "authorization_codes",
    "auth_events",
    "user_import_jobs",
    "user_import_files",
    "identity_providers",
    "identity_provider_identifiers",
    "log_delivery_configurations",
    "terms",
    "ui_customizations",
    "managed_login_brandings",
    "outbox",
];

/// Rows per INSERT (PostgreSQL takes at most 65,535 bound values per statement).
const BATCH: usize = 200;

/// What the copy tells its caller as it goes.
pub enum CopyEvent<'a> {
    /// A table is about to be copied: `rows` in the source.
    Table { name: &'a str, rows: u64 },
    /// `copied` rows of the current table so far.
    Rows { copied: u64 },
}

/// Rows per table, copied and found in the target afterwards (equal, or the copy fails).
pub struct CopyReport {
    pub tables: Vec<(String, u64)>,
}

/// One PostgreSQL column: its name and how a SQLite value is bound for it.
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
    Bytes,
    Bool,
}

/// Copies every record of the SQLite store at `from` into the PostgreSQL store at `to`
/// (migrating both first). A target holding any record is refused unless `force`: then its
/// records are deleted first, in the same transaction.
pub async fn copy_sqlite_to_postgres(
    from: &str,
    to: &str,
    force: bool,
    progress: &mut dyn FnMut(CopyEvent<'_>),
) -> Result<CopyReport, String> {
    if !from.starts_with("sqlite:") {
        return Err(format!(
            "--from must be a sqlite: URL, got {}",
            redact_url(from)
        ));
    }
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        return Err(format!(
            "--to must be a postgres:// URL, got {}",
            redact_url(to)
        ));
    }
    let source = SqliteStore::open(from).await.map_err(|e| {
        format!(
            "cannot open {}: {}",
            redact_url(from),
            crate::describe_error(&e)
        )
    })?;
    let options = OpenOptions {
        max_connections: 2,
        // One statement per batch of rows; a slow disk must not fail a long copy.
        statement_timeout: std::time::Duration::from_secs(300),
    };
    let target = PgStore::open(to, &options)
        .await
        .map_err(|e| format!("cannot open {}: {e}", redact_url(to)))?;
    let (src, dst) = (source.pool(), target.pool());
    check_tables(src).await?;

    let sql_err = |e: sqlx::Error| e.to_string();
    let mut tx = dst.begin().await.map_err(sql_err)?;
    let mut occupied = Vec::new();
    for table in TABLES {
        if count(&mut *tx, table).await? > 0 {
            occupied.push(*table);
        }
    }
    if !occupied.is_empty() {
        if !force {
            return Err(format!(
                "the target database is not empty (records in {}): use --force to replace them",
                occupied.join(", ")
            ));
        }
        for table in TABLES.iter().rev() {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(sql_err)?;
        }
    }

    let mut report = CopyReport { tables: Vec::new() };
    for table in TABLES {
        let columns = pg_columns(&mut tx, table).await?;
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(src)
            .await
            .map_err(sql_err)?;
        progress(CopyEvent::Table {
            name: table,
            rows: rows as u64,
        });
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let mut theirs: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(src)
                .await
                .map_err(sql_err)?;
        let mut ours: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        theirs.sort();
        ours.sort();
        if theirs != ours {
            return Err(format!(
                "{table}: SQLite has columns {theirs:?}, PostgreSQL {ours:?}; nothing was committed"
            ));
        }
        let select = format!(
            "SELECT rowid AS copy_rowid, {} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT {BATCH}",
            names.join(", ")
        );
        let identity = identity_column(&mut tx, table).await?;
        let mut after = 0i64;
        let mut copied = 0u64;
        loop {
            let batch: Vec<SqliteRow> = sqlx::query(&select)
                .bind(after)
                .fetch_all(src)
                .await
                .map_err(sql_err)?;
            let Some(last) = batch.last() else { break };
            after = last.get("copy_rowid");
            insert_batch(&mut tx, table, &columns, identity.is_some(), &batch).await?;
            copied += batch.len() as u64;
            progress(CopyEvent::Rows { copied });
        }
        if let Some(column) = identity {
            // Rows inserted later must not collide with the copied numbers.
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            ))
            .execute(&mut *tx)
            .await
            .map_err(sql_err)?;
        }
        let landed = count(&mut *tx, table).await?;
        if landed != rows as u64 || copied != rows as u64 {
            return Err(format!(
                "{table}: {rows} rows in the source, {copied} copied, {landed} in the target; nothing was committed"
            ));
        }
        report.tables.push((table.to_string(), landed));
    }
    tx.commit().await.map_err(sql_err)?;

    // Checked again from outside the transaction: what a server will see.
    for (table, rows) in &report.tables {
        let found = count(dst, table).await?;
        if found != *rows {
            return Err(format!(
                "{table}: {rows} rows copied but {found} found after the commit"
            ));
        }
    }
    Ok(report)
}

/// The source's tables are exactly [`TABLES`] (beside SQLite's and sqlx's own).
async fn check_tables(src: &sqlx::SqlitePool) -> Result<(), String> {
    let mut found: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(src)
    .await
    .map_err(|e| e.to_string())?;
    found.sort();
    let mut known: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
    known.sort();
    if found != known {
        return Err(format!(
            "the SQLite store's tables {found:?} are not the ones this copy knows {known:?}"
        ));
    }
    Ok(())
}

async fn count<'e, E>(db: E, table: &str) -> Result<u64, String>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db)
        .await
        .map_err(|e| e.to_string())?;
    Ok(n as u64)
}

async fn pg_columns(tx: &mut sqlx::PgConnection, table: &str) -> Result<Vec<Column>, String> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    rows.into_iter()
        .map(|(name, data_type)| {
            let kind = match data_type.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Int,
                "text" | "character varying" => Kind::Text,
                "bytea" => Kind::Bytes,
                "boolean" => Kind::Bool,
                other => {
                    return Err(format!(
                        "{table}.{name}: column type {other} has no copy rule"
                    ))
                }
            };
            Ok(Column { name, kind })
        })
        .collect()
}

/// The table's `GENERATED ALWAYS AS IDENTITY` column, if any (the outbox's sequence number).
async fn identity_column(
    tx: &mut sqlx::PgConnection,
    table: &str,
) -> Result<Option<String>, String> {
    sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'",
    )
    .bind(table)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| e.to_string())
}

async fn insert_batch(
    tx: &mut sqlx::PgConnection,
    table: &str,
    columns: &[Column],
    overriding: bool,
    batch: &[SqliteRow],
) -> Result<(), String> {
    let mut args = PgArguments::default();
    let mut tuples = Vec::with_capacity(batch.len());
    let mut n = 0;
    for row in batch {
        let mut slots = Vec::with_capacity(columns.len());
        for c in columns {
            bind(&mut args, row, c).map_err(|e| format!("{table}.{}: {e}", c.name))?;
            n += 1;
            slots.push(format!("${n}"));
        }
        tuples.push(format!("({})", slots.join(", ")));
    }
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) {} VALUES {}",
        names.join(", "),
        if overriding {
            "OVERRIDING SYSTEM VALUE"
        } else {
            ""
        },
        tuples.join(", ")
    );
    sqlx::query_with(&sql, args)
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("{table}: {e}"))?;
    Ok(())
}

/// Binds the SQLite value of `c` as the PostgreSQL column's type (NULL stays NULL).
fn bind(args: &mut PgArguments, row: &SqliteRow, c: &Column) -> Result<(), String> {
    let raw = row
        .try_get_raw(c.name.as_str())
        .map_err(|e| e.to_string())?;
    let null = raw.is_null();
    let e = |e: sqlx::Error| e.to_string();
    let added = match c.kind {
        Kind::Int => {
            let v: Option<i64> = if null {
                None
            } else {
                Some(row.try_get(c.name.as_str()).map_err(e)?)
            };
            args.add(v)
        }
        Kind::Text => {
            let v: Option<String> = if null {
                None
            } else {
                Some(row.try_get(c.name.as_str()).map_err(e)?)
            };
            args.add(v)
        }
        Kind::Bytes => {
            let v: Option<Vec<u8>> = if null {
                None
            } else {
                Some(row.try_get(c.name.as_str()).map_err(e)?)
            };
            args.add(v)
        }
        Kind::Bool => {
            let v: Option<bool> = if null {
                None
            } else {
                Some(row.try_get(c.name.as_str()).map_err(e)?)
            };
            args.add(v)
        }
    };
    added.map_err(|e| e.to_string())
}
