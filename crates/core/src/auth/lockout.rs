//! Failed-attempt protection. After [`FREE_FAILURES`] consecutive wrong passwords (or MFA codes)
//! a user is locked for 1 s, then 2 s, 4 s, … doubling with each further failure up to 15
//! minutes, as Cognito does. While locked, sign-in is refused without looking at the password.
//!
//! Each password or code check first *takes* an attempt: it reads the user's counter, computes
//! the next one here (one more failure and, from the fifth on, the lock) and swaps it in only if
//! the counter is still what it read (the store's compare-and-swap; a loser reads again). A
//! correct password then clears both — unless an MFA code is still owed: then the password's own
//! attempt is taken back and the earlier failures stay until a correct code. Counting before
//! checking means parallel guesses cannot slip past a lock: every one of them is counted before
//! any is tested. The counter lives in the store (beside the user, outside its versioned
//! record), so the lock holds across restarts and across server processes.

use crate::store::{SignInCounter, UserRecord};
use crate::{Core, CoreError, Result};

/// Wrong passwords allowed before the first lock.
pub(crate) const FREE_FAILURES: u32 = 5;
/// The first lock; each further failure doubles it.
pub(crate) const FIRST_LOCK_MS: i64 = 1000;
/// The longest lock.
pub(crate) const MAX_LOCK_MS: i64 = 15 * 60 * 1000;
/// Compare-and-swap rounds before giving up; contention ends once the lock is set.
const MAX_SWAPS: u32 = 64;

fn exceeded() -> CoreError {
    metrics::counter!("gatehouse_lockouts_total").increment(1);
    CoreError::NotAuthorized("Password attempts exceeded".into())
}

/// The counter after one more failure at `now`: from the [`FREE_FAILURES`]th on, locked for
/// [`FIRST_LOCK_MS`] doubled per further failure, at most [`MAX_LOCK_MS`].
pub(crate) fn after_failure(c: SignInCounter, now: i64) -> SignInCounter {
    let failed = c.failed.saturating_add(1);
    if failed < FREE_FAILURES {
        return SignInCounter { failed, ..c };
    }
    let doublings = (failed - FREE_FAILURES).min(20);
    let lock = (FIRST_LOCK_MS << doublings).min(MAX_LOCK_MS);
    SignInCounter {
        failed,
        locked_until: Some(now + lock),
    }
}

fn is_locked(c: &SignInCounter, now: i64) -> bool {
    c.locked_until.is_some_and(|until| until > now)
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

    /// Moves the user's counter from what it is to `next(it)` in one compare-and-swap, read
    /// again and retried when another attempt got there first. `next` returning `Err` stops.
    /// The counter in `user` (as read with the record, or as this sign-in last swapped it) is
    /// tried first without a read; `user` ends up holding what was swapped in.
    async fn swap_counter(
        &self,
        user: &mut UserRecord,
        next: impl Fn(SignInCounter) -> Result<Option<SignInCounter>>,
    ) -> Result<()> {
        let mut guess = Some(SignInCounter {
            failed: user.failed_sign_ins,
            locked_until: user.locked_until,
        });
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), MAX_SWAPS);
        while rounds.next().await {
            let read = match guess.take() {
                Some(c) => Some(c),
                None => {
                    self.sign_ins()
                        .sign_in_counter(&user.pool_id, &user.username_key)
                        .await?
                }
            };
            let Some(current) = read else {
                return Err(CoreError::NotAuthorized(
                    "Incorrect username or password.".into(),
                ));
            };
            let Some(new) = next(current)? else {
                return Ok(());
            };
            if self
                .sign_ins()
                .swap_sign_in_counter(&user.pool_id, &user.username_key, current, new)
                .await?
            {
                user.failed_sign_ins = new.failed;
                user.locked_until = new.locked_until;
                return Ok(());
            }
        }
        Err(CoreError::Internal("sign-in counter kept changing".into()))
    }

    /// Counts a password attempt before the password is checked; refused while locked. `user`
    /// keeps the counter it swapped in, the guess of the clearing that follows a right answer.
    pub(crate) async fn take_attempt(&self, user: &mut UserRecord) -> Result<()> {
        let now = self.now_millis();
        self.swap_counter(user, |c| {
            if is_locked(&c, now) {
                return Err(exceeded());
            }
            Ok(Some(after_failure(c, now)))
        })
        .await
    }

    /// The password was right but an MFA code is owed: this attempt is not a failure, the
    /// earlier ones stay (only a right code clears them), and no lock (the attempt was only
    /// taken because no earlier lock was in force).
    pub(crate) async fn attempt_was_right(&self, user: &mut UserRecord) -> Result<()> {
        self.swap_counter(user, |c| {
            Ok(Some(SignInCounter {
                failed: c.failed.saturating_sub(1),
                locked_until: None,
            }))
        })
        .await
    }

    /// The password was right: the count and any lock go.
    pub(crate) async fn attempt_succeeded(&self, user: &mut UserRecord) -> Result<()> {
        self.swap_counter(user, |c| {
            Ok((c != SignInCounter::default()).then(SignInCounter::default))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_starts_at_the_fifth_failure_and_doubles_up_to_fifteen_minutes() {
        let mut c = SignInCounter::default();
        let mut locks = Vec::new();
        for _ in 0..16 {
            c = after_failure(c, 0);
            locks.push(c.locked_until);
        }
        assert_eq!(&locks[..4], &[None; 4]);
        assert_eq!(
            &locks[4..9],
            &[Some(1000), Some(2000), Some(4000), Some(8000), Some(16000)]
        );
        assert_eq!(locks[15], Some(MAX_LOCK_MS));
    }
}
