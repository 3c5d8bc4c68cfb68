"""User pool domains through boto3: CreateUserPoolDomain, DescribeUserPoolDomain,
UpdateUserPoolDomain, DeleteUserPoolDomain, and the pool's Domain / CustomDomain in
DescribeUserPool. Cognito's behaviour and messages: docs/design/oauth-cognito-behaviour.md §1.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from support import aws_error

CERT = "arn:aws:acm:us-east-1:000000000000:certificate/11111111-2222-3333-4444-555555555555"


def new_pool(cognito, name="domain-pool"):
    return cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]


def test_a_prefix_domain_is_created_described_and_shown_on_the_pool(cognito):
    pool_id = new_pool(cognito)
    created = cognito.create_user_pool_domain(Domain="my-app-login", UserPoolId=pool_id)
    assert created["ManagedLoginVersion"] == 1
    assert "CloudFrontDomain" not in created
    d = cognito.describe_user_pool_domain(Domain="my-app-login")["DomainDescription"]
    assert d["UserPoolId"] == pool_id
    assert d["Domain"] == "my-app-login"
    assert d["Status"] == "ACTIVE"
    assert d["AWSAccountId"] == "000000000000"
    assert d["ManagedLoginVersion"] == 1
    assert re.fullmatch(r"\d{14}", d["Version"])
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["Domain"] == "my-app-login"
    assert "CustomDomain" not in pool


def test_an_unknown_domain_is_described_as_nothing(cognito):
    assert cognito.describe_user_pool_domain(Domain="nobody-has-this")["DomainDescription"] == {}


def test_a_custom_domain_keeps_its_certificate_and_shows_as_custom_domain(cognito):
    pool_id = new_pool(cognito)
    cognito.create_user_pool_domain(Domain="auth.example.com", UserPoolId=pool_id,
                                    CustomDomainConfig={"CertificateArn": CERT}, ManagedLoginVersion=2)
    d = cognito.describe_user_pool_domain(Domain="auth.example.com")["DomainDescription"]
    assert d["CustomDomainConfig"] == {"CertificateArn": CERT}
    assert d["ManagedLoginVersion"] == 2
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["CustomDomain"] == "auth.example.com"
    assert "Domain" not in pool


def test_prefixes_are_checked_as_cognito_checks_them(cognito):
    pool_id = new_pool(cognito)
    for bad in ("My-App", "-app", "app-", "my.app", "my_app"):
        with aws_error("InvalidParameterException", "The domain name contains an invalid character"):
            cognito.create_user_pool_domain(Domain=bad, UserPoolId=pool_id)
    with aws_error("InvalidParameterException", "Domain cannot contain reserved word: aws"):
        cognito.create_user_pool_domain(Domain="myaws-login", UserPoolId=pool_id)
    with aws_error("InvalidParameterException", "Domain cannot contain reserved word: cognito"):
        cognito.create_user_pool_domain(Domain="cognito-clone", UserPoolId=pool_id)
    with aws_error("ResourceNotFoundException", "User pool us-east-1_nothere does not exist."):
        cognito.create_user_pool_domain(Domain="fine-name", UserPoolId="us-east-1_nothere")
    assert "Domain" not in cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]


def test_a_domain_belongs_to_one_pool_and_a_pool_has_one_domain(cognito):
    first, second = new_pool(cognito, "first"), new_pool(cognito, "second")
    cognito.create_user_pool_domain(Domain="taken-name", UserPoolId=first)
    with aws_error("InvalidParameterException", "Domain already associated with another user pool."):
        cognito.create_user_pool_domain(Domain="taken-name", UserPoolId=second)
    with aws_error("InvalidParameterException", "User pool already has a domain configured."):
        cognito.create_user_pool_domain(Domain="another-name", UserPoolId=first)
    with aws_error("InvalidParameterException", "User pool already has a domain configured."):
        cognito.create_user_pool_domain(Domain="taken-name", UserPoolId=first)


def test_simultaneous_creates_keep_both_promises(cognito):
    """Eight pools race for one name, and eight names race for one pool: one wins each race."""
    pools = [new_pool(cognito, f"racer-{i}") for i in range(8)]

    def attempt(args):
        domain, pool_id = args
        try:
            cognito.create_user_pool_domain(Domain=domain, UserPoolId=pool_id)
            return pool_id
        except cognito.exceptions.InvalidParameterException:
            return None

    with ThreadPoolExecutor(max_workers=8) as ex:
        winners = [w for w in ex.map(attempt, [("contested", p) for p in pools]) if w]
    assert len(winners) == 1
    assert cognito.describe_user_pool_domain(Domain="contested")["DomainDescription"]["UserPoolId"] == winners[0]

    lone = new_pool(cognito, "lone")
    with ThreadPoolExecutor(max_workers=8) as ex:
        won = [w for w in ex.map(attempt, [(f"name-{i}", lone) for i in range(8)]) if w]
    assert len(won) == 1
    named = [i for i in range(8)
             if cognito.describe_user_pool_domain(Domain=f"name-{i}")["DomainDescription"]]
    assert len(named) == 1


def test_update_changes_the_login_version_and_a_custom_domains_certificate(cognito):
    pool_id = new_pool(cognito)
    cognito.create_user_pool_domain(Domain="update-me", UserPoolId=pool_id)
    answer = cognito.update_user_pool_domain(Domain="update-me", UserPoolId=pool_id, ManagedLoginVersion=2)
    assert answer["ManagedLoginVersion"] == 2
    assert cognito.describe_user_pool_domain(Domain="update-me")["DomainDescription"]["ManagedLoginVersion"] == 2
    with aws_error("InvalidParameterException"):
        cognito.update_user_pool_domain(Domain="update-me", UserPoolId=pool_id,
                                        CustomDomainConfig={"CertificateArn": CERT})
    other = new_pool(cognito, "other")
    with aws_error("InvalidParameterException", "No such domain or user pool exists."):
        cognito.update_user_pool_domain(Domain="update-me", UserPoolId=other, ManagedLoginVersion=1)

    custom_pool = new_pool(cognito, "custom")
    cognito.create_user_pool_domain(Domain="login.example.org", UserPoolId=custom_pool,
                                    CustomDomainConfig={"CertificateArn": CERT})
    renewed = CERT.replace("1111", "9999")
    cognito.update_user_pool_domain(Domain="login.example.org", UserPoolId=custom_pool,
                                    CustomDomainConfig={"CertificateArn": renewed})
    d = cognito.describe_user_pool_domain(Domain="login.example.org")["DomainDescription"]
    assert d["CustomDomainConfig"]["CertificateArn"] == renewed


def test_delete_needs_the_owning_pool_and_a_pool_with_a_domain_cannot_be_deleted(cognito):
    pool_id, other = new_pool(cognito), new_pool(cognito, "other")
    cognito.create_user_pool_domain(Domain="delete-me", UserPoolId=pool_id)
    with aws_error("InvalidParameterException", "User pool cannot be deleted. It has a domain configured"):
        cognito.delete_user_pool(UserPoolId=pool_id)
    with aws_error("InvalidParameterException", "No such domain or user pool exists."):
        cognito.delete_user_pool_domain(Domain="delete-me", UserPoolId=other)
    cognito.delete_user_pool_domain(Domain="delete-me", UserPoolId=pool_id)
    assert cognito.describe_user_pool_domain(Domain="delete-me")["DomainDescription"] == {}
    assert "Domain" not in cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    with aws_error("InvalidParameterException", "No such domain or user pool exists."):
        cognito.delete_user_pool_domain(Domain="delete-me", UserPoolId=pool_id)
    # Freed, the name can be taken by another pool; the first pool can now be deleted.
    cognito.create_user_pool_domain(Domain="delete-me", UserPoolId=other)
    cognito.delete_user_pool(UserPoolId=pool_id)
