//! Pools and app clients: read by every request, changed rarely. This process keeps them, and
//! drops an entry the moment it changes the record itself. How long an entry may be served
//! depends on what this process knows of other processes' changes:
//!
//! - an entry read from the store less than [`RECORD_TTL`] ago is served: a change made by
//!   another process is seen within it (under the 1 s that docs/deploy.md promises), which is
//!   all there is on embedded SQLite;
//! - past that, an entry is served only while the change feed (PostgreSQL LISTEN/NOTIFY,
//!   followed by `Core::follow_record_changes` in `maintenance.rs`) has vouched, less than
//!   [`MAX_UNVOUCHED`] ago, that every change committed until then was delivered: each change
//!   drops its entry as it arrives, so what is left is current as of that moment. A feed cut
//!   off without noticing (a frozen connection) stops vouching, and entries fall back to the
//!   TTL within [`MAX_UNVOUCHED`].
//!
//! Misses are not cached, so a new pool or client is usable at once everywhere. Nothing that
//! revokes (sessions, users, devices) is cached.
//!
//! The risk configuration a sign-in through a client is judged by (risk.rs) is kept with its
//! pool: its write announces the pool's change, and dropping the pool drops it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use gatehouse_wire::RiskConfigurationType;

use crate::store::{AppClientRecord, UserPoolRecord};
use crate::Core;

tokio::task_local! {
    /// Set around an admin operation: its reads of pools and clients go to the store.
    static READ_THROUGH: ();
}

/// Runs `f` with every pool and app-client read going to the store, not the cache: admin
/// operations (rare, and expected to see every committed change, whichever process made it).
pub async fn reading_through<F: std::future::Future>(f: F) -> F::Output {
    READ_THROUGH.scope((), f).await
}

fn reads_through() -> bool {
    READ_THROUGH.try_with(|_| ()).is_ok()
}

/// How long a pool or client write waits for its own change notification to come back through
/// this process's feed (then every process's feed has been sent it): at most this.
const ECHO_WAIT: Duration = Duration::from_millis(100);

/// How stale another process's pool or client change can look here without a change feed.
pub(crate) const RECORD_TTL: Duration = Duration::from_millis(800);
/// How old the feed's last word may be for entries older than [`RECORD_TTL`] to be served: the
/// staleness bound while the feed is healthy (it vouches every 200 ms) and the longest a silently
/// cut feed can keep an entry past a change.
const MAX_UNVOUCHED: Duration = Duration::from_millis(700);
/// Entries kept at most (per kind); past that the map starts over.
const MAX_ENTRIES: usize = 10_000;

struct Map<T>(RwLock<HashMap<String, (Instant, T)>>);

impl<T: Clone> Map<T> {
    fn get(&self, key: &str, ttl: Duration) -> Option<T> {
        let map = self.0.read().expect("record cache");
        map.get(key)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: &str, value: T) {
        let mut map = self.0.write().expect("record cache");
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key.to_string(), (Instant::now(), value));
    }

    fn forget(&self, key: &str) {
        self.0.write().expect("record cache").remove(key);
    }

    fn retain(&self, keep: impl Fn(&T) -> bool) {
        self.0
            .write()
            .expect("record cache")
            .retain(|_, (_, v)| keep(v));
    }

    fn clear(&self) {
        self.0.write().expect("record cache").clear();
    }
}

impl<T> Default for Map<T> {
    fn default() -> Self {
        Map(RwLock::default())
    }
}

/// A point in the cache's history, taken before a store read: the record read may only be
/// cached if nothing was dropped since, or a change heard while the read was in flight would
/// be overwritten by the older record.
#[derive(Clone, Copy)]
pub(crate) struct Generation(u64);

pub(crate) struct RecordCache {
    pools: Map<UserPoolRecord>,
    clients: Map<AppClientRecord>,
    /// By `pool_id/client_id`: the pool's id, and the configuration (None: there is none).
    risk: Map<(String, Option<RiskConfigurationType>)>,
    /// Bumped by every drop; see [`Generation`].
    generation: AtomicU64,
    /// When the feed last vouched, in ms after `epoch` (0: not since it was last live).
    vouched_ms: AtomicU64,
    epoch: Instant,
    /// The last change heard from the feed (`pool:ID` / `client:ID`) and how many were heard
    /// until then, for writers waiting for their own.
    heard: tokio::sync::watch::Sender<(u64, String)>,
}

impl Default for RecordCache {
    fn default() -> Self {
        RecordCache {
            pools: Map::default(),
            clients: Map::default(),
            risk: Map::default(),
            generation: AtomicU64::new(0),
            vouched_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            heard: tokio::sync::watch::Sender::new((0, String::new())),
        }
    }
}

impl RecordCache {
    /// Whether the feed vouched recently enough for entries past the TTL to be served.
    fn vouched(&self) -> bool {
        let at = self.vouched_ms.load(Ordering::Acquire);
        at > 0 && (self.epoch.elapsed().as_millis() as u64) < at + MAX_UNVOUCHED.as_millis() as u64
    }

    fn ttl(&self) -> Duration {
        if self.vouched() {
            Duration::MAX
        } else {
            RECORD_TTL
        }
    }

    pub(crate) fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    fn unchanged_since(&self, seen: Generation) -> bool {
        self.generation.load(Ordering::Acquire) == seen.0
    }

    fn dropped(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A fresh entry of `map`, unless this operation reads through.
    fn fresh<T: Clone>(&self, map: &Map<T>, id: &str) -> Option<T> {
        (!reads_through())
            .then(|| map.get(id, self.ttl()))
            .flatten()
    }

    /// Keeps what was read at `read_at`, unless something was dropped since (it may be older
    /// than the drop).
    fn keep<T: Clone>(&self, map: &Map<T>, id: &str, rec: &T, read_at: Generation) {
        if self.unchanged_since(read_at) {
            map.put(id, rec.clone());
        }
    }

    pub(crate) fn pool(&self, id: &str) -> Option<UserPoolRecord> {
        self.fresh(&self.pools, id)
    }

    pub(crate) fn put_pool(&self, rec: &UserPoolRecord, read_at: Generation) {
        self.keep(&self.pools, &rec.id, rec, read_at);
    }

    /// Drops the pool and, since a deleted pool takes its clients with it, its clients.
    pub(crate) fn forget_pool(&self, id: &str) {
        self.dropped();
        self.pools.forget(id);
        self.clients.retain(|c| c.pool_id != id);
        self.risk.retain(|(pool_id, _)| pool_id != id);
    }

    /// The risk configuration that judges sign-ins of `pool_id` through `client_id`.
    pub(crate) fn risk(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Option<Option<RiskConfigurationType>> {
        self.fresh(&self.risk, &format!("{pool_id}/{client_id}"))
            .map(|(_, c)| c)
    }

    pub(crate) fn put_risk(
        &self,
        pool_id: &str,
        client_id: &str,
        config: &Option<RiskConfigurationType>,
        read_at: Generation,
    ) {
        let entry = (pool_id.to_string(), config.clone());
        self.keep(
            &self.risk,
            &format!("{pool_id}/{client_id}"),
            &entry,
            read_at,
        );
    }

    pub(crate) fn client(&self, id: &str) -> Option<AppClientRecord> {
        self.fresh(&self.clients, id)
    }

    pub(crate) fn put_client(&self, rec: &AppClientRecord, read_at: Generation) {
        self.keep(&self.clients, &rec.client_id, rec, read_at);
    }

    pub(crate) fn forget_client(&self, id: &str) {
        self.dropped();
        self.clients.forget(id);
    }

    pub(crate) fn clear(&self) {
        self.dropped();
        self.pools.clear();
        self.clients.clear();
        self.risk.clear();
    }

    /// The feed delivered the change of `key` (`pool:ID` / `client:ID`).
    pub(crate) fn feed_heard(&self, key: String) {
        self.heard.send_modify(|(count, last)| {
            *count += 1;
            *last = key;
        });
    }

    /// To call before writing the record `key`; then [`Echo::heard`] after the write.
    pub(crate) fn echo_of(&self, key: String) -> Echo {
        // Changes heard before the write are not its echo, even of the same record.
        let rx = self.vouched().then(|| self.heard.subscribe());
        let before = rx.as_ref().map_or(0, |rx| rx.borrow().0);
        Echo { key, before, rx }
    }

    /// The feed (re)connected: entries cached while it was down may predate a change it never
    /// delivered. (Reads begun before this cannot put theirs back, see `Generation`.)
    pub(crate) fn feed_live(&self) {
        self.clear();
    }

    /// The feed vouched for every change committed before `at`.
    pub(crate) fn feed_vouched(&self, at: Instant) {
        // 1 rather than 0 for an instant at the epoch: 0 means "not vouched".
        let ms = at.saturating_duration_since(self.epoch).as_millis().max(1) as u64;
        self.vouched_ms.fetch_max(ms, Ordering::AcqRel);
    }

    /// The feed lost its connection: nothing is vouched for until it is back and says so.
    pub(crate) fn feed_lost(&self) {
        self.vouched_ms.store(0, Ordering::Release);
        self.clear();
    }
}

impl Core {
    /// Whether this process hears of other processes' pool and app-client changes as they
    /// commit (see `Core::follow_record_changes`).
    pub fn record_feed_live(&self) -> bool {
        self.records.vouched()
    }
}

/// A writer's wait for its own change to come back through the feed. Other processes hear of
/// a change from PostgreSQL when this one does, so answering after the echo (rather than at the
/// commit) lets a client's very next request, sent to any process, find the change there:
/// not a guarantee (each process applies it when its feed task runs), but it closes the window
/// a round-robin client would otherwise race through. Without a live feed there is nothing to
/// wait for.
pub(crate) struct Echo {
    key: String,
    before: u64,
    rx: Option<tokio::sync::watch::Receiver<(u64, String)>>,
}

impl Echo {
    pub(crate) async fn heard(self) {
        let Some(mut rx) = self.rx else {
            return;
        };
        let (before, key) = (self.before, self.key);
        let echo = rx.wait_for(|(count, last)| *count > before && *last == key);
        let _ = tokio::time::timeout(ECHO_WAIT, echo).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_waits_for_its_own_echo_not_an_earlier_change_of_the_same_record() {
        let cache = RecordCache::default();
        cache.feed_vouched(Instant::now());
        // The same pool's previous change is the last one heard.
        cache.feed_heard("pool:p".into());

        let echo = cache.echo_of("pool:p".into());
        let started = Instant::now();
        let waiting = tokio::spawn(echo.heard());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "answered before its own echo");
        cache.feed_heard("pool:p".into());
        waiting.await.unwrap();
        assert!(started.elapsed() < ECHO_WAIT, "{:?}", started.elapsed());

        // No echo ever: the write answers after ECHO_WAIT.
        let started = Instant::now();
        cache.echo_of("client:c".into()).heard().await;
        assert!(started.elapsed() >= ECHO_WAIT);
    }

    #[test]
    fn a_pools_risk_configurations_go_with_the_pool() {
        let cache = RecordCache::default();
        let config = Some(RiskConfigurationType {
            user_pool_id: Some("p".into()),
            ..Default::default()
        });
        let read_at = cache.generation();
        cache.put_risk("p", "c1", &config, read_at);
        cache.put_risk("p", "c2", &None, read_at);
        cache.put_risk("q", "c3", &None, read_at);
        assert_eq!(cache.risk("p", "c1"), Some(config.clone()));
        // "None" (no configuration) is an answer too, not a miss.
        assert_eq!(cache.risk("p", "c2"), Some(None));
        cache.forget_pool("p");
        assert_eq!(cache.risk("p", "c1"), None);
        assert_eq!(cache.risk("p", "c2"), None);
        assert_eq!(cache.risk("q", "c3"), Some(None));
        // A read begun before the drop cannot put back what it read.
        cache.put_risk("p", "c1", &config, read_at);
        assert_eq!(cache.risk("p", "c1"), None);
    }

    #[tokio::test]
    async fn without_a_vouching_feed_a_write_does_not_wait() {
        let cache = RecordCache::default();
        let started = Instant::now();
        cache.echo_of("pool:p".into()).heard().await;
        assert!(started.elapsed() < Duration::from_millis(10));
    }
}
