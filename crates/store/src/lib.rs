//! Implementations of [`gatehouse_core::Store`]. SQLite is the embedded default; a database URL
//! picks the backend.

mod sqlite;

use std::path::Path;
use std::sync::Arc;

use gatehouse_core::Store;

pub use sqlite::SqliteStore;

/// Opens the store a URL names (`sqlite:PATH`, `sqlite::memory:`), creating and migrating it.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(url)
            .await
            .map_err(|e| format!("cannot open {url}: {e}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(
            "PostgreSQL storage is not available in this version of Gatehouse yet; \
                    use a sqlite: URL or --data-dir"
                .into(),
        );
    }
    Err(format!(
        "unsupported database URL {url:?}: expected sqlite:PATH"
    ))
}

/// The URL of the embedded database inside a data directory.
pub fn sqlite_url_for_dir(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("gatehouse.db").display())
}
