"""Network faults from the emulator, as a user running `traycred refresh` sees them: throttling,
5xx, dropped connections and slow answers are retried (the emulator counts every attempt), and
when the retries run out the user gets one line while the credentials in the file stay
byte-for-byte what they were. Refused connections (emulator stopped), a revoked SSO token and an
expired MFA session end in one line that says what to do, also with nothing lost.

(The daemon's timer-level backoff across cycles is covered by tests/test_daemon.py; here it is
botocore's per-call retries that traycred configures in traycred.aws.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.aws_setup import credentials_file, store_keys, write_config
from tests.test_cli_refresh import traycred
from tests.test_engine import CONFIG
from tests.test_sso_helpers import CONFIG as SSO_CONFIG
from tests.test_sso_helpers import SESSION, fast_scenario, visit
from traycred import paths
from traycred.emulator import Emulator, Scenario
from traycred.keystore import Keystore
from traycred.providers import BACKOFF_ATTEMPTS

EmulatorFactory = Callable[[Scenario], Emulator]
ATTEMPTS = 3  # traycred.aws.client: max_attempts in total, botocore's standard retries
# Throttling gets traycred's own slower backoff around those (traycred.providers.with_backoff).
THROTTLED_ATTEMPTS = BACKOFF_ATTEMPTS * ATTEMPTS


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("traycred: ")
    return lines[0]


@pytest.fixture
def sts(isolated_home: Path, real_keyring: str, emulator_factory: EmulatorFactory) -> Emulator:
    """The STS config of tests/test_engine.py, keys in the keyring, `ci-deploy` already written
    (to [ci-deploy-live], which SDK tools use as it is: no shadowing note on stderr)."""
    write_config(isolated_home, CONFIG)
    store_keys("alice", "ci")
    emu = emulator_factory(Scenario.demo())
    first = traycred("refresh", "ci-deploy", "--output", "ci-deploy-live")
    assert first.returncode == 0 and first.stderr == "", first.stderr
    emu.reset_calls()
    return emu


@pytest.mark.parametrize(("kind", "status"), [("throttle", 400), ("5xx", 500), ("drop", 0)])
def test_transient_faults_are_retried_and_the_refresh_succeeds(
    sts: Emulator, isolated_home: Path, kind: str, status: int
) -> None:
    before = credentials_file(isolated_home).read_bytes()
    sts.faults.add(kind, operation="AssumeRole", times=ATTEMPTS - 1)  # type: ignore[arg-type]
    result = traycred("refresh", "ci-deploy")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # retried quietly: nothing for the user to do
    assert sts.count("AssumeRole", status=status) == ATTEMPTS - 1
    assert sts.count("AssumeRole", status=200) == 1
    assert credentials_file(isolated_home).read_bytes() != before  # renewed


@pytest.mark.parametrize(
    ("kind", "expected", "attempts"),
    [
        ("throttle", "Rate exceeded (Throttling)", THROTTLED_ATTEMPTS),
        ("5xx", "An internal error occurred (InternalFailure)", ATTEMPTS),
    ],
)
def test_lasting_faults_tell_the_user_once_and_keep_the_credentials(
    sts: Emulator, isolated_home: Path, kind: str, expected: str, attempts: int
) -> None:
    before = credentials_file(isolated_home).read_bytes()
    sts.faults.add(kind, operation="AssumeRole", times=100)  # type: ignore[arg-type]
    line = one_line(traycred("refresh", "ci-deploy"), 1)
    assert "ci-deploy" in line and expected in line
    assert sts.count("AssumeRole") == attempts  # retried, then given up: no endless loop
    assert credentials_file(isolated_home).read_bytes() == before


def test_slow_answers_within_the_timeout_just_take_longer(
    sts: Emulator, isolated_home: Path
) -> None:
    sts.latency = 0.5
    result = traycred("refresh", "ci-deploy")
    assert result.returncode == 0, result.stderr
    assert sts.count("AssumeRole") == 1  # no duplicate call while waiting


READ_TIMEOUT_CHILD = (
    "import sys; from traycred import aws; aws.READ_TIMEOUT = 0.3; "
    "from traycred.cli.main import main; sys.exit(main(sys.argv[1:]))"
)


def test_an_endpoint_that_never_answers_times_out_in_one_line(
    sts: Emulator, isolated_home: Path
) -> None:
    """The read timeout is shortened to 0.3 s in the child (30 s in real use) to keep this fast."""
    before = credentials_file(isolated_home).read_bytes()
    sts.faults.add("latency", operation="AssumeRole", times=100, delay=1.0)
    result = subprocess.run(
        [sys.executable, "-c", READ_TIMEOUT_CHILD, "refresh", "ci-deploy"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    line = one_line(result, 1)
    assert "did not answer in time" in line
    # The emulator records a call when its (slow) answer is done: wait for the last one.
    deadline = time.monotonic() + 10
    while sts.count("AssumeRole") < ATTEMPTS and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sts.count("AssumeRole") == ATTEMPTS
    assert credentials_file(isolated_home).read_bytes() == before


def test_refused_connections_say_so_and_keep_the_credentials(
    sts: Emulator, isolated_home: Path
) -> None:
    before = credentials_file(isolated_home).read_bytes()
    url = sts.url
    sts.stop()  # nothing listens on the port any more: connection refused
    line = one_line(traycred("refresh", "ci-deploy"), 1)
    assert "cannot reach" in line and url in line
    assert "AWS_ENDPOINT_URL" in line  # what to check
    assert credentials_file(isolated_home).read_bytes() == before
    # credential-process, which SDKs call, also answers in one line and prints no JSON.
    answer = traycred("credential-process", "ci-deploy")
    if answer.returncode == 0:  # the section written before still had time left: reused
        assert json.loads(answer.stdout)["Version"] == 1
    else:
        assert answer.stdout == ""
        one_line(answer, 1)


def test_an_expired_mfa_session_asks_for_a_new_code(
    isolated_home: Path, real_keyring: str, emulator_factory: EmulatorFactory
) -> None:
    write_config(isolated_home, CONFIG)
    store_keys("alice")
    emu = emulator_factory(Scenario.demo())
    assert traycred("refresh", "admin", "--mfa-code", "123456").returncode == 0
    before = credentials_file(isolated_home).read_bytes()
    # The day is over: the emulator ages everything it issued by 13 h (past the 12 h session).
    emu.advance(13 * 3600)
    line = one_line(traycred("refresh", "admin"), 3)  # no terminal, no code: the user must act
    assert "MFA" in line and "admin" in line
    assert credentials_file(isolated_home).read_bytes() == before
    # One new code fixes it, with one GetSessionToken.
    emu.reset_calls()
    again = traycred("refresh", "admin", "--mfa-code", "654321")
    assert again.returncode == 0, again.stderr
    assert emu.count("GetSessionToken", status=200) == 1
    session = Keystore().get_session("mfa:alice")
    assert session is not None and not session.is_expired()


def test_a_revoked_sso_token_means_sign_in_and_nothing_lost(
    isolated_home: Path, emulator_factory: EmulatorFactory
) -> None:
    from tests.test_sso_helpers import write_config as write_sso_config
    from traycred.sso.tokens import SsoTokenService

    write_sso_config(SSO_CONFIG)
    emu = emulator_factory(fast_scenario())

    class Browser:
        def mfa_code(self, request: object) -> str:
            raise AssertionError("no MFA here")

        def sign_in_started(self, request: object) -> None:
            visit(request.verification_uri_complete)  # type: ignore[attr-defined]

        def sign_in_cancelled(self) -> bool:
            return False

        def sign_in_finished(self, request: object, error: str | None) -> None:
            pass

    SsoTokenService().sign_in(SESSION, Browser())
    assert traycred("refresh", "prod-ro", "dev-admin").returncode == 0
    before = credentials_file(isolated_home).read_bytes()
    emu.revoke_sso_tokens()  # signed out in the portal, or the admin ended the session
    emu.reset_calls()
    line = one_line(traycred("refresh", "prod-ro"), 3)
    assert "sign-in needed for SSO session demo" in line
    assert "traycred login" in line
    assert emu.count("GetRoleCredentials") == 1  # refused once: not retried, no browser opened
    assert emu.count("StartDeviceAuthorization") == 0
    assert credentials_file(isolated_home).read_bytes() == before
    assert not (paths.sso_cache_dir() / f"{SESSION.cache_key}.json").exists()  # dropped
