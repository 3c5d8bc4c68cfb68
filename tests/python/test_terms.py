"""Terms documents through boto3 (CreateTerms, DescribeTerms, DescribeTermsByClient, ListTerms,
UpdateTerms, DeleteTerms) and their links on the hosted sign-up page. What Cognito does:
docs/design/remaining-operations-cognito-behaviour.md §3.
"""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor

from oauth_support import Browser, oauth_client, oauth_pool, pkce
from support import aws_error, new_app_client

TERMS = {"cognito:default": "https://example.com/terms", "cognito:french": "https://example.com/fr/conditions"}
PRIVACY = {"cognito:english": "https://example.com/privacy"}


def create(cognito, pool, client_id, name, links):
    return cognito.create_terms(UserPoolId=pool, ClientId=client_id, TermsName=name, TermsSource="LINK",
                                Enforcement="NONE", Links=links)["Terms"]


def test_a_client_has_one_document_of_each_name(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)
    terms = create(cognito, pool, client_id, "terms-of-use", TERMS)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", terms["TermsId"])
    assert {k: terms[k] for k in ("UserPoolId", "ClientId", "TermsName", "TermsSource", "Enforcement", "Links")} == {
        "UserPoolId": pool, "ClientId": client_id, "TermsName": "terms-of-use", "TermsSource": "LINK",
        "Enforcement": "NONE", "Links": TERMS}
    assert cognito.describe_terms(UserPoolId=pool, TermsId=terms["TermsId"])["Terms"] == terms
    assert cognito.describe_terms_by_client(UserPoolId=pool, ClientId=client_id, TermsName="terms-of-use")["Terms"] == terms
    with aws_error("TermsExistsException"):
        create(cognito, pool, client_id, "terms-of-use", TERMS)
    privacy = create(cognito, pool, client_id, "privacy-policy", PRIVACY)
    # A rename onto the other document's name is refused; other changes replace what they give.
    with aws_error("TermsExistsException"):
        cognito.update_terms(UserPoolId=pool, TermsId=privacy["TermsId"], TermsName="terms-of-use")
    updated = cognito.update_terms(UserPoolId=pool, TermsId=privacy["TermsId"],
                                   Links={"cognito:default": "https://example.com/privacy-v2"})["Terms"]
    assert updated["Links"] == {"cognito:default": "https://example.com/privacy-v2"}
    assert updated["TermsName"] == "privacy-policy" and updated["LastModifiedDate"] >= updated["CreationDate"]
    # Another client has its own.
    other, _ = new_app_client(cognito, pool, name="other")
    create(cognito, pool, other, "terms-of-use", TERMS)


def test_refusals_and_deletion(cognito, cognito_raw, pool):
    client_id, _ = new_app_client(cognito, pool)
    with aws_error("InvalidParameterException", "termsName"):
        cognito_raw.create_terms(UserPoolId=pool, ClientId=client_id, TermsName="cookies", TermsSource="LINK",
                                 Enforcement="NONE", Links=TERMS)
    with aws_error("InvalidParameterException", "links"):
        cognito_raw.create_terms(UserPoolId=pool, ClientId=client_id, TermsName="terms-of-use", TermsSource="LINK",
                                 Enforcement="NONE", Links={"cognito:klingon": "https://example.com"})
    with aws_error("InvalidParameterException", "links"):
        cognito_raw.create_terms(UserPoolId=pool, ClientId=client_id, TermsName="terms-of-use", TermsSource="LINK",
                                 Enforcement="NONE")
    with aws_error("ResourceNotFoundException"):
        create(cognito, pool, "nosuchclient000000000000000", "terms-of-use", TERMS)
    terms = create(cognito, pool, client_id, "terms-of-use", TERMS)
    cognito.delete_terms(UserPoolId=pool, TermsId=terms["TermsId"])
    with aws_error("ResourceNotFoundException"):
        cognito.describe_terms(UserPoolId=pool, TermsId=terms["TermsId"])
    with aws_error("ResourceNotFoundException"):
        cognito.delete_terms(UserPoolId=pool, TermsId=terms["TermsId"])
    with aws_error("ResourceNotFoundException"):
        cognito.describe_terms_by_client(UserPoolId=pool, ClientId=client_id, TermsName="terms-of-use")
    # A client's terms go with it.
    again = create(cognito, pool, client_id, "terms-of-use", TERMS)
    cognito.delete_user_pool_client(UserPoolId=pool, ClientId=client_id)
    with aws_error("ResourceNotFoundException"):
        cognito.describe_terms(UserPoolId=pool, TermsId=again["TermsId"])


def test_simultaneous_creations_make_one_document(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)

    def make(_):
        try:
            create(cognito, pool, client_id, "terms-of-use", TERMS)
            return True
        except cognito.exceptions.TermsExistsException:
            return False

    with ThreadPoolExecutor(max_workers=6) as ex:
        assert sum(ex.map(make, range(6))) == 1


def test_the_pools_terms_are_listed_without_clients_or_links(cognito, pool):
    ids = []
    for i in range(3):
        client_id, _ = new_app_client(cognito, pool, name=f"app{i}")
        ids.append(create(cognito, pool, client_id, "terms-of-use", TERMS)["TermsId"])
    first = cognito.list_terms(UserPoolId=pool, MaxResults=2)
    rest = cognito.list_terms(UserPoolId=pool, MaxResults=2, NextToken=first["NextToken"])
    assert [t["TermsId"] for t in first["Terms"] + rest["Terms"]] == ids
    assert set(first["Terms"][0]) == {"TermsId", "TermsName", "Enforcement", "CreationDate", "LastModifiedDate"}
    assert "NextToken" not in rest


def test_the_hosted_sign_up_page_links_both_documents_once_both_exist(server, cognito):
    pool = oauth_pool(cognito, domain="terms", AutoVerifiedAttributes=["email"])
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))

    def sign_up_page() -> str:
        b = Browser(server.url)
        _, challenge = pkce()
        b.get("/oauth2/authorize", response_type="code", client_id=client_id,
              redirect_uri="https://app.example/callback", code_challenge=challenge, code_challenge_method="S256")
        b.get(html.unescape(re.search(r'href="([^"]*signup[^"]*)"', b.page.text).group(1)))
        return b.page.text

    assert "Terms of use" not in sign_up_page()
    create(cognito, pool, client_id, "terms-of-use", TERMS)
    assert "Terms of use" not in sign_up_page()  # both, or neither
    privacy = create(cognito, pool, client_id, "privacy-policy", PRIVACY)
    page = sign_up_page()
    assert '<a href="https://example.com/terms"' in page and '<a href="https://example.com/privacy"' in page
    # Only web links reach the page.
    cognito.update_terms(UserPoolId=pool, TermsId=privacy["TermsId"], Links={"cognito:default": "javascript:alert(1)"})
    assert "javascript:" not in sign_up_page()
