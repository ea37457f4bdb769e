"""The emulator's STS is as strict as AWS: SigV4, MFA codes, trust policies, chains, lifetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from traycred.emulator import Emulator, Role, Scenario
from traycred.emulator import scenario as demo
from traycred.emulator.sts import MFA_FAILED

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def sts(key_id: str, secret: str, token: str | None = None, *, config: Config = NO_RETRY) -> Any:
    return boto3.client(
        "sts",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=config,
    )


def unvalidated(key_id: str, secret: str) -> Any:
    """A client that sends what botocore itself would refuse, to see the server refuse it."""
    return sts(key_id, secret, config=NO_RETRY.merge(Config(parameter_validation=False)))


def alice() -> Any:
    return sts(demo.ALICE_ACCESS_KEY_ID, demo.ALICE_SECRET_ACCESS_KEY)


def ci() -> Any:
    return sts(demo.CI_ACCESS_KEY_ID, demo.CI_SECRET_ACCESS_KEY)


def from_creds(response: dict[str, Any]) -> Any:
    creds = response["Credentials"]
    return sts(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = exc.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def mfa_session(code: str = "123456", **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = alice().get_session_token(
        SerialNumber=demo.ALICE_MFA_SERIAL, TokenCode=code, **kwargs
    )
    return result


# --- SigV4 ------------------------------------------------------------------------------------


def test_right_secret_identifies_the_user(emulator: Emulator) -> None:
    identity = alice().get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::111111111111:user/alice"
    assert identity["Account"] == "111111111111"
    assert identity["UserId"].startswith("AIDA")


def test_wrong_secret_is_refused(emulator: Emulator) -> None:
    client = sts(demo.ALICE_ACCESS_KEY_ID, demo.ALICE_SECRET_ACCESS_KEY[:-1] + "X")
    with pytest.raises(ClientError) as exc:
        client.get_caller_identity()
    code, message, status = error_of(exc)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert "does not match the signature you provided" in message
    assert emulator.count("GetCallerIdentity", 403) == 1


def test_unknown_key_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as exc:
        sts("AKIAUNKNOWNKEY000000", "x" * 40).get_caller_identity()
    assert error_of(exc) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
    )


def test_verifier_agrees_with_botocore_signer() -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from traycred.emulator import sigv4

    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:1234/some%20path?b=2&a=1",
        data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Custom": "  a   b "},
    )
    SigV4Auth(Credentials("AKIDEXAMPLE", "right-secret"), "sts", "eu-west-1").add_auth(request)
    headers = {name.lower(): [value] for name, value in request.headers.items()}
    headers["host"] = ["127.0.0.1:1234"]
    auth = sigv4.parse_authorization(request.headers["Authorization"])
    body = request.body
    assert isinstance(body, bytes)

    def verify(secret: str, sent: bytes) -> bool:
        return sigv4.verify(
            secret,
            auth,
            request.headers["X-Amz-Date"],
            "POST",
            "/some%20path?b=2&a=1",
            headers,
            sent,
        )

    assert verify("right-secret", body)
    assert not verify("wrong-secret", body)
    assert not verify("right-secret", body + b"&x=1")


def test_request_signed_far_from_the_emulator_clock_is_refused(emulator: Emulator) -> None:
    emulator.clock_skew = 20 * 60
    with pytest.raises(ClientError) as exc:
        alice().get_caller_identity()
    code, message, status = error_of(exc)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith("Signature expired:")
    emulator.clock_skew = 10 * 60  # within AWS's 15 minutes: accepted
    assert alice().get_caller_identity()["Account"] == "111111111111"


def test_session_token_must_match_the_issued_one(emulator: Emulator) -> None:
    creds = alice().get_session_token()["Credentials"]
    client = sts(creds["AccessKeyId"], creds["SecretAccessKey"], "not-the-token")
    with pytest.raises(ClientError) as exc:
        client.get_caller_identity()
    assert error_of(exc)[0] == "InvalidClientTokenId"
    missing = sts(creds["AccessKeyId"], creds["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        missing.get_caller_identity()
    assert error_of(exc)[0] == "InvalidClientTokenId"


# --- GetSessionToken and MFA ------------------------------------------------------------------


def test_mfa_session_credentials_sign_later_calls(emulator: Emulator) -> None:
    response = mfa_session()
    creds = response["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    left = creds["Expiration"] - datetime.now(UTC)
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12)
    identity = from_creds(response).get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::111111111111:user/alice"
    (call,) = [c for c in emulator.calls if c.operation == "GetSessionToken"]
    assert call.mfa and call.access_key_id == demo.ALICE_ACCESS_KEY_ID


def test_mfa_code_is_single_use(emulator: Emulator) -> None:
    mfa_session("246810")
    with pytest.raises(ClientError) as exc:
        mfa_session("246810")
    assert error_of(exc) == ("AccessDenied", MFA_FAILED, 403)
    assert MFA_FAILED == "MultiFactorAuthentication failed with invalid MFA one time pass code."
    mfa_session("246811")  # a fresh code still works


def test_zero_code_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as exc:
        mfa_session("000000")
    assert error_of(exc) == ("AccessDenied", MFA_FAILED, 403)


@pytest.mark.parametrize("code", ["12ab", "12ab34", "1234567"])
def test_malformed_code_is_a_validation_error(emulator: Emulator, code: str) -> None:
    # botocore would refuse "12ab" itself; the emulator must refuse it too.
    client = unvalidated(demo.ALICE_ACCESS_KEY_ID, demo.ALICE_SECRET_ACCESS_KEY)
    with pytest.raises(ClientError) as exc:
        client.get_session_token(SerialNumber=demo.ALICE_MFA_SERIAL, TokenCode=code)
    code_name, message, status = error_of(exc)
    assert (code_name, status) == ("ValidationError", 400)
    assert "at 'tokenCode' failed to satisfy constraint" in message


def test_mfa_device_must_be_the_users(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as exc:
        alice().get_session_token(
            SerialNumber="arn:aws:iam::111111111111:mfa/bob", TokenCode="123456"
        )
    code, message, _ = error_of(exc)
    assert code == "AccessDenied"
    assert "MFA serial number is valid and associated with this user" in message


def test_get_session_token_refuses_session_credentials(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as exc:
        from_creds(mfa_session()).get_session_token()
    assert error_of(exc) == (
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
        403,
    )


@pytest.mark.parametrize("seconds", [899, 129601])
def test_session_duration_bounds(emulator: Emulator, seconds: int) -> None:
    client = unvalidated(demo.ALICE_ACCESS_KEY_ID, demo.ALICE_SECRET_ACCESS_KEY)
    with pytest.raises(ClientError) as exc:
        client.get_session_token(DurationSeconds=seconds)
    assert error_of(exc)[0] == "ValidationError"
    assert "durationSeconds" in error_of(exc)[1]


def test_ttl_override_and_advance_expire_credentials(
    emulator_factory: Any,
) -> None:
    emu = emulator_factory(Scenario.demo().replace(ttl_override={"GetSessionToken": 20}))
    response = mfa_session(DurationSeconds=3600)
    left = response["Credentials"]["Expiration"] - datetime.now(UTC)
    assert timedelta(0) < left <= timedelta(seconds=20)
    client = from_creds(response)
    client.get_caller_identity()
    emu.advance(21)
    with pytest.raises(ClientError) as exc:
        client.get_caller_identity()
    assert error_of(exc) == (
        "ExpiredToken",
        "The security token included in the request is expired",
        400,
    )


# --- AssumeRole -------------------------------------------------------------------------------


def test_admin_requires_mfa(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as exc:
        alice().assume_role(RoleArn=demo.ADMIN_ROLE_ARN, RoleSessionName="no-mfa")
    assert error_of(exc) == (
        "AccessDenied",
        "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: "
        "sts:AssumeRole on resource: arn:aws:iam::111111111111:role/admin",
        403,
    )
    role = from_creds(mfa_session()).assume_role(
        RoleArn=demo.ADMIN_ROLE_ARN, RoleSessionName="with-mfa"
    )
    assert role["AssumedRoleUser"]["Arn"] == (
        "arn:aws:sts::111111111111:assumed-role/admin/with-mfa"
    )
    identity = from_creds(role).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::111111111111:assumed-role/admin/with-mfa"
    assert identity["UserId"].endswith(":with-mfa")


def test_mfa_code_in_assume_role_satisfies_the_role(emulator: Emulator) -> None:
    role = alice().assume_role(
        RoleArn=demo.ADMIN_ROLE_ARN,
        RoleSessionName="direct",
        SerialNumber=demo.ALICE_MFA_SERIAL,
        TokenCode="135790",
    )
    assert role["Credentials"]["AccessKeyId"].startswith("ASIA")
    with pytest.raises(ClientError) as exc:  # the same code again
        alice().assume_role(
            RoleArn=demo.ADMIN_ROLE_ARN,
            RoleSessionName="direct",
            SerialNumber=demo.ALICE_MFA_SERIAL,
            TokenCode="135790",
        )
    assert error_of(exc)[:2] == ("AccessDenied", MFA_FAILED)


def test_untrusted_caller_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as exc:
        ci().assume_role(RoleArn=demo.ADMIN_ROLE_ARN, RoleSessionName="ci")
    assert error_of(exc)[1] == (
        "User: arn:aws:iam::111111111111:user/ci is not authorized to perform: "
        "sts:AssumeRole on resource: arn:aws:iam::111111111111:role/admin"
    )


def test_role_chain_is_capped_at_one_hour(emulator: Emulator) -> None:
    deploy = from_creds(ci().assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="ci"))
    with pytest.raises(ClientError) as exc:
        deploy.assume_role(
            RoleArn=demo.CHAINED_ROLE_ARN, RoleSessionName="chain", DurationSeconds=3601
        )
    assert error_of(exc) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining.",
        400,
    )
    chained = deploy.assume_role(
        RoleArn=demo.CHAINED_ROLE_ARN, RoleSessionName="chain", DurationSeconds=3600
    )
    identity = from_creds(chained).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::222222222222:assumed-role/chained/chain"
    assert identity["Account"] == "222222222222"
    with pytest.raises(ClientError) as exc:  # chained trusts role/deploy, not the user
        ci().assume_role(RoleArn=demo.CHAINED_ROLE_ARN, RoleSessionName="direct")
    assert error_of(exc)[0] == "AccessDenied"


def test_mfa_carries_through_a_chain(emulator_factory: Any) -> None:
    secure = Role("arn:aws:iam::111111111111:role/secure", (demo.DEPLOY_ROLE_ARN,), True)
    scenario = Scenario.demo()
    emulator_factory(scenario.replace(roles=(*scenario.roles, secure)))
    plain = from_creds(alice().assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="aa"))
    with pytest.raises(ClientError) as exc:
        plain.assume_role(RoleArn=secure.arn, RoleSessionName="bb")
    assert error_of(exc)[0] == "AccessDenied"
    via_mfa = from_creds(
        from_creds(mfa_session()).assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="aa")
    )
    assert via_mfa.assume_role(RoleArn=secure.arn, RoleSessionName="bb")["Credentials"]


def test_external_id_must_match(emulator: Emulator) -> None:
    for external_id in (None, "wrong-id"):
        kwargs = {} if external_id is None else {"ExternalId": external_id}
        with pytest.raises(ClientError) as exc:
            ci().assume_role(RoleArn=demo.AUDIT_ROLE_ARN, RoleSessionName="audit", **kwargs)
        assert error_of(exc)[0] == "AccessDenied"
    role = ci().assume_role(
        RoleArn=demo.AUDIT_ROLE_ARN, RoleSessionName="audit", ExternalId=demo.AUDIT_EXTERNAL_ID
    )
    assert role["AssumedRoleUser"]["Arn"].endswith(":assumed-role/audit/audit")


@pytest.mark.parametrize("name", ["a", "has space", "x" * 65, "semi;colon"])
def test_role_session_name_is_validated(emulator: Emulator, name: str) -> None:
    client = unvalidated(demo.CI_ACCESS_KEY_ID, demo.CI_SECRET_ACCESS_KEY)
    with pytest.raises(ClientError) as exc:
        client.assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName=name)
    code, message, _ = error_of(exc)
    assert code == "ValidationError"
    assert "'roleSessionName'" in message


def test_duration_beyond_the_roles_maximum_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as exc:
        ci().assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="long", DurationSeconds=7200)
    assert error_of(exc)[:2] == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    client = unvalidated(demo.CI_ACCESS_KEY_ID, demo.CI_SECRET_ACCESS_KEY)
    with pytest.raises(ClientError) as exc:
        client.assume_role(
            RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="short", DurationSeconds=60
        )
    assert error_of(exc)[0] == "ValidationError"


def test_assume_role_lifetime_follows_duration_and_override(emulator_factory: Any) -> None:
    emulator_factory(Scenario.demo())
    role = ci().assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="dd", DurationSeconds=900)
    left = role["Credentials"]["Expiration"] - datetime.now(UTC)
    assert timedelta(minutes=14) < left <= timedelta(minutes=15)
    emulator_factory(Scenario.demo().replace(ttl_override={"AssumeRole": 30}))
    role = ci().assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="dd")
    left = role["Credentials"]["Expiration"] - datetime.now(UTC)
    assert timedelta(0) < left <= timedelta(seconds=30)
