//! Abuse protection for the public operations that guess at secrets or send messages: per client
//! address and per app client token buckets (N requests per second, bursts of 2N).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use gatehouse_wire::{ApiError, Operation};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct RateLimits {
    per_ip: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    per_client: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Idle keys are dropped once a minute, by the first check after it, so memory stays flat
    /// without a task of its own.
    created: Instant,
    pruned_at_secs: AtomicU64,
}

/// How often idle keys are dropped.
const PRUNE_EVERY_SECS: u64 = 60;

/// Sign-in, sign-up, password recovery and confirmation: what an attacker repeats.
pub fn is_limited(op: Operation) -> bool {
    use Operation::*;
    matches!(
        op,
        InitiateAuth
            | RespondToAuthChallenge
            | SignUp
            | ConfirmSignUp
            | ResendConfirmationCode
            | ForgotPassword
            | ConfirmForgotPassword
            | GetTokensFromRefreshToken
    )
}

fn limiter<K: std::hash::Hash + Eq + Clone>(
    per_second: u32,
) -> Option<Arc<DefaultKeyedRateLimiter<K>>> {
    let n = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(n);
    Some(Arc::new(RateLimiter::keyed(
        Quota::per_second(n).allow_burst(burst),
    )))
}

fn too_many() -> ApiError {
    ApiError::new("TooManyRequestsException", "Rate exceeded")
}

impl RateLimits {
    /// 0 turns a limit off.
    pub fn new(per_ip: u32, per_client: u32) -> Self {
        RateLimits {
            per_ip: limiter(per_ip),
            per_client: limiter(per_client),
            created: Instant::now(),
            pruned_at_secs: AtomicU64::new(0),
        }
    }

    pub fn check(&self, op: Operation, ip: IpAddr, body: &[u8]) -> Result<(), ApiError> {
        if !is_limited(op) {
            return Ok(());
        }
        self.check_ip(ip)?;
        if let Some(l) = &self.per_client {
            #[derive(serde::Deserialize)]
            struct ClientOnly {
                #[serde(rename = "ClientId")]
                client_id: Option<String>,
            }
            if let Some(id) = serde_json::from_slice::<ClientOnly>(body)
                .ok()
                .and_then(|c| c.client_id)
            {
                l.check_key(&id).map_err(|_| too_many())?;
            }
        }
        Ok(())
    }

    /// The per-address limit alone (also the console's sign-in form).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.prune_when_due();
        if let Some(l) = &self.per_ip {
            l.check_key(&ip).map_err(|_| too_many())?;
        }
        Ok(())
    }

    /// Forgets idle keys so that memory stays flat under churn of addresses.
    fn prune_when_due(&self) {
        let now = self.created.elapsed().as_secs();
        let last = self.pruned_at_secs.load(Ordering::Relaxed);
        // One of the checks that find it due wins the swap and prunes.
        if now >= last + PRUNE_EVERY_SECS
            && self
                .pruned_at_secs
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.prune();
        }
    }

    fn prune(&self) {
        if let Some(l) = &self.per_ip {
            l.retain_recent();
        }
        if let Some(l) = &self.per_client {
            l.retain_recent();
        }
    }
}
