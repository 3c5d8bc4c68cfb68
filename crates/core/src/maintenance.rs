//! What a server process does besides answering requests, started where the server starts
//! (`gatehouse serve`, in `crates/cli/src/main.rs`): every minute, prune the sign-in state,
//! outbox messages and sign-in events that expired; every few seconds, resume user imports
//! left by a dead process; all the time, follow other processes' pool and app-client
//! changes so that this process's cache of them stays current.

use std::time::Duration;

use crate::record_cache;
use crate::store::{FeedEvent, RecordChange};
use crate::Core;

/// How often expired sessions, spent sign-in states and old outbox messages are deleted.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// How often import runs left by a dead process are looked for (their lease lasts 30 s).
pub const TEND_IMPORTS_EVERY: Duration = Duration::from_secs(5);

impl Core {
    /// Prunes every [`PRUNE_EVERY`], so the store stays the size of the live sign-ins however
    /// many logins pass, for as long as the process runs.
    pub async fn prune_periodically(&self) {
        let mut tick = tokio::time::interval(PRUNE_EVERY);
        loop {
            tick.tick().await;
            match self.prune_auth_state().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "pruned expired sign-in state"),
                Err(e) => tracing::warn!(error = %e, "pruning sign-in state failed"),
            }
            match self.prune_outbox().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "pruned outbox messages past retention"),
                Err(e) => tracing::warn!(error = %e, "pruning the outbox failed"),
            }
            match self.prune_auth_events().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(rows = n, "pruned sign-in events past retention"),
                Err(e) => tracing::warn!(error = %e, "pruning sign-in events failed"),
            }
        }
    }

    /// Every [`TEND_IMPORTS_EVERY`], resumes user import runs whose process died and expires
    /// import jobs never started (user_import/runner.rs).
    pub async fn tend_imports_periodically(&self) {
        let mut tick = tokio::time::interval(TEND_IMPORTS_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = self.tend_import_jobs().await {
                tracing::warn!(error = %e, "tending user import jobs failed");
            }
        }
    }

    /// Follows the store's feed of pool and app-client changes for as long as the process
    /// runs, dropping each changed record from this process's cache as soon as it commits
    /// anywhere. Returns at once when the store has no feed (one process: its own writes
    /// already drop what they change).
    pub async fn follow_record_changes(&self) {
        let Some(mut feed) = self.store.record_feed() else {
            return;
        };
        loop {
            match feed.next().await {
                FeedEvent::Live => {
                    tracing::info!("following pool and app-client changes of other processes");
                    self.records.feed_live();
                }
                FeedEvent::Vouched(at) => self.records.feed_vouched(at),
                FeedEvent::Lost => {
                    tracing::warn!(
                        "the change feed is down: pools and app clients are cached for {} ms \
                         until it is back",
                        record_cache::RECORD_TTL.as_millis()
                    );
                    self.records.feed_lost();
                }
                FeedEvent::Change(RecordChange::Pool(id)) => {
                    self.records.forget_pool(&id);
                    self.key_cache.forget(&id);
                    self.records.feed_heard(format!("pool:{id}"));
                }
                FeedEvent::Change(RecordChange::Client(id)) => {
                    self.records.forget_client(&id);
                    self.records.feed_heard(format!("client:{id}"));
                }
                FeedEvent::Change(RecordChange::All) => {
                    self.records.clear();
                    self.key_cache.clear();
                }
            }
        }
    }
}
