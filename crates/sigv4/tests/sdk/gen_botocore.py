"""Capture cognito-idp requests exactly as botocore (boto3, AWS CLI) puts them on the wire.

Regenerate with `python3 tests/sdk/gen_botocore.py > tests/sdk/botocore.json`; needs only
botocore. Nothing is sent: a `before-send` hook records the signed request and stops it.
"""

import json
import sys
from urllib.parse import urlsplit

import botocore
import botocore.session

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example=="


class Captured(Exception):
    pass


def capture(name, op, params, region="us-east-1", endpoint=None, token=None, date_header=False):
    session = botocore.session.get_session()
    client = session.create_client(
        "cognito-idp",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
    )
    seen = {}

    def before_sign(request, **kwargs):
        if date_header:
            # botocore then signs with an HTTP-date `Date` header instead of X-Amz-Date.
            request.headers["Date"] = "placeholder"

    def before_send(request, **kwargs):
        seen["request"] = request
        raise Captured()

    client.meta.events.register("before-sign.cognito-idp", before_sign)
    client.meta.events.register("before-send.cognito-idp", before_send)
    try:
        getattr(client, op)(**params)
    except Captured:
        pass
    req = seen["request"]
    url = urlsplit(req.url)
    body = req.body or b""
    if isinstance(body, str):
        body = body.encode()
    headers = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in req.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        # urllib3 adds Host when sending: the netloc, without a default port.
        default = {"http": 80, "https": 443}[url.scheme]
        host = url.hostname if url.port in (None, default) else f"{url.hostname}:{url.port}"
        headers.insert(0, ["Host", host])
    return {
        "name": name,
        "sdk": f"botocore {botocore.__version__}",
        "region": region,
        "token": token,
        "method": req.method,
        "path": url.path or "/",
        "query": url.query,
        "headers": headers,
        "body_hex": body.hex(),
    }


cases = [
    capture("admin-get-user", "admin_get_user", {"UserPoolId": "us-east-1_EXAMPLE", "Username": "alice"}),
    capture(
        "admin-create-user-unicode",
        "admin_create_user",
        {
            "UserPoolId": "us-east-1_EXAMPLE",
            "Username": "zoë",
            "UserAttributes": [{"Name": "name", "Value": "Zoë  Ünïcødé \u2603"}],
        },
    ),
    capture("list-users-local-endpoint", "list_users", {"UserPoolId": "eu-west-1_EXAMPLE", "Limit": 5},
            region="eu-west-1", endpoint="http://localhost:9229"),
    capture("describe-user-pool-session-token", "describe_user_pool", {"UserPoolId": "us-east-1_EXAMPLE"},
            token=TOKEN),
    capture("admin-delete-user-date-header", "admin_delete_user",
            {"UserPoolId": "us-east-1_EXAMPLE", "Username": "bob"}, date_header=True),
    capture("list-user-pools-custom-port", "list_user_pools", {"MaxResults": 10},
            endpoint="https://gatehouse.example.test:8443/"),
]
json.dump({"akid": AKID, "secret": SECRET, "cases": cases}, sys.stdout, indent=1, ensure_ascii=False)
print()
