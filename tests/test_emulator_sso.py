"""The emulator's SSO OIDC device flow and SSO portal, driven by real boto3 clients over HTTP."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from traycred.emulator import Emulator, Scenario
from traycred.emulator import scenario as demo

UNSIGNED_NO_RETRY = Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SSO_SCOPES = ["sso:account:access"]


def fast(**changes: Any) -> Scenario:
    """The demo scenario with polling rules small enough for tests."""
    values: dict[str, Any] = {"poll_interval": 0, "slow_down_increment": 1}
    values.update(changes)
    return Scenario.demo().replace_sso(**values)


def oidc() -> Any:
    return boto3.client("sso-oidc", config=UNSIGNED_NO_RETRY)


def portal() -> Any:
    return boto3.client("sso", config=UNSIGNED_NO_RETRY)


@dataclass
class Login:
    client_id: str
    client_secret: str
    device_code: str
    user_code: str
    uri_complete: str
    interval: int

    def poll(self) -> dict[str, Any]:
        result: dict[str, Any] = oidc().create_token(
            clientId=self.client_id,
            clientSecret=self.client_secret,
            grantType=DEVICE_GRANT,
            deviceCode=self.device_code,
        )
        return result


def start_login(scopes: list[str] | None = SSO_SCOPES) -> Login:
    kwargs: dict[str, Any] = {"clientName": "traycred-test", "clientType": "public"}
    if scopes is not None:
        kwargs["scopes"] = scopes
    client = oidc().register_client(**kwargs)
    device = oidc().start_device_authorization(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        startUrl=demo.DEMO_START_URL,
    )
    return Login(
        client["clientId"],
        client["clientSecret"],
        device["deviceCode"],
        device["userCode"],
        device["verificationUriComplete"],
        device["interval"],
    )


def signed_in(emu: Emulator, scopes: list[str] | None = SSO_SCOPES) -> tuple[Login, dict[str, Any]]:
    login = start_login(scopes)
    emu.approve(login.user_code)
    return login, login.poll()


def fetch(url: str, data: bytes | None = None) -> str:
    """What a browser would get at `url` (POST when `data` is given)."""
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, data=data) as page:  # noqa: S310 - loopback http only
        return str(page.read().decode())


def oauth_error_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    response: dict[str, Any] = dict(exc.value.response)
    return str(response["error"])


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def status_of(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


# --- RegisterClient / StartDeviceAuthorization -------------------------------------------------


def test_register_client_and_start_device_authorization(emulator: Emulator) -> None:
    client = oidc().register_client(clientName="traycred", clientType="public", scopes=SSO_SCOPES)
    lifetime = client["clientSecretExpiresAt"] - client["clientIdIssuedAt"]
    assert lifetime == 90 * 86400
    device = oidc().start_device_authorization(
        clientId=client["clientId"],
        clientSecret=client["clientSecret"],
        startUrl=demo.DEMO_START_URL,
    )
    assert len(device["userCode"]) == 9 and device["userCode"][4] == "-"
    assert device["verificationUri"] == f"{emulator.url}/device"
    assert device["verificationUriComplete"] == (
        f"{emulator.url}/device?user_code={device['userCode']}"
    )
    assert (device["expiresIn"], device["interval"]) == (600, 1)
    assert emulator.pending_user_codes() == [device["userCode"]]
    (call,) = [c for c in emulator.calls if c.operation == "StartDeviceAuthorization"]
    assert client["clientSecret"] not in repr(emulator.calls)
    assert call.params["startUrl"] == demo.DEMO_START_URL


def test_bad_client_secret_and_unknown_start_url(emulator: Emulator) -> None:
    client = oidc().register_client(clientName="t", clientType="public")
    with pytest.raises(ClientError) as exc:
        oidc().start_device_authorization(
            clientId=client["clientId"], clientSecret="wrong", startUrl=demo.DEMO_START_URL
        )
    assert (code_of(exc), status_of(exc)) == ("InvalidClientException", 401)
    assert oauth_error_of(exc) == "invalid_client"
    with pytest.raises(ClientError) as exc:
        oidc().start_device_authorization(
            clientId=client["clientId"],
            clientSecret=client["clientSecret"],
            startUrl="https://other.awsapps.com/start",
        )
    assert code_of(exc) == "InvalidRequestException"


# --- CreateToken: the device flow ------------------------------------------------------------


def test_pending_until_approved_then_one_token(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    login = start_login()
    with pytest.raises(ClientError) as exc:
        login.poll()
    assert code_of(exc) == "AuthorizationPendingException"
    assert oauth_error_of(exc) == "authorization_pending"
    emu.approve(login.user_code)
    assert emu.pending_user_codes() == []
    token = login.poll()
    assert token["tokenType"] == "Bearer"
    assert token["expiresIn"] == 8 * 3600
    assert token["refreshToken"]
    with pytest.raises(ClientError) as exc:  # a device code is good for one token
        login.poll()
    assert code_of(exc) == "InvalidGrantException"


def test_polling_too_fast_slows_down_and_grows_the_interval(emulator_factory: Any) -> None:
    emulator_factory(fast(poll_interval=1, slow_down_increment=1))
    login = start_login()
    with pytest.raises(ClientError) as exc:
        login.poll()  # the first poll is never too early
    assert code_of(exc) == "AuthorizationPendingException"
    with pytest.raises(ClientError) as exc:
        login.poll()
    assert code_of(exc) == "SlowDownException"
    assert oauth_error_of(exc) == "slow_down"
    time.sleep(1.1)  # the old interval is no longer enough: it grew to 2 s
    with pytest.raises(ClientError) as exc:
        login.poll()
    assert code_of(exc) == "SlowDownException"


def test_visiting_the_url_approves_when_the_scenario_says_so(emulator_factory: Any) -> None:
    emu = emulator_factory(fast().replace(auto_approve_on_visit=True))
    login = start_login()
    text = fetch(login.uri_complete)
    assert "Request approved" in text and login.user_code in text
    assert login.poll()["accessToken"]
    assert emu.count("DevicePage", 200) == 1


def test_approve_with_the_pages_form(emulator_factory: Any) -> None:
    emulator_factory(fast())
    login = start_login()
    text = fetch(login.uri_complete)
    assert login.user_code in text
    assert 'action="/device/approve"' in text and 'action="/device/deny"' in text
    with pytest.raises(ClientError):  # only looking at the page approves nothing
        login.poll()
    base = login.uri_complete.split("/device")[0]
    form = urllib.parse.urlencode({"user_code": login.user_code}).encode()
    assert "Request approved" in fetch(f"{base}/device/approve", data=form)
    assert login.poll()["accessToken"]


def test_deny_with_the_pages_form(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    login = start_login()
    form = urllib.parse.urlencode({"user_code": login.user_code}).encode()
    assert "Request denied" in fetch(f"{emu.url}/device/deny", data=form)
    with pytest.raises(ClientError) as exc:
        login.poll()
    assert code_of(exc) == "AccessDeniedException"
    with pytest.raises(ValueError):  # decided already
        emu.approve(login.user_code)


def test_deny_from_the_test(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    login = start_login()
    emu.deny(login.user_code)
    with pytest.raises(ClientError) as exc:
        login.poll()
    assert code_of(exc) == "AccessDeniedException"


def test_device_code_expires(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    login = start_login()
    emu.advance(601)
    assert emu.pending_user_codes() == []
    with pytest.raises(ClientError) as exc:
        login.poll()
    assert code_of(exc) == "ExpiredTokenException"
    with pytest.raises(urllib.error.HTTPError) as http:
        fetch(login.uri_complete)
    assert http.value.code == 404


def test_legacy_client_without_scopes_gets_no_refresh_token(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    _, token = signed_in(emu, scopes=None)
    assert "refreshToken" not in token


def test_create_token_ttl_override(emulator_factory: Any) -> None:
    emu = emulator_factory(fast().replace(ttl_override={"CreateToken": 20}))
    _, token = signed_in(emu)
    assert token["expiresIn"] == 20


# --- refresh tokens --------------------------------------------------------------------------


def refresh(login: Login, refresh_token: str) -> dict[str, Any]:
    result: dict[str, Any] = oidc().create_token(
        clientId=login.client_id,
        clientSecret=login.client_secret,
        grantType="refresh_token",
        refreshToken=refresh_token,
    )
    return result


def test_refresh_token_grant_rotates(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    login, token = signed_in(emu)
    renewed = refresh(login, token["refreshToken"])
    assert renewed["accessToken"] != token["accessToken"]
    assert renewed["refreshToken"] != token["refreshToken"]
    with pytest.raises(ClientError) as exc:  # the old refresh token was used up
        refresh(login, token["refreshToken"])
    assert code_of(exc) == "InvalidGrantException"
    assert refresh(login, renewed["refreshToken"])["accessToken"]


def test_revoked_session_refuses_tokens(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    login, token = signed_in(emu)
    emu.revoke_sso_tokens()
    with pytest.raises(ClientError) as exc:
        refresh(login, token["refreshToken"])
    assert code_of(exc) == "InvalidGrantException"
    with pytest.raises(ClientError) as exc:
        portal().list_accounts(accessToken=token["accessToken"])
    assert (code_of(exc), status_of(exc)) == ("UnauthorizedException", 401)


def test_expired_access_token_and_refresh_token(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    login, token = signed_in(emu)
    emu.advance(8 * 3600 + 1)
    with pytest.raises(ClientError) as exc:
        portal().list_accounts(accessToken=token["accessToken"])
    assert code_of(exc) == "UnauthorizedException"
    renewed = refresh(login, token["refreshToken"])  # the session itself lasts longer
    assert portal().list_accounts(accessToken=renewed["accessToken"])["accountList"]
    emu.advance(7 * 86400)
    with pytest.raises(ClientError) as exc:
        refresh(login, renewed["refreshToken"])
    assert code_of(exc) == "InvalidGrantException"


def test_refresh_token_belongs_to_its_client(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    _, token = signed_in(emu)
    other = start_login()
    with pytest.raises(ClientError) as exc:
        refresh(other, token["refreshToken"])
    assert code_of(exc) == "InvalidGrantException"


# --- SSO portal ------------------------------------------------------------------------------


def test_role_credentials_sign_sts_calls(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    _, token = signed_in(emu)
    creds = portal().get_role_credentials(
        roleName="AdministratorAccess", accountId="111111111111", accessToken=token["accessToken"]
    )["roleCredentials"]
    expiry = datetime.fromtimestamp(creds["expiration"] / 1000, UTC)
    assert timedelta(minutes=59) < expiry - datetime.now(UTC) <= timedelta(hours=1)
    sts = boto3.client(
        "sts",
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
    )
    identity = sts.get_caller_identity()
    assert identity["Account"] == "111111111111"
    assert identity["Arn"].startswith(
        "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_"
    )
    assert identity["Arn"].endswith(f"/{demo.DEMO_SSO_USER}")
    # and they can start a chain: role/deploy trusts alice and ci only
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=demo.DEPLOY_ROLE_ARN, RoleSessionName="from-sso")
    assert code_of(exc) == "AccessDenied"


def test_unassigned_role_is_forbidden(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    _, token = signed_in(emu)
    with pytest.raises(ClientError) as exc:
        portal().get_role_credentials(
            roleName="AdministratorAccess",
            accountId=demo.DEMO_PROD_ACCOUNT_ID,
            accessToken=token["accessToken"],
        )
    assert (code_of(exc), status_of(exc)) == ("ForbiddenException", 403)


def test_bad_bearer_token_is_unauthorized(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as exc:
        portal().get_role_credentials(
            roleName="ReadOnly", accountId="111111111111", accessToken="not-a-token"
        )
    assert (code_of(exc), status_of(exc)) == ("UnauthorizedException", 401)


def test_get_role_credentials_ttl_override(emulator_factory: Any) -> None:
    emu = emulator_factory(fast().replace(ttl_override={"GetRoleCredentials": 20}))
    _, token = signed_in(emu)
    creds = portal().get_role_credentials(
        roleName="ReadOnly", accountId="111111111111", accessToken=token["accessToken"]
    )["roleCredentials"]
    left = creds["expiration"] / 1000 - time.time()
    assert 0 < left <= 20


def test_list_accounts_and_roles_paginate(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    _, token = signed_in(emu)
    pages = list(
        portal()
        .get_paginator("list_accounts")
        .paginate(accessToken=token["accessToken"], PaginationConfig={"PageSize": 2})
    )
    assert len(pages) == 4
    accounts = [a for page in pages for a in page["accountList"]]
    assert len(accounts) == 7
    assert accounts[0] == {
        "accountId": "111111111111",
        "accountName": "dev",
        "emailAddress": "dev@example.com",
    }
    assert accounts[1]["accountName"] == "prod"
    roles = [
        r["roleName"]
        for page in portal()
        .get_paginator("list_account_roles")
        .paginate(
            accessToken=token["accessToken"],
            accountId="111111111111",
            PaginationConfig={"PageSize": 1},
        )
        for r in page["roleList"]
    ]
    assert roles == ["AdministratorAccess", "ReadOnly"]
    assert emu.count("ListAccountRoles") == 2


def test_logout_invalidates_the_token_and_its_refresh_token(emulator_factory: Any) -> None:
    emu = emulator_factory(fast())
    login, token = signed_in(emu)
    _, other = signed_in(emu)  # another session stays signed in
    portal().logout(accessToken=token["accessToken"])
    with pytest.raises(ClientError) as exc:
        portal().list_accounts(accessToken=token["accessToken"])
    assert code_of(exc) == "UnauthorizedException"
    with pytest.raises(ClientError) as exc:
        refresh(login, token["refreshToken"])
    assert code_of(exc) == "InvalidGrantException"
    assert portal().list_accounts(accessToken=other["accessToken"])["accountList"]
