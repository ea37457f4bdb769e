"""Shared test set-up: every test gets its own HOME, AWS files and traycred folders.

Fixture modules live in tests/fixtures/ (one per area) and are loaded here as plugins.
System services (Secret Service keyring, X server with a tray host) are used for real; when one
is missing a test skips with the reason, and with TRAYCRED_REQUIRE_SYSTEM=1 (CI) it fails instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.system",
    "tests.fixtures.emulator",
]

# Variables of the developer's shell that would change what the code under test sees.
_LEAKY_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CREDENTIAL_EXPIRATION",
    "BROWSER",
    "TRAYCRED_DEBUG",
    "TRAYCRED_CHANNEL_TRANSPORT",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh HOME with `~/.aws/` paths and traycred folders inside the test's tmp folder.

    The real keyring daemon is shared (it runs once for the session); keystore tests isolate
    themselves with a per-test service name (TRAYCRED_KEYRING_SERVICE).
    """
    home = tmp_path / "home"
    home.mkdir()
    for name in _LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("TRAYCRED_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Each test has its own keyring service, so nothing cached by one test (MFA sessions, role
    # credentials from an earlier emulator) is seen by another. The keyring daemon itself is
    # private to the test run (scripts/run-tests).
    monkeypatch.setenv("TRAYCRED_KEYRING_SERVICE", f"traycred-test-{uuid.uuid4().hex[:12]}")
    from traycred import aws

    aws.reset_sessions()
    yield home
    aws.reset_sessions()
