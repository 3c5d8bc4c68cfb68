//! One line per operation: each method hands the validated request to the core function of the
//! same name. Looking for where `ConfirmDevice` happens? Its method here names the core module.

use gatehouse_core::Core;
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
        AddUserPoolClientSecret, AdminAddUserToGroup, AdminConfirmSignUp, AdminCreateUser,
        AdminDeleteSoftwareToken, AdminDeleteUser, AdminDeleteUserAttributes,
        AdminDisableProviderForUser, AdminDisableUser, AdminEnableUser, AdminForgetDevice,
        AdminGetDevice, AdminGetUser, AdminGetUserAuthFactors, AdminInitiateAuth,
        AdminLinkProviderForUser, AdminListDevices, AdminListGroupsForUser,
        AdminListUserAuthEvents, AdminListUserSessions, AdminRemoveUserFromGroup,
        AdminResetUserPassword, AdminRespondToAuthChallenge, AdminRevokeUserSession,
        AdminSetUserMFAPreference, AdminSetUserPassword, AdminSetUserSettings,
        AdminUpdateAuthEventFeedback, AdminUpdateDeviceStatus, AdminUpdateUserAttributes,
        AdminUserGlobalSignOut, AssociateSoftwareToken, ChangePassword,
        CompleteWebAuthnRegistration, ConfirmDevice, ConfirmForgotPassword, ConfirmSignUp,
        CreateGroup, CreateIdentityProvider, CreateManagedLoginBranding, CreateResourceServer,
        CreateTerms, CreateUserImportJob, CreateUserPoolDomain, CreateUserPoolReplica, DeleteGroup,
        DeleteIdentityProvider, DeleteManagedLoginBranding, DeleteResourceServer, DeleteTerms,
        DeleteUser, DeleteUserAttributes, DeleteUserPoolClientSecret, DeleteUserPoolDomain,
        DeleteUserPoolReplica, DeleteWebAuthnCredential, DescribeIdentityProvider,
        DescribeManagedLoginBranding, DescribeManagedLoginBrandingByClient, DescribeResourceServer,
        DescribeRiskConfiguration, DescribeTerms, DescribeTermsByClient, DescribeUserImportJob,
        DescribeUserPoolDomain, ForgetDevice, ForgotPassword, GetCSVHeader, GetClientToken,
        GetDerivedToken, GetDevice, GetGroup, GetIdentityProviderByIdentifier,
        GetLogDeliveryConfiguration, GetProvisionedLimit, GetSigningCertificate,
        GetTokensFromRefreshToken, GetUICustomization, GetUser, GetUserAttributeVerificationCode,
        GetUserAuthFactors, GetUserPoolClientSessionConfiguration, GetUserPoolMfaConfig,
        GetUserPoolSessionConfiguration, GlobalSignOut, InitiateAuth, ListDevices, ListGroups,
        ListIdentityProviders, ListResourceServers, ListTerms, ListUserImportJobs,
        ListUserPoolClientSecrets, ListUserPoolReplicas, ListUserSessions, ListUsers,
        ListUsersInGroup, ListWebAuthnCredentials, ResendConfirmationCode, RespondToAuthChallenge,
        RevokeToken, RevokeUserSession, SetLogDeliveryConfiguration, SetRiskConfiguration,
        SetUICustomization, SetUserMFAPreference, SetUserPoolClientSessionConfiguration,
        SetUserPoolMfaConfig, SetUserPoolSessionConfiguration, SetUserSettings, SignUp,
        StartUserImportJob, StartWebAuthnRegistration, StopUserImportJob, UpdateAuthEventFeedback,
        UpdateDeviceStatus, UpdateGroup, UpdateIdentityProvider, UpdateManagedLoginBranding,
        UpdateProvisionedLimit, UpdateResourceServer, UpdateTerms, UpdateUserAttributes,
        UpdateUserPoolDomain, UpdateUserPoolReplica, VerifySoftwareToken, VerifyUserAttribute,
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
}
