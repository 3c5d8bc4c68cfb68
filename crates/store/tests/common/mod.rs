//! What the clock tests share: a clock the test moves, a core (a "server process") on a store
//! and that clock, the usual pool / app client / user set-up, and errors as (code, message).

#![allow(dead_code)] // each test file uses its own part

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use gatehouse_core::server_key::ServerKey;
use gatehouse_core::{Clock, Core, CoreConfig, OsEntropy, Store};
use gatehouse_wire::*;

/// 2027-01-15: far from any boundary the tests care about.
pub const START_MS: i64 = 1_800_000_000_000;
pub const PASSWORD: &str = "Passw0rd!";

pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn at(start_ms: i64) -> Arc<TestClock> {
        Arc::new(TestClock(AtomicI64::new(start_ms)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs the test function `$test(db: TestDb)` on each back end: `$test::sqlite` always,
/// `$test::postgres` on a fresh database when GATEHOUSE_TEST_DATABASE_URL is set (it returns at
/// once, saying so, when it is not). `$attr` is the test attribute, `#[tokio::test]` or another
/// flavour.
macro_rules! on_both {
    ($(#[$attr:meta])* $test:ident) => {
        mod $test {
            $(#[$attr])*
            async fn sqlite() {
                super::$test($crate::common::TestDb::sqlite()).await
            }

            $(#[$attr])*
            async fn postgres() {
                if let Some(db) = $crate::common::TestDb::postgres().await {
                    super::$test(db).await
                }
            }
        }
    };
}
pub(crate) use on_both;

/// The database a test runs on. SQLite: in memory for a test with one store ([`TestDb::store`]),
/// a file in a temporary directory for a test whose "processes" share it ([`TestDb::open`]).
/// PostgreSQL: a database of its own, created for the test and dropped with it.
pub struct TestDb {
    backend: Backend,
    /// Which of `store` and `open` the test used: on SQLite they are different databases.
    used: std::sync::Mutex<Option<&'static str>>,
}

enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

/// Where the PostgreSQL tests create their databases (a URL whose user may CREATE DATABASE).
pub const TEST_DATABASE_URL: &str = "GATEHOUSE_TEST_DATABASE_URL";

impl TestDb {
    pub fn sqlite() -> TestDb {
        TestDb {
            backend: Backend::Sqlite(tempfile::tempdir().unwrap()),
            used: Default::default(),
        }
    }

    /// A fresh PostgreSQL database, or None (with a line saying the test was skipped) when
    /// GATEHOUSE_TEST_DATABASE_URL is not set.
    pub async fn postgres() -> Option<TestDb> {
        let Some(admin_url) = std::env::var(TEST_DATABASE_URL)
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("skipped: {TEST_DATABASE_URL} is not set");
            return None;
        };
        Some(TestDb {
            backend: Backend::Postgres(TestDatabase::create(&admin_url).await),
            used: Default::default(),
        })
    }

    fn using(&self, how: &'static str) {
        let mut used = self.used.lock().unwrap();
        assert!(
            used.is_none_or(|u| u == how),
            "a test uses either TestDb::store or TestDb::open"
        );
        *used = Some(how);
    }

    /// The store of a test with a single server process.
    pub async fn store(&self) -> Arc<dyn Store> {
        self.using("store");
        match &self.backend {
            Backend::Sqlite(_) => gatehouse_store::open("sqlite::memory:").await.unwrap(),
            Backend::Postgres(db) => gatehouse_store::open(&db.url).await.unwrap(),
        }
    }

    /// A store on the test's database for one more server process: every call opens its own
    /// connection pool, as another process would.
    pub async fn open(&self) -> Arc<dyn Store> {
        gatehouse_store::open(&self.url()).await.unwrap()
    }

    /// The URL of the test's database (for SQLite, the file [`TestDb::open`] uses).
    pub fn url(&self) -> String {
        self.using("open");
        match &self.backend {
            Backend::Sqlite(dir) => format!("sqlite:{}", dir.path().join("db.sqlite").display()),
            Backend::Postgres(db) => db.url.clone(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }
}

/// A PostgreSQL database created for one test; dropped (connections and all) when the test
/// ends, passed or failed, so that runs leave nothing behind.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create(admin_url: &str) -> TestDatabase {
        use sqlx::{Connection, Executor};
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        // The process and a counter make the name unique within a run; the random part keeps
        // concurrent runs on one server apart.
        let random = {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now())
        };
        let name = format!(
            "gh_t_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            random as u32
        );
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL}: cannot connect: {e}"));
        // A locale whose order is not the bytes' (ICU en-US: "a" < "B"), so that a key column
        // compared without COLLATE "C" shows; the server's default where ICU is missing.
        let icu = format!(
            "CREATE DATABASE \"{name}\" TEMPLATE template0 \
             LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        );
        if admin.execute(icu.as_str()).await.is_err() {
            admin
                .execute(format!("CREATE DATABASE \"{name}\"").as_str())
                .await
                .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL}: cannot create {name}: {e}"));
        }
        let _ = admin.close().await;
        let mut url = url::Url::parse(admin_url).expect("a postgres:// URL");
        url.set_path(&format!("/{name}"));
        TestDatabase {
            admin_url: admin_url.to_string(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs outside any async context we may block: a thread with its own runtime.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            use sqlx::{Connection, Executor};
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                // FORCE: the test's pools may still hold connections.
                admin
                    .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// A core on `store` and `clock`; every core gets the same server key, as the processes of one
/// deployment do.
pub fn core_on(store: Arc<dyn Store>, clock: Arc<TestClock>) -> Core {
    Core::new(store, clock, Arc::new(OsEntropy), CoreConfig::default())
        .with_server_key(ServerKey::from_bytes(&[7; 32]))
}

/// A core error as the wire shows it.
pub fn err(e: gatehouse_core::CoreError) -> (String, String) {
    let e = ApiError::from(e);
    (e.code.to_string(), e.message)
}

pub async fn create_pool(core: &Core, request: CreateUserPoolRequest) -> String {
    core.create_user_pool(request)
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap()
}

/// An app client of `pool` (no secret) allowing `flows`; `request` gives any other settings.
pub async fn create_client(
    core: &Core,
    pool: &str,
    flows: &[ExplicitAuthFlowsType],
    request: CreateUserPoolClientRequest,
) -> String {
    core.create_user_pool_client(CreateUserPoolClientRequest {
        user_pool_id: pool.to_string(),
        client_name: "app".into(),
        explicit_auth_flows: (!flows.is_empty()).then(|| flows.to_vec()),
        ..request
    })
    .await
    .unwrap()
    .user_pool_client
    .unwrap()
    .client_id
    .unwrap()
}

/// AdminCreateUser (no message) with PASSWORD as the temporary password; with `permanent`,
/// AdminSetUserPassword makes it permanent (the user is CONFIRMED).
pub async fn create_user(core: &Core, pool: &str, name: &str, permanent: bool) {
    core.admin_create_user(AdminCreateUserRequest {
        user_pool_id: pool.to_string(),
        username: name.into(),
        message_action: Some(MessageActionType::Suppress),
        temporary_password: Some(PASSWORD.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    if permanent {
        core.admin_set_user_password(AdminSetUserPasswordRequest {
            user_pool_id: pool.to_string(),
            username: name.into(),
            password: PASSWORD.into(),
            permanent: Some(true),
        })
        .await
        .unwrap();
    }
}
