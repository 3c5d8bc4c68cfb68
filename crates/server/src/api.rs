//! One line per operation: each method hands the validated request to the core function of the
//! same name. Looking for where `ConfirmDevice` happens? Its method here names the core module.

use gatehouse_core::Core;

use crate::metrics;
use gatehouse_wire::*;

/// The cognito-idp service as Gatehouse implements it.
pub struct Api {
    core: Core,
}

impl Api {
    pub fn new(core: Core) -> Self {
        Api { core }
    }

    pub fn core(&self) -> &Core {
        &self.core
    }
}

/// What core may know of the transport: the client's address and User-Agent.
fn caller(ctx: &RequestContext) -> gatehouse_core::Caller {
    gatehouse_core::Caller {
        ip: ctx.source_ip,
        user_agent: ctx.user_agent.clone(),
    }
}

fn flow_label(flow: &AuthFlowType) -> &'static str {
    metrics::label(AuthFlowType::VALUES, flow.as_str())
}

fn challenge_label(challenge: &ChallengeNameType) -> &'static str {
    metrics::label(ChallengeNameType::VALUES, challenge.as_str())
}

/// The challenge a sign-in step asks next; `None` when it issued tokens.
fn next_label(next: &Option<ChallengeNameType>) -> Option<&'static str> {
    next.as_ref().map(challenge_label)
}

/// The operations this build answers, in the model's order.
pub fn implemented_operations() -> Vec<Operation> {
    Operation::ALL
        .into_iter()
        .filter(|op| !<Api as CognitoIdentityProvider>::NOT_IMPLEMENTED.contains(op))
        .collect()
}

impl CognitoIdentityProvider for Api {
    fn authorize(
        &self,
        ctx: &RequestContext,
        op: Operation,
        pool_id: Option<&str>,
    ) -> Result<(), ApiError> {
        crate::admin_auth::authorize(ctx.admin.as_ref(), op, pool_id, |p| self.core.pool_arn(p))
    }

    // Answered with UnsupportedOperationException naming the operation, until implemented.
    not_implemented! {
        AddUserPoolClientSecret, AdminDeleteSoftwareToken, AdminDisableProviderForUser,
        AdminGetUserAuthFactors, AdminLinkProviderForUser,
        AdminListUserAuthEvents, AdminListUserSessions, AdminRevokeUserSession,
        AdminUpdateAuthEventFeedback,
        CompleteWebAuthnRegistration,
        CreateIdentityProvider, CreateManagedLoginBranding, CreateResourceServer,
        CreateTerms, CreateUserImportJob, CreateUserPoolDomain, CreateUserPoolReplica,
        DeleteIdentityProvider, DeleteManagedLoginBranding, DeleteResourceServer, DeleteTerms,
        DeleteUserPoolClientSecret, DeleteUserPoolDomain, DeleteUserPoolReplica,
        DeleteWebAuthnCredential, DescribeIdentityProvider, DescribeManagedLoginBranding,
        DescribeManagedLoginBrandingByClient, DescribeResourceServer, DescribeRiskConfiguration,
        DescribeTerms, DescribeTermsByClient, DescribeUserImportJob, DescribeUserPoolDomain,
        GetCSVHeader, GetClientToken, GetDerivedToken,
        GetIdentityProviderByIdentifier, GetLogDeliveryConfiguration, GetProvisionedLimit,
        GetSigningCertificate, GetUICustomization, GetUserAuthFactors,
        GetUserPoolClientSessionConfiguration,
        GetUserPoolSessionConfiguration, ListIdentityProviders, ListResourceServers,
        ListTerms, ListUserImportJobs, ListUserPoolClientSecrets, ListUserPoolReplicas,
        ListUserSessions, ListWebAuthnCredentials, RevokeUserSession, SetLogDeliveryConfiguration,
        SetRiskConfiguration, SetUICustomization,
        SetUserPoolClientSessionConfiguration,
        SetUserPoolSessionConfiguration, StartUserImportJob, StartWebAuthnRegistration,
        StopUserImportJob, UpdateAuthEventFeedback, UpdateIdentityProvider,
        UpdateManagedLoginBranding, UpdateProvisionedLimit, UpdateResourceServer, UpdateTerms,
        UpdateUserPoolDomain, UpdateUserPoolReplica,
    }

    async fn add_custom_attributes(
        &self,
        _: &RequestContext,
        input: AddCustomAttributesRequest,
    ) -> Result<AddCustomAttributesResponse, ApiError> {
        Ok(self.core.add_custom_attributes(input).await?)
    }

    async fn create_user_pool(
        &self,
        _: &RequestContext,
        input: CreateUserPoolRequest,
    ) -> Result<CreateUserPoolResponse, ApiError> {
        Ok(self.core.create_user_pool(input).await?)
    }

    async fn create_user_pool_client(
        &self,
        _: &RequestContext,
        input: CreateUserPoolClientRequest,
    ) -> Result<CreateUserPoolClientResponse, ApiError> {
        Ok(self.core.create_user_pool_client(input).await?)
    }

    async fn delete_user_pool(
        &self,
        _: &RequestContext,
        input: DeleteUserPoolRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.delete_user_pool(input).await?)
    }

    async fn delete_user_pool_client(
        &self,
        _: &RequestContext,
        input: DeleteUserPoolClientRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.delete_user_pool_client(input).await?)
    }

    async fn describe_user_pool(
        &self,
        _: &RequestContext,
        input: DescribeUserPoolRequest,
    ) -> Result<DescribeUserPoolResponse, ApiError> {
        Ok(self.core.describe_user_pool(input).await?)
    }

    async fn describe_user_pool_client(
        &self,
        _: &RequestContext,
        input: DescribeUserPoolClientRequest,
    ) -> Result<DescribeUserPoolClientResponse, ApiError> {
        Ok(self.core.describe_user_pool_client(input).await?)
    }

    async fn list_tags_for_resource(
        &self,
        _: &RequestContext,
        input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, ApiError> {
        Ok(self.core.list_tags_for_resource(input).await?)
    }

    async fn list_user_pool_clients(
        &self,
        _: &RequestContext,
        input: ListUserPoolClientsRequest,
    ) -> Result<ListUserPoolClientsResponse, ApiError> {
        Ok(self.core.list_user_pool_clients(input).await?)
    }

    async fn list_user_pools(
        &self,
        ctx: &RequestContext,
        input: ListUserPoolsRequest,
    ) -> Result<ListUserPoolsResponse, ApiError> {
        // A pool-scoped credential sees only its pools.
        let visible = ctx.admin.as_ref().and_then(|a| a.pools.as_deref());
        Ok(self.core.list_user_pools(input, visible).await?)
    }

    async fn tag_resource(
        &self,
        _: &RequestContext,
        input: TagResourceRequest,
    ) -> Result<TagResourceResponse, ApiError> {
        Ok(self.core.tag_resource(input).await?)
    }

    async fn untag_resource(
        &self,
        _: &RequestContext,
        input: UntagResourceRequest,
    ) -> Result<UntagResourceResponse, ApiError> {
        Ok(self.core.untag_resource(input).await?)
    }

    async fn update_user_pool(
        &self,
        _: &RequestContext,
        input: UpdateUserPoolRequest,
    ) -> Result<UpdateUserPoolResponse, ApiError> {
        Ok(self.core.update_user_pool(input).await?)
    }

    async fn update_user_pool_client(
        &self,
        _: &RequestContext,
        input: UpdateUserPoolClientRequest,
    ) -> Result<UpdateUserPoolClientResponse, ApiError> {
        Ok(self.core.update_user_pool_client(input).await?)
    }

    async fn sign_up(
        &self,
        _: &RequestContext,
        input: SignUpRequest,
    ) -> Result<SignUpResponse, ApiError> {
        Ok(self.core.sign_up(input).await?)
    }

    async fn confirm_sign_up(
        &self,
        _: &RequestContext,
        input: ConfirmSignUpRequest,
    ) -> Result<ConfirmSignUpResponse, ApiError> {
        Ok(self.core.confirm_sign_up(input).await?)
    }

    async fn resend_confirmation_code(
        &self,
        _: &RequestContext,
        input: ResendConfirmationCodeRequest,
    ) -> Result<ResendConfirmationCodeResponse, ApiError> {
        Ok(self.core.resend_confirmation_code(input).await?)
    }

    async fn admin_confirm_sign_up(
        &self,
        _: &RequestContext,
        input: AdminConfirmSignUpRequest,
    ) -> Result<AdminConfirmSignUpResponse, ApiError> {
        Ok(self.core.admin_confirm_sign_up(input).await?)
    }

    async fn admin_create_user(
        &self,
        _: &RequestContext,
        input: AdminCreateUserRequest,
    ) -> Result<AdminCreateUserResponse, ApiError> {
        Ok(self.core.admin_create_user(input).await?)
    }

    async fn admin_get_user(
        &self,
        _: &RequestContext,
        input: AdminGetUserRequest,
    ) -> Result<AdminGetUserResponse, ApiError> {
        Ok(self.core.admin_get_user(input).await?)
    }

    async fn admin_delete_user(
        &self,
        _: &RequestContext,
        input: AdminDeleteUserRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.admin_delete_user(input).await?)
    }

    async fn admin_disable_user(
        &self,
        _: &RequestContext,
        input: AdminDisableUserRequest,
    ) -> Result<AdminDisableUserResponse, ApiError> {
        Ok(self.core.admin_disable_user(input).await?)
    }

    async fn admin_enable_user(
        &self,
        _: &RequestContext,
        input: AdminEnableUserRequest,
    ) -> Result<AdminEnableUserResponse, ApiError> {
        Ok(self.core.admin_enable_user(input).await?)
    }

    async fn admin_set_user_password(
        &self,
        _: &RequestContext,
        input: AdminSetUserPasswordRequest,
    ) -> Result<AdminSetUserPasswordResponse, ApiError> {
        Ok(self.core.admin_set_user_password(input).await?)
    }

    async fn admin_update_user_attributes(
        &self,
        _: &RequestContext,
        input: AdminUpdateUserAttributesRequest,
    ) -> Result<AdminUpdateUserAttributesResponse, ApiError> {
        Ok(self.core.admin_update_user_attributes(input).await?)
    }

    async fn admin_delete_user_attributes(
        &self,
        _: &RequestContext,
        input: AdminDeleteUserAttributesRequest,
    ) -> Result<AdminDeleteUserAttributesResponse, ApiError> {
        Ok(self.core.admin_delete_user_attributes(input).await?)
    }

    async fn list_users(
        &self,
        _: &RequestContext,
        input: ListUsersRequest,
    ) -> Result<ListUsersResponse, ApiError> {
        Ok(self.core.list_users(input).await?)
    }

    async fn create_group(
        &self,
        _: &RequestContext,
        input: CreateGroupRequest,
    ) -> Result<CreateGroupResponse, ApiError> {
        Ok(self.core.create_group(input).await?)
    }

    async fn get_group(
        &self,
        _: &RequestContext,
        input: GetGroupRequest,
    ) -> Result<GetGroupResponse, ApiError> {
        Ok(self.core.get_group(input).await?)
    }

    async fn update_group(
        &self,
        _: &RequestContext,
        input: UpdateGroupRequest,
    ) -> Result<UpdateGroupResponse, ApiError> {
        Ok(self.core.update_group(input).await?)
    }

    async fn delete_group(
        &self,
        _: &RequestContext,
        input: DeleteGroupRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.delete_group(input).await?)
    }

    async fn list_groups(
        &self,
        _: &RequestContext,
        input: ListGroupsRequest,
    ) -> Result<ListGroupsResponse, ApiError> {
        Ok(self.core.list_groups(input).await?)
    }

    async fn admin_add_user_to_group(
        &self,
        _: &RequestContext,
        input: AdminAddUserToGroupRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.admin_add_user_to_group(input).await?)
    }

    async fn admin_remove_user_from_group(
        &self,
        _: &RequestContext,
        input: AdminRemoveUserFromGroupRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.admin_remove_user_from_group(input).await?)
    }

    async fn admin_list_groups_for_user(
        &self,
        _: &RequestContext,
        input: AdminListGroupsForUserRequest,
    ) -> Result<AdminListGroupsForUserResponse, ApiError> {
        Ok(self.core.admin_list_groups_for_user(input).await?)
    }

    async fn list_users_in_group(
        &self,
        _: &RequestContext,
        input: ListUsersInGroupRequest,
    ) -> Result<ListUsersInGroupResponse, ApiError> {
        Ok(self.core.list_users_in_group(input).await?)
    }

    async fn initiate_auth(
        &self,
        _: &RequestContext,
        input: InitiateAuthRequest,
    ) -> Result<InitiateAuthResponse, ApiError> {
        let flow = flow_label(&input.auth_flow);
        let r = self.core.initiate_auth(input).await.map_err(ApiError::from);
        metrics::sign_in(flow, &r, |r| next_label(&r.challenge_name));
        r
    }

    async fn admin_initiate_auth(
        &self,
        _: &RequestContext,
        input: AdminInitiateAuthRequest,
    ) -> Result<AdminInitiateAuthResponse, ApiError> {
        let flow = flow_label(&input.auth_flow);
        let r = self
            .core
            .admin_initiate_auth(input)
            .await
            .map_err(ApiError::from);
        metrics::sign_in(flow, &r, |r| next_label(&r.challenge_name));
        r
    }

    async fn respond_to_auth_challenge(
        &self,
        ctx: &RequestContext,
        input: RespondToAuthChallengeRequest,
    ) -> Result<RespondToAuthChallengeResponse, ApiError> {
        let flow = challenge_label(&input.challenge_name);
        let r = self
            .core
            .respond_to_auth_challenge(&caller(ctx), input)
            .await
            .map_err(ApiError::from);
        metrics::sign_in(flow, &r, |r| next_label(&r.challenge_name));
        r
    }

    async fn admin_respond_to_auth_challenge(
        &self,
        ctx: &RequestContext,
        input: AdminRespondToAuthChallengeRequest,
    ) -> Result<AdminRespondToAuthChallengeResponse, ApiError> {
        let flow = challenge_label(&input.challenge_name);
        let r = self
            .core
            .admin_respond_to_auth_challenge(&caller(ctx), input)
            .await
            .map_err(ApiError::from);
        metrics::sign_in(flow, &r, |r| next_label(&r.challenge_name));
        r
    }

    async fn get_tokens_from_refresh_token(
        &self,
        _: &RequestContext,
        input: GetTokensFromRefreshTokenRequest,
    ) -> Result<GetTokensFromRefreshTokenResponse, ApiError> {
        Ok(self.core.get_tokens_from_refresh_token(input).await?)
    }

    async fn revoke_token(
        &self,
        _: &RequestContext,
        input: RevokeTokenRequest,
    ) -> Result<RevokeTokenResponse, ApiError> {
        Ok(self.core.revoke_token(input).await?)
    }

    async fn global_sign_out(
        &self,
        _: &RequestContext,
        input: GlobalSignOutRequest,
    ) -> Result<GlobalSignOutResponse, ApiError> {
        Ok(self.core.global_sign_out(input).await?)
    }

    async fn admin_user_global_sign_out(
        &self,
        _: &RequestContext,
        input: AdminUserGlobalSignOutRequest,
    ) -> Result<AdminUserGlobalSignOutResponse, ApiError> {
        Ok(self.core.admin_user_global_sign_out(input).await?)
    }

    async fn get_user(
        &self,
        _: &RequestContext,
        input: GetUserRequest,
    ) -> Result<GetUserResponse, ApiError> {
        Ok(self.core.get_user(input).await?)
    }

    async fn update_user_attributes(
        &self,
        _: &RequestContext,
        input: UpdateUserAttributesRequest,
    ) -> Result<UpdateUserAttributesResponse, ApiError> {
        Ok(self.core.update_user_attributes(input).await?)
    }

    async fn delete_user_attributes(
        &self,
        _: &RequestContext,
        input: DeleteUserAttributesRequest,
    ) -> Result<DeleteUserAttributesResponse, ApiError> {
        Ok(self.core.delete_user_attributes(input).await?)
    }

    async fn delete_user(
        &self,
        _: &RequestContext,
        input: DeleteUserRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.delete_user(input).await?)
    }

    async fn change_password(
        &self,
        _: &RequestContext,
        input: ChangePasswordRequest,
    ) -> Result<ChangePasswordResponse, ApiError> {
        Ok(self.core.change_password(input).await?)
    }

    async fn get_user_attribute_verification_code(
        &self,
        _: &RequestContext,
        input: GetUserAttributeVerificationCodeRequest,
    ) -> Result<GetUserAttributeVerificationCodeResponse, ApiError> {
        Ok(self
            .core
            .get_user_attribute_verification_code(input)
            .await?)
    }

    async fn verify_user_attribute(
        &self,
        _: &RequestContext,
        input: VerifyUserAttributeRequest,
    ) -> Result<VerifyUserAttributeResponse, ApiError> {
        Ok(self.core.verify_user_attribute(input).await?)
    }

    async fn set_user_settings(
        &self,
        _: &RequestContext,
        input: SetUserSettingsRequest,
    ) -> Result<SetUserSettingsResponse, ApiError> {
        Ok(self.core.set_user_settings(input).await?)
    }

    async fn forgot_password(
        &self,
        _: &RequestContext,
        input: ForgotPasswordRequest,
    ) -> Result<ForgotPasswordResponse, ApiError> {
        Ok(self.core.forgot_password(input).await?)
    }

    async fn confirm_forgot_password(
        &self,
        _: &RequestContext,
        input: ConfirmForgotPasswordRequest,
    ) -> Result<ConfirmForgotPasswordResponse, ApiError> {
        Ok(self.core.confirm_forgot_password(input).await?)
    }

    async fn admin_reset_user_password(
        &self,
        _: &RequestContext,
        input: AdminResetUserPasswordRequest,
    ) -> Result<AdminResetUserPasswordResponse, ApiError> {
        Ok(self.core.admin_reset_user_password(input).await?)
    }

    // Devices: core/src/devices.rs.

    async fn confirm_device(
        &self,
        ctx: &RequestContext,
        input: ConfirmDeviceRequest,
    ) -> Result<ConfirmDeviceResponse, ApiError> {
        Ok(self.core.confirm_device(&caller(ctx), input).await?)
    }

    async fn get_device(
        &self,
        _: &RequestContext,
        input: GetDeviceRequest,
    ) -> Result<GetDeviceResponse, ApiError> {
        Ok(self.core.get_device(input).await?)
    }

    async fn list_devices(
        &self,
        _: &RequestContext,
        input: ListDevicesRequest,
    ) -> Result<ListDevicesResponse, ApiError> {
        Ok(self.core.list_devices(input).await?)
    }

    async fn update_device_status(
        &self,
        _: &RequestContext,
        input: UpdateDeviceStatusRequest,
    ) -> Result<UpdateDeviceStatusResponse, ApiError> {
        Ok(self.core.update_device_status(input).await?)
    }

    async fn forget_device(
        &self,
        _: &RequestContext,
        input: ForgetDeviceRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.forget_device(input).await?)
    }

    async fn admin_get_device(
        &self,
        _: &RequestContext,
        input: AdminGetDeviceRequest,
    ) -> Result<AdminGetDeviceResponse, ApiError> {
        Ok(self.core.admin_get_device(input).await?)
    }

    async fn admin_list_devices(
        &self,
        _: &RequestContext,
        input: AdminListDevicesRequest,
    ) -> Result<AdminListDevicesResponse, ApiError> {
        Ok(self.core.admin_list_devices(input).await?)
    }

    async fn admin_update_device_status(
        &self,
        _: &RequestContext,
        input: AdminUpdateDeviceStatusRequest,
    ) -> Result<AdminUpdateDeviceStatusResponse, ApiError> {
        Ok(self.core.admin_update_device_status(input).await?)
    }

    async fn admin_forget_device(
        &self,
        _: &RequestContext,
        input: AdminForgetDeviceRequest,
    ) -> Result<(), ApiError> {
        Ok(self.core.admin_forget_device(input).await?)
    }

    // MFA: core/src/mfa.rs.

    async fn set_user_pool_mfa_config(
        &self,
        _: &RequestContext,
        input: SetUserPoolMfaConfigRequest,
    ) -> Result<SetUserPoolMfaConfigResponse, ApiError> {
        Ok(self.core.set_user_pool_mfa_config(input).await?)
    }

    async fn get_user_pool_mfa_config(
        &self,
        _: &RequestContext,
        input: GetUserPoolMfaConfigRequest,
    ) -> Result<GetUserPoolMfaConfigResponse, ApiError> {
        Ok(self.core.get_user_pool_mfa_config(input).await?)
    }

    async fn associate_software_token(
        &self,
        _: &RequestContext,
        input: AssociateSoftwareTokenRequest,
    ) -> Result<AssociateSoftwareTokenResponse, ApiError> {
        Ok(self.core.associate_software_token(input).await?)
    }

    async fn verify_software_token(
        &self,
        _: &RequestContext,
        input: VerifySoftwareTokenRequest,
    ) -> Result<VerifySoftwareTokenResponse, ApiError> {
        Ok(self.core.verify_software_token(input).await?)
    }

    async fn set_user_mfa_preference(
        &self,
        _: &RequestContext,
        input: SetUserMFAPreferenceRequest,
    ) -> Result<SetUserMFAPreferenceResponse, ApiError> {
        Ok(self.core.set_user_mfa_preference(input).await?)
    }

    async fn admin_set_user_mfa_preference(
        &self,
        _: &RequestContext,
        input: AdminSetUserMFAPreferenceRequest,
    ) -> Result<AdminSetUserMFAPreferenceResponse, ApiError> {
        Ok(self.core.admin_set_user_mfa_preference(input).await?)
    }

    async fn admin_set_user_settings(
        &self,
        _: &RequestContext,
        input: AdminSetUserSettingsRequest,
    ) -> Result<AdminSetUserSettingsResponse, ApiError> {
        Ok(self.core.admin_set_user_settings(input).await?)
    }
}
