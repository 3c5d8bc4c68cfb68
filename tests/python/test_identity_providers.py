"""Identity providers through boto3: Create/Describe/Update/Delete/ListIdentityProviders,
GetIdentityProviderByIdentifier, their validation per type, app clients naming them, and users
linked to them (AdminLinkProviderForUser, AdminDisableProviderForUser). Federation itself is not
built yet. What Cognito does: docs/design/identity-providers-cognito-behaviour.md.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from support import aws_error, new_app_client, user_attributes

GOOGLE = {"client_id": "google-client", "client_secret": "google-secret", "authorize_scopes": "email profile openid"}
OIDC = {"client_id": "oidc-client", "client_secret": "oidc-secret", "authorize_scopes": "openid email",
        "oidc_issuer": "https://login.example.com", "attributes_request_method": "GET"}
METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso-post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def create(cognito, pool, name, kind, details, **extra):
    return cognito.create_identity_provider(UserPoolId=pool, ProviderName=name, ProviderType=kind,
                                            ProviderDetails=details, **extra)["IdentityProvider"]


def apple_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_social_providers_get_cognitos_endpoints_and_apples_key_is_never_shown(cognito, pool):
    google = create(cognito, pool, "Google", "Google", GOOGLE, AttributeMapping={"email": "email"})
    d = google["ProviderDetails"]
    assert d["client_secret"] == "google-secret"
    assert (d["authorize_url"], d["token_url"], d["oidc_issuer"], d["attributes_url_add_attributes"]) == (
        "https://accounts.google.com/o/oauth2/v2/auth", "https://www.googleapis.com/oauth2/v4/token",
        "https://accounts.google.com", "true")
    assert google["AttributeMapping"] == {"email": "email", "username": "sub"}
    assert google["IdpIdentifiers"] == [] and google["CreationDate"] == google["LastModifiedDate"]
    facebook = create(cognito, pool, "Facebook", "Facebook", {**GOOGLE, "api_version": "v19.0"})
    assert facebook["ProviderDetails"]["authorize_url"] == "https://www.facebook.com/v19.0/dialog/oauth"
    assert facebook["AttributeMapping"] == {"username": "id"}
    apple = create(cognito, pool, "SignInWithApple", "SignInWithApple",
                   {"client_id": "com.example", "team_id": "TEAM", "key_id": "KEY", "private_key": apple_key(),
                    "authorize_scopes": "email name"})
    assert "private_key" not in apple["ProviderDetails"]
    described = cognito.describe_identity_provider(UserPoolId=pool, ProviderName="SignInWithApple")["IdentityProvider"]
    assert "private_key" not in described["ProviderDetails"] and described["ProviderDetails"]["team_id"] == "TEAM"
    with aws_error("InvalidParameterException", "Provided private key cannot be used for Sign in with Apple."):
        cognito.update_identity_provider(UserPoolId=pool, ProviderName="SignInWithApple", ProviderDetails={
            "client_id": "c", "team_id": "T", "key_id": "K", "private_key": "not a key", "authorize_scopes": "email"})


def test_types_names_and_details_are_checked_in_cognitos_words(cognito, pool):
    with aws_error("InvalidParameterException", "Provider MyGoogle cannot be of type Google."):
        create(cognito, pool, "MyGoogle", "Google", GOOGLE)
    with aws_error("InvalidParameterException", "Provider Google cannot be of type OIDC."):
        create(cognito, pool, "Google", "OIDC", OIDC)
    with aws_error("InvalidParameterException", "client_id, client_secret and authorize_scopes are all required idp details."):
        create(cognito, pool, "Google", "Google", {"client_id": "x"})
    with aws_error("InvalidParameterException", "team_id is not a valid key for Google identity provider details."):
        create(cognito, pool, "Google", "Google", {**GOOGLE, "team_id": "x"})
    with aws_error("InvalidParameterException", "At least one of the MetadataURL or MetadataFile should be provided."):
        create(cognito, pool, "Corp", "SAML", {"IDPSignout": "true"})
    with aws_error("InvalidParameterException", "Unable to unmarshall metadata"):
        create(cognito, pool, "Corp", "SAML", {"MetadataFile": "<not xml"})
    with aws_error("InvalidParameterException", "AttributeMapping contains invalid mapping: [custom:nope]"):
        create(cognito, pool, "Google", "Google", GOOGLE, AttributeMapping={"custom:nope": "x"})
    with aws_error("InvalidParameterException", "AcrMapping"):
        create(cognito, pool, "Google", "Google", GOOGLE, AcrMapping={"Level1": "urn:acr:1"})
    create(cognito, pool, "Google", "Google", GOOGLE)
    with aws_error("DuplicateProviderException", f"Google already exists in user pool {pool}"):
        create(cognito, pool, "Google", "Google", GOOGLE)
    with aws_error("ResourceNotFoundException", "Identity provider Nope does not exist."):
        cognito.describe_identity_provider(UserPoolId=pool, ProviderName="Nope")


def test_the_models_constraints(cognito_raw, pool):
    with aws_error("InvalidParameterException", "providerName"):
        create(cognito_raw, pool, "ab", "OIDC", OIDC)
    with aws_error("InvalidParameterException", "providerType"):
        create(cognito_raw, pool, "Corp", "LDAP", OIDC)


def test_saml_metadata_gives_the_redirect_locations_and_identifiers_find_the_provider(cognito, pool):
    saml = create(cognito, pool, "CorpSAML", "SAML", {"MetadataFile": METADATA, "IDPSignout": "true"},
                  IdpIdentifiers=["corp", "corp.example.com"], AttributeMapping={"email": "mail"})
    d = saml["ProviderDetails"]
    assert (d["SSORedirectBindingURI"], d["SLORedirectBindingURI"]) == ("https://idp.example.com/sso", "https://idp.example.com/slo")
    assert d["MetadataFile"] == METADATA and saml["AttributeMapping"] == {"email": "mail"}
    found = cognito.get_identity_provider_by_identifier(UserPoolId=pool, IdpIdentifier="corp.example.com")
    assert found["IdentityProvider"]["ProviderName"] == "CorpSAML"
    # An identifier is one provider's in the pool, and update re-validates what it replaces.
    with aws_error("InvalidParameterException", "Duplicate identifier corp."):
        create(cognito, pool, "Other", "OIDC", OIDC, IdpIdentifiers=["corp"])
    updated = cognito.update_identity_provider(UserPoolId=pool, ProviderName="CorpSAML", IdpIdentifiers=["corporate"],
                                               ProviderDetails={"MetadataURL": "https://idp.example.com/metadata"})
    p = updated["IdentityProvider"]
    assert p["IdpIdentifiers"] == ["corporate"] and p["ProviderDetails"] == {"MetadataURL": "https://idp.example.com/metadata"}
    assert p["AttributeMapping"] == {"email": "mail"} and p["LastModifiedDate"] >= p["CreationDate"]
    create(cognito, pool, "Other", "OIDC", OIDC, IdpIdentifiers=["corp"])
    with aws_error("ResourceNotFoundException"):
        cognito.get_identity_provider_by_identifier(UserPoolId=pool, IdpIdentifier="corp.example.com")


def test_simultaneous_creations_keep_names_and_identifiers_unique(cognito, pool):
    def make(i):
        try:
            create(cognito, pool, f"Idp{i % 2}", "OIDC", OIDC, IdpIdentifiers=["shared"])
            return True
        except cognito.exceptions.ClientError:
            return False
    with ThreadPoolExecutor(max_workers=8) as ex:
        assert sum(ex.map(make, range(8))) == 1
    listed = cognito.list_identity_providers(UserPoolId=pool)["Providers"]
    assert len(listed) == 1


def test_list_pages_in_creation_order_and_delete_frees_the_name(cognito, pool):
    names = [f"Corp{i}" for i in range(5)]
    for n in names:
        create(cognito, pool, n, "OIDC", OIDC)
    first = cognito.list_identity_providers(UserPoolId=pool, MaxResults=2)
    rest = cognito.list_identity_providers(UserPoolId=pool, MaxResults=10, NextToken=first["NextToken"])
    assert [p["ProviderName"] for p in first["Providers"] + rest["Providers"]] == names
    assert set(first["Providers"][0]) == {"ProviderName", "ProviderType", "LastModifiedDate", "CreationDate"}
    assert "NextToken" not in rest
    cognito.delete_identity_provider(UserPoolId=pool, ProviderName="Corp0")
    with aws_error("ResourceNotFoundException"):
        cognito.delete_identity_provider(UserPoolId=pool, ProviderName="Corp0")
    create(cognito, pool, "Corp0", "OIDC", OIDC)
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    assert cognito.list_identity_providers(UserPoolId=other)["Providers"] == []


def test_app_clients_may_name_the_pools_providers(cognito, pool):
    with aws_error("InvalidParameterException", f"The provider Google does not exist for User Pool {pool}"):
        new_app_client(cognito, pool, SupportedIdentityProviders=["COGNITO", "Google"])
    create(cognito, pool, "Google", "Google", GOOGLE)
    client_id, _ = new_app_client(cognito, pool, SupportedIdentityProviders=["COGNITO", "Google"])
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
    assert described["SupportedIdentityProviders"] == ["COGNITO", "Google"]


def test_linked_identities_are_recorded_once_per_pool_and_removed(cognito, pool):
    create(cognito, pool, "Google", "Google", GOOGLE)
    create(cognito, pool, "Corp", "OIDC", OIDC)
    for name in ("alice", "bob"):
        cognito.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
    link = dict(UserPoolId=pool, DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "alice"},
                SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                            "ProviderAttributeValue": "1074"})
    cognito.admin_link_provider_for_user(**link)
    entry = json.loads(user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))["identities"])
    assert [{k: e[k] for k in ("userId", "providerName", "providerType", "issuer", "primary")} for e in entry] == [
        {"userId": "1074", "providerName": "Google", "providerType": "Google", "issuer": None, "primary": False}]
    assert isinstance(entry[0]["dateCreated"], int)
    # The same identity cannot go to another user, nor twice to the same.
    for who in ("alice", "bob"):
        with aws_error("InvalidParameterException", "already linked"):
            cognito.admin_link_provider_for_user(**{**link, "DestinationUser": {
                "ProviderName": "Cognito", "ProviderAttributeValue": who}})
    with aws_error("InvalidParameterException", "Cognito users with a username/password may not be passed in as a SourceUser"):
        cognito.admin_link_provider_for_user(**{**link, "SourceUser": {
            "ProviderName": "Cognito", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "bob"}})
    with aws_error("InvalidParameterException", "Cognito_Subject"):
        cognito.admin_link_provider_for_user(**{**link, "SourceUser": {
            "ProviderName": "Google", "ProviderAttributeName": "email", "ProviderAttributeValue": "a@b.c"}})
    with aws_error("UserNotFoundException"):
        cognito.admin_link_provider_for_user(**{**link, "DestinationUser": {
            "ProviderName": "Cognito", "ProviderAttributeValue": "nobody"}})
    # OIDC identities may be linked by a mapped attribute; five links at most.
    for i in range(4):
        cognito.admin_link_provider_for_user(**{**link, "SourceUser": {
            "ProviderName": "Corp", "ProviderAttributeName": "email", "ProviderAttributeValue": f"a{i}@corp"}})
    with aws_error("LimitExceededException"):
        cognito.admin_link_provider_for_user(**{**link, "SourceUser": {
            "ProviderName": "Corp", "ProviderAttributeName": "email", "ProviderAttributeValue": "a9@corp"}})

    cognito.admin_disable_provider_for_user(UserPoolId=pool, User={
        "ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "1074"})
    left = json.loads(user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))["identities"])
    assert [e["providerName"] for e in left] == ["Corp"] * 4
    with aws_error("InvalidParameterException", "not linked"):
        cognito.admin_disable_provider_for_user(UserPoolId=pool, User={
            "ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "1074"})
    # Freed, the identity may go to bob now.
    cognito.admin_link_provider_for_user(**{**link, "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": "bob"}})


def test_one_identity_linked_to_many_users_at_once_goes_to_one(cognito, pool):
    create(cognito, pool, "Google", "Google", GOOGLE)
    names = [f"user{i}" for i in range(6)]
    for name in names:
        cognito.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")

    def link(name):
        try:
            cognito.admin_link_provider_for_user(
                UserPoolId=pool, DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": name},
                SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                            "ProviderAttributeValue": "same-subject"})
            return True
        except cognito.exceptions.InvalidParameterException:
            return False

    with ThreadPoolExecutor(max_workers=6) as ex:
        assert sum(ex.map(link, names)) == 1
