"""Replicas in a single-Region deployment (ListUserPoolReplicas, CreateUserPoolReplica,
UpdateUserPoolReplica, DeleteUserPoolReplica) and the log delivery configuration
(SetLogDeliveryConfiguration, GetLogDeliveryConfiguration) and provisioned limits
(GetProvisionedLimit, UpdateProvisionedLimit) through boto3. What Cognito does:
docs/design/remaining-operations-cognito-behaviour.md §4, §5 and §6.
"""

from __future__ import annotations

import json

from support import PASSWORD, aws_error, new_app_client, new_confirmed_user, password_sign_in

CLOUDWATCH = {"LogGroupArn": "arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/cognito"}
S3 = {"BucketArn": "arn:aws:s3:::cognito-logs"}


def test_a_pool_is_its_own_primary_replica(cognito, pool):
    replicas = cognito.list_user_pool_replicas(UserPoolId=pool)["UserPoolReplicas"]
    assert replicas == [{"RegionName": "us-east-1", "Role": "PRIMARY", "Status": "ACTIVE",
                         "UserPoolArn": f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool}"}]
    with aws_error("OperationNotEnabledException", "one Region"):
        cognito.create_user_pool_replica(UserPoolId=pool, RegionName="eu-west-1")
    with aws_error("InvalidParameterException"):
        cognito.create_user_pool_replica(UserPoolId=pool, RegionName="us-east-1")
    lite = cognito.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]["Id"]
    with aws_error("FeatureUnavailableInTierException"):
        cognito.create_user_pool_replica(UserPoolId=lite, RegionName="eu-west-1")
    with aws_error("ResourceNotFoundException"):
        cognito.delete_user_pool_replica(UserPoolId=pool, RegionName="eu-west-1")
    with aws_error("InvalidParameterException"):
        cognito.delete_user_pool_replica(UserPoolId=pool, RegionName="us-east-1")
    updated = cognito.update_user_pool_replica(UserPoolId=pool, RegionName="us-east-1", Status="ACTIVE")
    assert updated["UserPoolReplica"]["Role"] == "PRIMARY"
    with aws_error("ResourceNotFoundException"):
        cognito.list_user_pool_replicas(UserPoolId="us-east-1_NoSuchPool")


def test_log_delivery_is_stored_with_cognitos_routing_rules(cognito):
    plus = cognito.create_user_pool(PoolName="plus", UserPoolTier="PLUS")["UserPool"]["Id"]
    assert cognito.get_log_delivery_configuration(UserPoolId=plus)["LogDeliveryConfiguration"] == {
        "UserPoolId": plus, "LogConfigurations": []}
    configs = [{"LogLevel": "ERROR", "EventSource": "userNotification", "CloudWatchLogsConfiguration": CLOUDWATCH},
               {"LogLevel": "INFO", "EventSource": "userAuthEvents", "S3Configuration": S3}]
    set_ = cognito.set_log_delivery_configuration(UserPoolId=plus, LogConfigurations=configs)
    assert set_["LogDeliveryConfiguration"] == {"UserPoolId": plus, "LogConfigurations": configs}
    assert cognito.get_log_delivery_configuration(UserPoolId=plus)["LogDeliveryConfiguration"]["LogConfigurations"] == configs
    # A new list replaces the old; an empty one clears it.
    cognito.set_log_delivery_configuration(UserPoolId=plus, LogConfigurations=configs[:1])
    assert cognito.get_log_delivery_configuration(UserPoolId=plus)["LogDeliveryConfiguration"]["LogConfigurations"] == configs[:1]
    cognito.set_log_delivery_configuration(UserPoolId=plus, LogConfigurations=[])
    assert cognito.get_log_delivery_configuration(UserPoolId=plus)["LogDeliveryConfiguration"]["LogConfigurations"] == []


def test_routed_sign_in_events_are_written_to_the_delivery_directory(server_factory, tmp_path):
    """`--log-delivery-dir` (docs/deploy.md): a PLUS pool with threat protection that routes
    userAuthEvents to S3 gets one JSON line per sign-in event, passed or failed, in the file that
    stands for its bucket; a pool that routes nothing writes nothing."""
    out = tmp_path / "delivered"
    server = server_factory(extra_args=("--log-delivery-dir", str(out)))
    cognito = server.client()
    pool = cognito.create_user_pool(PoolName="plus", UserPoolTier="PLUS",
                                    UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})["UserPool"]["Id"]
    cognito.set_log_delivery_configuration(UserPoolId=pool, LogConfigurations=[
        {"LogLevel": "INFO", "EventSource": "userAuthEvents", "S3Configuration": S3}])
    quiet = cognito.create_user_pool(PoolName="quiet", UserPoolTier="PLUS",
                                     UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})["UserPool"]["Id"]
    for p in (pool, quiet):
        client_id, _ = new_app_client(cognito, p)
        new_confirmed_user(cognito, p, "alice", PASSWORD)
        password_sign_in(cognito, client_id, "alice", PASSWORD)
        with aws_error("NotAuthorizedException"):
            password_sign_in(cognito, client_id, "alice", "Wr0ng-password")
    lines = [json.loads(line) for line in (out / "s3" / "cognito-logs.jsonl").read_text().splitlines()]
    assert [(r["userPoolId"], r["username"], r["event"]["EventResponse"]) for r in lines] == [
        (pool, "alice", "Pass"), (pool, "alice", "Fail")], lines
    assert all(r["eventSource"] == "userAuthEvents" and r["logLevel"] == "INFO" for r in lines)
    assert lines[0]["event"]["EventType"] == "SignIn" and lines[0]["event"]["EventId"]
    assert [p.name for p in out.rglob("*.jsonl")] == ["cognito-logs.jsonl"]


def test_log_delivery_refusals_in_cognitos_words(cognito, cognito_raw, pool):
    with aws_error("InvalidParameterException",
                   "Request validation Failed. Following event sources in request have no destination: "
                   "[userNotification]. Following event sources appear more then once in a request: [userNotification]."):
        cognito.set_log_delivery_configuration(UserPoolId=pool, LogConfigurations=[
            {"LogLevel": "ERROR", "EventSource": "userNotification"},
            {"LogLevel": "ERROR", "EventSource": "userNotification", "CloudWatchLogsConfiguration": CLOUDWATCH}])
    with aws_error("InvalidParameterException", "userNotification takes log level ERROR"):
        cognito.set_log_delivery_configuration(UserPoolId=pool, LogConfigurations=[
            {"LogLevel": "ERROR", "EventSource": "userNotification", "S3Configuration": S3}])
    # Exporting sign-in events is the Plus plan's (the fixture's pool is Essentials).
    with aws_error("FeatureUnavailableInTierException"):
        cognito.set_log_delivery_configuration(UserPoolId=pool, LogConfigurations=[
            {"LogLevel": "INFO", "EventSource": "userAuthEvents", "S3Configuration": S3}])
    with aws_error("InvalidParameterException", "logConfigurations.1.member.logLevel"):
        cognito_raw.set_log_delivery_configuration(UserPoolId=pool, LogConfigurations=[
            {"LogLevel": "TRACE", "EventSource": "userNotification", "CloudWatchLogsConfiguration": CLOUDWATCH}])
    with aws_error("ResourceNotFoundException"):
        cognito.get_log_delivery_configuration(UserPoolId="us-east-1_NoSuchPool")


def test_provisioned_limits_start_at_cognitos_defaults_and_rise_within_bounds(cognito):
    auth = {"LimitClass": "API_CATEGORY", "Attributes": {"Category": "UserAuthentication"}}
    limit = cognito.get_provisioned_limit(LimitDefinition=auth)["Limit"]
    assert limit == {"LimitDefinition": auth, "ProvisionedLimitValue": 120, "FreeLimitValue": 120}
    raised = cognito.update_provisioned_limit(LimitDefinition=auth, RequestedLimitValue=300)["Limit"]
    assert (raised["ProvisionedLimitValue"], raised["FreeLimitValue"]) == (300, 120)
    assert cognito.get_provisioned_limit(LimitDefinition=auth)["Limit"]["ProvisionedLimitValue"] == 300
    with aws_error("ServiceQuotaExceededException"):
        cognito.update_provisioned_limit(LimitDefinition=auth, RequestedLimitValue=1201)
    with aws_error("InvalidParameterException", "below its default"):
        cognito.update_provisioned_limit(LimitDefinition=auth, RequestedLimitValue=100)
    with aws_error("InvalidParameterException", "cannot be adjusted"):
        cognito.update_provisioned_limit(
            LimitDefinition={"LimitClass": "API_CATEGORY", "Attributes": {"Category": "UserList"}},
            RequestedLimitValue=60)
    with aws_error("ResourceNotFoundException"):
        cognito.get_provisioned_limit(
            LimitDefinition={"LimitClass": "API_CATEGORY", "Attributes": {"Category": "Nope"}})
    with aws_error("InvalidParameterException", "Category"):
        cognito.get_provisioned_limit(LimitDefinition={"LimitClass": "API_CATEGORY", "Attributes": {"Kind": "x"}})
