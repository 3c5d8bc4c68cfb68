//! Users: usernames and aliases, AdminCreateUser, AdminGetUser, AdminDeleteUser,
//! AdminDisableUser, AdminEnableUser, AdminSetUserPassword, AdminUpdateUserAttributes,
//! AdminDeleteUserAttributes, ListUsers.

use gatehouse_wire::*;

use crate::attributes::{check_deletable, check_writes, is_email, is_phone, to_wire};
use crate::codes::{Letter, VERIFY_ATTRIBUTE_CODE_TTL_MS};
use crate::messages::{Medium, Purpose};
use crate::store::{AliasClaim, FilterAttribute, UserFilter, UserPoolRecord, UserRecord};
use crate::triggers::{messages_from, Call, MessageContext, Trigger};
use crate::{pagination, passwords, Caller, Core, CoreError, Result, StoreError};

/// Compare-and-swap rounds before a user write gives up (with [`crate::backoff`] between
/// them, about two seconds in all).
const CAS_ATTEMPTS: u32 = 40;

/// Whether the pool matches usernames without regard to case.
fn case_insensitive(pool: &UserPoolType) -> bool {
    pool.username_configuration
        .as_ref()
        .is_some_and(|c| !c.case_sensitive)
}

/// The key a username is stored and looked up under.
pub(crate) fn username_key(pool: &UserPoolType, username: &str) -> String {
    if case_insensitive(pool) {
        username.to_lowercase()
    } else {
        username.to_string()
    }
}

fn username_attributes(pool: &UserPoolType) -> Vec<&str> {
    pool.username_attributes
        .iter()
        .flatten()
        .map(|a| a.as_str())
        .collect()
}

fn alias_attributes(pool: &UserPoolType) -> Vec<&str> {
    pool.alias_attributes
        .iter()
        .flatten()
        .map(|a| a.as_str())
        .collect()
}

/// What an attribute is for signing in, if anything.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Listed in `UsernameAttributes`: it is the user's sign-in name.
    Username,
    /// Listed in `AliasAttributes`: it stands in for the username once verified.
    Alias,
}

fn sign_in_role(pool: &UserPoolType, attr: &str) -> Option<Role> {
    if username_attributes(pool).contains(&attr) {
        Some(Role::Username)
    } else if alias_attributes(pool).contains(&attr) {
        Some(Role::Alias)
    } else {
        None
    }
}

/// Whether `user` holds `attr` as a sign-in name: always for a username attribute and a
/// preferred username, once verified for an email or phone alias.
fn holds(pool: &UserPoolType, attr: &str, user: &UserRecord) -> bool {
    match sign_in_role(pool, attr) {
        Some(Role::Username) => true,
        Some(Role::Alias) => {
            attr == "preferred_username"
                || user
                    .attributes
                    .get(&format!("{attr}_verified"))
                    .map(String::as_str)
                    == Some("true")
        }
        None => false,
    }
}

/// Whether ForceAliasCreation moves this attribute from its holder (a preferred username is
/// never moved: it is refused like a username).
fn takes_over(role: Role, attr: &str) -> bool {
    role == Role::Alias && attr != "preferred_username"
}

/// An alias held by someone else: as a sign-in attribute of a new user
/// (UsernameExistsException), otherwise AliasExistsException.
fn alias_exists(attr: &str, as_username: bool) -> CoreError {
    let what = attr.replace('_', " ");
    if as_username {
        CoreError::UsernameExists(format!("An account with the given {what} already exists."))
    } else {
        CoreError::AliasExists(format!("An account with the {what} already exists."))
    }
}

/// The sign-in aliases `user` claims: each email, phone number or preferred username it holds
/// as a sign-in name, keyed as the pool compares it (emails and preferred usernames without
/// case in case-insensitive pools). The store keeps each key to one user of the pool.
pub(crate) fn alias_claims(pool: &UserPoolType, user: &UserRecord, force: bool) -> Vec<AliasClaim> {
    // A linked identity (identity_providers.rs) has one user in the pool, claimed as an alias.
    let identities = crate::identity_providers::linked_identities(user)
        .into_iter()
        .filter_map(|e| {
            let key = crate::identity_providers::identity_claim(
                e["providerName"].as_str()?,
                e["userId"].as_str()?,
            );
            Some(AliasClaim {
                key,
                attribute: "identities".into(),
                take_over: false,
            })
        });
    ["email", "phone_number", "preferred_username"]
        .into_iter()
        .filter_map(|attr| {
            let value = user.attributes.get(attr)?;
            let role = sign_in_role(pool, attr)?;
            if !holds(pool, attr, user) {
                return None;
            }
            let value = if attr != "phone_number" && case_insensitive(pool) {
                value.to_lowercase()
            } else {
                value.clone()
            };
            Some(AliasClaim {
                key: format!("{attr}:{value}"),
                attribute: attr.to_string(),
                take_over: force && takes_over(role, attr),
            })
        })
        .chain(identities)
        .collect()
}

/// How a new user's username is formed. With `UsernameAttributes` the name given is an email
/// or phone number, kept as that attribute, and the canonical username is a UUID (the sub).
pub(crate) struct NewIdentity {
    pub username: String,
    pub sub: String,
    pub attribute: Option<(&'static str, String)>,
}

impl Core {
    pub(crate) fn new_sub(&self) -> String {
        crate::ids::uuid(self.entropy.as_ref())
    }

    pub(crate) fn new_identity(&self, pool: &UserPoolType, given: &str) -> Result<NewIdentity> {
        let sub = self.new_sub();
        let by = username_attributes(pool);
        if !by.is_empty() {
            let attribute = if by.contains(&"email") && is_email(given) {
                "email"
            } else if by.contains(&"phone_number") && is_phone(given) {
                "phone_number"
            } else if by.contains(&"email") {
                return Err(CoreError::InvalidParameter(
                    "Username should be an email.".into(),
                ));
            } else {
                return Err(CoreError::InvalidParameter(
                    "Username should be a phone number.".into(),
                ));
            };
            return Ok(NewIdentity {
                username: sub.clone(),
                sub,
                attribute: Some((attribute, given.to_string())),
            });
        }
        let aliases = alias_attributes(pool);
        if aliases.contains(&"email") && is_email(given) {
            return Err(CoreError::InvalidParameter("Username cannot be of email format, since user pool is configured for email alias.".into()));
        }
        if aliases.contains(&"phone_number") && is_phone(given) {
            return Err(CoreError::InvalidParameter("Username cannot be of phone number format, since user pool is configured for phone_number alias.".into()));
        }
        Ok(NewIdentity {
            username: given.to_string(),
            sub,
            attribute: None,
        })
    }

    /// Finds a user by username, or by the email, phone number or preferred username that
    /// the pool lets stand in for it (aliases only once verified), or by sub.
    pub(crate) async fn find_user(
        &self,
        pool: &UserPoolRecord,
        name: &str,
    ) -> Result<Option<UserRecord>> {
        let p = &pool.pool;
        if let Some(u) = self.users().user(&pool.id, &username_key(p, name)).await? {
            return Ok(Some(u));
        }
        for attr in ["email", "phone_number", "preferred_username"] {
            let looks_right = match attr {
                "email" => is_email(name),
                "phone_number" => is_phone(name),
                _ => true,
            };
            if !looks_right || sign_in_role(p, attr).is_none() {
                continue;
            }
            let found = self.users_with(pool, attr, name).await?;
            if let Some(u) = found.into_iter().find(|u| holds(p, attr, u)) {
                return Ok(Some(u));
            }
        }
        if uuid::Uuid::parse_str(name).is_ok() {
            return Ok(self.users().user_by_sub(&pool.id, name).await?);
        }
        Ok(None)
    }

    pub(crate) async fn user_or_not_found(
        &self,
        pool: &UserPoolRecord,
        name: &str,
    ) -> Result<UserRecord> {
        self.find_user(pool, name)
            .await?
            .ok_or_else(CoreError::user_not_found)
    }

    /// Read-modify-write of a user with compare-and-swap, retried while other writers win (a
    /// client never sees a ConcurrentModificationException for changes that do not conflict).
    pub(crate) async fn modify_user<F>(
        &self,
        pool: &UserPoolRecord,
        name: &str,
        f: F,
    ) -> Result<UserRecord>
    where
        F: FnMut(&mut UserRecord) -> Result<()> + Send,
    {
        self.write_user(pool, name, false, f).await
    }

    /// [`Core::modify_user`] that, with `force` (ForceAliasCreation), takes the aliases the
    /// user now holds from whoever held them, in the same transaction.
    pub(crate) async fn write_user<F>(
        &self,
        pool: &UserPoolRecord,
        name: &str,
        force: bool,
        mut f: F,
    ) -> Result<UserRecord>
    where
        F: FnMut(&mut UserRecord) -> Result<()> + Send,
    {
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), CAS_ATTEMPTS);
        while rounds.next().await {
            let mut u = self.user_or_not_found(pool, name).await?;
            f(&mut u)?;
            u.updated_at = self.now_millis();
            u.version += 1;
            let claims = alias_claims(&pool.pool, &u, force);
            match self.users().update_user(&u, &claims).await {
                Ok(true) => return Ok(u),
                Ok(false) => continue,
                Err(StoreError::AliasTaken(attr)) => return Err(alias_exists(&attr, false)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::ConcurrentModification(
            "The user was modified concurrently; retry the request.".into(),
        ))
    }

    /// Users whose `attr` is `value`, compared as the pool compares usernames (emails and
    /// preferred usernames ignore case in case-insensitive pools).
    async fn users_with(
        &self,
        pool: &UserPoolRecord,
        attr: &str,
        value: &str,
    ) -> Result<Vec<UserRecord>> {
        let lowered = attr != "phone_number";
        let key = if lowered {
            value.to_lowercase()
        } else {
            value.to_string()
        };
        let mut found = self
            .users()
            .users_by_attribute(&pool.id, attr, &key)
            .await?;
        if lowered && !case_insensitive(&pool.pool) {
            found.retain(|u| u.attributes.get(attr).map(String::as_str) == Some(value));
        }
        Ok(found)
    }

    /// Refuses a user record (about to be written) whose email, phone number or preferred
    /// username is another user's sign-in name or verified alias, so that a refused request
    /// changes nothing. With `force` (ForceAliasCreation) an alias is left to be taken over by
    /// the write. This read is the early, friendly answer; the promise that one alias has one
    /// holder is kept by the store's unique claims, which the write itself takes
    /// ([`alias_claims`]).
    pub(crate) async fn check_aliases_free(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        force: bool,
        creating: bool,
    ) -> Result<()> {
        let p = &pool.pool;
        for attr in ["email", "phone_number", "preferred_username"] {
            let Some(value) = user.attributes.get(attr) else {
                continue;
            };
            let Some(role) = sign_in_role(p, attr) else {
                continue;
            };
            if !holds(p, attr, user) || (force && takes_over(role, attr)) {
                continue;
            }
            let taken = self
                .users_with(pool, attr, value)
                .await?
                .into_iter()
                .any(|o| o.username_key != user.username_key && holds(p, attr, &o));
            if taken {
                return Err(alias_exists(attr, creating && role == Role::Username));
            }
        }
        Ok(())
    }

    /// Stores a new user with its alias claims, answering UsernameExistsException for a taken
    /// username (or sign-in attribute) and AliasExistsException for a taken alias.
    pub(crate) async fn insert_user(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        force: bool,
    ) -> Result<()> {
        let claims = alias_claims(&pool.pool, user, force);
        match self.users().insert_user(user, &claims).await {
            Err(StoreError::Conflict) => {
                Err(CoreError::UsernameExists("User already exists".into()))
            }
            Err(StoreError::AliasTaken(attr)) => {
                let username = sign_in_role(&pool.pool, &attr) == Some(Role::Username);
                Err(alias_exists(&attr, username))
            }
            other => Ok(other?),
        }
    }

    pub(crate) fn user_type(&self, u: &UserRecord, only: Option<&[String]>) -> UserType {
        UserType {
            username: Some(u.username.clone()),
            attributes: Some(to_wire(&u.attributes, only)),
            user_create_date: Some(u.created_at as f64 / 1000.0),
            user_last_modified_date: Some(u.updated_at as f64 / 1000.0),
            enabled: Some(u.enabled),
            user_status: Some(u.status.clone()),
            mfa_options: None,
        }
    }

    pub async fn admin_create_user(
        &self,
        req: AdminCreateUserRequest,
    ) -> Result<AdminCreateUserResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let p = &pool.pool;
        let policy = passwords::policy_of(p);
        if req.message_action == Some(MessageActionType::Resend) {
            return self.resend_invitation(&pool, &req, &policy).await;
        }
        let identity = self.new_identity(p, &req.username)?;
        let mut attributes =
            check_writes(p, req.user_attributes.as_deref().unwrap_or_default(), true)?;
        if let Some((attr, value)) = &identity.attribute {
            attributes.insert(attr.to_string(), value.clone());
        }
        attributes.insert("sub".into(), identity.sub.clone());
        // Required attributes may be missing: the user supplies them when answering
        // NEW_PASSWORD_REQUIRED, as Cognito documents for AdminCreateUser.
        let temporary = match &req.temporary_password {
            Some(t) => {
                passwords::check_policy(&policy, t)?;
                t.clone()
            }
            None => passwords::generate_temporary(self.entropy.as_ref(), &policy),
        };
        let now = self.now_millis();
        let days = policy.temporary_password_validity_days.unwrap_or(7) as i64;
        let user = UserRecord {
            pool_id: pool.id.clone(),
            username_key: username_key(p, &identity.username),
            username: identity.username.clone(),
            sub: identity.sub,
            status: UserStatusType::ForceChangePassword,
            enabled: true,
            attributes,
            password: Some(passwords::make_record(
                self.entropy.as_ref(),
                &pool.id,
                &identity.username,
                &temporary,
            )),
            password_history: Vec::new(),
            imported_hash: None,
            temporary_password_expires_at: Some(now + days * 86_400_000),
            created_at: now,
            updated_at: now,
            version: 1,
            mfa_options: Vec::new(),
            mfa: Default::default(),
            failed_sign_ins: 0,
            locked_until: None,
        };
        let force = req.force_alias_creation == Some(true);
        self.check_aliases_free(&pool, &user, force, true).await?;
        // PreSignUp may refuse the user; its flags do not apply to AdminCreateUser.
        let mut given = user.attributes.clone();
        given.remove("sub");
        let validation_data: Option<std::collections::BTreeMap<String, String>> =
            req.validation_data.as_ref().map(|v| {
                v.iter()
                    .map(|a| (a.name.clone(), a.value.clone().unwrap_or_default()))
                    .collect()
            });
        let call = Call {
            pool: &pool,
            trigger: Trigger::PreSignUp,
            source: "PreSignUp_AdminCreateUser",
            user_name: &user.username,
            client_id: None,
            caller: &Caller::default(),
        };
        self.pre_sign_up_trigger(
            call,
            &given,
            validation_data.as_ref(),
            req.client_metadata.as_ref(),
        )
        .await?;
        self.insert_user(&pool, &user, force)
            .await
            .map_err(|e| match e {
                CoreError::UsernameExists(_) => {
                    CoreError::UsernameExists("User account already exists".into())
                }
                e => e,
            })?;
        if req.message_action != Some(MessageActionType::Suppress) {
            let from = MessageContext::new("CustomMessage_AdminCreateUser", None)
                .with_metadata(req.client_metadata.as_ref());
            messages_from(from, self.send_invitation(p, &user, &req, &temporary)).await?;
        }
        Ok(AdminCreateUserResponse {
            user: Some(self.user_type(&user, None)),
        })
    }

    async fn resend_invitation(
        &self,
        pool: &UserPoolRecord,
        req: &AdminCreateUserRequest,
        policy: &PasswordPolicyType,
    ) -> Result<AdminCreateUserResponse> {
        let existing = self.user_or_not_found(pool, &req.username).await?;
        if existing.status != UserStatusType::ForceChangePassword {
            return Err(CoreError::UnsupportedUserState(
                "Resend not possible. User is not in FORCE_CHANGE_PASSWORD state.".into(),
            ));
        }
        let temporary = match &req.temporary_password {
            Some(t) => {
                passwords::check_policy(policy, t)?;
                t.clone()
            }
            None => passwords::generate_temporary(self.entropy.as_ref(), policy),
        };
        let days = policy.temporary_password_validity_days.unwrap_or(7) as i64;
        let now = self.now_millis();
        let user = self
            .modify_user(pool, &existing.username, |u| {
                passwords::replace(self.entropy.as_ref(), policy, u, &temporary)?;
                u.temporary_password_expires_at = Some(now + days * 86_400_000);
                Ok(())
            })
            .await?;
        let from = MessageContext::new("CustomMessage_AdminCreateUser", None)
            .with_metadata(req.client_metadata.as_ref());
        messages_from(
            from,
            self.send_invitation(&pool.pool, &user, req, &temporary),
        )
        .await?;
        Ok(AdminCreateUserResponse {
            user: Some(self.user_type(&user, None)),
        })
    }

    /// The invitation with the temporary password, through each requested medium the user
    /// has a destination for (Cognito's default medium is SMS).
    async fn send_invitation(
        &self,
        pool: &UserPoolType,
        user: &UserRecord,
        req: &AdminCreateUserRequest,
        temporary: &str,
    ) -> Result<()> {
        let mediums = req
            .desired_delivery_mediums
            .clone()
            .unwrap_or_else(|| vec![DeliveryMediumType::Sms]);
        let t = pool
            .admin_create_user_config
            .as_ref()
            .and_then(|c| c.invite_message_template.clone())
            .unwrap_or_default();
        let fill = |s: String| {
            s.replace("{username}", &user.username)
                .replace("{####}", temporary)
        };
        for m in mediums {
            let (attribute, medium, subject, template) = match m {
                DeliveryMediumType::Email => (
                    "email",
                    Medium::Email,
                    Some(
                        t.email_subject
                            .clone()
                            .unwrap_or_else(|| "Your temporary password".into()),
                    ),
                    t.email_message.clone().unwrap_or_else(|| {
                        "Your username is {username} and temporary password is {####}.".into()
                    }),
                ),
                _ => (
                    "phone_number",
                    Medium::Sms,
                    None,
                    t.sms_message.clone().unwrap_or_else(|| {
                        "Your username is {username} and temporary password is {####}.".into()
                    }),
                ),
            };
            let Some(destination) = user.attributes.get(attribute) else {
                tracing::info!(pool_id = %user.pool_id, medium = medium.as_str(), "no destination for the invitation in this medium");
                continue;
            };
            self.send(
                user,
                Letter {
                    medium,
                    destination,
                    purpose: Purpose::Invitation,
                    subject,
                    body: fill(template),
                    code: Some(temporary.to_string()),
                    attribute,
                },
            )
            .await?;
        }
        Ok(())
    }

    pub async fn admin_get_user(&self, req: AdminGetUserRequest) -> Result<AdminGetUserResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let u = self.user_or_not_found(&pool, &req.username).await?;
        let t = self.user_type(&u, None);
        let (enabled, preferred) = crate::mfa::user_mfa_settings(&u);
        Ok(AdminGetUserResponse {
            username: u.username,
            user_attributes: t.attributes,
            user_create_date: t.user_create_date,
            user_last_modified_date: t.user_last_modified_date,
            enabled: t.enabled,
            user_status: t.user_status,
            mfa_options: (!u.mfa_options.is_empty()).then(|| u.mfa_options.clone()),
            preferred_mfa_setting: preferred,
            user_mfa_setting_list: enabled,
        })
    }

    pub async fn admin_delete_user(&self, req: AdminDeleteUserRequest) -> Result<()> {
        let pool = self.pool(&req.user_pool_id).await?;
        let u = self.user_or_not_found(&pool, &req.username).await?;
        self.users().delete_user(&pool.id, &u.username_key).await?;
        Ok(())
    }

    pub async fn admin_disable_user(
        &self,
        req: AdminDisableUserRequest,
    ) -> Result<AdminDisableUserResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self
            .modify_user(&pool, &req.username, |u| {
                u.enabled = false;
                Ok(())
            })
            .await?;
        // As Cognito: disabling revokes the user's tokens; enabling again does not revive them.
        self.tokens()
            .revoke_user_sessions(&pool.id, &user.username_key, self.now_millis())
            .await?;
        Ok(AdminDisableUserResponse {})
    }

    pub async fn admin_enable_user(
        &self,
        req: AdminEnableUserRequest,
    ) -> Result<AdminEnableUserResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        self.modify_user(&pool, &req.username, |u| {
            u.enabled = true;
            Ok(())
        })
        .await?;
        Ok(AdminEnableUserResponse {})
    }

    pub async fn admin_set_user_password(
        &self,
        req: AdminSetUserPasswordRequest,
    ) -> Result<AdminSetUserPasswordResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let policy = passwords::policy_of(&pool.pool);
        let permanent = req.permanent == Some(true);
        let now = self.now_millis();
        let days = policy.temporary_password_validity_days.unwrap_or(7) as i64;
        self.modify_user(&pool, &req.username, |u| {
            passwords::replace(self.entropy.as_ref(), &policy, u, &req.password)?;
            if permanent {
                u.status = UserStatusType::Confirmed;
                u.temporary_password_expires_at = None;
            } else {
                u.status = UserStatusType::ForceChangePassword;
                u.temporary_password_expires_at = Some(now + days * 86_400_000);
            }
            Ok(())
        })
        .await?;
        Ok(AdminSetUserPasswordResponse {})
    }

    pub async fn admin_update_user_attributes(
        &self,
        req: AdminUpdateUserAttributesRequest,
    ) -> Result<AdminUpdateUserAttributesResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let from = MessageContext::new("CustomMessage_UpdateUserAttribute", None)
            .with_metadata(req.client_metadata.as_ref());
        messages_from(
            from,
            self.update_attributes(&pool, &req.username, &req.user_attributes),
        )
        .await?;
        Ok(AdminUpdateUserAttributesResponse {})
    }

    /// Sets (or, for a blank value, deletes) attributes. A changed email or phone number is
    /// unverified again unless the request sets its `_verified` flag too, and a code goes out
    /// when the pool auto-verifies it; returns where codes went.
    pub(crate) async fn update_attributes(
        &self,
        pool: &UserPoolRecord,
        username: &str,
        attributes: &[AttributeType],
    ) -> Result<Vec<CodeDeliveryDetailsType>> {
        let (blank, given): (Vec<AttributeType>, Vec<AttributeType>) = attributes
            .iter()
            .cloned()
            .partition(|a| a.value.as_deref().unwrap_or("").is_empty());
        let removed: Vec<String> = blank.into_iter().map(|a| a.name).collect();
        check_deletable(&pool.pool, &removed)?;
        let changes = check_writes(&pool.pool, &given, false)?;
        let auto: Vec<String> = pool
            .pool
            .auto_verified_attributes
            .iter()
            .flatten()
            .map(|a| a.as_str().to_string())
            .collect();
        // Returns the attributes that now need a verification code.
        let apply = |u: &mut UserRecord| -> Vec<String> {
            let mut to_verify = Vec::new();
            for name in &removed {
                u.attributes.remove(name);
            }
            for (k, v) in &changes {
                let changed = u.attributes.get(k) != Some(v);
                u.attributes.insert(k.clone(), v.clone());
                if changed && (k == "email" || k == "phone_number") {
                    let flag = format!("{k}_verified");
                    if !changes.contains_key(&flag) {
                        u.attributes.insert(flag, "false".into());
                        if auto.contains(k) {
                            to_verify.push(k.clone());
                        }
                    }
                }
            }
            to_verify
        };
        // Alias conflicts are refused before anything is written.
        let mut candidate = self.user_or_not_found(pool, username).await?;
        apply(&mut candidate);
        self.check_aliases_free(pool, &candidate, false, false)
            .await?;
        let mut to_verify = Vec::new();
        let user = self
            .modify_user(pool, &candidate.username, |u| {
                to_verify = apply(u);
                Ok(())
            })
            .await?;
        let mut sent = Vec::new();
        for attr in to_verify {
            sent.extend(
                self.send_code_to(
                    &pool.pool,
                    &user,
                    &attr,
                    Purpose::VerifyAttribute,
                    VERIFY_ATTRIBUTE_CODE_TTL_MS,
                )
                .await?,
            );
        }
        Ok(sent)
    }

    pub async fn admin_delete_user_attributes(
        &self,
        req: AdminDeleteUserAttributesRequest,
    ) -> Result<AdminDeleteUserAttributesResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        check_deletable(&pool.pool, &req.user_attribute_names)?;
        self.modify_user(&pool, &req.username, |u| {
            for name in &req.user_attribute_names {
                u.attributes.remove(name);
            }
            Ok(())
        })
        .await?;
        Ok(AdminDeleteUserAttributesResponse {})
    }

    pub async fn list_users(&self, req: ListUsersRequest) -> Result<ListUsersResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let filter = req
            .filter
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .map(parse_filter)
            .transpose()?;
        let after = pagination::decode(req.pagination_token.as_deref())?;
        let limit = req.limit.unwrap_or(60).clamp(1, 60) as u32;
        let mut rows = self
            .users()
            .list_users(&pool.id, filter.as_ref(), after.as_deref(), limit + 1)
            .await?;
        let token = pagination::next_token(&mut rows, limit, |u| &u.username_key);
        let only = req.attributes_to_get.as_deref();
        Ok(ListUsersResponse {
            users: Some(rows.iter().map(|u| self.user_type(u, only)).collect()),
            pagination_token: token,
        })
    }
}

/// `attribute = "value"` or `attribute ^= "value"` (quotes required; `\"` and `\\` escape).
pub fn parse_filter(text: &str) -> Result<UserFilter> {
    let bad = || CoreError::InvalidParameter("Error while parsing filter.".into());
    let (attr, rest, prefix) = if let Some((a, r)) = text.split_once("^=") {
        (a, r, true)
    } else if let Some((a, r)) = text.split_once('=') {
        (a, r, false)
    } else {
        return Err(bad());
    };
    let name = attr.trim().trim_matches('"');
    let attribute = FilterAttribute::named(name)
        .ok_or_else(|| CoreError::InvalidParameter(format!("Invalid search attribute: {name}")))?;
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(bad)?;
    let mut value = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next().ok_or_else(bad)?),
            '"' => return Err(bad()),
            c => value.push(c),
        }
    }
    // As AWS documents: cognito:user_status ignores case, status (Enabled/Disabled) does not;
    // emails and preferred usernames are indexed lower-cased.
    let value = match attribute {
        FilterAttribute::UserStatus => value.to_uppercase(),
        FilterAttribute::Email | FilterAttribute::PreferredUsername => value.to_lowercase(),
        _ => value,
    };
    Ok(UserFilter {
        attribute,
        prefix,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert_eq!(
            parse_filter(r#"email ^= "ali""#).unwrap(),
            UserFilter {
                attribute: FilterAttribute::Email,
                prefix: true,
                value: "ali".into()
            }
        );
        assert_eq!(
            parse_filter(r#"cognito:user_status = "CONFIRMED""#)
                .unwrap()
                .value,
            "CONFIRMED"
        );
        assert_eq!(parse_filter(r#"name="a \"b\"""#).unwrap().value, "a \"b\"");
        assert!(parse_filter("email = ali").is_err());
        assert!(parse_filter(r#"custom:x = "1""#).is_err());
        assert!(parse_filter("nonsense").is_err());
    }
}
