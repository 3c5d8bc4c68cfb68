"""Helpers shared by the test modules, each in one place: the server process, boto3 clients, raw
HTTP, assertions; app clients and users, password, SRP and refresh sign-ins, the development
outbox (outbox_messages, last_code), token verification (verify_jwt, assert_tokens_of), pycognito
users, devices, and SignInEnv (a pool with its client and the client side of sign-ins, which
test_devices.Devices and mfa_support.Env extend). Fixtures built on them (client_id, alice, …) are
in conftest.py; the MFA-only helpers (TOTP, Env) in mfa_support.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cluster import Cluster, listening_since, log_size

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
AMZ_JSON = "application/x-amz-json-1.1"
POOL_ID_RE = re.compile(r"^us-east-1_[0-9A-Za-z]{9}$")
REQUEST_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Seconds per TokenValidityUnits value.
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


@contextmanager
def aws_error(code: str, *message_parts: str, status: int = 400):
    """Expect a botocore ClientError with this error code, HTTP status and message substrings."""
    with pytest.raises(ClientError) as info:
        yield info
    err = info.value.response["Error"]
    assert err["Code"] == code, info.value.response
    message = err.get("Message", "")
    for part in message_parts:
        assert part in message, f"{part!r} not in {message!r}"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """SECRET_HASH = base64(HMAC-SHA256(client_secret, username + client_id))."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def user_attributes(user: dict) -> dict[str, str]:
    """The attributes of an AdminGetUser answer (UserAttributes) or a UserType (Attributes) as a dict."""
    pairs = user.get("UserAttributes", user.get("Attributes", []))
    return {a["Name"]: a["Value"] for a in pairs}


def strip_meta(response: dict) -> dict:
    response = dict(response)
    response.pop("ResponseMetadata", None)
    return response


def schema_by_name(pool: dict) -> dict[str, dict]:
    return {a["Name"]: a for a in pool["SchemaAttributes"]}


def token_validity_seconds(client: dict, token: str) -> int:
    """Effective lifetime of AccessToken / IdToken / RefreshToken of a described app client.

    A value without a unit is in hours for access and ID tokens and in days for refresh tokens.
    """
    value = client[f"{token}Validity"]
    default_unit = "days" if token == "RefreshToken" else "hours"
    unit = (client.get("TokenValidityUnits") or {}).get(token, default_unit)
    return value * UNIT_SECONDS[unit]


class RawResponse:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<{self.status} {dict(self.headers)} {self.body[:300]!r}>"


def raw_request(url: str, method: str = "POST", path: str = "/", body: bytes | str | None = None,
                headers: dict[str, str] | None = None, timeout: float = 15) -> RawResponse:
    """One unsigned HTTP request; returns status, headers, body whatever the status."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return RawResponse(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def call(url: str, operation: str | None, body: Any = None, raw_body: bytes | str | None = None,
         extra_headers: dict[str, str] | None = None) -> RawResponse:
    """POST / with the AWS JSON 1.1 headers, unsigned. `operation=None` omits X-Amz-Target."""
    headers = {"Content-Type": AMZ_JSON}
    if operation is not None:
        headers["X-Amz-Target"] = TARGET_PREFIX + operation
    headers.update(extra_headers or {})
    if raw_body is None:
        raw_body = json.dumps({} if body is None else body)
    return raw_request(url, body=raw_body, headers=headers)


def assert_aws_error(resp: RawResponse, error_type: str, status: int = 400, *message_parts: str) -> dict:
    """An AWS JSON 1.1 error: status, JSON body with __type and message, the matching headers."""
    assert resp.status == status, resp
    assert (resp.header("Content-Type") or "").startswith(AMZ_JSON), resp
    body = resp.json()
    assert body["__type"] == error_type, body
    assert isinstance(body.get("message"), str) and body["message"], body
    for part in message_parts:
        assert part in body["message"], body
    err_header = resp.header("x-amzn-ErrorType")
    assert err_header is not None and err_header.split(":")[0] == error_type, resp
    assert REQUEST_ID_RE.match(resp.header("x-amzn-RequestId") or ""), resp
    return body


# --- the server process -------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
DUMMY_KEY = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
START_TIMEOUT = 30.0


def gatehouse_binary() -> Path:
    env = os.environ.get("GATEHOUSE_BIN")
    if env:
        return Path(env)
    release = REPO / "target" / "release" / "gatehouse"
    if release.exists():
        return release
    return REPO / "target" / "debug" / "gatehouse"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatehouseServer:
    """One `gatehouse serve` process (`--dev` unless dev=False) on 127.0.0.1:<port> with a data
    dir it may outlive. Logs (stderr) go to log_path, stdout to log_path + ".out"; `env` is added
    to the process's environment."""

    def __init__(self, data_dir: Path, log_path: Path, region: str = REGION, account_id: str = ACCOUNT_ID,
                 dev: bool = True, extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None):
        self.binary = gatehouse_binary()
        if not self.binary.exists():
            raise RuntimeError(f"gatehouse binary not found at {self.binary}; set GATEHOUSE_BIN")
        self.data_dir = data_dir
        self.log_path = log_path
        self.region = region
        self.account_id = account_id
        self.dev = dev
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})
        self.stdout_path = Path(str(log_path) + ".out")
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._log = None
        self._out = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "GatehouseServer":
        # free_port() only finds a port free: another program (CI runs two suites side by side)
        # may bind it first, and then the server exits at once. A new port is tried then.
        for attempt in range(3):
            try:
                return self._start_on(free_port())
            except RuntimeError:
                if attempt == 2 or "Address already in use" not in self.log_tail()[-300:]:
                    raise
                self.proc = None
                for f in (self._log, self._out):
                    if f:
                        f.close()
        raise AssertionError("unreachable")

    def _start_on(self, port: int) -> "GatehouseServer":
        assert self.proc is None, "already running"
        self.port = port
        self._log_start = log_size(self.log_path)
        self._log = open(self.log_path, "ab")
        self._out = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen(
            [
                str(self.binary), "serve", *(["--dev"] if self.dev else []),
                "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", str(self.data_dir),
                "--region", self.region,
                "--account-id", self.account_id,
                *self.extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._log,
            env={**os.environ, **self.env},
        )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gatehouse exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            if not listening_since(self.log_path, self._log_start):
                time.sleep(0.02)
                continue
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200 and json.load(r).get("status") == "ok":
                        return
            except (OSError, ValueError) as e:  # not listening yet
                last_error = e
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gatehouse did not become healthy ({last_error}); log:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"gatehouse ignored SIGTERM for {timeout}s")
        for f in (self._log, self._out):
            if f:
                f.close()
        self._log = self._out = None
        return proc.returncode

    def restart(self) -> "GatehouseServer":
        self.stop()
        return self.start()

    def reset(self) -> None:
        req = urllib.request.Request(self.url + "/_gatehouse/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    def outbox(self, pool_id: str, username: str) -> list[dict]:
        """Messages Gatehouse "sent" to a user (--dev only), oldest first. `username` may be the
        canonical username, an alias or the sub."""
        query = urllib.parse.urlencode({"poolId": pool_id, "username": username})
        with urllib.request.urlopen(f"{self.url}/_gatehouse/outbox?{query}", timeout=10) as r:
            assert r.status == 200
            return json.load(r)["Messages"]

    def printed_credentials(self) -> tuple[str, str]:
        """The `export AWS_ACCESS_KEY_ID=…` / `AWS_SECRET_ACCESS_KEY=…` lines printed on first start."""
        text = self.stdout_path.read_text()
        values = dict(
            line.removeprefix("export ").split("=", 1) for line in text.splitlines() if line.startswith("export ")
        )
        return values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"]

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stored_bytes(self) -> bytes:
        """Everything the server keeps on disk (database, journal, WAL, keys)."""
        return b"".join(p.read_bytes() for p in sorted(self.data_dir.rglob("*")) if p.is_file())

    def client(self, **config) -> "boto3.client":
        return make_client(self.url, **config)


class GatehouseCluster(Cluster):
    """The shared server in multi-process mode: N processes on one PostgreSQL database behind
    cluster.py's round-robin proxy; `url`, `reset`, `outbox`, `stored_bytes` and `client` as
    GatehouseServer has them, all through the proxy."""

    def client(self, **config) -> "boto3.client":
        return make_client(self.url, **config)


def pool_change_settles(server) -> None:
    """A pool or app-client change reaches a cluster's other processes within a second (their
    cached copy is at most that stale while the change feed's notice is on its way; docs/rules.md,
    "Pool and app-client cache"): a test that changes a pool in use waits that long there."""
    if isinstance(server, GatehouseCluster):
        time.sleep(1.0)


def make_client(endpoint_url: str, **config):
    # One attempt per call, as the tests count requests: botocore's retries.max_attempts counts
    # retries, and 1 sent each throttled or failed call again after a backoff of up to a second.
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_SECRET,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
    )


# --- sign-in helpers: app clients, users, SRP steps, token verification ------------------------

PASSWORD = "Passw0rd!"
NEW_PASSWORD = "N3w-Passw0rd!"
PASSWORD_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                  "ALLOW_REFRESH_TOKEN_AUTH"]


def new_app_client(cognito, pool_id: str, name: str = "app", **settings) -> tuple[str, str | None]:
    """An app client allowing every password flow (unless ExplicitAuthFlows is given);
    returns (ClientId, ClientSecret or None)."""
    settings.setdefault("ExplicitAuthFlows", PASSWORD_FLOWS)
    created = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **settings)["UserPoolClient"]
    return created["ClientId"], created.get("ClientSecret")


def new_confirmed_user(cognito, pool_id: str, username: str, password: str, **attributes: str) -> dict:
    """A CONFIRMED user with a permanent password; keyword arguments are attributes
    (`custom_tenant="x"` is custom:tenant). Returns AdminGetUser's answer."""
    attrs = [{"Name": k.replace("custom_", "custom:", 1), "Value": v} for k, v in attributes.items()]
    cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=attrs)
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    return cognito.admin_get_user(UserPoolId=pool_id, Username=username)


def password_sign_in(cognito, client_id: str, username: str, password: str, client_secret: str | None = None,
                     hash_username: str | None = None) -> dict:
    """InitiateAuth USER_PASSWORD_AUTH; returns the whole answer."""
    params = {"USERNAME": username, "PASSWORD": password}
    if client_secret is not None:
        params["SECRET_HASH"] = secret_hash(client_secret, hash_username or username, client_id)
    return cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)


def sign_in_tokens(cognito, client_id: str, username: str = "alice", password: str = PASSWORD, **kwargs) -> dict:
    """USER_PASSWORD_AUTH that must end the sign-in (no challenge); its AuthenticationResult."""
    return tokens(password_sign_in(cognito, client_id, username, password, **kwargs))


def refresh(cognito, client_id: str, token: str, device_key: str | None = None, flow: str = "REFRESH_TOKEN_AUTH",
            **params: str) -> dict:
    """InitiateAuth REFRESH_TOKEN_AUTH (or `flow`) with this refresh token, DEVICE_KEY when given
    and any other AuthParameters (e.g. SECRET_HASH); returns the whole answer."""
    params = {"REFRESH_TOKEN": token, **params}
    if device_key is not None:
        params["DEVICE_KEY"] = device_key
    return cognito.initiate_auth(ClientId=client_id, AuthFlow=flow, AuthParameters=params)


def user_status(cognito, pool_id: str, username: str = "alice") -> str:
    return cognito.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"]


def outbox_messages(server, pool_id: str, purpose: str, username: str = "alice") -> list[dict]:
    """The messages of the development outbox for `username` with this Purpose (FORGOT_PASSWORD,
    VERIFY_ATTRIBUTE, SIGN_UP, INVITATION, MFA, …), oldest first."""
    return [m for m in server.outbox(pool_id, username) if m["Purpose"] == purpose]


def last_code(server, pool_id: str, purpose: str, username: str = "alice") -> str:
    """The code of the latest outbox message with this Purpose; fails when there is none."""
    messages = outbox_messages(server, pool_id, purpose, username)
    assert messages, server.outbox(pool_id, username)
    return messages[-1]["Code"]


def pycognito_user(url: str, pool_id: str, client_id: str, username: str = "alice", **kwargs):
    """pycognito's Cognito object for this user, with its own boto3 client pointed at `url`."""
    from pycognito import Cognito
    return Cognito(pool_id, client_id, username=username, boto3_client_kwargs={
        "endpoint_url": url, "aws_access_key_id": DUMMY_KEY, "aws_secret_access_key": DUMMY_SECRET}, **kwargs)


def cognito_timestamp(when) -> str:
    """TIMESTAMP as the SRP clients render it: `EEE MMM d HH:mm:ss UTC yyyy` (UTC, unpadded day)."""
    from pycognito.aws_srp import AWSSRP
    return AWSSRP.get_cognito_formatted_timestamp(when)


class SrpSignIn:
    """The client side of USER_SRP_AUTH, one step at a time, so single fields can be tampered
    with. The math is pycognito's (AWSSRP); only the request building is here."""

    def __init__(self, cognito, pool_id: str, client_id: str, username: str, password: str,
                 client_secret: str | None = None):
        from pycognito.aws_srp import AWSSRP
        self.cognito = cognito
        self.pool_id = pool_id
        self.client_id = client_id
        self.username = username
        self.client_secret = client_secret
        self.srp = AWSSRP(username=username, password=password, pool_id=pool_id, client_id=client_id,
                          client=cognito, client_secret=client_secret)

    @property
    def srp_a(self) -> str:
        return f"{self.srp.large_a_value:x}"

    def auth_parameters(self, **overrides) -> dict:
        params = {"USERNAME": self.username, "SRP_A": self.srp_a}
        if self.client_secret is not None:
            params["SECRET_HASH"] = secret_hash(self.client_secret, self.username, self.client_id)
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def initiate(self, **overrides) -> dict:
        """InitiateAuth USER_SRP_AUTH; the PASSWORD_VERIFIER challenge answer."""
        return self.cognito.initiate_auth(ClientId=self.client_id, AuthFlow="USER_SRP_AUTH",
                                          AuthParameters=self.auth_parameters(**overrides))

    def responses(self, challenge: dict, timestamp: str | None = None, **overrides) -> dict:
        """The PASSWORD_VERIFIER ChallengeResponses for this challenge, signed over `timestamp`
        (default: now). Overrides replace fields after signing; None removes one."""
        import datetime as _dt
        params = challenge["ChallengeParameters"]
        user_id = params["USER_ID_FOR_SRP"]
        timestamp = timestamp or cognito_timestamp(_dt.datetime.now(_dt.timezone.utc))
        key = self.srp.get_password_authentication_key(user_id, self.srp.password, int(params["SRP_B"], 16),
                                                       params["SALT"])
        message = (self.pool_id.split("_")[1].encode() + user_id.encode()
                   + base64.standard_b64decode(params["SECRET_BLOCK"]) + timestamp.encode())
        signature = base64.standard_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        answer = {
            "USERNAME": params.get("USERNAME", user_id),
            "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
            "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SIGNATURE": signature,
        }
        if self.client_secret is not None:
            answer["SECRET_HASH"] = secret_hash(self.client_secret, answer["USERNAME"], self.client_id)
        answer.update(overrides)
        return {k: v for k, v in answer.items() if v is not None}

    def respond(self, responses: dict) -> dict:
        return self.cognito.respond_to_auth_challenge(ClientId=self.client_id, ChallengeName="PASSWORD_VERIFIER",
                                                      ChallengeResponses=responses)

    def sign_in(self) -> dict:
        """Both steps; the RespondToAuthChallenge answer."""
        return self.respond(self.responses(self.initiate()))


def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200, url
        return json.load(r)


def verify_jwt(issuer: str, token: str, token_use: str, client_id: str | None = None,
               jwks: dict | None = None) -> dict:
    """Verify an access or ID token as a relying party would: RS256 signature by the key its `kid`
    names in `<issuer>/.well-known/jwks.json`, `iss`, `exp`, `aud` (ID tokens), `token_use`.
    Returns the claims."""
    import jwt
    jwks = jwks or fetch_json(issuer + "/.well-known/jwks.json")
    header = jwt.get_unverified_header(token)
    assert header.get("alg") == "RS256", header
    [jwk] = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, key, algorithms=["RS256"], issuer=issuer,
                        audience=client_id if token_use == "id" else None,
                        options={"require": ["iss", "exp", "iat"] + (["aud"] if token_use == "id" else []),
                                 "verify_aud": token_use == "id"})
    assert claims["token_use"] == token_use, claims
    return claims


def assert_tokens_of(issuer: str, result: dict, client_id: str, username: str,
                     sub: str | None = None) -> tuple[dict, dict]:
    """An AuthenticationResult whose access and ID tokens verify (verify_jwt) and were issued to
    `username` (and `sub`, when given) through `client_id`, with a refresh token beside them.
    Returns (access claims, ID claims)."""
    access = verify_jwt(issuer, result["AccessToken"], "access")
    id_claims = verify_jwt(issuer, result["IdToken"], "id", client_id)
    assert access["username"] == username, access
    assert id_claims["cognito:username"] == username, id_claims
    assert access["client_id"] == client_id, access
    assert access["sub"] == id_claims["sub"], (access, id_claims)
    if sub is not None:
        assert access["sub"] == sub, access
    assert result["RefreshToken"], result
    return access, id_claims


# --- sign-in results and devices (shared by the device and MFA suites) ----------------------------

@dataclass
class Device:
    """What a client keeps after ConfirmDevice: the key, the group key and its random secret."""
    key: str
    group_key: str
    password: str


def tokens(answer: dict) -> dict:
    """The AuthenticationResult of an answer that ends the sign-in (no further challenge)."""
    assert "ChallengeName" not in answer, answer
    return answer["AuthenticationResult"]


def unverified_claims(token: str) -> dict:
    import jwt
    return jwt.decode(token, options={"verify_signature": False})


DEVICE_KEY_RE = re.compile(r"^us-east-1_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def checked_new_device_metadata(issuer: str, result: dict) -> dict:
    """NewDeviceMetadata of a sign-in result, checked: key format, group key, and the access
    token's device_key claim (verified against the pool's JWKS; the ID token has none)."""
    meta = result.get("NewDeviceMetadata")
    assert meta, result
    assert DEVICE_KEY_RE.match(meta["DeviceKey"]), meta
    assert isinstance(meta["DeviceGroupKey"], str) and meta["DeviceGroupKey"], meta
    assert verify_jwt(issuer, result["AccessToken"], "access")["device_key"] == meta["DeviceKey"]
    assert "device_key" not in unverified_claims(result["IdToken"])
    return meta


def device_attributes(device: dict) -> dict[str, str]:
    """A DeviceType's DeviceAttributes as a dict."""
    return {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}


def remembered_status(device: dict) -> str:
    return device_attributes(device)["dev:device_remembered_status"]


class SignInEnv:
    """A pool (with `devices` as its DeviceConfiguration; None: device tracking off), an app client
    allowing every password flow, users with PASSWORD, and the client side of sign-ins. The device
    suite (test_devices.Devices) and the MFA suites (mfa_support.Env) build on it."""

    pool_name = "sign-in"

    def __init__(self, cognito, server, devices: dict | None = None, **pool_settings):
        self.cognito = cognito
        self.server = server
        kwargs = {"PoolName": self.pool_name, **pool_settings}
        if devices is not None:
            kwargs["DeviceConfiguration"] = devices
        self.pool = cognito.create_user_pool(**kwargs)["UserPool"]["Id"]
        self.client_id = new_app_client(cognito, self.pool)[0]
        self.issuer = f"{server.url}/{self.pool}"
        self.opt_in = bool(devices and devices.get("DeviceOnlyRememberedOnUserPrompt"))
        self.tracking = devices is not None

    def user(self, username: str = "alice", **attributes) -> dict:
        return new_confirmed_user(self.cognito, self.pool, username, PASSWORD, **attributes)

    # sign-ins

    def password_auth(self, username: str = "alice", flow: str = "USER_PASSWORD_AUTH",
                      device_key: str | None = None, password: str = PASSWORD, client_id: str | None = None,
                      **extra) -> dict:
        """InitiateAuth USER_PASSWORD_AUTH, or AdminInitiateAuth for the ADMIN_ flows, with DEVICE_KEY
        in AuthParameters when given; the raw answer."""
        params = {"USERNAME": username, "PASSWORD": password, **extra}
        if device_key is not None:
            params["DEVICE_KEY"] = device_key
        client_id = client_id or self.client_id
        if flow.startswith("ADMIN_"):
            return self.cognito.admin_initiate_auth(UserPoolId=self.pool, ClientId=client_id, AuthFlow=flow,
                                                    AuthParameters=params)
        return self.cognito.initiate_auth(ClientId=client_id, AuthFlow=flow, AuthParameters=params)

    def respond(self, challenge: str, responses: dict, session: str | None = None, admin: bool = False,
                client_id: str | None = None) -> dict:
        kwargs = {"ClientId": client_id or self.client_id, "ChallengeName": challenge,
                  "ChallengeResponses": responses}
        if session is not None:
            kwargs["Session"] = session
        if admin:
            return self.cognito.admin_respond_to_auth_challenge(UserPoolId=self.pool, **kwargs)
        return self.cognito.respond_to_auth_challenge(**kwargs)

    def srp(self, username: str = "alice", device: Device | None = None, device_password: str | None = None,
            password: str = PASSWORD):
        """pycognito's SRP client (AWSSRP) through boto3, holding `device` if given."""
        from pycognito.aws_srp import AWSSRP
        extra = {}
        if device is not None:
            extra = dict(device_key=device.key, device_group_key=device.group_key,
                         device_password=device_password or device.password)
        return AWSSRP(username=username, password=password, pool_id=self.pool, client_id=self.client_id,
                      client=self.cognito, **extra)

    # tokens and devices

    def access_claims(self, access_token: str) -> dict:
        """The access token's claims, verified against the pool's JWKS and issuer."""
        return verify_jwt(self.issuer, access_token, "access")

    def new_device_metadata(self, result: dict) -> dict:
        return checked_new_device_metadata(self.issuer, result)

    def admin_device(self, key: str, username: str = "alice") -> dict:
        return self.cognito.admin_get_device(UserPoolId=self.pool, Username=username, DeviceKey=key)["Device"]
