//! User pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool, ListUserPools,
//! AddCustomAttributes, and the defaults and consistency rules Cognito applies to a pool.

use gatehouse_wire::*;

use crate::console::SeenVersion;
use crate::store::UserPoolRecord;
use crate::{ids, pagination, schema, Core, CoreError, Result};

/// How often a read-modify-write of a pool is retried when another writer got there first.
const CAS_ATTEMPTS: u32 = 5;

/// Cognito's default password policy.
pub fn default_password_policy() -> PasswordPolicyType {
    PasswordPolicyType {
        minimum_length: Some(8),
        require_uppercase: Some(true),
        require_lowercase: Some(true),
        require_numbers: Some(true),
        require_symbols: Some(true),
        temporary_password_validity_days: Some(7),
        password_history_size: None,
    }
}

/// An omitted policy is Cognito's default; in a given one, omitted requirements are off.
fn complete_policies(p: Option<UserPoolPolicyType>) -> UserPoolPolicyType {
    let mut p = p.unwrap_or_default();
    let d = default_password_policy();
    p.password_policy = Some(match p.password_policy.take() {
        None => d,
        Some(g) => PasswordPolicyType {
            minimum_length: g.minimum_length.or(d.minimum_length),
            require_uppercase: Some(g.require_uppercase.unwrap_or(false)),
            require_lowercase: Some(g.require_lowercase.unwrap_or(false)),
            require_numbers: Some(g.require_numbers.unwrap_or(false)),
            require_symbols: Some(g.require_symbols.unwrap_or(false)),
            temporary_password_validity_days: g
                .temporary_password_validity_days
                .or(d.temporary_password_validity_days),
            password_history_size: g.password_history_size,
        },
    });
    p
}

/// Writes `s` into `pool`, defaults for everything omitted, and checks the combinations Cognito
/// refuses.
fn apply(pool: &mut UserPoolType, s: UserPoolSettings) -> Result<()> {
    // No `..`: a member the model adds fails to compile here until it is given a meaning.
    let UserPoolSettings {
        account_recovery_setting,
        acr_configuration,
        admin_create_user_config,
        auto_verified_attributes,
        dcr_configuration,
        deletion_protection,
        device_configuration,
        email_configuration,
        email_verification_message,
        email_verification_subject,
        issuer_configuration,
        key_configuration,
        lambda_config,
        mfa_configuration,
        policies,
        pool_name,
        sms_authentication_message,
        sms_configuration,
        sms_verification_message,
        user_attribute_update_settings,
        user_pool_add_ons,
        user_pool_tags,
        user_pool_tier,
        verification_message_template,
    } = s;
    // The name and the tags are kept when an update omits them.
    if let Some(name) = pool_name {
        pool.name = Some(name);
    }
    if let Some(tags) = user_pool_tags {
        pool.user_pool_tags = Some(tags);
    }
    // Legacy verification members and the template describe the same messages; keep both
    // views consistent whichever the caller used.
    let mut template = verification_message_template.unwrap_or_default();
    template
        .default_email_option
        .get_or_insert(DefaultEmailOptionType::ConfirmWithCode);
    if template.email_message.is_none() {
        template.email_message = email_verification_message.clone();
    }
    if template.email_subject.is_none() {
        template.email_subject = email_verification_subject.clone();
    }
    if template.sms_message.is_none() {
        template.sms_message = sms_verification_message.clone();
    }
    pool.email_verification_message = email_verification_message.or(template.email_message.clone());
    pool.email_verification_subject = email_verification_subject.or(template.email_subject.clone());
    pool.sms_verification_message = sms_verification_message.or(template.sms_message.clone());
    pool.verification_message_template = Some(template);

    pool.account_recovery_setting = account_recovery_setting;
    let mut admin = admin_create_user_config.unwrap_or_default();
    admin.allow_admin_create_user_only.get_or_insert(false);
    admin.unused_account_validity_days.get_or_insert(7);
    pool.admin_create_user_config = Some(admin);
    pool.auto_verified_attributes = auto_verified_attributes;
    pool.deletion_protection =
        Some(deletion_protection.unwrap_or(DeletionProtectionType::Inactive));
    // Absent means device tracking is off (the console's "No").
    pool.device_configuration = device_configuration;
    let mut email = email_configuration.unwrap_or_default();
    email
        .email_sending_account
        .get_or_insert(EmailSendingAccountType::CognitoDefault);
    pool.email_configuration = Some(email);
    pool.lambda_config = Some(lambda_config.unwrap_or_default());
    pool.mfa_configuration = Some(mfa_configuration.unwrap_or(UserPoolMfaType::Off));
    pool.policies = Some(complete_policies(policies));
    pool.sms_authentication_message = sms_authentication_message;
    pool.sms_configuration = sms_configuration;
    pool.user_attribute_update_settings = user_attribute_update_settings;
    pool.user_pool_add_ons = user_pool_add_ons;
    pool.user_pool_tier = Some(user_pool_tier.unwrap_or(UserPoolTierType::Essentials));
    // Stored and described as given; Gatehouse's issuer, signing keys and encryption at rest
    // do not change with them (docs/protocol.md §14).
    pool.acr_configuration = acr_configuration;
    pool.dcr_configuration = dcr_configuration;
    pool.issuer_configuration = issuer_configuration;
    pool.key_configuration = key_configuration;
    check_consistency(pool)
}

/// Combinations Cognito refuses.
fn check_consistency(pool: &UserPoolType) -> Result<()> {
    if pool
        .username_attributes
        .as_ref()
        .is_some_and(|v| !v.is_empty())
        && pool
            .alias_attributes
            .as_ref()
            .is_some_and(|v| !v.is_empty())
    {
        return Err(CoreError::InvalidParameter(
            "Only one of aliasAttributes or usernameAttributes can be set in a User Pool.".into(),
        ));
    }
    if let Some(tags) = &pool.user_pool_tags {
        crate::tags::check(tags)?;
    }
    if let Some(attrs) = &pool.auto_verified_attributes {
        for a in attrs {
            let name = a.as_str();
            let schema = pool.schema_attributes.as_deref().unwrap_or_default();
            if !schema.iter().any(|s| s.name.as_deref() == Some(name)) {
                return Err(CoreError::InvalidParameter(format!(
                    "Auto verified attribute {name} is not in the schema."
                )));
            }
        }
    }
    Ok(())
}

impl Core {
    pub fn pool_arn(&self, pool_id: &str) -> String {
        format!(
            "arn:aws:cognito-idp:{}:{}:userpool/{pool_id}",
            self.config.region, self.config.account_id
        )
    }

    /// The pool, or Cognito's ResourceNotFoundException (from the record cache when fresh).
    pub(crate) async fn pool(&self, pool_id: &str) -> Result<UserPoolRecord> {
        if let Some(rec) = self.records.pool(pool_id) {
            return Ok(rec);
        }
        let read_at = self.records.generation();
        let rec = self.pool_from_store(pool_id).await?;
        self.records.put_pool(&rec, read_at);
        Ok(rec)
    }

    /// The pool as stored now: what a read-modify-write must start from.
    pub(crate) async fn pool_from_store(&self, pool_id: &str) -> Result<UserPoolRecord> {
        self.pools()
            .user_pool(pool_id)
            .await?
            .ok_or_else(|| CoreError::pool_not_found(pool_id))
    }

    /// Read-modify-write of a pool with compare-and-swap, so concurrent updates from any server
    /// process are never lost.
    pub(crate) async fn modify_pool<F>(&self, pool_id: &str, mut f: F) -> Result<UserPoolRecord>
    where
        F: FnMut(&mut UserPoolType) -> Result<()> + Send,
    {
        self.modify_pool_record(pool_id, |rec| f(&mut rec.pool))
            .await
    }

    /// [`Core::modify_pool`] for changes beyond `UserPoolType` (the MFA settings).
    pub(crate) async fn modify_pool_record<F>(
        &self,
        pool_id: &str,
        mut f: F,
    ) -> Result<UserPoolRecord>
    where
        F: FnMut(&mut UserPoolRecord) -> Result<()> + Send,
    {
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), CAS_ATTEMPTS);
        while rounds.next().await {
            let mut rec = self.pool_from_store(pool_id).await?;
            f(&mut rec)?;
            rec.pool.last_modified_date = Some(self.now_epoch());
            rec.version += 1;
            let echo = self.records.echo_of(format!("pool:{pool_id}"));
            let written = self.pools().update_user_pool(&rec).await?;
            self.records.forget_pool(pool_id);
            if written {
                echo.heard().await;
                return Ok(rec);
            }
        }
        Err(CoreError::ConcurrentModification(
            "The user pool was modified concurrently; retry the request.".into(),
        ))
    }

    /// The description Cognito returns: stored members plus computed ones.
    async fn describe(&self, rec: UserPoolRecord) -> Result<UserPoolType> {
        let mut pool = rec.pool;
        // The pool's domain: a prefix as `Domain`, a custom domain as `CustomDomain`.
        if let Some(d) = self.pools().domain_of_pool(&rec.id).await? {
            if d.custom_domain_config.is_some() {
                pool.custom_domain = d.domain;
            } else {
                pool.domain = d.domain;
            }
        }
        pool.estimated_number_of_users = Some(
            self.users()
                .count_users(&rec.id)
                .await?
                .min(i32::MAX as i64) as i32,
        );
        Ok(pool)
    }

    pub async fn create_user_pool(
        &self,
        req: CreateUserPoolRequest,
    ) -> Result<CreateUserPoolResponse> {
        let now = self.now_epoch();
        let id = ids::user_pool_id(self.entropy.as_ref(), &self.config.region);
        let mut pool = UserPoolType {
            id: Some(id.clone()),
            arn: Some(self.pool_arn(&id)),
            creation_date: Some(now),
            last_modified_date: Some(now),
            status: Some(StatusType::Enabled),
            schema_attributes: Some(schema::pool_schema(
                req.schema.as_deref().unwrap_or_default(),
            )?),
            username_attributes: req.username_attributes.clone(),
            alias_attributes: req.alias_attributes.clone(),
            username_configuration: req.username_configuration.clone(),
            ..Default::default()
        };
        // CreateUserPool configures only SMS MFA; TOTP and email come with SetUserPoolMfaConfig.
        if matches!(
            req.mfa_configuration,
            Some(UserPoolMfaType::On | UserPoolMfaType::Optional)
        ) && req.sms_configuration.is_none()
        {
            return Err(CoreError::InvalidParameter(
                "SMS configuration is required when MfaConfiguration is ON or OPTIONAL; configure TOTP or email MFA with SetUserPoolMfaConfig.".into(),
            ));
        }
        apply(&mut pool, UserPoolSettings::from(&req))?;
        let rec = UserPoolRecord {
            id,
            version: 1,
            pool,
            mfa: Default::default(),
            device_policy: Default::default(),
            sessions: Default::default(),
        };
        self.pools().insert_user_pool(&rec).await?;
        self.create_signing_keys(&rec.id).await?;
        tracing::info!(pool_id = %rec.id, "user pool created");
        Ok(CreateUserPoolResponse {
            user_pool: Some(self.describe(rec).await?),
        })
    }

    pub async fn describe_user_pool(
        &self,
        req: DescribeUserPoolRequest,
    ) -> Result<DescribeUserPoolResponse> {
        // Admin reads show what is stored now, even if another process changed it a moment ago.
        let rec = self.pool_from_store(&req.user_pool_id).await?;
        Ok(DescribeUserPoolResponse {
            user_pool: Some(self.describe(rec).await?),
        })
    }

    pub async fn update_user_pool(
        &self,
        req: UpdateUserPoolRequest,
    ) -> Result<UpdateUserPoolResponse> {
        self.update_user_pool_as_seen(req, SeenVersion::default())
            .await
    }

    /// UpdateUserPool from a console form drawn from version `seen` of the pool.
    pub async fn update_user_pool_as_seen(
        &self,
        req: UpdateUserPoolRequest,
        seen: SeenVersion,
    ) -> Result<UpdateUserPoolResponse> {
        self.refuse_while_importing(&req.user_pool_id).await?;
        self.modify_pool_record(&req.user_pool_id, |rec| {
            seen.check(rec.version, "user pool")?;
            apply(&mut rec.pool, UserPoolSettings::from(req.clone()))
        })
        .await?;
        Ok(UpdateUserPoolResponse {})
    }

    /// The pool as stored now, with the version a form drawn from it must name when it saves.
    pub async fn user_pool_record(&self, pool_id: &str) -> Result<UserPoolRecord> {
        self.pool_from_store(pool_id).await
    }

    pub async fn delete_user_pool(&self, req: DeleteUserPoolRequest) -> Result<()> {
        let rec = self.pool_from_store(&req.user_pool_id).await?;
        self.refuse_while_importing(&req.user_pool_id).await?;
        if rec.pool.deletion_protection == Some(DeletionProtectionType::Active) {
            return Err(CoreError::InvalidParameter(
                "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.".into(),
            ));
        }
        // Cognito's precondition. A domain created between this read and the delete goes with
        // the pool (the table cascades), so no domain is ever left naming a deleted pool.
        if self
            .pools()
            .domain_of_pool(&req.user_pool_id)
            .await?
            .is_some()
        {
            return Err(CoreError::InvalidParameter(
                "User pool cannot be deleted. It has a domain configured that should be deleted first.".into(),
            ));
        }
        let echo = self.records.echo_of(format!("pool:{}", req.user_pool_id));
        if !self.pools().delete_user_pool(&req.user_pool_id).await? {
            return Err(CoreError::pool_not_found(&req.user_pool_id));
        }
        self.key_cache.forget(&req.user_pool_id);
        self.records.forget_pool(&req.user_pool_id);
        echo.heard().await;
        tracing::info!(pool_id = %req.user_pool_id, "user pool deleted");
        Ok(())
    }

    /// `visible`: the pools the caller may see (a pool-scoped credential), `None` for all.
    pub async fn list_user_pools(
        &self,
        req: ListUserPoolsRequest,
        visible: Option<&[String]>,
    ) -> Result<ListUserPoolsResponse> {
        let after = pagination::decode(req.next_token.as_deref())?;
        let limit = req.max_results.clamp(1, 60) as u32;
        // One extra row tells whether another page exists.
        let mut rows = self
            .pools()
            .list_user_pools(after.as_deref(), limit + 1, visible)
            .await?;
        let next_token = pagination::next_token(&mut rows, limit, |r| &r.id);
        let user_pools = rows
            .into_iter()
            .map(|r| UserPoolDescriptionType {
                id: r.pool.id,
                name: r.pool.name,
                lambda_config: r.pool.lambda_config,
                status: r.pool.status,
                creation_date: r.pool.creation_date,
                last_modified_date: r.pool.last_modified_date,
                replica_regions: None,
            })
            .collect();
        Ok(ListUserPoolsResponse {
            user_pools: Some(user_pools),
            next_token,
        })
    }

    pub async fn add_custom_attributes(
        &self,
        req: AddCustomAttributesRequest,
    ) -> Result<AddCustomAttributesResponse> {
        self.refuse_while_importing(&req.user_pool_id).await?;
        self.modify_pool(&req.user_pool_id, |pool| {
            let schema = pool.schema_attributes.get_or_insert_with(Vec::new);
            schema::add_custom(schema, &req.custom_attributes)
        })
        .await?;
        Ok(AddCustomAttributesResponse {})
    }
}
