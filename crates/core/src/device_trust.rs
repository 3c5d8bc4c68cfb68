//! Device trust beyond Cognito (a Gatehouse extension; docs/devices.md "Trust that expires"):
//! a pool's [`DevicePolicy`] says how long a remembered device stays trusted and how many one
//! user may have remembered. Cognito has no member for either, so the policy stays off its wire
//! (DescribeUserPool does not show it); it is set with `gatehouse device-policy` or the console.
//!
//! - **Lifetime**: a remembered device that has not authenticated (device SRP) for
//!   `remembered_days` is treated as not remembered: it no longer stands in for MFA, and the
//!   device operations show it `not_remembered` (ListDevices leaves it out). Its next full sign-in
//!   (the second factor, then device SRP) makes it trusted again, as does UpdateDeviceStatus
//!   `remembered`.
//! - **Cap**: when a device becomes remembered and the user then has more than `max_remembered`,
//!   the least recently used are forgotten, their refresh tokens and access tokens revoked with
//!   them (ForgetDevice's rule), and the user is told by email. Every request that remembers a
//!   device applies the cap to the whole list it reads after its own write, ranked the same way
//!   by all, so simultaneous ones end within it and never forget the newest.

use crate::codes::Letter;
use crate::messages::{Medium, Purpose};
use crate::risk::utc_time;
use crate::store::{DevicePolicy, DeviceRecord, DeviceStatus, UserPoolRecord};
use crate::{Core, CoreError, Result};

const DAY_MS: i64 = 86_400_000;

/// When the device last earned trust: its last authentication or its last remembering.
fn trusted_since(d: &DeviceRecord) -> i64 {
    d.last_authenticated_at
        .into_iter()
        .chain(d.remembered_at)
        .max()
        .unwrap_or(d.created_at)
}

/// When the device was last used: its last authentication, else its confirmation.
fn last_used(d: &DeviceRecord) -> i64 {
    d.last_authenticated_at.unwrap_or(d.created_at)
}

/// The device's status as the pool's policy has it at `now`: a remembered device whose trust
/// lapsed is not remembered.
pub(crate) fn status_under(policy: &DevicePolicy, d: &DeviceRecord, now: i64) -> DeviceStatus {
    match (d.status, policy.remembered_days) {
        (DeviceStatus::Remembered, Some(days))
            if now >= trusted_since(d) + i64::from(days) * DAY_MS =>
        {
            DeviceStatus::NotRemembered
        }
        (status, _) => status,
    }
}

/// Which of `remembered` (one user's remembered devices) go to keep at most `max`: the least
/// recently used first. The ranking is the same whoever reads the list, so simultaneous
/// requests agree: the most recently used device (the one just remembered, whose use is now)
/// is never forgotten, and the last request to read leaves at most `max`.
fn over_the_cap(remembered: &[DeviceRecord], max: u32) -> Vec<&DeviceRecord> {
    let excess = remembered.len().saturating_sub(max as usize);
    let mut ranked: Vec<&DeviceRecord> = remembered.iter().collect();
    ranked.sort_by_key(|d| (last_used(d), d.device_key.clone()));
    ranked.into_iter().take(excess).collect()
}

/// A policy as an operator gives it: a lifetime of 1–3650 days, a cap of 1–1000 devices.
pub fn check_policy(policy: &DevicePolicy) -> Result<()> {
    if policy
        .remembered_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        return Err(CoreError::InvalidParameter(
            "The remembered-device lifetime must be 1 to 3650 days.".into(),
        ));
    }
    if policy
        .max_remembered
        .is_some_and(|m| !(1..=1000).contains(&m))
    {
        return Err(CoreError::InvalidParameter(
            "The remembered-device cap must be 1 to 1000 devices.".into(),
        ));
    }
    Ok(())
}

impl Core {
    /// `d`'s status under its pool's policy now.
    pub(crate) fn device_status(&self, pool: &UserPoolRecord, d: &DeviceRecord) -> DeviceStatus {
        status_under(&pool.device_policy, d, self.now_millis())
    }

    /// After `kept` became remembered: the user's devices beyond the pool's cap are forgotten.
    pub(crate) async fn apply_remembered_cap(
        &self,
        pool: &UserPoolRecord,
        username_key: &str,
        kept: &str,
    ) -> Result<()> {
        let Some(max) = pool.device_policy.max_remembered else {
            return Ok(());
        };
        let now = self.now_millis();
        let mut remembered = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .devices()
                .list_devices(&pool.id, username_key, true, after.as_deref(), 500)
                .await?;
            let done = page.len() < 500;
            after = page.last().map(|d| d.device_key.clone());
            remembered.extend(
                page.into_iter().filter(|d| {
                    status_under(&pool.device_policy, d, now) == DeviceStatus::Remembered
                }),
            );
            if done {
                break;
            }
        }
        let mut forgotten = Vec::new();
        for d in over_the_cap(&remembered, max) {
            // Gone already (another request's cap) is as good, and that request tells the user.
            if self
                .devices()
                .forget_device(&pool.id, &d.device_key, now, None)
                .await?
            {
                tracing::info!(pool_id = %pool.id, device_key = %d.device_key, "forgot the least recently used remembered device: over the pool's cap");
                forgotten.push(d);
            }
        }
        if !forgotten.is_empty() {
            let new = remembered.iter().find(|d| d.device_key == kept);
            // The devices are forgotten whether or not the message can be sent.
            if let Err(e) = self
                .tell_of_forgotten_devices(pool, username_key, new, &forgotten, max)
                .await
            {
                tracing::error!(error = %e, pool_id = %pool.id, "telling the user of devices forgotten by the cap failed");
            }
        }
        Ok(())
    }

    /// The user's email (if they have an address) saying which devices the cap forgot.
    async fn tell_of_forgotten_devices(
        &self,
        pool: &UserPoolRecord,
        username_key: &str,
        new: Option<&DeviceRecord>,
        forgotten: &[&DeviceRecord],
        max: u32,
    ) -> Result<()> {
        let Some(user) = self.users().user(&pool.id, username_key).await? else {
            return Ok(());
        };
        let Some(address) = user.attributes.get("email") else {
            return Ok(());
        };
        let name = |d: &DeviceRecord| d.name.clone().unwrap_or_else(|| d.device_key.clone());
        let list: String = forgotten
            .iter()
            .map(|d| format!("- {} (last used {})\n", name(d), utc_time(last_used(d))))
            .collect();
        let body =
            format!(
            "Your account {user} now remembers the device {new}. It may remember at most {max}, \
             so the least recently used is no longer remembered, and was signed out:\n\n\
             {list}\nIf you do not recognise {new}, change your password.\n",
            user = user.username,
            new = new.map(name).unwrap_or_else(|| "you just signed in with".into()),
        );
        self.send(
            &user,
            Letter {
                medium: Medium::Email,
                destination: address,
                purpose: Purpose::DeviceForgotten,
                subject: Some("A device was signed out".into()),
                body,
                code: None,
                attribute: "email",
            },
        )
        .await?;
        Ok(())
    }

    /// The pool's device policy.
    pub async fn device_policy(&self, pool_id: &str) -> Result<DevicePolicy> {
        Ok(self.pool(pool_id).await?.device_policy)
    }

    /// Sets the pool's device policy (`gatehouse device-policy`, the console). The same policy
    /// again writes nothing.
    pub async fn set_device_policy(&self, pool_id: &str, policy: DevicePolicy) -> Result<()> {
        check_policy(&policy)?;
        if self.pool(pool_id).await?.device_policy == policy {
            return Ok(());
        }
        self.modify_pool_record(pool_id, |p| {
            p.device_policy = policy;
            Ok(())
        })
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(key: &str, status: DeviceStatus, authenticated: i64) -> DeviceRecord {
        DeviceRecord {
            pool_id: "p".into(),
            device_key: key.into(),
            username_key: "alice".into(),
            group_key: "g".into(),
            status,
            salt: None,
            verifier: None,
            name: None,
            last_ip: None,
            sdk: None,
            created_at: 0,
            modified_at: 0,
            last_authenticated_at: Some(authenticated),
            remembered_at: None,
            expires_at: None,
            version: 1,
        }
    }

    #[test]
    fn trust_lapses_after_the_lifetime_since_the_last_authentication() {
        let policy = DevicePolicy {
            remembered_days: Some(30),
            max_remembered: None,
        };
        let d = device("a", DeviceStatus::Remembered, 1_000);
        let lapse = 1_000 + 30 * DAY_MS;
        assert_eq!(
            status_under(&policy, &d, lapse - 1),
            DeviceStatus::Remembered
        );
        assert_eq!(
            status_under(&policy, &d, lapse),
            DeviceStatus::NotRemembered
        );
        // Remembered again later: trusted from then.
        let again = DeviceRecord {
            remembered_at: Some(lapse + 5),
            ..d.clone()
        };
        assert_eq!(
            status_under(&policy, &again, lapse + 6),
            DeviceStatus::Remembered
        );
        // No lifetime: for ever.
        assert_eq!(
            status_under(&DevicePolicy::default(), &d, i64::MAX / 2),
            DeviceStatus::Remembered
        );
        // A device never remembered stays what it is.
        let not = device("b", DeviceStatus::NotRemembered, 1_000);
        assert_eq!(status_under(&policy, &not, 0), DeviceStatus::NotRemembered);
    }

    #[test]
    fn the_cap_forgets_the_least_recently_used_in_one_order_for_every_reader() {
        let list = vec![
            device("old", DeviceStatus::Remembered, 10),
            device("new", DeviceStatus::Remembered, 40),
            device("mid", DeviceStatus::Remembered, 20),
            device("b-tie", DeviceStatus::Remembered, 30),
            device("a-tie", DeviceStatus::Remembered, 30),
        ];
        let keys =
            |v: Vec<&DeviceRecord>| v.iter().map(|d| d.device_key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(over_the_cap(&list, 3)), ["old", "mid"]);
        assert_eq!(keys(over_the_cap(&list, 5)), Vec::<String>::new());
        // Used in the same millisecond: the key decides, the same way in every request.
        assert_eq!(
            keys(over_the_cap(&list, 1)),
            ["old", "mid", "a-tie", "b-tie"]
        );
        let mut reversed = list.clone();
        reversed.reverse();
        assert_eq!(
            keys(over_the_cap(&reversed, 1)),
            keys(over_the_cap(&list, 1))
        );
    }

    #[test]
    fn policies_are_bounded() {
        let p = |d, m| DevicePolicy {
            remembered_days: d,
            max_remembered: m,
        };
        assert!(check_policy(&p(Some(30), Some(5))).is_ok());
        assert!(check_policy(&p(None, None)).is_ok());
        assert!(check_policy(&p(Some(0), None)).is_err());
        assert!(check_policy(&p(None, Some(0))).is_err());
        assert!(check_policy(&p(Some(3651), None)).is_err());
    }
}
