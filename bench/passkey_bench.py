#!/usr/bin/env python3
"""Passkey sign-ins beside SRP sign-ins, measured in one run (a benchmark, not a test).

Usage: python3 bench/passkey_bench.py [path/to/gatehouse] [seconds per flow] [workers]

Starts the server (--dev, a temporary data dir), makes a pool whose first factors are the
password and passkeys (relying party `localhost`), and users each holding a passkey registered
through StartWebAuthnRegistration / CompleteWebAuthnRegistration by a software authenticator
written here (ES256, attestation `none`). Then, for the same number of seconds each and with the
same number of client threads:

  - passkey: InitiateAuth USER_AUTH (PREFERRED_CHALLENGE WEB_AUTHN), the assertion signed,
    RespondToAuthChallenge WEB_AUTHN: tokens;
  - srp: InitiateAuth USER_SRP_AUTH, RespondToAuthChallenge PASSWORD_VERIFIER (pycognito's
    client maths): tokens.

Prints sign-ins per second and the server's CPU (user + system, from /proc) per sign-in for each
flow, and their ratio. The clients run on the same machine, so sign-ins per second are bounded
by the machine's cores as much as by the server; the CPU per sign-in is the server's own cost.
Requires the Python test suite's packages (tests/python/requirements.txt: cryptography,
pycognito).
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/gatehouse"
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
WORKERS = int(sys.argv[3]) if len(sys.argv) > 3 else 4
USERS = 32
PASSWORD = "Bench-Passw0rd!"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """One keep-alive connection to the server's JSON API."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)

    def __call__(self, op, body):
        self.conn.request("POST", "/", json.dumps(body), {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{op}"})
        r = self.conn.getresponse()
        data = json.loads(r.read() or b"{}")
        if r.status != 200:
            raise RuntimeError(f"{op}: {data}")
        return data


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(value) -> bytes:
    """The CBOR subset an attestation object needs: integers, byte and text strings, maps."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | code]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return head(3, len(raw)) + raw
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(value)


class Authenticator:
    """A software passkey: one P-256 key, a signature counter, presence and verification."""

    def __init__(self, origin):
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.id = os.urandom(16)
        self.counter = 0

    def register(self, options) -> dict:
        numbers = self.key.public_key().public_numbers()
        cose = cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(options["rp"]["id"].encode()).digest() + bytes([0x45]) + struct.pack(">I", 0)
                     + bytes(16) + struct.pack(">H", len(self.id)) + self.id + cose)
        client_data = json.dumps({"type": "webauthn.create", "challenge": options["challenge"],
                                  "origin": self.origin, "crossOrigin": False}).encode()
        return {"id": b64url(self.id), "rawId": b64url(self.id), "type": "public-key",
                "clientExtensionResults": {}, "authenticatorAttachment": "platform",
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})),
                             "transports": ["internal"]}}

    def assert_(self, options: str, sub: str) -> str:
        o = json.loads(options)
        self.counter += 1
        auth_data = hashlib.sha256(o["rpId"].encode()).digest() + bytes([0x05]) + struct.pack(">I", self.counter)
        client_data = json.dumps({"type": "webauthn.get", "challenge": o["challenge"], "origin": self.origin,
                                  "crossOrigin": False}).encode()
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({"id": b64url(self.id), "rawId": b64url(self.id), "type": "public-key",
                           "clientExtensionResults": {},
                           "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                                        "signature": b64url(signature), "userHandle": b64url(sub.encode())}})


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(flow, port, users, seconds, workers, server_pid):
    done = [0] * workers
    stop = time.monotonic() + seconds
    errors = []

    def worker(i):
        api = Api(port)
        n = 0
        while time.monotonic() < stop:
            user = users[(i + n * workers) % len(users)]
            try:
                flow(api, user)
                done[i] += 1
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
                return
            n += 1

    before, started = cpu_seconds(server_pid), time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.monotonic() - started, cpu_seconds(server_pid) - before
    if errors:
        raise SystemExit(f"{flow.__name__}: {errors[0]}")
    total = sum(done)
    return total / wall, cpu / total * 1000


def main():
    from pycognito.aws_srp import AWSSRP

    port = free_port()
    data = tempfile.mkdtemp(prefix="gh-passkey-bench-")
    server = subprocess.Popen([BIN, "serve", "--dev", "--listen", f"127.0.0.1:{port}", "--data-dir", data],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "RUST_LOG": "warn"})
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        api = Api(port)
        pool = api("CreateUserPool", {"PoolName": "bench", "Policies": {
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}})["UserPool"]["Id"]
        api("SetUserPoolMfaConfig", {"UserPoolId": pool, "MfaConfiguration": "OFF",
                                     "WebAuthnConfiguration": {"RelyingPartyId": "localhost"}})
        client_id = api("CreateUserPoolClient", {"UserPoolId": pool, "ClientName": "bench", "ExplicitAuthFlows": [
            "ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH"]})["UserPoolClient"]["ClientId"]
        origin = f"http://localhost:{port}"
        users = []
        for i in range(USERS):
            name = f"user{i}"
            api("AdminCreateUser", {"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS"})
            api("AdminSetUserPassword", {"UserPoolId": pool, "Username": name, "Password": PASSWORD,
                                         "Permanent": True})
            sub = next(a["Value"] for a in api("AdminGetUser", {"UserPoolId": pool, "Username": name})[
                "UserAttributes"] if a["Name"] == "sub")
            access = api("InitiateAuth", {"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {
                "USERNAME": name, "PASSWORD": PASSWORD}})["AuthenticationResult"]["AccessToken"]
            authenticator = Authenticator(origin)
            options = api("StartWebAuthnRegistration", {"AccessToken": access})["CredentialCreationOptions"]
            api("CompleteWebAuthnRegistration", {"AccessToken": access, "Credential": authenticator.register(options)})
            users.append((name, sub, authenticator))

        def passkey(api, user):
            name, sub, authenticator = user
            challenge = api("InitiateAuth", {"ClientId": client_id, "AuthFlow": "USER_AUTH", "AuthParameters": {
                "USERNAME": name, "PREFERRED_CHALLENGE": "WEB_AUTHN"}})
            credential = authenticator.assert_(challenge["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"], sub)
            result = api("RespondToAuthChallenge", {
                "ClientId": client_id, "ChallengeName": "WEB_AUTHN", "Session": challenge["Session"],
                "ChallengeResponses": {"USERNAME": name, "CREDENTIAL": credential}})
            assert result["AuthenticationResult"]["AccessToken"]

        def srp(api, user):
            name = user[0]
            # The maths only: a placeholder stands for the boto3 client it would otherwise make.
            client = AWSSRP(username=name, password=PASSWORD, pool_id=pool, client_id=client_id, client=object())
            challenge = api("InitiateAuth", {"ClientId": client_id, "AuthFlow": "USER_SRP_AUTH",
                                             "AuthParameters": client.get_auth_params()})
            answer = client.process_challenge(challenge["ChallengeParameters"], {"USERNAME": name})
            result = api("RespondToAuthChallenge", {"ClientId": client_id, "ChallengeName": "PASSWORD_VERIFIER",
                                                    "ChallengeResponses": answer})
            assert result["AuthenticationResult"]["AccessToken"]

        # Worker i takes users i, i + WORKERS, ...: each authenticator (its counter) is one
        # worker's alone when WORKERS divides USERS.
        results = {}
        for name, flow in (("passkey", passkey), ("srp", srp)):
            results[name] = run(flow, port, users, SECONDS, WORKERS, server.pid)
        print(f"{USERS} users, {WORKERS} client threads, {SECONDS:.0f} s per flow, server {BIN}")
        for name, (rate, cpu_ms) in results.items():
            print(f"  {name:8} {rate:8.1f} sign-ins/s   server CPU {cpu_ms:6.2f} ms per sign-in")
        print(f"  passkey / srp server CPU per sign-in: {results['passkey'][1] / results['srp'][1]:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
