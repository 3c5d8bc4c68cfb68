"""TagResource / UntagResource / ListTagsForResource on user pool ARNs."""

from __future__ import annotations

import pytest

from support import aws_error, strip_meta

UNKNOWN_ARN = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_ZZZZZZZZZ"


@pytest.fixture
def pool(cognito):
    return cognito.create_user_pool(PoolName="tagged", UserPoolTags={"team": "identity"})["UserPool"]


def tags(cognito, arn):
    return cognito.list_tags_for_resource(ResourceArn=arn).get("Tags", {})


def test_tags_from_create_are_listed(cognito, pool):
    assert tags(cognito, pool["Arn"]) == {"team": "identity"}


def test_tag_untag_round_trip(cognito, pool):
    arn = pool["Arn"]
    assert strip_meta(cognito.tag_resource(ResourceArn=arn, Tags={"env": "prod", "cost-center": "42"})) == {}
    assert tags(cognito, arn) == {"team": "identity", "env": "prod", "cost-center": "42"}

    cognito.tag_resource(ResourceArn=arn, Tags={"env": "staging"})  # overwrite one value
    assert tags(cognito, arn) == {"team": "identity", "env": "staging", "cost-center": "42"}

    assert strip_meta(cognito.untag_resource(ResourceArn=arn, TagKeys=["team", "cost-center", "never-set"])) == {}
    assert tags(cognito, arn) == {"env": "staging"}
    described = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert described["UserPoolTags"] == {"env": "staging"}

    cognito.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert tags(cognito, arn) == {}


def test_tags_are_per_pool(cognito, pool):
    other = cognito.create_user_pool(PoolName="other")["UserPool"]
    cognito.tag_resource(ResourceArn=other["Arn"], Tags={"only": "here"})
    assert tags(cognito, pool["Arn"]) == {"team": "identity"}
    assert tags(cognito, other["Arn"]) == {"only": "here"}


def test_tag_values_may_be_empty_and_unicode(cognito, pool):
    cognito.tag_resource(ResourceArn=pool["Arn"], Tags={"empty": "", "ключ": "значение ✓"})
    assert tags(cognito, pool["Arn"]) == {"team": "identity", "empty": "", "ключ": "значение ✓"}


@pytest.mark.parametrize("operation, kwargs", [
    ("tag_resource", {"Tags": {"a": "b"}}),
    ("untag_resource", {"TagKeys": ["a"]}),
    ("list_tags_for_resource", {}),
])
def test_unknown_arn(cognito, operation, kwargs):
    with aws_error("ResourceNotFoundException"):
        getattr(cognito, operation)(ResourceArn=UNKNOWN_ARN, **kwargs)


def test_deleted_pool_has_no_tags(cognito, pool):
    cognito.delete_user_pool(UserPoolId=pool["Id"])
    with aws_error("ResourceNotFoundException"):
        cognito.list_tags_for_resource(ResourceArn=pool["Arn"])
    with aws_error("ResourceNotFoundException"):
        cognito.tag_resource(ResourceArn=pool["Arn"], Tags={"a": "b"})


def test_malformed_arn(cognito_raw):
    with aws_error("InvalidParameterException", "at 'resourceArn' failed to satisfy constraint"):
        cognito_raw.list_tags_for_resource(ResourceArn="this is not an arn at all")
