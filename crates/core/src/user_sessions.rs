//! A user's sessions as Cognito's session tracking shows them: Get/SetUserPoolSessionConfiguration
//! and Get/SetUserPoolClientSessionConfiguration, ListUserSessions / AdminListUserSessions and
//! RevokeUserSession / AdminRevokeUserSession (docs/sessions.md).
//!
//! A token session is a sign-in's refresh-token family (sessions.rs). Its public id is `tkn`
//! and the family's UUID in 25 base-36 digits, so nothing else is stored to name it. With
//! tracking on, a pool caps the live token sessions of each user: a sign-in that would pass the
//! cap revokes the least recently active others, in the store's insert (one transaction, the
//! user locked), so simultaneous sign-ins cannot pass it together. A refresh is the activity
//! that counts; its time, address and user agent are recorded beside the session.

use gatehouse_wire::*;

use crate::store::{AuthSessionRecord, SessionActivity, SessionPolicy, UserPoolRecord, UserRecord};
use crate::{Core, CoreError, Result};

/// Cognito's default for MaxValidityMinutes of an app client's SSO session.
pub const DEFAULT_SSO_MAX_VALIDITY_MINUTES: i32 = 60;
/// Sessions per page of ListUserSessions (the model's list maximum).
const PAGE: u32 = 125;
/// The longest user agent kept for a session (the model's DeviceType maximum).
const MAX_USER_AGENT: usize = 1024;

const TOKEN_PREFIX: &str = "tkn";
const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// `tkn` and the session's UUID as 25 base-36 digits (36^25 > 2^128).
pub(crate) fn public_session_id(id: &str) -> String {
    let mut n = uuid::Uuid::parse_str(id)
        .map(|u| u.as_u128())
        .unwrap_or_default();
    let mut digits = [b'0'; 25];
    for d in digits.iter_mut().rev() {
        *d = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    format!(
        "{TOKEN_PREFIX}{}",
        std::str::from_utf8(&digits).expect("ascii")
    )
}

/// The session UUID a public token-session id names; None for SSO ids and anything malformed.
pub(crate) fn session_uuid(public: &str) -> Option<String> {
    let digits = public.strip_prefix(TOKEN_PREFIX)?;
    if digits.len() != 25 {
        return None;
    }
    let mut n: u128 = 0;
    for c in digits.bytes() {
        let d = DIGITS.iter().position(|&x| x == c)? as u128;
        n = n.checked_mul(36)?.checked_add(d)?;
    }
    Some(uuid::Uuid::from_u128(n).to_string())
}

/// The live-session cap a new sign-in of `pool` obeys: only while the pool tracks sessions.
pub(crate) fn session_cap(pool: &UserPoolRecord) -> Option<u32> {
    pool.sessions.tracking.then_some(pool.sessions.max_per_user)
}

fn not_tracking() -> CoreError {
    CoreError::OperationNotEnabled("Session tracking is not enabled for this user pool.".into())
}

fn session_not_found() -> CoreError {
    CoreError::ResourceNotFound("Session not found.".into())
}

/// Session configuration needs the Essentials or Plus tier.
fn check_tier(pool: &UserPoolRecord) -> Result<()> {
    if pool.pool.user_pool_tier == Some(UserPoolTierType::Lite) {
        return Err(CoreError::FeatureUnavailableInTier(
            "Session tracking is not available in the LITE tier.".into(),
        ));
    }
    Ok(())
}

fn tracking_name(on: bool) -> UserSessionTrackingType {
    if on {
        UserSessionTrackingType::Enabled
    } else {
        UserSessionTrackingType::Disabled
    }
}

fn epoch(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

impl Core {
    /// The caller of the current request as a session's latest activity, at `at`.
    pub(crate) fn activity_at(&self, at: i64) -> SessionActivity {
        let caller = crate::triggers::current_request().caller;
        SessionActivity {
            at,
            ip: caller.ip.map(|ip| ip.to_string()),
            user_agent: caller.user_agent.map(|ua| {
                let mut end = ua.len().min(MAX_USER_AGENT);
                while !ua.is_char_boundary(end) {
                    end -= 1;
                }
                ua[..end].to_string()
            }),
        }
    }

    /// A refresh used `session`: recorded when the pool tracks sessions (LastActiveDate, and
    /// the order in which the cap evicts).
    pub(crate) async fn note_session_use(
        &self,
        pool: &UserPoolRecord,
        session: &AuthSessionRecord,
    ) -> Result<()> {
        if pool.sessions.tracking {
            let activity = self.activity_at(self.now_millis());
            self.tokens()
                .touch_auth_session(&session.id, &activity)
                .await?;
        }
        Ok(())
    }

    pub async fn get_user_pool_session_configuration(
        &self,
        req: GetUserPoolSessionConfigurationRequest,
    ) -> Result<GetUserPoolSessionConfigurationResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        Ok(GetUserPoolSessionConfigurationResponse {
            user_pool_id: Some(pool.id.clone()),
            user_session_tracking: Some(tracking_name(pool.sessions.tracking)),
            token_session: Some(UserPoolTokenSessionConfigType {
                max_per_user: pool.sessions.max_per_user as i32,
            }),
        })
    }

    /// Replaces the pool's session configuration whole. Lowering the cap evicts nothing now:
    /// each user is brought within it at their next sign-in.
    pub async fn set_user_pool_session_configuration(
        &self,
        req: SetUserPoolSessionConfigurationRequest,
    ) -> Result<SetUserPoolSessionConfigurationResponse> {
        let policy = SessionPolicy {
            tracking: req.user_session_tracking == UserSessionTrackingType::Enabled,
            max_per_user: req.token_session.max_per_user.clamp(1, 100) as u32,
        };
        let pool = self
            .modify_pool_record(&req.user_pool_id, |pool| {
                check_tier(pool)?;
                pool.sessions = policy;
                Ok(())
            })
            .await?;
        Ok(SetUserPoolSessionConfigurationResponse {
            user_pool_id: Some(pool.id.clone()),
            user_session_tracking: Some(tracking_name(pool.sessions.tracking)),
            token_session: Some(UserPoolTokenSessionConfigType {
                max_per_user: pool.sessions.max_per_user as i32,
            }),
        })
    }

    pub async fn get_user_pool_client_session_configuration(
        &self,
        req: GetUserPoolClientSessionConfigurationRequest,
    ) -> Result<GetUserPoolClientSessionConfigurationResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let client = self.app_client(&pool.id, &req.client_id).await?;
        Ok(GetUserPoolClientSessionConfigurationResponse {
            user_pool_id: Some(pool.id.clone()),
            client_id: Some(client.client_id.clone()),
            sso_session: Some(ClientSSOSessionConfigType {
                max_validity_minutes: sso_max_validity_minutes(&client),
            }),
        })
    }

    pub async fn set_user_pool_client_session_configuration(
        &self,
        req: SetUserPoolClientSessionConfigurationRequest,
    ) -> Result<SetUserPoolClientSessionConfigurationResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        check_tier(&pool)?;
        if !pool.sessions.tracking {
            return Err(not_tracking());
        }
        let minutes = req.sso_session.max_validity_minutes;
        let client = self
            .modify_app_client(&pool.id, &req.client_id, |c| {
                c.sso_max_validity_minutes = Some(minutes);
                Ok(())
            })
            .await?;
        Ok(SetUserPoolClientSessionConfigurationResponse {
            user_pool_id: Some(pool.id.clone()),
            client_id: Some(client.client_id.clone()),
            sso_session: Some(ClientSSOSessionConfigType {
                max_validity_minutes: sso_max_validity_minutes(&client),
            }),
        })
    }

    /// ListUserSessions: the caller's live sessions, the one its token belongs to marked.
    pub async fn list_user_sessions(
        &self,
        req: ListUserSessionsRequest,
    ) -> Result<ListUserSessionsResponse> {
        let t = self.access_token(&req.access_token).await?;
        let (sessions, next_token) = self
            .session_page(
                &t.pool,
                &t.user,
                req.next_token.as_deref(),
                Some(&t.session.id),
            )
            .await?;
        Ok(ListUserSessionsResponse {
            sessions: Some(sessions),
            next_token,
        })
    }

    pub async fn admin_list_user_sessions(
        &self,
        req: AdminListUserSessionsRequest,
    ) -> Result<AdminListUserSessionsResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let (sessions, next_token) = self
            .session_page(&pool, &user, req.next_token.as_deref(), None)
            .await?;
        Ok(AdminListUserSessionsResponse {
            sessions: Some(sessions),
            next_token,
        })
    }

    /// RevokeUserSession: another of the caller's sessions ends, its refresh and access tokens
    /// with it (every process checks the session on each use).
    pub async fn revoke_user_session(
        &self,
        req: RevokeUserSessionRequest,
    ) -> Result<RevokeUserSessionResponse> {
        let t = self.access_token(&req.access_token).await?;
        if session_uuid(&req.session_id).as_deref() == Some(t.session.id.as_str()) {
            return Err(CoreError::InvalidParameter(
                "The current session cannot be revoked.".into(),
            ));
        }
        self.revoke_session_of(&t.pool, &t.user, &req.session_id)
            .await?;
        Ok(RevokeUserSessionResponse {})
    }

    pub async fn admin_revoke_user_session(
        &self,
        req: AdminRevokeUserSessionRequest,
    ) -> Result<AdminRevokeUserSessionResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        self.revoke_session_of(&pool, &user, &req.session_id)
            .await?;
        Ok(AdminRevokeUserSessionResponse {})
    }

    /// Revokes `public_id` if it is a live session of `user`. Token sessions have no linked
    /// SSO session to revoke with them (RevokeAssociatedSessions): the hosted-login cookie
    /// names the sign-in's own session, so revoking that one ends the cookie too.
    async fn revoke_session_of(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        public_id: &str,
    ) -> Result<()> {
        if !pool.sessions.tracking {
            return Err(not_tracking());
        }
        let id = session_uuid(public_id).ok_or_else(session_not_found)?;
        let now = self.now_millis();
        let session = self
            .tokens()
            .auth_session(&id)
            .await?
            .filter(|s| {
                s.pool_id == pool.id
                    && s.username_key == user.username_key
                    && s.revoked_at.is_none()
                    && s.expires_at > now
            })
            .ok_or_else(session_not_found)?;
        self.tokens().revoke_auth_session(&session.id, now).await?;
        Ok(())
    }

    async fn session_page(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        next_token: Option<&str>,
        current: Option<&str>,
    ) -> Result<(Vec<SessionDescriptionType>, Option<String>)> {
        if !pool.sessions.tracking {
            return Err(not_tracking());
        }
        let after = crate::pagination::decode(next_token)?;
        let mut rows = self
            .tokens()
            .live_auth_sessions(
                &pool.id,
                &user.username_key,
                self.now_millis(),
                after.as_deref(),
                PAGE + 1,
            )
            .await?;
        let next = crate::pagination::next_token(&mut rows, PAGE, |s| s.id.as_str());
        let mut out = Vec::with_capacity(rows.len());
        for s in rows {
            let device = match &s.device_key {
                Some(key) => self.devices().device(&pool.id, key).await?,
                None => None,
            };
            let device_type = device
                .and_then(|d| d.name)
                .or_else(|| {
                    s.activity
                        .user_agent
                        .as_deref()
                        .map(crate::auth_events::device_name_of)
                })
                .unwrap_or_else(|| "unknown".into());
            out.push(SessionDescriptionType {
                session_id: Some(public_session_id(&s.id)),
                session_type: Some(SessionTypeType::Token),
                client_id: Some(s.client_id.clone()),
                create_date: Some(epoch(s.created_at)),
                last_active_date: Some(epoch(s.activity.at.max(s.created_at))),
                device_type: Some(device_type),
                last_ip_address: s.activity.ip.clone(),
                last_location: None,
                origin_session_id: None,
                is_current_session: Some(current == Some(s.id.as_str())),
            });
        }
        Ok((out, next))
    }
}

/// The app client's SSO session validity, or Cognito's default.
pub(crate) fn sso_max_validity_minutes(client: &crate::store::AppClientRecord) -> i32 {
    client
        .sso_max_validity_minutes
        .unwrap_or(DEFAULT_SSO_MAX_VALIDITY_MINUTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_name_their_session_and_match_the_model() {
        for id in [
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "0b9f4d0e-7a55-4c1c-9d5e-1f2a3b4c5d6e",
        ] {
            let public = public_session_id(id);
            assert_eq!(public.len(), 28, "{public}");
            assert!(public.starts_with("tkn"));
            assert!(public[3..]
                .bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
            assert_eq!(session_uuid(&public).as_deref(), Some(id));
        }
        assert_eq!(session_uuid("sso0000000000000000000000000"), None);
        assert_eq!(session_uuid("tknzzzzzzzzzzzzzzzzzzzzzzzzz"), None);
        assert_eq!(session_uuid("tkn00000000000000000000000"), None);
    }
}
