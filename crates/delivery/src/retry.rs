//! Retry schedule shared by the couriers: exponential backoff with jitter.

use std::time::Duration;

/// Backoff before retry `n` (n = 1 after the first failed attempt): the base delay
/// `initial * 2^(n-1)` capped at `max`, then "equal jitter" (half fixed, half random), so
/// many gatehouse processes retrying against one endpoint spread out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The un-jittered delay before retry `retry` (1-based), capped at `max`.
    pub(crate) fn base(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay to sleep before retry `retry` (1-based): within `[base/2, base]`.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let base = self.base(retry);
        let half = base / 2;
        let spread = (base - half).as_millis() as u64;
        if spread == 0 {
            return base;
        }
        half + Duration::from_millis(random_u64() % (spread + 1))
    }
}

/// Whether a TLS failure (bad certificate, handshake with something that does not speak
/// TLS) is somewhere in an error's chain: those do not heal by themselves, so no retry.
pub(crate) fn caused_by_tls(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        // An `io::Error`'s `source()` skips the error it wraps (and io errors nest, as in
        // hyper-rustls), so step into the wrapped error itself.
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            next = Some(inner);
            continue;
        }
        next = e.source();
    }
    false
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // Jitter needs no cryptographic quality; should the system RNG ever fail, no jitter.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_millis(1000),
        };
        assert_eq!(b.base(1), Duration::from_millis(200));
        assert_eq!(b.base(2), Duration::from_millis(400));
        assert_eq!(b.base(3), Duration::from_millis(800));
        assert_eq!(b.base(4), Duration::from_millis(1000));
        assert_eq!(b.base(60), Duration::from_millis(1000));
        for retry in 1..10 {
            let d = b.delay(retry);
            assert!(d >= b.base(retry) / 2 && d <= b.base(retry), "{d:?}");
        }
    }

    #[test]
    fn zero_backoff_is_zero() {
        let b = Backoff {
            initial: Duration::ZERO,
            max: Duration::ZERO,
        };
        assert_eq!(b.delay(3), Duration::ZERO);
    }
}
