"""The AWS console sign-in URL, driven against the emulator's federation endpoint over HTTP."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from traycred.console import (
    ENDPOINT_ENV,
    console_destination,
    console_url,
    federation_endpoint,
    partition_of,
    profile_console_url,
)
from traycred.credentials import Credentials
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    AUDIT_EXTERNAL_ID,
    AUDIT_ROLE_ARN,
    CI_ACCESS_KEY_ID,
    CI_SECRET_ACCESS_KEY,
    DEPLOY_ROLE_ARN,
)
from traycred.engine import Engine
from traycred.errors import AwsError, ConfigError, NetworkError, TraycredError


def _sts(emulator: Emulator, key: Credentials) -> object:
    from traycred import aws

    return aws.client("sts", credentials=key, region="us-east-1")


def _ci() -> Credentials:
    return Credentials(CI_ACCESS_KEY_ID, CI_SECRET_ACCESS_KEY)


def _from_answer(answer: dict[str, object]) -> Credentials:
    data = answer["Credentials"]
    assert isinstance(data, dict)
    return Credentials(
        data["AccessKeyId"], data["SecretAccessKey"], data["SessionToken"], data["Expiration"]
    )


def _role(emulator: Emulator, arn: str = DEPLOY_ROLE_ARN, **extra: str) -> Credentials:
    client = _sts(emulator, _ci())
    answer = client.assume_role(RoleArn=arn, RoleSessionName="ci-console", **extra)  # type: ignore[attr-defined]
    return _from_answer(answer)


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def federation(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv(ENDPOINT_ENV, f"{emulator.url}/federation")
    # The engine caches role credentials in the keyring: a service of this test's own, so
    # credentials another test's emulator issued are never offered to this one.
    monkeypatch.setenv("TRAYCRED_KEYRING_SERVICE", f"traycred-test-{uuid.uuid4().hex[:12]}")
    return emulator


def _secrets_of(creds: Credentials) -> list[str]:
    assert creds.session_token is not None
    return [creds.secret_access_key, creds.session_token]


def test_the_url_opens_the_console_signed_in_as_the_role(federation: Emulator) -> None:
    creds = _role(federation)
    url = console_url(creds, region="eu-west-1")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == federation.url
    query = parse_qs(parts.query)
    assert query["Action"] == ["login"]
    assert query["Issuer"] == ["traycred"]
    assert query["Destination"] == ["https://console.aws.amazon.com/console/home?region=eu-west-1"]
    assert query["SigninToken"][0]
    for secret in _secrets_of(creds):
        assert secret not in url

    status, page = _fetch(url)
    assert status == 200
    assert "AWS console (emulator)" in page
    assert 'Signed in as role <b id="role">deploy</b> in account 111111111111 (dev)' in page
    assert "assumed-role/deploy/ci-console" in page
    # The call record keeps no secret: the Session parameter never lands in it.
    calls = [c for c in federation.calls if c.service == "signin"]
    assert [c.operation for c in calls] == ["GetSigninToken", "Login"]
    assert calls[0].status == 200
    assert calls[0].access_key_id == creds.access_key_id
    assert "Session" not in calls[0].params
    assert "SigninToken" not in calls[1].params


def test_an_audit_role_with_external_id_and_a_session_duration(federation: Emulator) -> None:
    creds = _role(federation, AUDIT_ROLE_ARN, ExternalId=AUDIT_EXTERNAL_ID)
    url = console_url(creds, session_duration=7200, destination="/s3/home", issuer="demo")
    query = parse_qs(urlsplit(url).query)
    assert query["Destination"] == ["https://console.aws.amazon.com/s3/home"]
    assert query["Issuer"] == ["demo"]
    status, page = _fetch(url)
    assert status == 200
    assert ">audit</b>" in page
    assert "Console session: 120 minutes" in page


def test_long_term_keys_are_refused_before_any_request(federation: Emulator) -> None:
    with pytest.raises(TraycredError, match="only be opened with temporary credentials") as info:
        console_url(_ci())
    assert CI_SECRET_ACCESS_KEY not in str(info.value)
    assert "AKIA...R001" in str(info.value)
    assert federation.count("GetSigninToken") == 0


def test_a_session_from_get_session_token_is_refused_by_the_sign_in_service(
    federation: Emulator,
) -> None:
    answer = _sts(federation, _ci()).get_session_token()  # type: ignore[attr-defined]
    creds = _from_answer(answer)
    with pytest.raises(AwsError, match=r"refused these credentials .*HTTP 400") as info:
        console_url(creds)
    for secret in _secrets_of(creds):
        assert secret not in str(info.value)


def test_a_wrong_session_key_is_refused_without_echoing_it(federation: Emulator) -> None:
    good = _role(federation)
    forged = Credentials(good.access_key_id, "x" * 40, good.session_token, good.expiration)
    with pytest.raises(AwsError, match="refused") as info:
        console_url(forged)
    message = str(info.value)
    assert "x" * 40 not in message
    assert good.session_token is not None and good.session_token not in message
    assert federation.count("GetSigninToken", 400) == 1


def test_expired_role_credentials_are_refused(federation: Emulator) -> None:
    creds = _role(federation)
    federation.advance(3601)
    with pytest.raises(AwsError, match="refused"):
        console_url(creds)


def test_a_forged_or_stale_sign_in_token_shows_an_error_page(federation: Emulator) -> None:
    status, page = _fetch(f"{federation.url}/federation?Action=login&SigninToken=forged")
    assert status == 400
    assert "not valid or has expired" in page


def test_server_errors_and_unreachable_endpoints_become_clear_errors(
    federation: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = _role(federation)
    federation.faults.add("5xx", operation="GetSigninToken", status=503)
    with pytest.raises(AwsError, match=r"answered HTTP 503"):
        console_url(creds)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(ENDPOINT_ENV, f"http://127.0.0.1:{port}/federation")
    with pytest.raises(NetworkError, match=rf"127\.0\.0\.1:{port}\) could not be reached") as info:
        console_url(creds, timeout=2)
    for secret in _secrets_of(creds):
        assert secret not in str(info.value)


def test_an_endpoint_that_is_not_https_or_loopback_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, "http://signin.example.com/federation")
    creds = Credentials("ASIAEXAMPLEEXAMPLE01", "secret" * 7, "token" * 20)
    with pytest.raises(ConfigError, match=r"must be an https address .* signin\.example\.com"):
        console_url(creds)


def test_partitions_have_their_own_sign_in_and_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    cn, gov, aws = (
        partition_of("cn-north-1"),
        partition_of("us-gov-west-1"),
        partition_of("eu-west-1"),
    )
    assert federation_endpoint(cn) == "https://signin.amazonaws.cn/federation"
    assert federation_endpoint(gov) == "https://signin.amazonaws-us-gov.com/federation"
    assert federation_endpoint(aws) == "https://signin.aws.amazon.com/federation"
    assert (
        console_destination(cn, "cn-north-1", None)
        == "https://console.amazonaws.cn/console/home?region=cn-north-1"
    )
    assert console_destination(gov, "us-gov-west-1", "/iam/home") == (
        "https://console.amazonaws-us-gov.com/iam/home"
    )
    with pytest.raises(TraycredError, match="isolated partition"):
        partition_of("us-iso-east-1")
    with pytest.raises(TraycredError, match="https address or a path"):
        console_destination(aws, "eu-west-1", "http://console.example.com/")


def _write_files(home: Path) -> None:
    aws_dir = home / ".aws"
    aws_dir.mkdir(mode=0o700)
    (aws_dir / "config").write_text(
        f"[profile ci]\nregion = us-east-1\n\n"
        f"[profile audit]\nrole_arn = {AUDIT_ROLE_ARN}\nsource_profile = ci\n"
        f"external_id = {AUDIT_EXTERNAL_ID}\nregion = eu-central-1\n"
    )
    (aws_dir / "credentials").write_text(
        f"[ci]\naws_access_key_id = {CI_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n"
    )


def test_a_profile_opens_the_console_in_its_region(
    federation: Emulator, isolated_home: Path
) -> None:
    _write_files(isolated_home)
    url = profile_console_url(Engine(None), "audit")
    assert parse_qs(urlsplit(url).query)["Destination"] == [
        "https://console.aws.amazon.com/console/home?region=eu-central-1"
    ]
    status, page = _fetch(url)
    assert status == 200
    assert ">audit</b>" in page


def test_an_access_key_profile_says_to_use_a_role(
    federation: Emulator, isolated_home: Path
) -> None:
    _write_files(isolated_home)
    with pytest.raises(TraycredError, match="needs role or SSO credentials") as info:
        profile_console_url(Engine(None), "ci")
    assert "role profile that uses ci as its source" in str(info.value)
    assert federation.count("GetSigninToken") == 0
