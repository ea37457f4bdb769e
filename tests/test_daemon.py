"""`traycred daemon` as a real process against the emulator (short TTLs), the real keyring and
real files: renewal without the user across cycles, retries with the old credentials kept,
credential-process and status answered by it, one instance per user, clean stop, SIGKILL."""

from __future__ import annotations

import configparser
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.fixtures.aws_setup import alice_config, store_keys, write_config
from traycred import paths
from traycred.channel import client, protocol
from traycred.credentials import parse_iso, utcnow
from traycred.emulator import Emulator, Scenario
from traycred.emulator.scenario import (
    ALICE_MFA_SERIAL,
    ALICE_SECRET_ACCESS_KEY,
)
from traycred.engine import Engine
from traycred.prompt.noninteractive import NonInteractivePrompter

ROLE_TTL = 8  # seconds: the daemon renews at half-life, so a cycle every ~4 s

CONFIG = alice_config("admin", "deploy")


@pytest.fixture
def short_ttl(
    isolated_home: Path, real_keyring: str, emulator_factory: Callable[[Scenario], Emulator]
) -> Emulator:
    write_config(isolated_home, CONFIG)
    store_keys("alice")
    scenario = Scenario.demo().replace(ttl_override={"AssumeRole": ROLE_TTL})
    return emulator_factory(scenario)


def give_mfa_code_once() -> None:
    """What the user does once: `traycred refresh admin deploy --mfa-code 123456`."""
    report = Engine(NonInteractivePrompter("123456", stdin_pipe=False)).refresh(["admin", "deploy"])
    assert report.ok, report.outcomes


def traycred(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traycred", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def start_daemon() -> Iterator[Callable[[], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "traycred", "daemon"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            info = client.ping()
            if info is not None and info["pid"] == proc.pid:
                return proc
            if proc.poll() is not None:
                raise AssertionError(f"daemon exited {proc.returncode}: {proc.stderr.read()}")
            time.sleep(0.05)
        raise AssertionError("daemon did not answer within 15 s")

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def owned(section: str) -> tuple[str, datetime] | None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(paths.aws_credentials_file())
    if not parser.has_section(section):
        return None
    values = parser[section]
    return values["aws_access_key_id"], parse_iso(values["x_traycred_expiration"])


def log_text() -> str:
    return (paths.log_dir() / "daemon.log").read_text()


def test_daemon_renews_roles_across_cycles_answers_the_cli_and_stops_cleanly(
    short_ttl: Emulator, start_daemon: Callable[[], subprocess.Popen[str]]
) -> None:
    give_mfa_code_once()
    assert short_ttl.count("GetSessionToken") == 1
    daemon = start_daemon()

    seen: dict[str, set[datetime]] = {"admin": set(), "deploy": set()}
    deadline = time.monotonic() + 3 * ROLE_TTL
    while time.monotonic() < deadline:
        for name in seen:
            current = owned(name)
            assert current is not None
            seen[name].add(current[1])
            # Renewed before expiry, every time we look.
            assert current[1] > utcnow(), f"{name} expired at {current[1]}"
        if min(len(v) for v in seen.values()) >= 4:
            break
        time.sleep(0.1)
    assert min(len(v) for v in seen.values()) >= 4  # the first write plus three renewals
    assert short_ttl.count("GetSessionToken") == 1  # one MFA session for every cycle
    assert short_ttl.count("AssumeRole", status=200) >= 8

    # credential-process is answered by the daemon (its log says so), as JSON botocore reads.
    answer = traycred("credential-process", "admin")
    assert answer.returncode == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert data["Version"] == 1 and data["AccessKeyId"].startswith("ASIA")
    assert parse_iso(data["Expiration"]) > utcnow()
    assert "credentials for admin requested over the channel" in log_text()

    # status asks the daemon.
    status = traycred("status", "--json")
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["instance"]["pid"] == daemon.pid and state["instance"]["kind"] == "daemon"
    assert {p["name"]: p["status"] for p in state["profiles"]} in (
        {"admin": "fresh", "deploy": "fresh"},
        {"admin": "refreshing", "deploy": "refreshing"},
    )
    assert state["overall"] == "fresh"

    # A second daemon refuses and names the first.
    second = traycred("daemon")
    assert second.returncode == 1
    assert second.stderr == (
        f"traycred: the traycred daemon (pid {daemon.pid}) is already running for this user. "
        "Use it (`traycred status`), or stop it first.\n"
    )

    # SIGTERM: a clean stop, the socket removed, the credentials file whole.
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(15) == 0
    assert not (paths.runtime_dir() / protocol.SOCKET_NAME).exists()
    assert owned("admin") is not None and owned("deploy") is not None
    log = log_text()
    assert "daemon stopped" in log
    assert stat.S_IMODE((paths.log_dir() / "daemon.log").stat().st_mode) == 0o600
    assert ALICE_SECRET_ACCESS_KEY not in log
    assert data["SecretAccessKey"] not in log and data["SessionToken"] not in log


def test_failing_sts_is_retried_with_backoff_while_the_old_credentials_stay(
    short_ttl: Emulator, start_daemon: Callable[[], subprocess.Popen[str]]
) -> None:
    give_mfa_code_once()
    before = {name: owned(name) for name in ("admin", "deploy")}
    # STS fails for a while: botocore's 3 attempts for admin, then 3 for deploy, all 500.
    short_ttl.faults.add("5xx", operation="AssumeRole", times=6)
    start_daemon()
    kept_after_a_failure = False
    deadline = time.monotonic() + 3 * ROLE_TTL
    while time.monotonic() < deadline:
        failed_calls = short_ttl.count("AssumeRole", status=500)
        now = {name: owned(name) for name in before}
        if failed_calls >= 3 and now == before:
            kept_after_a_failure = True  # a refresh failed; what was there is still there
        if all(now[n] != before[n] for n in before):
            break
        time.sleep(0.1)
    assert kept_after_a_failure
    assert short_ttl.count("AssumeRole", status=500) == 6
    assert all(owned(n) != before[n] for n in before), "never renewed after the throttling"
    log = log_text()
    assert "failed (1 in a row), retrying in" in log
    assert "the credentials in place stay" in log


def test_needs_mfa_is_reported_not_looped_then_solved_by_a_code_given_once(
    short_ttl: Emulator, start_daemon: Callable[[], subprocess.Popen[str]]
) -> None:
    # Managed, but no MFA session yet: the daemon cannot ask anyone.
    store = Engine(None).settings_store
    store.update(lambda s: s.with_profile("admin", managed=True))
    start_daemon()
    deadline = time.monotonic() + 10
    state: dict[str, object] = {}
    while time.monotonic() < deadline:
        state = client.call("status")
        if state["overall"] == "needs-user":
            break
        time.sleep(0.1)
    admin = next(p for p in state["profiles"] if p["name"] == "admin")  # type: ignore[attr-defined]
    assert admin["status"] == "needs-mfa"
    assert "MFA" in admin["message"]
    time.sleep(1.0)
    assert short_ttl.count("GetSessionToken") == 0  # no loop of attempts

    # credential-process without a terminal: exit 3 with the message, nothing on stdout.
    answer = traycred("credential-process", "admin")
    assert answer.returncode == 3
    assert answer.stdout == ""
    assert "MFA code" in answer.stderr and answer.stderr.startswith("traycred: ")

    # The user gives one code through the running daemon: it refreshes and keeps it fresh.
    outcomes = client.call("refresh", {"profiles": ["admin"], "mfa_code": "123456"})
    assert outcomes["admin"]["ok"] is True
    assert short_ttl.count("GetSessionToken") == 1
    status = client.call("status")
    assert status["overall"] in ("fresh", "expiring")
    assert owned("admin") is not None


def test_sigkill_leaves_a_parsable_file_and_the_next_daemon_recovers_the_socket(
    short_ttl: Emulator, start_daemon: Callable[[], subprocess.Popen[str]]
) -> None:
    give_mfa_code_once()
    daemon = start_daemon()
    time.sleep(ROLE_TTL / 2 + 1)  # let it be in the middle of its cycles
    daemon.send_signal(signal.SIGKILL)
    daemon.wait(10)
    sock = paths.runtime_dir() / protocol.SOCKET_NAME
    assert sock.exists()  # left behind
    assert client.ping() is None
    assert owned("admin") is not None and owned("deploy") is not None  # the file parses
    again = start_daemon()
    assert client.ping()["pid"] == again.pid  # type: ignore[index]
    assert os.path.exists(sock)


def test_daemon_keeps_sso_profiles_fresh_renewing_the_token_with_its_refresh_token(
    emulator_factory: Callable[[Scenario], Emulator],
    start_daemon: Callable[[], subprocess.Popen[str]],
) -> None:
    from tests.test_sso_helpers import SESSION, UserPrompter, fast_scenario
    from tests.test_sso_helpers import write_config as write_sso_config
    from traycred.settings import SettingsStore
    from traycred.sso.tokens import SsoTokenService

    # Role credentials for 8 s and access tokens for 10 min: under botocore's 15-minute
    # window, so every cycle renews the token with the refresh token, never a new sign-in.
    scenario = fast_scenario().replace(ttl_override={"GetRoleCredentials": 8, "CreateToken": 600})
    emu = emulator_factory(scenario)
    write_sso_config()
    SsoTokenService().sign_in(SESSION, UserPrompter(emu), profiles=("prod-ro", "dev-admin"))
    SettingsStore().update(
        lambda s: s.with_profile("prod-ro", managed=True).with_profile("dev-admin", managed=True)
    )
    start_daemon()
    seen: dict[str, set[datetime]] = {"prod-ro": set(), "dev-admin": set()}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and min(len(v) for v in seen.values()) < 3:
        for name in seen:
            current = owned(name)
            if current is not None:
                seen[name].add(current[1])
                assert current[1] > utcnow()
        time.sleep(0.1)
    assert min(len(v) for v in seen.values()) >= 3
    assert emu.count("StartDeviceAuthorization") == 1  # the one sign-in, before the daemon
    assert emu.count("CreateToken", status=200) >= 3  # the sign-in, then refresh-token grants
    state = client.call("status")
    assert {p["group"] for p in state["profiles"]} == {"sso:demo"}


def test_refresh_and_use_are_answered_by_the_running_daemon(
    short_ttl: Emulator, start_daemon: Callable[[], subprocess.Popen[str]]
) -> None:
    daemon = start_daemon()
    result = traycred("refresh", "admin", "--mfa-code", "123456")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("admin: [admin] until ")
    assert short_ttl.count("GetSessionToken") == 1
    log = log_text()
    assert "refresh of admin requested over the channel with an MFA code" in log
    assert "123456" not in log
    # The daemon marked it kept fresh and keeps it so.
    state = client.call("status")
    assert [p["name"] for p in state["profiles"]] == ["admin"]
    assert state["profiles"][0]["status"] in ("fresh", "refreshing")

    switched = traycred("use", "deploy")
    assert switched.returncode == 0, switched.stderr
    assert switched.stdout.startswith("deploy is the default: [default] until ")
    assert "use deploy requested over the channel" in log_text()
    state = client.call("status")
    assert state["default_profile"] == "deploy"
    assert owned("default") is not None
    assert short_ttl.count("GetSessionToken") == 1  # the daemon's MFA session served deploy
    assert client.ping()["pid"] == daemon.pid  # type: ignore[index]


def test_a_refresh_the_daemon_cannot_do_alone_is_asked_on_the_terminal(
    short_ttl: Emulator, start_daemon: Callable[[], subprocess.Popen[str]]
) -> None:
    from tests.test_prompt import Terminal

    start_daemon()
    terminal = Terminal([sys.executable, "-m", "traycred", "refresh", "admin"])
    try:
        # The daemon has no MFA session and nobody to ask: this terminal asks instead.
        terminal.expect(f"MFA code for {ALICE_MFA_SERIAL} (profile admin): ")
        terminal.send("123456")
        terminal.expect("admin: [admin] until")
    finally:
        code = terminal.close()
    assert code == 0, terminal.seen
    assert "refresh of admin requested over the channel" in log_text()
    assert short_ttl.count("GetSessionToken") == 1
    # Told to resume, the daemon now keeps admin fresh on the MFA session in the keyring.
    deadline = time.monotonic() + 10
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline:
        statuses = {p["name"]: p["status"] for p in client.call("status")["profiles"]}
        if statuses.get("admin") in ("fresh", "refreshing"):
            break
        time.sleep(0.1)
    assert statuses.get("admin") in ("fresh", "refreshing")
    assert "resume of admin requested over the channel" in log_text()


def test_login_tells_the_running_daemon_to_refresh_the_sessions_profiles(
    emulator_factory: Callable[[Scenario], Emulator],
    start_daemon: Callable[[], subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    from tests.test_sso_helpers import browser_script, fast_scenario
    from tests.test_sso_helpers import write_config as write_sso_config
    from traycred.settings import SettingsStore

    emu = emulator_factory(fast_scenario())
    write_sso_config()
    SettingsStore().update(lambda s: s.with_profile("prod-ro", managed=True))
    start_daemon()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and client.call("status")["overall"] != "needs-user":
        time.sleep(0.1)
    assert client.call("status")["profiles"][0]["status"] == "needs-sign-in"

    browser = browser_script(tmp_path, tmp_path / "opened.txt")
    result = subprocess.run(
        [sys.executable, "-m", "traycred", "login", "prod-ro"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "BROWSER": str(browser)},
    )
    assert result.returncode == 0, result.stderr
    assert "the running traycred daemon now refreshes prod-ro." in result.stderr
    assert emu.count("StartDeviceAuthorization") == 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and owned("prod-ro") is None:
        time.sleep(0.1)
    assert owned("prod-ro") is not None
    assert "resume of sso:demo, dev-admin, prod-ro requested over the channel" in log_text()
