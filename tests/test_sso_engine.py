"""The SSO engine against the emulator over real HTTP: sign-in, cache, renewal, one token each."""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.test_sso_helpers import LEGACY, SESSION, UserPrompter, cache_file, fast_scenario
from traycred import paths
from traycred.config import Kind, Profile, SsoSessionConfig
from traycred.emulator import Emulator, Scenario
from traycred.errors import AwsError, CancelledError, SignInNeededError
from traycred.providers.sso_role import SsoRoleProvider
from traycred.sso.token_cache import TokenCache, registration_key
from traycred.sso.tokens import SsoTokenService

EmulatorFactory = Callable[[Scenario], Emulator]


def sso_profile(name: str, account: str, role: str, session: SsoSessionConfig = SESSION) -> Profile:
    kind = Kind.SSO_LEGACY if session.legacy else Kind.SSO_SESSION
    return Profile(
        name=name, kind=kind, sso_session=session, sso_account_id=account, sso_role_name=role
    )


PROD_RO = sso_profile("prod-ro", "333333333333", "ReadOnly")
DEV_ADMIN = sso_profile("dev-admin", "111111111111", "AdministratorAccess")


def rewrite_expiry(session: SsoSessionConfig, expires_at: datetime) -> None:
    path = cache_file(session)
    data = json.loads(path.read_text())
    data["expiresAt"] = expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(data))


@pytest.fixture
def emu(emulator_factory: EmulatorFactory) -> Emulator:
    return emulator_factory(fast_scenario())


def test_sign_in_writes_the_token_cache_as_the_aws_cli_does(emu: Emulator) -> None:
    prompter = UserPrompter(emu)
    token = SsoTokenService().sign_in(SESSION, prompter, profiles=("prod-ro",))

    path = cache_file()
    assert path.name == "89e495e7941cf9e40e6980d14a16bf023ccd4c91.json"  # sha1("demo")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["startUrl"] == SESSION.start_url
    assert data["region"] == "us-east-1"
    assert data["accessToken"] == token.access_token
    assert datetime.strptime(data["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert set(data) >= {"clientId", "clientSecret", "registrationExpiresAt", "refreshToken"}
    datetime.strptime(data["registrationExpiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    # The user saw the code and the URL with the code filled in, and success was reported.
    request = prompter.started[0]
    assert request.user_code in request.verification_uri_complete
    assert request.profiles == ("prod-ro",)
    assert prompter.finished == [None]
    assert emu.count("StartDeviceAuthorization") == 1


def test_the_client_registration_is_cached_and_reused_under_the_aws_cli_key(emu: Emulator) -> None:
    service = SsoTokenService()
    service.sign_in(SESSION, UserPrompter(emu))
    service.sign_in(SESSION, UserPrompter(emu))
    assert emu.count("RegisterClient") == 1
    assert emu.count("StartDeviceAuthorization") == 2
    registration = paths.sso_cache_dir() / f"{registration_key(SESSION)}.json"
    data = json.loads(registration.read_text())
    assert set(data) == {"clientId", "clientSecret", "expiresAt", "scopes"}
    assert data["scopes"] == ["sso:account:access"]
    assert stat.S_IMODE(registration.stat().st_mode) == 0o600


def test_registration_key_is_the_aws_cli_v2_one() -> None:
    # sha1 of {"region": ..., "scopes": [...], "session_name": "demo", "startUrl": ..., "tool":
    # "botocore"} as json.dumps(sort_keys=True) writes it; literal so a change is noticed.
    assert registration_key(SESSION) == "0a4304e7cac750eeb54d99d964851f4f0a098416"
    # Legacy: no scopes and no session name (null in the document), as the CLI has them.
    assert registration_key(LEGACY) == "56e2a94d4212306a21a76e19f9c04f8c2c359b82"


def test_refresh_of_a_profile_without_a_token_says_sign_in_needed(emu: Emulator) -> None:
    with pytest.raises(SignInNeededError) as caught:
        SsoRoleProvider(PROD_RO, SsoTokenService()).retrieve()
    assert str(caught.value) == (
        "sign-in needed for SSO session demo: run `traycred login --sso-session demo`"
    )
    assert caught.value.exit_code == 3
    assert emu.count("StartDeviceAuthorization") == 0


def test_many_profiles_of_one_session_share_one_sign_in(emu: Emulator) -> None:
    service = SsoTokenService()
    service.sign_in(SESSION, UserPrompter(emu))
    results = {p.name: SsoRoleProvider(p, service).retrieve() for p in (PROD_RO, DEV_ADMIN)}
    for name in ("prod-ro", "dev-admin"):
        creds = results[name]
        assert not isinstance(creds, Exception), creds
        assert creds.access_key_id.startswith("ASIA")
        assert creds.expiration is not None and creds.expiration > datetime.now(UTC)
    assert emu.count("StartDeviceAuthorization") == 1
    assert emu.count("CreateToken", status=200) == 1
    assert emu.count("GetRoleCredentials", status=200) == 2


def test_a_token_near_expiry_is_renewed_once_with_its_refresh_token(emu: Emulator) -> None:
    service = SsoTokenService()
    first = service.sign_in(SESSION, UserPrompter(emu))
    rewrite_expiry(SESSION, datetime.now(UTC) + timedelta(minutes=5))

    profiles = [PROD_RO, DEV_ADMIN] * 10
    barrier = threading.Barrier(len(profiles))
    outcomes: list[object] = []

    def one(profile: Profile) -> None:
        barrier.wait()
        try:
            outcomes.append(SsoRoleProvider(profile, SsoTokenService()).retrieve())
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=one, args=(p,)) for p in profiles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert len(outcomes) == len(profiles)
    # One refresh_token grant, no new device sign-in, and the renewed token written back.
    assert emu.count("CreateToken", status=200) == 2
    assert emu.count("StartDeviceAuthorization") == 1
    renewed = TokenCache().load(SESSION)
    assert renewed is not None
    assert renewed.access_token != first.access_token
    assert renewed.refresh_token and renewed.refresh_token != first.refresh_token
    assert renewed.remaining() > timedelta(hours=1)


def test_a_refused_refresh_token_means_sign_in_needed_and_no_browser(emu: Emulator) -> None:
    service = SsoTokenService()
    service.sign_in(SESSION, UserPrompter(emu))
    rewrite_expiry(SESSION, datetime.now(UTC) + timedelta(seconds=30))
    emu.revoke_sso_tokens()
    with pytest.raises(SignInNeededError, match="sign-in needed for SSO session demo"):
        service.access_token(SESSION)
    assert emu.count("StartDeviceAuthorization") == 1


def test_a_token_with_time_left_is_used_when_renewal_is_refused(emu: Emulator) -> None:
    service = SsoTokenService()
    token = service.sign_in(SESSION, UserPrompter(emu))
    rewrite_expiry(SESSION, datetime.now(UTC) + timedelta(minutes=10))
    path = cache_file()
    data = json.loads(path.read_text())
    data["refreshToken"] = "aor-not-a-real-one"
    path.write_text(json.dumps(data))
    assert service.access_token(SESSION) == token.access_token


def test_a_revoked_token_is_dropped_and_reported_as_sign_in_needed(emu: Emulator) -> None:
    service = SsoTokenService()
    service.sign_in(SESSION, UserPrompter(emu))
    emu.revoke_sso_tokens()
    with pytest.raises(SignInNeededError, match="traycred login --sso-session demo"):
        SsoRoleProvider(PROD_RO, service).retrieve()
    assert not cache_file().exists()


def test_a_role_the_user_lacks_gives_a_clear_error(emu: Emulator) -> None:
    service = SsoTokenService()
    service.sign_in(SESSION, UserPrompter(emu))
    lacking = sso_profile("prod-admin", "333333333333", "AdministratorAccess")
    with pytest.raises(AwsError) as caught:
        SsoRoleProvider(lacking, service).retrieve()
    assert str(caught.value).startswith(
        "No access to role AdministratorAccess in account 333333333333"
    )


def test_legacy_profiles_sign_in_by_start_url_without_refresh_token(emu: Emulator) -> None:
    service = SsoTokenService()
    service.sign_in(LEGACY, UserPrompter(emu))
    data = json.loads(cache_file(LEGACY).read_text())
    assert set(data) == {"startUrl", "region", "accessToken", "expiresAt"}
    legacy_dev = sso_profile("legacy-dev", "111111111111", "ReadOnly", LEGACY)
    assert SsoRoleProvider(legacy_dev, service).retrieve().access_key_id.startswith("ASIA")


def test_denial_ends_the_sign_in_with_the_reason(emu: Emulator) -> None:
    prompter = UserPrompter(emu, action="deny")
    with pytest.raises(AwsError, match="was denied in the browser"):
        SsoTokenService().sign_in(SESSION, prompter)
    assert prompter.finished and "denied" in str(prompter.finished[0])
    assert not cache_file().exists()


def test_an_unapproved_code_expires(emu: Emulator) -> None:
    # Each wait lets ten minutes pass on the emulator, so the code expires on the next poll.
    service = SsoTokenService(sleep=lambda seconds: emu.advance(600), cancel_check_seconds=1000)
    prompter = UserPrompter(emu, action="none")
    with pytest.raises(AwsError, match="expired before it was approved") as caught:
        service.sign_in(SESSION, prompter)
    assert caught.value.code == "ExpiredTokenException"
    assert prompter.finished == [caught.value.message]
    assert not cache_file().exists()


def test_cancel_stops_polling(emu: Emulator) -> None:
    prompter = UserPrompter(emu, action="none", cancel_after=3)
    with pytest.raises(CancelledError, match="cancelled"):
        SsoTokenService().sign_in(SESSION, prompter)
    assert prompter.finished and prompter.finished[0] is not None


def test_slow_down_adds_five_seconds_to_the_interval(emulator_factory: EmulatorFactory) -> None:
    emu = emulator_factory(Scenario.demo().replace_sso(poll_interval=1, slow_down_increment=0))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            emu.approve(emu.pending_user_codes()[0])
            time.sleep(1.05)  # the server's own interval, so this poll is on time

    service = SsoTokenService(sleep=sleep, cancel_check_seconds=1000)
    token = service.sign_in(SESSION, UserPrompter(emu, action="none"))
    assert token.access_token
    assert waits == [1, 1, 6]
    assert [c.error_code for c in emu.calls if c.operation == "CreateToken"] == [
        "AuthorizationPendingException",
        "SlowDownException",
        None,
    ]


def test_concurrent_sign_ins_of_one_session_make_one(emu: Emulator) -> None:
    prompters = [UserPrompter(emu, action="none") for _ in range(4)]
    barrier = threading.Barrier(len(prompters))
    tokens: list[str] = []

    def approve_later() -> None:
        deadline = time.monotonic() + 10
        while not emu.pending_user_codes() and time.monotonic() < deadline:
            time.sleep(0.05)
        emu.approve(emu.pending_user_codes()[0])

    def one(prompter: UserPrompter) -> None:
        barrier.wait()
        tokens.append(SsoTokenService().sign_in(SESSION, prompter).access_token)

    threads = [threading.Thread(target=one, args=(p,)) for p in prompters]
    threads.append(threading.Thread(target=approve_later))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(tokens) == 4 and len(set(tokens)) == 1
    assert emu.count("StartDeviceAuthorization") == 1
    assert sum(len(p.started) for p in prompters) == 1


def aws_cli_style_login(emu: Emulator, expires_format: str) -> dict[str, object]:
    """Sign in the way `aws sso login` does, with botocore alone, and write its cache files."""
    import botocore.session

    session = botocore.session.Session()
    from botocore import UNSIGNED
    from botocore.config import Config

    oidc = session.create_client(
        "sso-oidc", region_name="us-east-1", config=Config(signature_version=UNSIGNED)
    )
    registered = oidc.register_client(
        clientName="botocore-client-demo", clientType="public", scopes=["sso:account:access"]
    )
    device = oidc.start_device_authorization(
        clientId=registered["clientId"],
        clientSecret=registered["clientSecret"],
        startUrl=SESSION.start_url,
    )
    emu.approve(device["userCode"])
    answer = oidc.create_token(
        grantType="urn:ietf:params:oauth:grant-type:device_code",
        clientId=registered["clientId"],
        clientSecret=registered["clientSecret"],
        deviceCode=device["deviceCode"],
    )
    now = datetime.now(UTC)
    registration_expiry = datetime.fromtimestamp(registered["clientSecretExpiresAt"], UTC)
    token = {
        "startUrl": SESSION.start_url,
        "region": "us-east-1",
        "accessToken": answer["accessToken"],
        "expiresAt": (now + timedelta(seconds=answer["expiresIn"])).strftime(expires_format),
        "clientId": registered["clientId"],
        "clientSecret": registered["clientSecret"],
        "registrationExpiresAt": registration_expiry.strftime(expires_format),
        "refreshToken": answer["refreshToken"],
    }
    folder = paths.sso_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{SESSION.cache_key}.json").write_text(json.dumps(token))
    registration = {
        "clientId": registered["clientId"],
        "clientSecret": registered["clientSecret"],
        "expiresAt": registration_expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scopes": ["sso:account:access"],
    }
    (folder / f"{registration_key(SESSION)}.json").write_text(json.dumps(registration))
    emu.reset_calls()
    return token


@pytest.mark.parametrize(
    "expires_format",
    ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f+00:00", "%Y-%m-%dT%H:%M:%SUTC"],
)
def test_a_cache_written_by_the_aws_cli_is_used_without_a_new_sign_in(
    emu: Emulator, expires_format: str
) -> None:
    token = aws_cli_style_login(emu, expires_format)
    service = SsoTokenService()
    assert service.access_token(SESSION) == token["accessToken"]
    assert SsoRoleProvider(PROD_RO, service).retrieve().access_key_id.startswith("ASIA")
    assert emu.count("StartDeviceAuthorization") == 0
    assert emu.count("CreateToken") == 0
    # And a later sign-in by traycred reuses the AWS CLI's client registration.
    service.sign_in(SESSION, UserPrompter(emu))
    assert emu.count("RegisterClient") == 0


def test_unreadable_cache_files_count_as_no_token(emu: Emulator) -> None:
    path = cache_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(SignInNeededError):
        SsoTokenService().access_token(SESSION)


def test_a_legacy_profile_without_a_token_names_itself_in_the_hint(emu: Emulator) -> None:
    legacy_dev = sso_profile("legacy-dev", "111111111111", "ReadOnly", LEGACY)
    with pytest.raises(SignInNeededError) as caught:
        SsoRoleProvider(legacy_dev, SsoTokenService()).retrieve()
    assert str(caught.value) == (
        f"sign-in needed for SSO start URL {LEGACY.start_url}: run `traycred login legacy-dev`"
    )
