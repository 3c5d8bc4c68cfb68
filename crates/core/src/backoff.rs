//! Compare-and-swap retries, for every read-modify-write that can lose a race to another writer
//! (users, pools, app clients, codes, the lockout counter): read, change, swap, and on a lost
//! swap go round again after a random pause that grows with each round (at most 32 ms), so that
//! writers that collided spread out instead of colliding again.
//!
//! ```ignore
//! let mut rounds = Rounds::new(self.entropy.as_ref(), ATTEMPTS);
//! while rounds.next().await {
//!     let current = read().await?;
//!     if swap(current, change(current)).await? {
//!         return Ok(..);
//!     }
//! }
//! Err(/* gave up */)
//! ```

use std::time::Duration;

use crate::Entropy;

pub(crate) struct Rounds<'a> {
    entropy: &'a dyn Entropy,
    attempts: u32,
    started: u32,
}

impl<'a> Rounds<'a> {
    pub(crate) fn new(entropy: &'a dyn Entropy, attempts: u32) -> Self {
        Rounds {
            entropy,
            attempts,
            started: 0,
        }
    }

    /// Whether to go round (again): at once the first time, after the pause the next times,
    /// false once `attempts` rounds were made.
    pub(crate) async fn next(&mut self) -> bool {
        if self.started >= self.attempts {
            return false;
        }
        if self.started > 0 {
            pause(self.entropy, self.started - 1).await;
        }
        self.started += 1;
        true
    }
}

async fn pause(entropy: &dyn Entropy, round: u32) {
    let cap_ms = 1u64 << round.min(5);
    let mut b = [0u8; 2];
    entropy.fill(&mut b);
    let ms = u64::from(u16::from_le_bytes(b)) % (cap_ms + 1);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
