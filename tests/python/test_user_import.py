"""User import through boto3 and an HTTP PUT of the CSV to the job's presigned URL, as AWS's
documentation does it with curl: GetCSVHeader, CreateUserImportJob, the upload (signed, with
the x-amz-server-side-encryption header signed as AWS's, expiring), Start/Stop/Describe/
ListUserImportJobs with their statuses and counters, Cognito's rules per row, and users
imported with password hashes (bcrypt, scrypt, Argon2id, PBKDF2) signing in with their old
password. What Cognito does: docs/design/user-import-cognito-behaviour.md; what Gatehouse
does: docs/user-import.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import argon2
import bcrypt
import pytest

from support import (PASSWORD, GatehouseCluster, SrpSignIn, aws_error, last_code, new_app_client,
                     password_sign_in, user_attributes)

ROLE = "arn:aws:iam::000000000000:role/CognitoImport"
ENDED = {"Succeeded", "Failed", "Stopped", "Expired"}
OLD_PASSWORD = "Legacy-Passw0rd!"


@pytest.fixture
def pool(cognito):
    """A pool whose email is auto-verified (Cognito will not start an import without one)."""
    return cognito.create_user_pool(
        PoolName="import", AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "tenant", "AttributeDataType": "String"},
                {"Name": "secret", "AttributeDataType": "String", "DeveloperOnlyAttribute": True}],
    )["UserPool"]["Id"]


def new_job(cognito, pool: str, **extra) -> dict:
    return cognito.create_user_import_job(UserPoolId=pool, JobName="Customer import",
                                          CloudWatchLogsRoleArn=ROLE, **extra)["UserImportJob"]


def put_csv(url: str, body: bytes | str, sse: str | None = "aws:kms") -> tuple[int, dict, str]:
    """curl -T file -H 'x-amz-server-side-encryption:aws:kms' URL: (status, headers, body)."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method="PUT")
    if sse is not None:
        req.add_header("x-amz-server-side-encryption", sse)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


def s3_error_code(body: str) -> str:
    return re.search(r"<Code>([^<]+)</Code>", body).group(1)


def run(cognito, pool: str, csv: str, **extra) -> dict:
    """Create, upload, start, and wait for the end; the ended job."""
    job = new_job(cognito, pool, **extra)
    status, _, body = put_csv(job["PreSignedUrl"], csv)
    assert status == 200, body
    cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    return wait_for_end(cognito, pool, job["JobId"])


def wait_for_end(cognito, pool: str, job_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = cognito.describe_user_import_job(UserPoolId=pool, JobId=job_id)["UserImportJob"]
        if job["Status"] in ENDED:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end: {job}")


def move_clock(server, seconds: int) -> None:
    """Moves every process's development clock."""
    urls = server.endpoints if isinstance(server, GatehouseCluster) else [server.url]
    for url in urls:
        req = urllib.request.Request(url + "/_gatehouse/clock", method="POST",
                                     data=json.dumps({"OffsetSeconds": seconds}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200


def test_the_csv_header_lists_the_pools_attributes_in_cognitos_order(cognito, pool):
    header = cognito.get_csv_header(UserPoolId=pool)
    assert header["UserPoolId"] == pool
    assert header["CSVHeader"] == [
        "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
        "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale",
        "phone_number", "phone_number_verified", "address", "updated_at", "custom:tenant",
        "dev:custom:secret", "cognito:mfa_enabled", "cognito:username", "password_hash"]
    with aws_error("ResourceNotFoundException"):
        cognito.get_csv_header(UserPoolId="us-east-1_NoSuchPool")


def test_a_new_job_is_created_with_an_s3_style_upload_url(cognito, pool):
    job = new_job(cognito, pool)
    assert re.fullmatch(r"import-[0-9A-Za-z]{10}", job["JobId"])
    assert {k: job[k] for k in ("JobName", "UserPoolId", "Status", "CloudWatchLogsRoleArn", "ImportedUsers",
                                "SkippedUsers", "FailedUsers")} == {
        "JobName": "Customer import", "UserPoolId": pool, "Status": "Created", "CloudWatchLogsRoleArn": ROLE,
        "ImportedUsers": 0, "SkippedUsers": 0, "FailedUsers": 0}
    for absent in ("StartDate", "CompletionDate", "CompletionMessage", "PasswordHashingAlgorithm"):
        assert absent not in job
    assert abs(job["CreationDate"].timestamp() - time.time()) < 60
    url = urllib.parse.urlsplit(job["PreSignedUrl"])
    assert url.path == f"/_gatehouse/user-import/{pool}/{job['JobId']}"
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "899"
    assert query["X-Amz-SignedHeaders"] == "host;x-amz-server-side-encryption"
    assert re.fullmatch(r"[A-Z0-9]+/\d{8}/us-east-1/s3/aws4_request", query["X-Amz-Credential"])
    # Every read returns the URL made at creation.
    described = cognito.describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
    assert described == job
    hashed = new_job(cognito, pool, PasswordHashingAlgorithm="ARGON2ID")
    assert hashed["PasswordHashingAlgorithm"] == "ARGON2ID"


def test_create_refuses_what_the_model_refuses_and_unknown_pools_and_jobs(cognito_raw, pool):
    cognito = cognito_raw
    with aws_error("InvalidParameterException", "jobName"):
        cognito.create_user_import_job(UserPoolId=pool, JobName="bad/name", CloudWatchLogsRoleArn=ROLE)
    with aws_error("InvalidParameterException", "cloudWatchLogsRoleArn"):
        cognito.create_user_import_job(UserPoolId=pool, JobName="x", CloudWatchLogsRoleArn="role")
    with aws_error("InvalidParameterException", "passwordHashingAlgorithm"):
        cognito.create_user_import_job(UserPoolId=pool, JobName="x", CloudWatchLogsRoleArn=ROLE,
                                       PasswordHashingAlgorithm="MD5")
    with aws_error("ResourceNotFoundException"):
        cognito.create_user_import_job(UserPoolId="us-east-1_NoSuchPool", JobName="x", CloudWatchLogsRoleArn=ROLE)
    with aws_error("ResourceNotFoundException", "import-AbCdEfGhIj"):
        cognito.describe_user_import_job(UserPoolId=pool, JobId="import-AbCdEfGhIj")
    with aws_error("InvalidParameterException", "jobId"):
        cognito.describe_user_import_job(UserPoolId=pool, JobId="job-1")
    for bad in (0, 61):
        with aws_error("InvalidParameterException", "maxResults"):
            cognito.list_user_import_jobs(UserPoolId=pool, MaxResults=bad)


def test_an_upload_must_carry_the_signed_encryption_header_and_the_untouched_signature(cognito, pool):
    job = new_job(cognito, pool)
    url = job["PreSignedUrl"]
    csv = "cognito:username,email,email_verified\nalice,alice@example.com,true\n"
    # Postman and axios users forget the header: S3 refuses the signature.
    for sse in (None, "AES256"):
        status, headers, body = put_csv(url, csv, sse=sse)
        assert (status, s3_error_code(body)) == (403, "SignatureDoesNotMatch"), body
        assert headers["content-type"] == "application/xml"
    tampered = re.sub(r"X-Amz-Signature=([0-9a-f])", lambda m: "X-Amz-Signature=" + ("1" if m.group(1) != "1" else "2"), url)
    assert s3_error_code(put_csv(tampered, csv)[2]) == "SignatureDoesNotMatch"
    other = url.replace(job["JobId"], "import-AbCdEfGhIj")
    assert s3_error_code(put_csv(other, csv)[2]) == "SignatureDoesNotMatch"
    status, headers, _ = put_csv(url, csv)
    assert status == 200 and re.fullmatch(r'"[0-9a-f]{32}"', headers["etag"])
    # A second upload replaces the first while the job is Created.
    assert put_csv(url, csv.replace("alice", "bob"))[0] == 200
    cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    ended = wait_for_end(cognito, pool, job["JobId"])
    assert ended["ImportedUsers"] == 1
    assert cognito.admin_get_user(UserPoolId=pool, Username="bob")["UserStatus"] == "RESET_REQUIRED"
    # Once started, the URL takes nothing more.
    assert (put_csv(url, csv)[0], s3_error_code(put_csv(url, csv)[2])) == (403, "AccessDenied")


def test_start_needs_an_uploaded_file_and_a_created_job(cognito, pool):
    job = new_job(cognito, pool)
    with aws_error("PreconditionNotMetException", f"No csv file was uploaded for {job['JobId']}"):
        cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    with aws_error("PreconditionNotMetException"):
        cognito.stop_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    put_csv(job["PreSignedUrl"], "cognito:username,email,email_verified\nann,ann@example.com,true\n")
    started = cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
    assert started["Status"] == "Pending" and "StartDate" in started
    ended = wait_for_end(cognito, pool, job["JobId"])
    assert (ended["Status"], ended["CompletionMessage"]) == ("Succeeded", "Import Job Completed Successfully.")
    assert ended["CompletionDate"] >= ended["StartDate"]
    with aws_error("PreconditionNotMetException"):
        cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    # A pool without an auto-verified attribute cannot import: no one could recover a password.
    bare = cognito.create_user_pool(PoolName="bare")["UserPool"]["Id"]
    job = new_job(cognito, bare)
    put_csv(job["PreSignedUrl"], "cognito:username\nann\n")
    with aws_error("PreconditionNotMetException", "auto verified"):
        cognito.start_user_import_job(UserPoolId=bare, JobId=job["JobId"])


def test_rows_are_imported_skipped_or_failed_by_cognitos_rules(cognito, pool, server):
    cognito.admin_create_user(UserPoolId=pool, Username="existing", MessageAction="SUPPRESS")
    csv = "\n".join([
        "cognito:username,name,email,email_verified,phone_number,phone_number_verified,birthdate,"
        "custom:tenant,dev:custom:secret,cognito:mfa_enabled,updated_at",
        r"ada,Lovelace\, Ada,ada@example.com,TRUE,+15550100,false,12/10/1815,acme,s3,,1471453471",
        "existing,,existing@example.com,true,,,,,,,",
        "nobody-verified,,nv@example.com,false,,,,,,,",
        "verified-without-email,,,true,,,,,,,",
        "has space,,sp@example.com,true,,,,,,,",
        "bad-phone,,bp@example.com,true,5550100,,,,,,",
        "too-few-values,tf@example.com,true",
        "mfa-in-off-pool,,mo@example.com,true,,,,,,true,",
        "ada,,ada2@example.com,true,,,,,,,",
        "grace,,grace@example.com,true,,,,,,false,",
    ]) + "\n"
    job = run(cognito, pool, csv)
    assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (2, 2, 6)
    # Cognito ends a job with failed or skipped rows Failed, keeping the users it made.
    assert (job["Status"], job["CompletionMessage"]) == (
        "Failed", "Too many users have failed or been skipped during the import.")
    ada = cognito.admin_get_user(UserPoolId=pool, Username="ada")
    assert ada["UserStatus"] == "RESET_REQUIRED" and ada["Enabled"]
    attrs = user_attributes(ada)
    assert {k: attrs[k] for k in ("name", "email", "email_verified", "phone_number", "phone_number_verified",
                                  "birthdate", "custom:tenant", "dev:custom:secret", "updated_at")} == {
        "name": "Lovelace, Ada", "email": "ada@example.com", "email_verified": "true",
        "phone_number": "+15550100", "phone_number_verified": "false", "birthdate": "1815-12-10",
        "custom:tenant": "acme", "dev:custom:secret": "s3", "updated_at": "1471453471"}
    assert re.fullmatch(r"[0-9a-f-]{36}", attrs["sub"])
    assert cognito.admin_get_user(UserPoolId=pool, Username="grace")["UserStatus"] == "RESET_REQUIRED"
    for name in ("nobody-verified", "verified-without-email", "bad-phone", "mfa-in-off-pool"):
        with aws_error("UserNotFoundException"):
            cognito.admin_get_user(UserPoolId=pool, Username=name)
    # Each row's outcome is in the log, by line number (the first data line is 1), as Cognito's
    # CloudWatch log has it.
    if not isinstance(server, GatehouseCluster):
        log = server.log_tail(200_000)
        assert "[FAILED] Line Number 3 - The User Record does not set any of the auto verified attributes" in log
        assert "[SKIPPED] Line Number 2 - The user already exists." in log


def test_an_imported_user_resets_the_password_then_signs_in(cognito, pool, server):
    client_id, _ = new_app_client(cognito, pool)
    run(cognito, pool, "cognito:username,email,email_verified\nann,ann@example.com,true\n")
    with aws_error("PasswordResetRequiredException", "Password reset required for the user"):
        password_sign_in(cognito, client_id, "ann", "anything-at-all")
    sent = cognito.forgot_password(ClientId=client_id, Username="ann")["CodeDeliveryDetails"]
    assert sent["DeliveryMedium"] == "EMAIL"
    code = last_code(server, pool, "FORGOT_PASSWORD", "ann")
    cognito.confirm_forgot_password(ClientId=client_id, Username="ann", ConfirmationCode=code, Password=PASSWORD)
    assert "AccessToken" in password_sign_in(cognito, client_id, "ann", PASSWORD)["AuthenticationResult"]
    assert cognito.admin_get_user(UserPoolId=pool, Username="ann")["UserStatus"] == "CONFIRMED"


def csv_value(value: str) -> str:
    """A value as Cognito's CSV carries it: no quoting, a comma written `\\,` (Argon2's
    parameters `m=19456,t=2,p=1` have two)."""
    return value.replace(",", "\\,")


def test_an_imported_user_resets_then_signs_in_with_srp_and_remembers_a_device(cognito, server):
    """The end to end of the issue: imported RESET_REQUIRED, ForgotPassword with the code the
    outbox holds, then an SRP sign-in (pycognito) that confirms a device, which signs in by
    device SRP afterwards and is listed remembered."""
    from pycognito.aws_srp import AWSSRP, generate_hash_device

    from support import SignInEnv, remembered_status, tokens

    env = SignInEnv(cognito, server, {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": False},
                    AutoVerifiedAttributes=["email"])
    assert run(cognito, env.pool, "cognito:username,email,email_verified\nann,ann@example.com,true\n")["Status"] == \
        "Succeeded"
    cognito.forgot_password(ClientId=env.client_id, Username="ann")
    cognito.confirm_forgot_password(ClientId=env.client_id, Username="ann", Password=PASSWORD,
                                    ConfirmationCode=last_code(server, env.pool, "FORGOT_PASSWORD", "ann"))
    first = tokens(env.srp("ann").authenticate_user())
    meta = env.new_device_metadata(first)
    secret, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    cognito.confirm_device(AccessToken=first["AccessToken"], DeviceKey=meta["DeviceKey"],
                           DeviceSecretVerifierConfig=verifier, DeviceName="laptop")
    again = AWSSRP(username="ann", password=PASSWORD, pool_id=env.pool, client_id=env.client_id, client=cognito,
                   device_key=meta["DeviceKey"], device_group_key=meta["DeviceGroupKey"],
                   device_password=secret).authenticate_user()
    assert env.access_claims(tokens(again)["AccessToken"])["device_key"] == meta["DeviceKey"]
    device = cognito.admin_get_device(UserPoolId=env.pool, Username="ann", DeviceKey=meta["DeviceKey"])["Device"]
    assert remembered_status(device) == "remembered"


def hashes_of(password: str) -> dict[str, str]:
    """The password as each algorithm's usual library stores it, at Cognito's ceilings or below."""
    salt = b"0123456789abcdef"
    scrypt_key = hashlib.scrypt(password.encode(), salt=salt, n=16384, r=8, p=1, dklen=32)
    pbkdf2_key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 10_000)
    b64 = lambda b: base64.b64encode(b).decode().rstrip("=")  # noqa: E731
    return {
        "BCRYPT": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode(),
        "SCRYPT": f"16384$8$1${salt.hex()}${scrypt_key.hex()}",
        "ARGON2ID": argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(password),
        "PBKDF2_SHA256": f"$pbkdf2-sha256$10000${b64(salt)}${b64(pbkdf2_key)}",
    }


@pytest.mark.parametrize("algorithm", ["BCRYPT", "SCRYPT", "ARGON2ID", "PBKDF2_SHA256"])
def test_users_imported_with_a_password_hash_sign_in_with_their_old_password(cognito, pool, server, algorithm):
    client_id, _ = new_app_client(cognito, pool)
    too_strong = {
        "BCRYPT": bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=13)).decode(),
        "SCRYPT": f"131072$8$1${'ab' * 16}${'cd' * 32}",
        "ARGON2ID": argon2.PasswordHasher(time_cost=3, memory_cost=19456, parallelism=1).hash("x"),
        "PBKDF2_SHA256": f"$pbkdf2-sha256$600001$AAAAAAAAAAAAAAAAAAAAAA${'A' * 43}",
    }[algorithm]
    other = "BCRYPT" if algorithm != "BCRYPT" else "ARGON2ID"
    csv = "\n".join([
        "cognito:username,email,email_verified,password_hash",
        f"legacy,legacy@example.com,true,{csv_value(hashes_of(OLD_PASSWORD)[algorithm])}",
        "no-hash,nh@example.com,true,",
        f"too-strong,ts@example.com,true,{csv_value(too_strong)}",
        f"other-algorithm,oa@example.com,true,{csv_value(hashes_of(OLD_PASSWORD)[other])}",
    ]) + "\n"
    job = run(cognito, pool, csv, PasswordHashingAlgorithm=algorithm)
    assert (job["ImportedUsers"], job["FailedUsers"]) == (2, 2), job
    assert cognito.admin_get_user(UserPoolId=pool, Username="legacy")["UserStatus"] == "CONFIRMED"
    assert cognito.admin_get_user(UserPoolId=pool, Username="no-hash")["UserStatus"] == "RESET_REQUIRED"

    # Before the first password sign-in there is no SRP verifier: SRP cannot sign in.
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        SrpSignIn(cognito, pool, client_id, "legacy", OLD_PASSWORD).initiate()
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        password_sign_in(cognito, client_id, "legacy", OLD_PASSWORD + "x")
    first = password_sign_in(cognito, client_id, "legacy", OLD_PASSWORD)
    assert "AccessToken" in first["AuthenticationResult"]
    # From then on the password is Gatehouse's own: SRP works, the hash is gone.
    srp = SrpSignIn(cognito, pool, client_id, "legacy", OLD_PASSWORD)
    assert "AccessToken" in srp.sign_in()["AuthenticationResult"]
    assert "AccessToken" in password_sign_in(cognito, client_id, "legacy", OLD_PASSWORD)["AuthenticationResult"]


def test_a_hash_needs_an_algorithm_and_an_algorithm_needs_the_column(cognito, pool):
    hashed = hashes_of(OLD_PASSWORD)["BCRYPT"]
    job = run(cognito, pool, f"cognito:username,email,email_verified,password_hash\nh,h@example.com,true,{hashed}\n")
    assert (job["Status"], job["FailedUsers"]) == ("Failed", 1)
    job = run(cognito, pool, "cognito:username,email,email_verified\nh,h@example.com,true\n",
              PasswordHashingAlgorithm="BCRYPT")
    assert job["Status"] == "Failed" and "password_hash" in job["CompletionMessage"]
    assert job["ImportedUsers"] == 0
    job = run(cognito, pool, "cognito:username,email,nickname_of_mine\nh,h@example.com,x\n")
    assert job["Status"] == "Failed" and "nickname_of_mine" in job["CompletionMessage"]


def test_first_sign_ins_at_once_convert_the_hash_once_and_all_succeed(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)
    run(cognito, pool, "cognito:username,email,email_verified,password_hash\n"
        f"legacy,legacy@example.com,true,{hashes_of(OLD_PASSWORD)['PBKDF2_SHA256']}\n",
        PasswordHashingAlgorithm="PBKDF2_SHA256")

    def sign_in(_):
        return "AccessToken" in password_sign_in(cognito, client_id, "legacy", OLD_PASSWORD)["AuthenticationResult"]

    # Four: the lockout lets at most five password checks of one user run at once.
    with ThreadPoolExecutor(max_workers=4) as ex:
        assert all(ex.map(sign_in, range(4)))
    assert "AccessToken" in SrpSignIn(cognito, pool, client_id, "legacy", OLD_PASSWORD).sign_in()["AuthenticationResult"]


def test_of_simultaneous_starts_one_wins_and_the_rows_are_imported_once(cognito, pool):
    job = new_job(cognito, pool)
    rows = "".join(f"user{i},user{i}@example.com,true\n" for i in range(50))
    put_csv(job["PreSignedUrl"], "cognito:username,email,email_verified\n" + rows)

    def start(_):
        try:
            cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
            return True
        except cognito.exceptions.PreconditionNotMetException:
            return False

    with ThreadPoolExecutor(max_workers=8) as ex:
        assert sum(ex.map(start, range(8))) == 1
    ended = wait_for_end(cognito, pool, job["JobId"])
    assert (ended["Status"], ended["ImportedUsers"], ended["SkippedUsers"]) == ("Succeeded", 50, 0)


def test_stop_ends_a_running_job_which_cannot_start_again(cognito, pool):
    job = new_job(cognito, pool)
    rows = "".join(f"user{i},user{i}@example.com,true\n" for i in range(20_000))
    put_csv(job["PreSignedUrl"], "cognito:username,email,email_verified\n" + rows)
    cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    # While it runs, the pool's schema stays as the run read it.
    with aws_error("UserImportInProgressException"):
        cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[{"Name": "late", "AttributeDataType": "String"}])
    with aws_error("UserImportInProgressException"):
        cognito.delete_user_pool(UserPoolId=pool)
    stopped = cognito.stop_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
    assert (stopped["Status"], stopped["CompletionMessage"]) == ("Stopped", "The Import Job was stopped by the developer.")
    assert stopped["ImportedUsers"] < 20_000
    time.sleep(1.5)
    after = cognito.describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
    assert after == stopped
    users = cognito.list_users(UserPoolId=pool, Limit=60)
    assert len(users["Users"]) == min(60, stopped["ImportedUsers"])
    with aws_error("PreconditionNotMetException"):
        cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    with aws_error("PreconditionNotMetException"):
        cognito.stop_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[{"Name": "late", "AttributeDataType": "String"}])


def test_a_job_not_started_within_a_day_expires(cognito, pool, server):
    job = new_job(cognito, pool)
    put_csv(job["PreSignedUrl"], "cognito:username,email,email_verified\nann,ann@example.com,true\n")
    try:
        move_clock(server, 25 * 3600)
        expired = cognito.describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
        assert (expired["Status"], expired["CompletionMessage"]) == ("Expired", "The user import job has expired.")
        assert "StartDate" not in expired
        assert expired["CompletionDate"].timestamp() == pytest.approx(job["CreationDate"].timestamp() + 86400, abs=1)
        with aws_error("PreconditionNotMetException"):
            cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
        # The URL itself ran out after 899 seconds.
        assert s3_error_code(put_csv(job["PreSignedUrl"], "cognito:username\n")[2]) == "AccessDenied"
    finally:
        move_clock(server, 0)


def test_jobs_are_listed_newest_first_in_pages(cognito, pool):
    ids = [new_job(cognito, pool)["JobId"] for _ in range(5)]
    first = cognito.list_user_import_jobs(UserPoolId=pool, MaxResults=2)
    rest = cognito.list_user_import_jobs(UserPoolId=pool, MaxResults=60, PaginationToken=first["PaginationToken"])
    listed = [j["JobId"] for j in first["UserImportJobs"] + rest["UserImportJobs"]]
    assert listed == list(reversed(ids))
    assert "PaginationToken" not in rest
    assert cognito.list_user_import_jobs(UserPoolId=pool, MaxResults=10)["UserImportJobs"][0]["JobId"] == ids[-1]
    with aws_error("InvalidParameterException"):
        cognito.list_user_import_jobs(UserPoolId=pool, MaxResults=2, PaginationToken="garbage!")
    other = cognito.create_user_pool(PoolName="other", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    assert cognito.list_user_import_jobs(UserPoolId=other, MaxResults=10)["UserImportJobs"] == []
