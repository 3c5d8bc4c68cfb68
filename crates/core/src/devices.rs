//! Device tracking ("remembered devices"): the pool's mode, device keys handed out at sign-in,
//! ConfirmDevice, and the device operations for users (access token) and administrators.
//! How a device authenticates during sign-in is in `auth/device_flow.rs`. Rules: docs/devices.md.
//!
//! | mode (`DeviceConfiguration`) | ConfirmDevice leaves the device |
//! | --- | --- |
//! | absent: tracking off | (refused) |
//! | `DeviceOnlyRememberedOnUserPrompt: false` (Always) | remembered |
//! | `DeviceOnlyRememberedOnUserPrompt: true` (User Opt-In) | not_remembered, until UpdateDeviceStatus |

use gatehouse_srp::{Salt, Verifier};
use gatehouse_wire::*;

use crate::store::{DeviceRecord, DeviceStatus, SparedSession, UserPoolRecord, UserRecord};
use crate::{pagination, Caller, Core, CoreError, Result};

/// An issued key that is never confirmed lapses after this long (epoch ms).
pub(crate) const ISSUED_DEVICE_TTL_MS: i64 = 24 * 3600 * 1000;
/// The longest an access token lives (Cognito's AccessTokenValidity maximum, one day): a session
/// spared by ForgetDevice is kept this long for its access tokens, then pruned.
const MAX_ACCESS_TOKEN_MS: i64 = 86_400_000;
/// ListDevices / AdminListDevices page size when `Limit` is absent or 0 (the model's maximum).
const DEFAULT_PAGE: u32 = 60;
/// DeviceName's model limit, also applied to names taken from the User-Agent.
const MAX_NAME_CHARS: usize = 1024;

pub(crate) fn device_not_found() -> CoreError {
    CoreError::ResourceNotFound("Device does not exist.".into())
}

/// The pool's device configuration, when tracking is on (the object's presence turns it on).
pub(crate) fn tracking(pool: &UserPoolRecord) -> Option<&DeviceConfigurationType> {
    pool.pool.device_configuration.as_ref()
}

fn tracking_or_refuse(pool: &UserPoolRecord) -> Result<&DeviceConfigurationType> {
    tracking(pool).ok_or_else(|| {
        CoreError::InvalidUserPoolConfiguration(
            "Device tracking is not enabled for this user pool.".into(),
        )
    })
}

/// User Opt-In: ConfirmDevice leaves the device not remembered until the user agrees.
fn asks_user(config: &DeviceConfigurationType) -> bool {
    config.device_only_remembered_on_user_prompt == Some(true)
}

/// A name for a device whose app gave none: the User-Agent, which is what the JavaScript
/// clients send as DeviceName anyway.
fn name_from_user_agent(caller: &Caller) -> Option<String> {
    let ua = caller.user_agent.as_deref()?.trim();
    (!ua.is_empty()).then(|| ua.chars().take(MAX_NAME_CHARS).collect())
}

/// `dev:device_sdk`: the first product of the User-Agent (`aws-sdk-js`, `Boto3`, `Mozilla`).
fn sdk_from_user_agent(caller: &Caller) -> Option<String> {
    let ua = caller.user_agent.as_deref()?;
    let product = ua.split_whitespace().next()?.split('/').next()?;
    (!product.is_empty()).then(|| product.chars().take(64).collect())
}

fn page_size(limit: Option<i32>) -> u32 {
    match limit {
        Some(n) if n > 0 => (n as u32).min(DEFAULT_PAGE),
        _ => DEFAULT_PAGE,
    }
}

fn remembered_status(s: &Option<DeviceRememberedStatusType>) -> Result<DeviceStatus> {
    match s {
        Some(DeviceRememberedStatusType::Remembered) => Ok(DeviceStatus::Remembered),
        Some(DeviceRememberedStatusType::NotRemembered) => Ok(DeviceStatus::NotRemembered),
        _ => Err(CoreError::InvalidParameter(
            "DeviceRememberedStatus must be remembered or not_remembered.".into(),
        )),
    }
}

/// Who may see a device through an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// GetDevice / ListDevices: remembered devices only (as Cognito).
    Remembered,
    /// Updates, forgets and the admin operations: every confirmed device.
    Tracked,
}

impl Seen {
    /// `status`: the device's under the pool's policy (`device_trust.rs`).
    fn shows(self, status: DeviceStatus) -> bool {
        match self {
            Seen::Remembered => status == DeviceStatus::Remembered,
            Seen::Tracked => status != DeviceStatus::Issued,
        }
    }
}

impl Core {
    /// A new key for a sign-in that ended without a known device: returned as
    /// NewDeviceMetadata, confirmed (or not) by the app within [`ISSUED_DEVICE_TTL_MS`].
    pub(crate) async fn issue_device(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
    ) -> Result<NewDeviceMetadataType> {
        let now = self.now_millis();
        let device = DeviceRecord {
            pool_id: pool.id.clone(),
            device_key: crate::ids::device_key(self.entropy.as_ref(), &self.config.region),
            username_key: user.username_key.clone(),
            group_key: crate::ids::device_group_key(self.entropy.as_ref()),
            status: DeviceStatus::Issued,
            salt: None,
            verifier: None,
            name: None,
            last_ip: None,
            sdk: None,
            created_at: now,
            modified_at: now,
            last_authenticated_at: None,
            remembered_at: None,
            expires_at: Some(now + ISSUED_DEVICE_TTL_MS),
            version: 1,
        };
        self.devices().insert_device(&device).await?;
        Ok(NewDeviceMetadataType {
            device_key: Some(device.device_key),
            device_group_key: Some(device.group_key),
        })
    }

    /// The user's confirmed device `key`, if there is one (a sign-in may present it).
    pub(crate) async fn tracked_device(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        key: &str,
    ) -> Result<Option<DeviceRecord>> {
        Ok(self.devices().device(&pool.id, key).await?.filter(|d| {
            d.username_key == user.username_key && Seen::Tracked.shows(self.device_status(pool, d))
        }))
    }

    /// Records a successful device authentication (DeviceLastAuthenticatedDate, last_ip_used).
    /// A lost race with another writer only loses this timestamp, never the sign-in.
    pub(crate) async fn device_authenticated(
        &self,
        mut device: DeviceRecord,
        caller: &Caller,
    ) -> Result<()> {
        let now = self.now_millis();
        device.last_authenticated_at = Some(now);
        if let Some(ip) = caller.ip {
            device.last_ip = Some(ip.to_string());
        }
        device.version += 1;
        self.devices().update_device(&device).await?;
        Ok(())
    }

    /// One device of `user` that `seen` lets the caller see, or "Device does not exist."
    async fn visible_device(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        key: &str,
        seen: Seen,
    ) -> Result<DeviceRecord> {
        self.devices()
            .device(&pool.id, key)
            .await?
            .filter(|d| {
                d.username_key == user.username_key && seen.shows(self.device_status(pool, d))
            })
            .ok_or_else(device_not_found)
    }

    fn device_type(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        d: &DeviceRecord,
    ) -> DeviceType {
        let owner = format!("{}.{}", user.username, pool.id);
        let mut attributes = vec![("device_status", "valid".to_string())];
        if let Some(name) = &d.name {
            attributes.push(("device_name", name.clone()));
        }
        let status = self.device_status(pool, d);
        attributes.push(("dev:device_remembered_status", status.as_str().into()));
        if let Some(ip) = &d.last_ip {
            attributes.push(("last_ip_used", ip.clone()));
        }
        if let Some(sdk) = &d.sdk {
            attributes.push(("dev:device_sdk", sdk.clone()));
        }
        attributes.push((
            "dev:device_arn",
            format!(
                "arn:aws:cognito-idp:{}:{}:owner/{owner}/device/{}",
                self.config.region, self.config.account_id, d.device_key
            ),
        ));
        attributes.push(("dev:device_owner", owner));
        let epoch = |ms: i64| ms as f64 / 1000.0;
        DeviceType {
            device_key: Some(d.device_key.clone()),
            device_attributes: Some(
                attributes
                    .into_iter()
                    .map(|(name, value)| AttributeType {
                        name: name.into(),
                        value: Some(value),
                    })
                    .collect(),
            ),
            device_create_date: Some(epoch(d.created_at)),
            device_last_modified_date: Some(epoch(d.modified_at)),
            device_last_authenticated_date: d.last_authenticated_at.map(epoch),
        }
    }

    /// The hosted pages' remember-this-device answer for a browser just confirmed as a device
    /// of the user (UpdateDeviceStatus's rule, without an access token in the page).
    pub(crate) async fn set_browser_device_remembered(
        &self,
        pool_id: &str,
        username_key: &str,
        device_key: &str,
        remember: bool,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let device = self
            .devices()
            .device(pool_id, device_key)
            .await?
            .filter(|d| d.username_key == username_key && d.status != DeviceStatus::Issued)
            .ok_or_else(device_not_found)?;
        let status = if remember {
            DeviceStatus::Remembered
        } else {
            DeviceStatus::NotRemembered
        };
        self.set_device_status(&pool, device, status).await
    }

    /// UpdateDeviceStatus's rule: remembering (again) makes the device trusted from now, and
    /// keeps the user within the pool's cap.
    async fn set_device_status(
        &self,
        pool: &UserPoolRecord,
        mut device: DeviceRecord,
        status: DeviceStatus,
    ) -> Result<()> {
        // Nothing to write only when both the stored status and the one the policy shows are
        // the one asked: a lapsed device told `not_remembered` must store it, or lifting the
        // policy would remember it again.
        if device.status == status && self.device_status(pool, &device) == status {
            return Ok(());
        }
        let now = self.now_millis();
        device.status = status;
        device.modified_at = now;
        if status == DeviceStatus::Remembered {
            device.remembered_at = Some(now);
        }
        device.version += 1;
        if !self.devices().update_device(&device).await? {
            return Err(CoreError::ConcurrentModification(
                "The device was changed by another request; try again.".into(),
            ));
        }
        if status == DeviceStatus::Remembered {
            self.apply_remembered_cap(pool, &device.username_key, &device.device_key)
                .await?;
        }
        Ok(())
    }

    async fn list_user_devices(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        seen: Seen,
        limit: Option<i32>,
        token: Option<&str>,
    ) -> Result<(Vec<DeviceType>, Option<String>)> {
        let limit = page_size(limit);
        let after = pagination::decode(token)?;
        let mut rows = self
            .devices()
            .list_devices(
                &pool.id,
                &user.username_key,
                seen == Seen::Remembered,
                after.as_deref(),
                limit + 1,
            )
            .await?;
        let next = pagination::next_token(&mut rows, limit, |d| d.device_key.as_str());
        // A remembered device whose trust lapsed is not remembered any more.
        let devices = rows
            .iter()
            .filter(|d| seen.shows(self.device_status(pool, d)))
            .map(|d| self.device_type(pool, user, d))
            .collect();
        Ok((devices, next))
    }

    /// ConfirmDevice: the app registers the device's SRP verifier for the key this sign-in was
    /// given. Always mode remembers it at once; User Opt-In waits for UpdateDeviceStatus.
    pub async fn confirm_device(
        &self,
        caller: &Caller,
        req: ConfirmDeviceRequest,
    ) -> Result<ConfirmDeviceResponse> {
        let token = self.access_token(&req.access_token).await?;
        let config = tracking_or_refuse(&token.pool)?.clone();
        let mut device = self
            .devices()
            .device(&token.pool.id, &req.device_key)
            .await?
            .filter(|d| d.username_key == token.user.username_key)
            .filter(|d| d.expires_at.is_none_or(|t| t > self.now_millis()))
            .ok_or_else(device_not_found)?;
        if device.status != DeviceStatus::Issued {
            return Err(CoreError::DeviceKeyExists(
                "Device key already exists.".into(),
            ));
        }
        // The key must be the one handed to the sign-in this access token belongs to.
        if token.session.device_key.as_deref() != Some(req.device_key.as_str()) {
            return Err(CoreError::InvalidParameter(
                "Invalid device key given.".into(),
            ));
        }
        let config_given = req.device_secret_verifier_config.unwrap_or_default();
        let (Some(salt), Some(verifier)) = (config_given.salt, config_given.password_verifier)
        else {
            return Err(CoreError::InvalidParameter(
                "DeviceSecretVerifierConfig with Salt and PasswordVerifier is required.".into(),
            ));
        };
        let salt = Salt::from_base64(&salt).map_err(|_| {
            CoreError::InvalidParameter("DeviceSecretVerifierConfig.Salt is not valid.".into())
        })?;
        let verifier = Verifier::from_base64(&verifier).map_err(|_| {
            CoreError::InvalidParameter(
                "DeviceSecretVerifierConfig.PasswordVerifier is not valid.".into(),
            )
        })?;
        let now = self.now_millis();
        device.status = if asks_user(&config) {
            DeviceStatus::NotRemembered
        } else {
            DeviceStatus::Remembered
        };
        device.salt = Some(salt.to_hex());
        device.verifier = Some(verifier.to_base64().to_string());
        device.name = req.device_name.or_else(|| name_from_user_agent(caller));
        device.sdk = sdk_from_user_agent(caller);
        device.last_ip = caller.ip.map(|ip| ip.to_string());
        device.created_at = now;
        device.modified_at = now;
        device.last_authenticated_at = Some(now);
        if device.status == DeviceStatus::Remembered {
            device.remembered_at = Some(now);
        }
        device.expires_at = None;
        device.version += 1;
        if !self.devices().update_device(&device).await? {
            // Another ConfirmDevice for the same key won.
            return Err(CoreError::DeviceKeyExists(
                "Device key already exists.".into(),
            ));
        }
        if device.status == DeviceStatus::Remembered {
            self.apply_remembered_cap(&token.pool, &device.username_key, &device.device_key)
                .await?;
        }
        Ok(ConfirmDeviceResponse {
            user_confirmation_necessary: Some(asks_user(&config)),
        })
    }

    pub async fn get_device(&self, req: GetDeviceRequest) -> Result<GetDeviceResponse> {
        let token = self
            .access_token(req.access_token.as_deref().unwrap_or(""))
            .await?;
        tracking_or_refuse(&token.pool)?;
        let d = self
            .visible_device(&token.pool, &token.user, &req.device_key, Seen::Remembered)
            .await?;
        Ok(GetDeviceResponse {
            device: self.device_type(&token.pool, &token.user, &d),
        })
    }

    pub async fn list_devices(&self, req: ListDevicesRequest) -> Result<ListDevicesResponse> {
        let token = self.access_token(&req.access_token).await?;
        tracking_or_refuse(&token.pool)?;
        let (devices, next) = self
            .list_user_devices(
                &token.pool,
                &token.user,
                Seen::Remembered,
                req.limit,
                req.pagination_token.as_deref(),
            )
            .await?;
        Ok(ListDevicesResponse {
            devices: Some(devices),
            pagination_token: next,
        })
    }

    pub async fn update_device_status(
        &self,
        req: UpdateDeviceStatusRequest,
    ) -> Result<UpdateDeviceStatusResponse> {
        let token = self.access_token(&req.access_token).await?;
        tracking_or_refuse(&token.pool)?;
        let status = remembered_status(&req.device_remembered_status)?;
        let d = self
            .visible_device(&token.pool, &token.user, &req.device_key, Seen::Tracked)
            .await?;
        self.set_device_status(&token.pool, d, status).await?;
        Ok(UpdateDeviceStatusResponse {})
    }

    /// ForgetDevice: the device record goes, and with it every refresh token bound to the
    /// device and the access tokens minted from them, except the caller's own access token:
    /// its sign-in loses only its refresh token, so the app can still list the remaining
    /// devices and sign out (docs/devices.md, "Tokens and devices").
    pub async fn forget_device(&self, req: ForgetDeviceRequest) -> Result<()> {
        let token = self
            .access_token(req.access_token.as_deref().unwrap_or(""))
            .await?;
        tracking_or_refuse(&token.pool)?;
        let spare = SparedSession {
            id: &token.session.id,
            expires_at: self.now_millis() + MAX_ACCESS_TOKEN_MS,
        };
        self.forget(&token.pool, &token.user, &req.device_key, Some(spare))
            .await
    }

    async fn forget(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        key: &str,
        spare: Option<SparedSession<'_>>,
    ) -> Result<()> {
        self.visible_device(pool, user, key, Seen::Tracked).await?;
        if !self
            .devices()
            .forget_device(&pool.id, key, self.now_millis(), spare)
            .await?
        {
            return Err(device_not_found());
        }
        Ok(())
    }

    pub async fn admin_get_device(
        &self,
        req: AdminGetDeviceRequest,
    ) -> Result<AdminGetDeviceResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        tracking_or_refuse(&pool)?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let d = self
            .visible_device(&pool, &user, &req.device_key, Seen::Tracked)
            .await?;
        Ok(AdminGetDeviceResponse {
            device: self.device_type(&pool, &user, &d),
        })
    }

    pub async fn admin_list_devices(
        &self,
        req: AdminListDevicesRequest,
    ) -> Result<AdminListDevicesResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        tracking_or_refuse(&pool)?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let (devices, next) = self
            .list_user_devices(
                &pool,
                &user,
                Seen::Tracked,
                req.limit,
                req.pagination_token.as_deref(),
            )
            .await?;
        Ok(AdminListDevicesResponse {
            devices: Some(devices),
            pagination_token: next,
        })
    }

    pub async fn admin_update_device_status(
        &self,
        req: AdminUpdateDeviceStatusRequest,
    ) -> Result<AdminUpdateDeviceStatusResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        tracking_or_refuse(&pool)?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let status = remembered_status(&req.device_remembered_status)?;
        let d = self
            .visible_device(&pool, &user, &req.device_key, Seen::Tracked)
            .await?;
        self.set_device_status(&pool, d, status).await?;
        Ok(AdminUpdateDeviceStatusResponse {})
    }

    pub async fn admin_forget_device(&self, req: AdminForgetDeviceRequest) -> Result<()> {
        let pool = self.pool(&req.user_pool_id).await?;
        tracking_or_refuse(&pool)?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        // An administrator's forget revokes everything bound to the device, the user's
        // current access tokens included.
        self.forget(&pool, &user, &req.device_key, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_is_the_first_product_of_the_user_agent() {
        let caller = |ua: &str| Caller {
            ip: None,
            user_agent: Some(ua.into()),
        };
        assert_eq!(
            sdk_from_user_agent(&caller("Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0")).as_deref(),
            Some("Boto3")
        );
        assert_eq!(
            sdk_from_user_agent(&caller("aws-amplify/6.22.1 auth/4 framework/0")).as_deref(),
            Some("aws-amplify")
        );
        assert_eq!(sdk_from_user_agent(&caller("   ")), None);
        assert_eq!(name_from_user_agent(&caller("  ")), None);
        assert_eq!(
            name_from_user_agent(&caller(&"x".repeat(2000))).map(|n| n.len()),
            Some(MAX_NAME_CHARS)
        );
    }

    #[test]
    fn page_size_defaults_to_the_maximum() {
        assert_eq!(page_size(None), 60);
        assert_eq!(page_size(Some(0)), 60);
        assert_eq!(page_size(Some(2)), 2);
        assert_eq!(page_size(Some(600)), 60);
    }
}
