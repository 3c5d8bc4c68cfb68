"""No console page or form answers 5xx, whatever it is sent: every route of the console, with its
forms posted empty, oversized, with the wrong types, with bytes that are not UTF-8, and with path
segments that are not ids. Each answer is a 4xx or a redirect, and the pool is unchanged. Fixtures: console_support.py.
"""

from __future__ import annotations

import urllib.parse

from console_support import *  # noqa: F401,F403 - fixtures and helpers
from console_support import sign_in, tracked_pool_with_ana
from playwright.sync_api import Error as PlaywrightError

# axum's default body limit, which the console's forms keep.
FORM_LIMIT = 2 * 1024 * 1024

# Every form field name the console's forms use, so each route gets every kind of value in them.
FIELDS = ["version", "remember", "suppress_mfa", "mfa", "totp", "minimum_length", "require_numbers",
          "temporary_password_validity_days", "sending_account", "source_arn", "from", "reply_to",
          "email_option", "email_subject", "email_message", "sms_message", "confirm", "pool_name",
          "status", "q", "next", "username", "email", "temporary_password", "invite", "name", "value",
          "group", "group_name", "description", "generate_secret", "flow", "access", "id_token", "refresh",
          "access_key_id", "secret_access_key", "remembered_days", "max_remembered"]

VALUES = ["", "x" * 100_000, "-1", "99999999999999999999999", "1.5", "abc", "<script>alert(1)</script>",
          "'; DROP TABLE users; --", "\u0000\u0001", "\U0001F600" * 50, "%zz", "../../etc/passwd"]

BAD_SEGMENTS = ["..%2F..%2Fetc", "x" * 3000, "%00", "%F0%28%8C%28", "us-east-1_" + "Z" * 40, "%20"]


def routes(pool_id, client_id, device_key):
    base = f"/console/pools/{pool_id}"
    user = f"{base}/users/ana"
    return [
        "/console/", "/console/sign-out", f"{base}/device-tracking", f"{base}/device-policy", f"{base}/mfa",
        f"{base}/password-policy", f"{base}/messages", f"{base}/delete",
        f"{base}/users", f"{base}/groups", f"{user}/disable", f"{user}/enable", f"{user}/reset-password",
        f"{user}/delete", f"{user}/attributes", f"{user}/attributes/delete", f"{user}/mfa/reset",
        f"{user}/groups/add", f"{user}/groups/remove",
        f"{user}/devices/{device_key}/forget", f"{user}/devices/{device_key}/status",
        f"{base}/clients", f"{base}/clients/{client_id}", f"{base}/clients/{client_id}/delete",
    ]


def test_no_console_route_answers_5xx_to_any_input(page, console_server, admin_api):
    pool_id, client_id = tracked_pool_with_ana(admin_api, "bad-input-pool")
    before = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    sign_in(page, console_server)
    page.goto(f"{console_server.url}/console/pools/{pool_id}")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    device_key = "us-east-1_00000000-0000-4000-8000-000000000000"
    answers = []

    def post(path, body, content_type="application/x-www-form-urlencoded"):
        try:
            r = page.request.post(console_server.url + path, data=body, max_redirects=0,
                                  headers={"content-type": content_type})
        except PlaywrightError as e:
            # A body over the forms' 2 MiB limit is refused (413, Connection: close) before it is
            # all read; a client still writing it may meet the closed connection first. That is
            # a refusal too, never a server error.
            if len(body) > FORM_LIMIT and ("EPIPE" in str(e) or "ECONNRESET" in str(e)):
                answers.append((413, path, "connection closed while an oversized body was written"))
                return
            raise
        answers.append((r.status, path, body[:80] if isinstance(body, (str, bytes)) else body))

    for path in routes(pool_id, client_id, device_key):
        if path == "/console/sign-out":
            continue  # it would end the session the other posts need; posted last
        for value in VALUES:
            post(path, urllib.parse.urlencode({"csrf": csrf, **{f: value for f in FIELDS}}))
        post(path, urllib.parse.urlencode({"csrf": csrf}))
        post(path, b"csrf=" + csrf.encode() + b"&version=\xff\xfe&pool_name=\xc3\x28")
        post(path, "csrf=" + csrf + "&version=1&version=2&remember=always&remember=no")
        post(path, '{"csrf": "' + csrf + '"}', content_type="application/json")
        post(path, "%%%&&&===")
    for segment in BAD_SEGMENTS:
        for path in (f"/console/pools/{segment}", f"/console/pools/{segment}/users",
                     f"/console/pools/{pool_id}/users/{segment}", f"/console/pools/{segment}/mfa",
                     f"/console/pools/{pool_id}/users/ana/devices/{segment}/forget"):
            r = page.request.get(console_server.url + path, max_redirects=0)
            answers.append((r.status, "GET " + path[:120], None))
            post(path, urllib.parse.urlencode({"csrf": csrf, "version": "1", "remember": "always",
                                               "confirm": "bad-input-pool", "mfa": "OFF"}))
    for query in ("q=" + "x" * 20_000, "next=garbage", "next=" + "A" * 5000, "q=email%20%5E%3D",
                  "notice=%00", "q=%F0%28"):
        r = page.request.get(f"{console_server.url}/console/pools/{pool_id}/users?{query}", max_redirects=0)
        answers.append((r.status, "GET users?" + query[:60], None))
    post("/console/sign-out", urllib.parse.urlencode({"csrf": csrf, "x": "y" * 100_000}))

    failures = [a for a in answers if a[0] >= 500]
    assert not failures, failures[:10]
    assert len(answers) > 150
    # No post named the pool's current version with valid values: nothing of it changed.
    assert admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"] == before
