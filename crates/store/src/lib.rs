//! Implementations of [`gatehouse_core::Store`]. SQLite is the embedded default, PostgreSQL the
//! store several server processes share; a database URL picks the backend.

pub mod copy;
mod postgres;
mod shared;
mod sqlite;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::Store;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// How a store is opened (PostgreSQL only: SQLite's pool is sized for a local file).
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Connections this process keeps to the database at most.
    pub max_connections: u32,
    /// How long one statement may run before the database cancels it; also how long a request
    /// waits for a free connection. A request never hangs on a database in trouble.
    pub statement_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: 10,
            statement_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens the store a URL names with the default options.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, String> {
    open_with(url, &OpenOptions::default()).await
}

/// Opens the store a URL names (`sqlite:PATH`, `sqlite::memory:`, `postgres://…`), creating and
/// migrating it. The error is one line; it names the URL without its password.
pub async fn open_with(url: &str, options: &OpenOptions) -> Result<Arc<dyn Store>, String> {
    Ok(open_for_server(url, options).await?.store)
}

/// An open store, and its connection pool's size and idle connections (for metrics).
pub struct Opened {
    pub store: Arc<dyn Store>,
    pub pool_stats: Arc<dyn Fn() -> (u32, usize) + Send + Sync>,
}

/// [`open_with`], keeping a handle on the pool for the server's gauges.
pub async fn open_for_server(url: &str, options: &OpenOptions) -> Result<Opened, String> {
    if url.starts_with("sqlite:") {
        let store = Arc::new(
            SqliteStore::open(url)
                .await
                .map_err(|e| format!("cannot open {}: {}", redact_url(url), describe_error(&e)))?,
        );
        return Ok(Opened {
            store: store.clone(),
            pool_stats: Arc::new(move || store.pool_stats()),
        });
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = Arc::new(
            PgStore::open(url, options)
                .await
                .map_err(|e| format!("cannot open {}: {e}", redact_url(url)))?,
        );
        return Ok(Opened {
            store: store.clone(),
            pool_stats: Arc::new(move || store.pool_stats()),
        });
    }
    Err(format!(
        "unsupported database URL {:?}: expected sqlite:PATH or postgres://…",
        redact_url(url)
    ))
}

/// An error from opening a store, on one line, migrations' explained.
pub fn describe_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Migrate(m) => describe_migrate_error(m),
        other => other.to_string(),
    }
}

fn describe_migrate_error(e: &sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError;
    match e {
        // A migration recorded in the database that this binary does not have: a newer
        // Gatehouse migrated it. Running on would write records that version does not expect.
        MigrateError::VersionMissing(v) => format!(
            "the database schema is newer than this Gatehouse (migration {v} was applied by a \
             newer version); run that version or a later one"
        ),
        MigrateError::VersionMismatch(v) => format!(
            "migration {v} applied to the database differs from this Gatehouse's; the database \
             was migrated by another build"
        ),
        other => format!("migration failed: {other}"),
    }
}

/// The URL of the embedded database inside a data directory.
pub fn sqlite_url_for_dir(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("gatehouse.db").display())
}

/// `url` fit for a log or an error message: its password (in the authority or a `password`
/// query parameter) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return redact_unparsed(url);
    };
    let mut redacted = false;
    if parsed.password().is_none() && looks_like_userinfo_with_password(url) {
        // Parsed, but not as meant ("u:12/x@host" reads as host "u", port 12): be safe.
        return redact_unparsed(url);
    }
    if parsed.password().is_some() {
        redacted = parsed.set_password(Some("***")).is_ok();
        if !redacted {
            return redact_unparsed(url);
        }
    }
    if parsed.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" { "***".into() } else { v };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
        redacted = true;
    }
    // Untouched URLs are shown as given (the parser would normalise a sqlite: path).
    if redacted {
        parsed.to_string()
    } else {
        url.to_string()
    }
}

/// Whether `user:…@` seems to follow `://`.
fn looks_like_userinfo_with_password(url: &str) -> bool {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => url[s + 3..at].contains(':'),
        _ => false,
    }
}

/// A URL the parser refused may still hold a password: everything between `://` and the last
/// `@` goes, and so does a `password=` parameter.
fn redact_unparsed(url: &str) -> String {
    let mut out = match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_string(),
    };
    if let Some(p) = out.find("password=") {
        let start = p + "password=".len();
        let end = out[start..].find('&').map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            (
                "postgres://u:secret@db.example:5432/gh",
                "postgres://u:***@db.example:5432/gh",
            ),
            (
                "postgresql://u:se%40cret@db/gh?sslmode=require",
                "postgresql://u:***@db/gh?sslmode=require",
            ),
            (
                "postgres://u@db/gh?password=secret&sslmode=verify-full",
                "postgres://u@db/gh?password=***&sslmode=verify-full",
            ),
            ("postgres://u@db/gh", "postgres://u@db/gh"),
            (
                "sqlite:/var/lib/gatehouse/gatehouse.db",
                "sqlite:/var/lib/gatehouse/gatehouse.db",
            ),
            ("sqlite::memory:", "sqlite::memory:"),
            // Not a URL the parser takes (a space in the port): still no password.
            (
                "postgres://u:secret@db: 5432/gh",
                "postgres://***@db: 5432/gh",
            ),
            ("postgres://u:sec/ret@db/gh", "postgres://***@db/gh"),
            ("postgres://u:12/secret@db/gh", "postgres://***@db/gh"),
        ] {
            let got = redact_url(url);
            assert_eq!(got, shown, "{url}");
            assert!(!got.contains("secret") && !got.contains("cret"), "{got}");
        }
    }
}
