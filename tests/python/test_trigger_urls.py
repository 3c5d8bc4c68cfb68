"""Lambda triggers served at a plain HTTP(S) URL (`[[lambda_function]]` in the config file),
end to end: a gatehouse process of its own, with no Lambda endpoint, POSTs the PreSignUp event to
a small HTTP server run by the test, signed as the webhook courier signs
(X-Gatehouse-Timestamp, X-Gatehouse-Signature: sha256=hex(HMAC-SHA256(secret, "<ts>.<body>"))),
and the server's answer decides the sign-up.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from support import ACCOUNT_ID, PASSWORD, REGION, GatehouseServer, SignInEnv

SECRET = "url-fn-secret-7c1d2e9f0a"
ACCEPT_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:pre-sign-up-accept"
REFUSE_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:pre-sign-up-refuse"


def error_of(e) -> tuple[str, str]:
    return e.response["Error"]["Code"], e.response["Error"]["Message"]


class FunctionServer:
    """Python's http.server in a thread: /accept confirms the user, /refuse answers
    400 {"errorMessage": "no thanks"}. Every request is recorded with whether its signature
    verified with SECRET."""

    def __init__(self):
        self.calls: list[dict] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                timestamp = self.headers.get("X-Gatehouse-Timestamp", "")
                expected = "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(expected, self.headers.get("X-Gatehouse-Signature", ""))
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
                calls.append({"path": self.path, "headers": dict(self.headers), "body": body,
                              "signed": signed and fresh})
                if not (signed and fresh):
                    self.answer(401, {"message": "bad signature"})
                elif self.path == "/accept":
                    event = json.loads(body)
                    event["response"]["autoConfirmUser"] = True
                    self.answer(200, event)
                else:
                    self.answer(400, {"errorMessage": "no thanks"})

            def answer(self, status: int, document: dict):
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def functions():
    srv = FunctionServer()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def url_server(tmp_path_factory, functions):
    """A gatehouse whose config file serves two functions at URLs, and no --lambda-endpoint."""
    base = tmp_path_factory.mktemp("trigger-urls")
    config = base / "gatehouse.toml"
    config.write_text(
        "[[lambda_function]]\n"
        f'arn = "{ACCEPT_ARN}"\n'
        f'url = "{functions.url}/accept"\n'
        f'secret = "{SECRET}"\n'
        "\n"
        "[[lambda_function]]\n"
        f'arn = "{REFUSE_ARN}"\n'
        f'url = "{functions.url}/refuse"\n'
        f'secret = "{SECRET}"\n'
    )
    srv = GatehouseServer(base / "data", base / "server.log", extra_args=("--config", str(config))).start()
    yield srv
    srv.stop()
    assert SECRET not in srv.log_tail(1_000_000), "the secret reached the log"


def test_a_url_function_gets_the_signed_event_and_confirms_the_user(url_server, functions):
    cognito = url_server.client()
    env = SignInEnv(cognito, url_server, LambdaConfig={"PreSignUp": ACCEPT_ARN})
    before = len(functions.calls)
    answer = cognito.sign_up(ClientId=env.client_id, Username="ann", Password=PASSWORD,
                             UserAttributes=[{"Name": "email", "Value": "ann@example.com"}])
    assert answer["UserConfirmed"] is True
    [call] = functions.calls[before:]
    assert call["path"] == "/accept"
    assert call["signed"] is True
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["headers"]["X-Gatehouse-Function"] == ACCEPT_ARN
    event = json.loads(call["body"])
    assert event["triggerSource"] == "PreSignUp_SignUp"
    assert event["userPoolId"] == env.pool
    assert event["userName"] == "ann"
    assert event["request"]["userAttributes"] == {"email": "ann@example.com"}
    assert cognito.admin_get_user(UserPoolId=env.pool, Username="ann")["UserStatus"] == "CONFIRMED"
    # The start-up line names the functions served by URL (never their secret).
    assert ACCEPT_ARN in url_server.log_tail(1_000_000)


def test_an_error_message_from_the_url_refuses_the_sign_up_in_cognitos_words(url_server, functions):
    cognito = url_server.client()
    env = SignInEnv(cognito, url_server, LambdaConfig={"PreSignUp": REFUSE_ARN})
    before = len(functions.calls)
    with pytest.raises(cognito.exceptions.UserLambdaValidationException) as e:
        cognito.sign_up(ClientId=env.client_id, Username="eve", Password=PASSWORD)
    assert error_of(e.value) == ("UserLambdaValidationException", "PreSignUp failed with error no thanks.")
    [call] = functions.calls[before:]
    assert call["signed"] is True and call["path"] == "/refuse"
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=env.pool, Username="eve")


@pytest.mark.parametrize("url, secret_key, message", [
    ("ftp://files.example/x", "secret",
     f"[[lambda_function]] entry 1 ({ACCEPT_ARN}): `url` must start with http:// or https://"),
    ("http://127.0.0.1:9/x", "secrett", "line 4: unknown field `secrett`"),
])
def test_a_bad_entry_stops_the_start_with_one_line_that_hides_the_secret(tmp_path, url, secret_key, message):
    config = tmp_path / "gatehouse.toml"
    config.write_text(f'[[lambda_function]]\narn = "{ACCEPT_ARN}"\nurl = "{url}"\n{secret_key} = "{SECRET}"\n')
    srv = GatehouseServer(tmp_path / "data", tmp_path / "server.log", extra_args=("--config", str(config)))
    with pytest.raises(RuntimeError, match="exited with"):
        srv.start()
    log = srv.log_tail(100_000)
    [line] = [l for l in log.splitlines() if l.startswith("gatehouse: ")]
    assert message in line
    assert SECRET not in log
