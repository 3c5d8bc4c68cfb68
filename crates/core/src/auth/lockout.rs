//! Failed-attempt protection. After [`FREE_FAILURES`] consecutive wrong passwords (or MFA codes)
//! a user is locked for 1 s, then 2 s, 4 s, … doubling with each further failure up to 15
//! minutes, as Cognito does. While locked, sign-in is refused without looking at the password.
//!
//! Each password or code check first *takes* an attempt in one atomic store update: it counts
//! the attempt as a failure and, from the fifth on, sets the lock, unless the user is locked
//! already. A correct password then clears both — unless an MFA code is still owed: then the
//! password's own attempt is taken back and the earlier failures stay until a correct code. Counting before checking means parallel guesses cannot
//! slip past a lock: every one of them is counted before any is tested. The counter lives in the
//! store (beside the user, outside its versioned record), so the lock holds across restarts and
//! across server processes.

use crate::store::{LockPolicy, UserRecord};
use crate::{Core, CoreError, Result};

/// Wrong passwords allowed before the first lock.
pub(crate) const FREE_FAILURES: u32 = 5;
/// The first lock; each further failure doubles it.
pub(crate) const FIRST_LOCK_MS: i64 = 1000;
/// The longest lock.
pub(crate) const MAX_LOCK_MS: i64 = 15 * 60 * 1000;

const POLICY: LockPolicy = LockPolicy {
    free_failures: FREE_FAILURES,
    first_lock_ms: FIRST_LOCK_MS,
    max_lock_ms: MAX_LOCK_MS,
};

fn exceeded() -> CoreError {
    metrics::counter!("gatehouse_lockouts_total").increment(1);
    CoreError::NotAuthorized("Password attempts exceeded".into())
}

impl Core {
    /// A cheap early refusal from the user record already read (the atomic check is
    /// [`Core::take_attempt`]).
    pub(crate) fn check_lock(&self, user: &UserRecord) -> Result<()> {
        match user.locked_until {
            Some(until) if until > self.now_millis() => Err(exceeded()),
            _ => Ok(()),
        }
    }

    /// Counts a password attempt before the password is checked; refused while locked.
    pub(crate) async fn take_attempt(&self, user: &UserRecord) -> Result<()> {
        let taken = self
            .store
            .take_sign_in_attempt(
                &user.pool_id,
                &user.username_key,
                self.now_millis(),
                &POLICY,
            )
            .await?;
        match taken {
            Some(_) => Ok(()),
            None => Err(exceeded()),
        }
    }

    /// The password was right but an MFA code is owed: this attempt is not a failure, the
    /// earlier ones stay (only a right code clears them).
    pub(crate) async fn attempt_was_right(&self, user: &UserRecord) -> Result<()> {
        self.store
            .return_sign_in_attempt(&user.pool_id, &user.username_key)
            .await?;
        Ok(())
    }

    /// The password was right: the count and any lock go.
    pub(crate) async fn attempt_succeeded(&self, user: &UserRecord) -> Result<()> {
        self.store
            .set_sign_in_lock(&user.pool_id, &user.username_key, None)
            .await?;
        Ok(())
    }
}
