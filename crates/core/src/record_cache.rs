//! Pools and app clients: read by every request, changed rarely. This process keeps them, and
//! drops an entry the moment it changes the record itself. How long an entry may be served
//! depends on whether this process hears of other processes' changes:
//!
//! - with a live change feed (PostgreSQL LISTEN/NOTIFY, followed by
//!   `Core::follow_record_changes` in `maintenance.rs`),
//!   each change is dropped here as soon as it commits, and entries live for [`LIVE_TTL`], a
//!   backstop only;
//! - without one (embedded SQLite, or while the feed reconnects), entries live for
//!   [`RECORD_TTL`], so a change made by another process is seen within it (under the 1 s that
//!   docs/deploy.md promises).
//!
//! Misses are not cached, so a new pool or client is usable at once everywhere. Nothing that
//! revokes (sessions, users, devices) is cached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::store::{AppClientRecord, UserPoolRecord};
use crate::Core;

/// How stale another process's pool or client change can look here without a change feed.
pub(crate) const RECORD_TTL: Duration = Duration::from_millis(800);
/// How long an entry is served while the change feed is live: changes arrive through the feed,
/// this only bounds the damage of one it failed to deliver.
const LIVE_TTL: Duration = Duration::from_secs(30);
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

#[derive(Default)]
pub(crate) struct RecordCache {
    pools: Map<UserPoolRecord>,
    clients: Map<AppClientRecord>,
    /// Bumped by every drop; see [`Generation`].
    generation: AtomicU64,
    /// Whether the change feed is connected (entries then live for [`LIVE_TTL`]).
    live: AtomicBool,
}

impl RecordCache {
    fn ttl(&self) -> Duration {
        if self.live.load(Ordering::Acquire) {
            LIVE_TTL
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

    pub(crate) fn pool(&self, id: &str) -> Option<UserPoolRecord> {
        self.pools.get(id, self.ttl())
    }

    pub(crate) fn put_pool(&self, rec: &UserPoolRecord, read_at: Generation) {
        if self.unchanged_since(read_at) {
            self.pools.put(&rec.id, rec.clone());
        }
    }

    /// Drops the pool and, since a deleted pool takes its clients with it, its clients.
    pub(crate) fn forget_pool(&self, id: &str) {
        self.dropped();
        self.pools.forget(id);
        self.clients.retain(|c| c.pool_id != id);
    }

    pub(crate) fn client(&self, id: &str) -> Option<AppClientRecord> {
        self.clients.get(id, self.ttl())
    }

    pub(crate) fn put_client(&self, rec: &AppClientRecord, read_at: Generation) {
        if self.unchanged_since(read_at) {
            self.clients.put(&rec.client_id, rec.clone());
        }
    }

    pub(crate) fn forget_client(&self, id: &str) {
        self.dropped();
        self.clients.forget(id);
    }

    pub(crate) fn clear(&self) {
        self.dropped();
        self.pools.clear();
        self.clients.clear();
    }

    pub(crate) fn set_live(&self, live: bool) {
        // Entries cached while the feed was down may predate a change it never delivered:
        // they are dropped before the longer TTL applies (and reads begun before the drop
        // cannot put theirs back, see `Generation`).
        if live {
            self.clear();
            self.live.store(true, Ordering::Release);
        } else {
            self.live.store(false, Ordering::Release);
            self.clear();
        }
    }
}

impl Core {
    /// Whether this process hears of other processes' pool and app-client changes as they
    /// commit (see `Core::follow_record_changes`).
    pub fn record_feed_live(&self) -> bool {
        self.records.live.load(Ordering::Acquire)
    }
}
