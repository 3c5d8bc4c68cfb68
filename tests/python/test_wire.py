"""The AWS JSON 1.1 wire, spoken by hand (unsigned http.client requests)."""

from __future__ import annotations

import http.client
import json

import pytest
from botocore.exceptions import ClientError

from support import AMZ_JSON, POOL_ID_RE, GatehouseCluster, REQUEST_ID_RE, assert_aws_error, aws_error, call, raw_request

PREFLIGHT_HEADERS = "content-type,x-amz-target,x-amz-user-agent,cache-control"


# --- successes -----------------------------------------------------------------------------------

def test_success_headers_and_body(server):
    resp = call(server.url, "CreateUserPool", {"PoolName": "raw"})
    assert resp.status == 200, resp
    assert (resp.header("Content-Type") or "").startswith(AMZ_JSON)
    assert REQUEST_ID_RE.match(resp.header("x-amzn-RequestId") or ""), resp
    assert resp.header("x-amzn-ErrorType") is None
    pool = resp.json()["UserPool"]
    assert POOL_ID_RE.match(pool["Id"])
    # Timestamps are epoch seconds (JSON numbers) on this protocol.
    assert isinstance(pool["CreationDate"], (int, float)) and pool["CreationDate"] > 1.6e9


def test_request_ids_are_unique(server):
    ids = {call(server.url, "ListUserPools", {"MaxResults": 1}).header("x-amzn-RequestId") for _ in range(5)}
    ids.add(call(server.url, "DescribeUserPool", {"UserPoolId": "us-east-1_AAAAAAAAA"}).header("x-amzn-RequestId"))
    assert len(ids) == 6 and all(REQUEST_ID_RE.match(i) for i in ids)


def test_unknown_members_are_ignored(server):
    resp = call(server.url, "CreateUserPool", {"PoolName": "x", "SomeFutureMember": {"a": [1, 2]}})
    assert resp.status == 200, resp


def test_application_json_content_type_accepted(server):
    resp = raw_request(server.url, body=json.dumps({"MaxResults": 5}),
                       headers={"Content-Type": "application/json",
                                "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"})
    assert resp.status == 200, resp
    assert resp.json() == {"UserPools": []}


def test_header_names_are_case_insensitive(server):
    resp = raw_request(server.url, body=json.dumps({"MaxResults": 5}),
                       headers={"content-type": AMZ_JSON,
                                "x-amz-target": "AWSCognitoIdentityProviderService.ListUserPools"})
    assert resp.status == 200, resp


# --- JSON nulls ----------------------------------------------------------------------------------

def test_null_members_are_absent(server):
    resp = call(server.url, "CreateUserPool", {
        "PoolName": "nulls", "DeviceConfiguration": None, "MfaConfiguration": None, "UserPoolTags": None,
        "Policies": {"PasswordPolicy": None}, "AdminCreateUserConfig": {"InviteMessageTemplate": None,
                                                                      "AllowAdminCreateUserOnly": None},
    })
    assert resp.status == 200, resp
    pool = resp.json()["UserPool"]
    assert "DeviceConfiguration" not in pool
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert not pool.get("UserPoolTags")


def test_null_values_inside_maps_are_dropped(server):
    resp = call(server.url, "CreateUserPool", {"PoolName": "tags", "UserPoolTags": {"gone": None, "kept": "v"}})
    assert resp.status == 200, resp
    assert resp.json()["UserPool"]["UserPoolTags"] == {"kept": "v"}


def test_null_members_in_update(server):
    pool_id = call(server.url, "CreateUserPool", {"PoolName": "x"}).json()["UserPool"]["Id"]
    resp = call(server.url, "UpdateUserPool", {"UserPoolId": pool_id, "DeviceConfiguration": None,
                                               "AutoVerifiedAttributes": None})
    assert resp.status == 200, resp
    assert resp.json() == {}


def test_null_required_member_is_a_validation_error(server):
    body = assert_aws_error(call(server.url, "CreateUserPool", {"PoolName": None}), "InvalidParameterException")
    assert body["message"] == ("1 validation error detected: Value null at 'poolName' failed to satisfy "
                               "constraint: Member must not be null")


def test_null_token_is_first_page(server):
    call(server.url, "CreateUserPool", {"PoolName": "x"})
    resp = call(server.url, "ListUserPools", {"MaxResults": 10, "NextToken": None})
    assert resp.status == 200, resp
    assert len(resp.json()["UserPools"]) == 1


# --- malformed requests --------------------------------------------------------------------------

@pytest.mark.parametrize("raw_body", [
    '{"PoolName":',
    '{"PoolName": "x",}',
    "{PoolName: 'x'}",
    "not json at all",
    '{"PoolName": "x"} trailing',
])
def test_malformed_json(server, raw_body):
    assert_aws_error(call(server.url, "CreateUserPool", raw_body=raw_body), "SerializationException")


@pytest.mark.parametrize("body", [
    {"PoolName": 123},
    {"PoolName": ["x"]},
    {"PoolName": "x", "Policies": "strong"},
    {"PoolName": "x", "Policies": []},                       # array where an object belongs
    {"PoolName": "x", "Policies": {"PasswordPolicy": {"MinimumLength": "8"}}},
    {"PoolName": "x", "Policies": {"PasswordPolicy": {"RequireNumbers": "true"}}},
    {"PoolName": "x", "AutoVerifiedAttributes": "email"},
    {"PoolName": "x", "UserPoolTags": ["a", "b"]},
    {"PoolName": "x", "UserPoolTags": {"a": 1}},
    {"PoolName": "x", "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": "yes"}},
    {"PoolName": "x", "DeviceConfiguration": [True, False]},
], ids=lambda b: json.dumps(b))
def test_wrong_json_types(server, body):
    assert_aws_error(call(server.url, "CreateUserPool", body), "SerializationException")
    assert call(server.url, "ListUserPools", {"MaxResults": 60}).json()["UserPools"] == []


@pytest.mark.parametrize("raw_body", ["[]", '["x"]', "null", '"string"', "42", "true"])
def test_body_must_be_an_object(server, raw_body):
    assert_aws_error(call(server.url, "CreateUserPool", raw_body=raw_body), "SerializationException")


@pytest.mark.parametrize("max_results", ['"10"', "10.5", "1e30", "99999999999999999999", "true"])
def test_wrong_number_types(server, max_results):
    assert_aws_error(call(server.url, "ListUserPools", raw_body='{"MaxResults": %s}' % max_results),
                     "SerializationException")


def test_invalid_utf8(server):
    assert_aws_error(call(server.url, "CreateUserPool", raw_body=b'{"PoolName": "\xff\xfe"}'),
                     "SerializationException")


def test_missing_target(server):
    body = assert_aws_error(call(server.url, None, {"PoolName": "x"}), "UnknownOperationException")
    assert body["message"]


@pytest.mark.parametrize("target", [
    "AWSCognitoIdentityProviderService.NoSuchOperation",
    "AWSCognitoIdentityProviderService.createUserPool",
    "SomeOtherService.CreateUserPool",
    "CreateUserPool",
    "",
])
def test_unknown_target(server, target):
    resp = raw_request(server.url, body="{}", headers={"Content-Type": AMZ_JSON, "X-Amz-Target": target})
    assert_aws_error(resp, "UnknownOperationException")


def test_body_over_one_mebibyte(server):
    big = json.dumps({"PoolName": "x", "Padding": "a" * (1024 * 1024 + 10)})
    body = assert_aws_error(call(server.url, "CreateUserPool", raw_body=big), "RequestEntityTooLargeException", 413)
    assert body["message"]
    # Just under the limit is parsed normally.
    ok = json.dumps({"PoolName": "x", "Padding": "a" * (1024 * 1024 - 100)})
    assert call(server.url, "CreateUserPool", raw_body=ok).status == 200


@pytest.mark.parametrize("path,content_type,size", [
    ("/", AMZ_JSON, 1024 * 1024 + 4096),  # the API's 1 MiB
    ("/console/sign-in", "application/x-www-form-urlencoded", 2 * 1024 * 1024 + 4096),  # forms' 2 MiB
])
def test_a_body_refused_unread_ends_the_connection(server, path, content_type, size):
    """The server drops the unread rest of a refused body, so the connection cannot carry another
    request: the answer says `Connection: close`, and a client that honours it (Node's agent,
    behind Playwright and the SDKs) opens a new one instead of having its next request reset."""
    # A process itself, not the test cluster's proxy in front of several (cluster.py).
    url = server.endpoints[0] if isinstance(server, GatehouseCluster) else server.url
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", "/health")
        ok = conn.getresponse()
        ok.read()
        assert ok.status == 200 and (ok.getheader("connection") or "").lower() != "close"
        body = b"x" * size
        conn.request("POST", path, body=body, headers={"Content-Type": content_type,
                                                        "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"})
        refused = conn.getresponse()
        refused.read()
        assert refused.status == 413
        assert refused.getheader("connection", "").lower() == "close"
    finally:
        conn.close()


@pytest.mark.parametrize("where", ["Unknown", "PoolName", "Policies"])
def test_deeply_nested_json_does_not_crash(server, where):
    deep = "[" * 100_000 + "]" * 100_000
    raw = '{"PoolName": "x", "%s": %s}' % (where, deep) if where != "PoolName" else '{"PoolName": %s}' % deep
    resp = call(server.url, "CreateUserPool", raw_body=raw)
    # An ignored unknown member may be skipped (200); anything else is a SerializationException.
    if where == "Unknown" and resp.status == 200:
        assert POOL_ID_RE.match(resp.json()["UserPool"]["Id"])
    else:
        assert_aws_error(resp, "SerializationException")
    assert call(server.url, "ListUserPools", {"MaxResults": 1}).status == 200  # still alive


# --- errors via boto3 ----------------------------------------------------------------------------

def test_error_envelope_matches_botocore_parsing(cognito):
    with pytest.raises(ClientError) as info:
        cognito.describe_user_pool(UserPoolId="us-east-1_AAAAAAAAA")
    response = info.value.response
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    assert response["Error"]["Message"] == "User pool us-east-1_AAAAAAAAA does not exist."
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"].split(":")[0] == "ResourceNotFoundException"
    assert REQUEST_ID_RE.match(response["ResponseMetadata"]["RequestId"])


# --- CORS ----------------------------------------------------------------------------------------

def test_cors_preflight(server):
    resp = raw_request(server.url, method="OPTIONS", headers={
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": PREFLIGHT_HEADERS,
    })
    assert resp.status in (200, 204), resp
    allow_origin = resp.header("Access-Control-Allow-Origin")
    assert allow_origin in ("*", "http://localhost:3000"), resp
    assert "POST" in [m.strip().upper() for m in (resp.header("Access-Control-Allow-Methods") or "").split(",")]
    allowed = resp.header("Access-Control-Allow-Headers") or ""
    allowed_set = {h.strip().lower() for h in allowed.split(",")}
    assert allowed.strip() == "*" or set(PREFLIGHT_HEADERS.split(",")) <= allowed_set, resp


@pytest.mark.parametrize("operation, body, status", [
    ("ListUserPools", {"MaxResults": 1}, 200),
    ("DescribeUserPool", {"UserPoolId": "us-east-1_AAAAAAAAA"}, 400),
])
def test_cors_on_real_responses(server, operation, body, status):
    resp = call(server.url, operation, body, extra_headers={"Origin": "https://app.example.com"})
    assert resp.status == status, resp
    assert resp.header("Access-Control-Allow-Origin") in ("*", "https://app.example.com"), resp
    exposed = {h.strip().lower() for h in (resp.header("Access-Control-Expose-Headers") or "").split(",")}
    assert {"x-amzn-requestid", "x-amzn-errortype"} <= exposed, resp


# --- never a 500 ---------------------------------------------------------------------------------

ODD_REQUESTS = [
    dict(method="GET", path="/"),
    dict(method="PUT", path="/", body="{}"),
    dict(method="DELETE", path="/"),
    dict(method="GET", path="/no/such/path"),
    dict(method="POST", path="/", body=""),
    dict(method="POST", path="/", body="{}", headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.CreateUserPool"}),
    dict(method="POST", path="/", body="", headers={"Content-Type": AMZ_JSON,
                                                    "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"}),
    dict(method="POST", path="/", body="\x00\x01\x02", headers={"Content-Type": AMZ_JSON,
                                                                "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"}),
    dict(method="POST", path="/", body='{"UserPoolId": "us-east-1_AAAAAAAAA", "ClientId": "' + "x" * 5000 + '"}',
         headers={"Content-Type": AMZ_JSON, "X-Amz-Target": "AWSCognitoIdentityProviderService.DescribeUserPoolClient"}),
    dict(method="POST", path="/", body='{"UserPoolId": "' + "\u00e9" * 60 + '"}',
         headers={"Content-Type": AMZ_JSON, "X-Amz-Target": "AWSCognitoIdentityProviderService.DescribeUserPool"}),
    dict(method="POST", path="/", body='{"MaxResults": 5, "NextToken": "%%%%"}',
         headers={"Content-Type": AMZ_JSON, "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"}),
    dict(method="POST", path="/_gatehouse/nope", body="{}"),
]


@pytest.mark.parametrize("request_kwargs", ODD_REQUESTS, ids=[f"{r['method']} {r['path']} #{i}" for i, r in enumerate(ODD_REQUESTS)])
def test_no_answer_is_a_500(server, request_kwargs):
    resp = raw_request(server.url, **request_kwargs)
    assert resp.status < 500, resp
    assert resp.status >= 400, resp
    if request_kwargs["path"] == "/" and request_kwargs["method"] == "POST":
        assert resp.json()["__type"] in ("SerializationException", "InvalidParameterException",
                                         "UnknownOperationException", "ResourceNotFoundException"), resp
