//! Failed-attempt protection. After [`FREE_FAILURES`] consecutive wrong passwords a user is
//! locked for 1 s, then 2 s, 4 s, … doubling with each further failure up to 15 minutes, as
//! Cognito does. While locked, sign-in is refused without looking at the password. The counter
//! lives in the store (beside the user, outside its versioned record), so the lock holds across
//! restarts and across server processes; a successful sign-in clears it.

use crate::store::UserRecord;
use crate::{Core, CoreError, Result};

/// Wrong passwords allowed before the first lock.
pub(crate) const FREE_FAILURES: u32 = 5;
/// The longest lock.
pub(crate) const MAX_LOCK_MS: i64 = 15 * 60 * 1000;

/// How long the `failures`-th consecutive failure locks the user.
pub(crate) fn lock_duration_ms(failures: u32) -> Option<i64> {
    let over = failures.checked_sub(FREE_FAILURES)?;
    Some((1000i64 << over.min(20)).min(MAX_LOCK_MS))
}

impl Core {
    pub(crate) fn check_lock(&self, user: &UserRecord) -> Result<()> {
        match user.locked_until {
            Some(until) if until > self.now_millis() => Err(CoreError::NotAuthorized(
                "Password attempts exceeded".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Counts a wrong password and locks the user when the count calls for it.
    pub(crate) async fn record_failure(&self, user: &UserRecord) -> Result<()> {
        let n = self
            .store
            .add_failed_sign_in(&user.pool_id, &user.username_key)
            .await?;
        if let Some(ms) = lock_duration_ms(n) {
            self.store
                .set_sign_in_lock(
                    &user.pool_id,
                    &user.username_key,
                    Some(self.now_millis() + ms),
                )
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn clear_failures(&self, user: &UserRecord) -> Result<()> {
        if user.failed_sign_ins > 0 || user.locked_until.is_some() {
            self.store
                .set_sign_in_lock(&user.pool_id, &user.username_key, None)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_from_one_second_to_fifteen_minutes() {
        assert_eq!(lock_duration_ms(4), None);
        assert_eq!(lock_duration_ms(5), Some(1000));
        assert_eq!(lock_duration_ms(6), Some(2000));
        assert_eq!(lock_duration_ms(7), Some(4000));
        assert_eq!(lock_duration_ms(15), Some(MAX_LOCK_MS));
        assert_eq!(lock_duration_ms(u32::MAX), Some(MAX_LOCK_MS));
    }
}
