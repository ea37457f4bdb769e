"""Token cache files as other tools write them, and which sign-in URLs may be opened."""

from __future__ import annotations

import json
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.test_sso_helpers import LEGACY, SESSION, cache_file
from traycred.errors import SignInNeededError
from traycred.sso.browser import UnsafeUrlError, check_url, is_safe_url
from traycred.sso.token_cache import SsoToken, TokenCache, parse_cache_time

MOMENT = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2030-05-06T07:08:09Z",
        "2030-05-06T07:08:09+00:00",
        "2030-05-06T09:08:09+02:00",
        "2030-05-06T07:08:09UTC",
        "2030-05-06T07:08:09",
        "2030-05-06T07:08:09.000Z",
    ],
)
def test_expiry_is_read_in_every_form_aws_tools_write(text: str) -> None:
    assert parse_cache_time(text) == MOMENT


def test_fractional_seconds_are_kept() -> None:
    assert parse_cache_time("2030-05-06T07:08:09.123456789Z") == MOMENT.replace(microsecond=123456)


@pytest.mark.parametrize("value", [None, "", "tomorrow", 12345, "2030-13-01T00:00:00Z"])
def test_unreadable_expiry_is_none(value: object) -> None:
    assert parse_cache_time(value) is None


def test_a_saved_token_is_private_and_in_the_aws_cli_format() -> None:
    cache = TokenCache()
    token = SsoToken(
        start_url=SESSION.start_url,
        region="us-east-1",
        access_token="aoa-access",
        expires_at=MOMENT.replace(microsecond=5),
        refresh_token="aor-refresh",
        client_id="client",
        client_secret="client-secret",
        registration_expires_at=MOMENT + timedelta(days=90),
    )
    with cache.session_lock(SESSION, timeout=5):
        cache.save(SESSION, token)
    path = cache_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {
        "startUrl": SESSION.start_url,
        "region": "us-east-1",
        "accessToken": "aoa-access",
        "expiresAt": "2030-05-06T07:08:09Z",
        "clientId": "client",
        "clientSecret": "client-secret",
        "registrationExpiresAt": "2030-08-04T07:08:09Z",
        "refreshToken": "aor-refresh",
    }
    assert "aoa-access" not in repr(token) and "aor-refresh" not in repr(token)
    assert "client-secret" not in repr(token)


def test_a_token_for_another_start_url_is_not_used() -> None:
    path = cache_file(LEGACY)
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "startUrl": "https://elsewhere.awsapps.com/start",
                "region": "us-east-1",
                "accessToken": "x",
                "expiresAt": "2099-01-01T00:00:00Z",
            }
        )
    )
    assert TokenCache().load(LEGACY) is None


def test_a_token_without_access_token_or_expiry_is_not_a_token() -> None:
    path = cache_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"startUrl": SESSION.start_url, "accessToken": "x"}))
    assert TokenCache().load(SESSION) is None


def test_the_session_lock_makes_a_waiting_renewal_give_up_with_a_clear_message() -> None:
    from traycred.sso.tokens import SsoTokenService

    cache = TokenCache()
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with cache.session_lock(SESSION, timeout=5):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        with pytest.raises(SignInNeededError, match="still in progress"):
            SsoTokenService(lock_timeout=0.2).access_token(SESSION)
    finally:
        release.set()
        holder.join()


@pytest.mark.parametrize(
    "url",
    [
        "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH",
        "http://127.0.0.1:8080/device?user_code=ABCD-EFGH",
        "http://localhost/device",
        "http://[::1]:9000/device",
    ],
)
def test_https_and_loopback_urls_may_be_opened(url: str) -> None:
    assert is_safe_url(url)
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://device.example.com/?user_code=ABCD",
        "http://10.0.0.1/device",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https:///no-host",
        "ftp://127.0.0.1/",
    ],
)
def test_other_urls_are_refused_with_a_reason(url: str) -> None:
    assert not is_safe_url(url)
    with pytest.raises(UnsafeUrlError, match="only https addresses, or http to this computer"):
        check_url(url)
