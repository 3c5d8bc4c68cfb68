//! The pause between compare-and-swap retries: random and growing (at most 32 ms), so writers
//! that collided spread out instead of colliding again.

use std::time::Duration;

use crate::Entropy;

pub(crate) async fn pause(entropy: &dyn Entropy, attempt: u32) {
    let cap_ms = 1u64 << attempt.min(5);
    let mut b = [0u8; 2];
    entropy.fill(&mut b);
    let ms = u64::from(u16::from_le_bytes(b)) % (cap_ms + 1);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
