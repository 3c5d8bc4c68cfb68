//! The service the HTTP layer dispatches to, and what its generated operation methods
//! (`operations.rs`, from `crates/server/operations.txt`) use besides the core. Looking for where
//! `ConfirmDevice` happens? The table names its core function.

use gatehouse_core::Core;

use crate::metrics;
use gatehouse_wire::*;

/// The cognito-idp service as Gatehouse implements it.
pub struct Api {
    pub(crate) core: Core,
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
pub(crate) fn caller(ctx: &RequestContext) -> gatehouse_core::Caller {
    gatehouse_core::Caller {
        ip: ctx.source_ip,
        user_agent: ctx.user_agent.clone(),
    }
}

pub(crate) fn flow_label(flow: &AuthFlowType) -> &'static str {
    metrics::label(AuthFlowType::VALUES, flow.as_str())
}

pub(crate) fn challenge_label(challenge: &ChallengeNameType) -> &'static str {
    metrics::label(ChallengeNameType::VALUES, challenge.as_str())
}

/// The challenge a sign-in step asks next; `None` when it issued tokens.
pub(crate) fn next_label(next: &Option<ChallengeNameType>) -> Option<&'static str> {
    next.as_ref().map(challenge_label)
}

/// The operations this build answers, in the model's order.
pub fn implemented_operations() -> Vec<Operation> {
    Operation::ALL
        .into_iter()
        .filter(|op| !<Api as CognitoIdentityProvider>::NOT_IMPLEMENTED.contains(op))
        .collect()
}

/// The pools an admin credential limited to some pools may see (None: all).
pub(crate) fn visible_pools(ctx: &RequestContext) -> Option<&[String]> {
    ctx.admin.as_ref().and_then(|a| a.pools.as_deref())
}

impl Api {
    /// Per-pool access policies of admin credentials, before any operation runs.
    pub(crate) fn authorize_request(
        &self,
        ctx: &RequestContext,
        op: Operation,
        pool_id: Option<&str>,
    ) -> Result<(), ApiError> {
        crate::admin_auth::authorize(ctx.admin.as_ref(), op, pool_id, |p| self.core.pool_arn(p))
    }
}
