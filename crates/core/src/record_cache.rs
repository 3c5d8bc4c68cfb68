//! Pools and app clients: read by every request, changed rarely. This process keeps them for
//! [`RECORD_TTL`] and drops an entry the moment it changes the record itself; a change made by
//! another server process on the same database is seen within the TTL (under the 1 s that
//! docs/deploy.md promises), at the cost of one read per record and process every TTL. Misses
//! are not cached, so a new pool or client is usable at once everywhere. Nothing that revokes
//! (sessions, users, devices) is cached.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::store::{AppClientRecord, UserPoolRecord};

/// How stale another process's pool or client change can look here.
pub(crate) const RECORD_TTL: Duration = Duration::from_millis(800);
/// Entries kept at most (per kind); past that the map starts over.
const MAX_ENTRIES: usize = 10_000;

struct Map<T>(RwLock<HashMap<String, (Instant, T)>>);

impl<T: Clone> Map<T> {
    fn get(&self, key: &str) -> Option<T> {
        let map = self.0.read().expect("record cache");
        map.get(key)
            .filter(|(at, _)| at.elapsed() < RECORD_TTL)
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

    fn clear(&self) {
        self.0.write().expect("record cache").clear();
    }
}

impl<T> Default for Map<T> {
    fn default() -> Self {
        Map(RwLock::default())
    }
}

#[derive(Default)]
pub(crate) struct RecordCache {
    pools: Map<UserPoolRecord>,
    clients: Map<AppClientRecord>,
}

impl RecordCache {
    pub(crate) fn pool(&self, id: &str) -> Option<UserPoolRecord> {
        self.pools.get(id)
    }

    pub(crate) fn put_pool(&self, rec: &UserPoolRecord) {
        self.pools.put(&rec.id, rec.clone());
    }

    pub(crate) fn forget_pool(&self, id: &str) {
        self.pools.forget(id);
    }

    pub(crate) fn client(&self, id: &str) -> Option<AppClientRecord> {
        self.clients.get(id)
    }

    pub(crate) fn put_client(&self, rec: &AppClientRecord) {
        self.clients.put(&rec.client_id, rec.clone());
    }

    pub(crate) fn forget_client(&self, id: &str) {
        self.clients.forget(id);
    }

    pub(crate) fn clear(&self) {
        self.pools.clear();
        self.clients.clear();
    }
}
