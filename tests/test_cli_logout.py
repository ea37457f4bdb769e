"""`traycred logout`: portal session ended, cached token gone, traycred's sections removed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_sso_helpers import (
    SESSION,
    UserPrompter,
    cache_file,
    fast_scenario,
    run_cli,
    write_config,
)
from traycred import paths
from traycred.credentials import Credentials
from traycred.credfile import CredentialsStore
from traycred.emulator import Emulator, Scenario
from traycred.sso.tokens import SsoTokenService

EmulatorFactory = Callable[[Scenario], Emulator]
FOREIGN = "# my own keys\n[work]\naws_access_key_id = AKIAFOREIGN000000001\nregion = eu-west-1\n"


@pytest.fixture
def signed_in(emulator_factory: EmulatorFactory) -> Emulator:
    write_config()
    emu = emulator_factory(fast_scenario())
    SsoTokenService().sign_in(SESSION, UserPrompter(emu))
    return emu


def write_sections(*names: str) -> Path:
    path = paths.aws_credentials_file()
    path.write_text(FOREIGN)
    creds = Credentials(
        "ASIAEXAMPLE000000001",
        "secret-value-for-the-test",
        "session-token-for-the-test",
        datetime.now(UTC) + timedelta(hours=1),
    )
    CredentialsStore(path).write(dict.fromkeys(names, creds))
    return path


def test_logout_of_a_profile_ends_its_session_and_removes_its_sections(signed_in: Emulator) -> None:
    credentials = write_sections("prod-ro", "dev-admin", "legacy-dev")
    result = run_cli("logout", "prod-ro")
    assert result.returncode == 0, result.stderr
    assert "Signed out of SSO session demo" in result.stdout
    assert "Removed [dev-admin], [prod-ro]" in result.stdout
    assert not cache_file().exists()
    assert signed_in.count("Logout", status=200) == 1
    text = credentials.read_text()
    assert text.startswith(FOREIGN)
    assert "[prod-ro]" not in text and "[dev-admin]" not in text
    # legacy-dev signs in through the start URL, another session: left alone.
    assert "[legacy-dev]" in text


def test_logout_all_removes_every_token_including_other_tools(signed_in: Emulator) -> None:
    stray = paths.sso_cache_dir() / "0123456789abcdef0123456789abcdef01234567.json"
    stray.write_text(
        json.dumps(
            {
                "startUrl": "https://other.awsapps.com/start",
                "region": "us-east-1",
                "accessToken": "not-known-to-the-portal",
                "expiresAt": "2099-01-01T00:00:00Z",
            }
        )
    )
    registration = next(p for p in paths.sso_cache_dir().glob("*.json") if p != cache_file())
    write_sections("dev-admin")
    result = run_cli("logout", "--all")
    assert result.returncode == 0, result.stderr
    assert not cache_file().exists()
    assert not stray.exists()
    # Client registrations are not tokens: kept for the next sign-in.
    assert registration.exists()
    assert "Removed [dev-admin]" in result.stdout


def test_logout_when_not_signed_in_says_so(emulator_factory: EmulatorFactory) -> None:
    write_config()
    emulator_factory(fast_scenario())
    result = run_cli("logout", "--sso-session", "demo")
    assert result.returncode == 0
    assert "SSO session demo: not signed in" in result.stdout


def test_logout_needs_to_know_what(signed_in: Emulator) -> None:
    result = run_cli("logout")
    assert result.returncode == 2
    assert "a PROFILE, --sso-session NAME, or --all" in result.stderr
    assert cache_file().exists()
