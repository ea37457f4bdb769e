"""A whole day's session as a user runs it, then a scan for every secret it used, and the modes of
everything traycred created.

The session (child processes, no terminal, real keyring, emulator, BROWSER script): `keys add`
(secret piped on stdin), `refresh admin --mfa-code`, `use deploy`, `env`, `credential-process`,
`login` + `refresh` of an SSO profile, `daemon` for a few renewal cycles with its log file, then
`logout --all`. It starts in a fresh HOME where ~/.aws does not exist (the config file lives
elsewhere through AWS_CONFIG_FILE), so traycred creates ~/.aws, the SSO cache and its own folders.

Secrets looked for: the long-term secret key; the MFA session's secret and token (kept in the
keyring); every role credential written during the session; the SSO access and refresh tokens
and the client secret. Looked in: every file under the test's folders (HOME with its XDG config,
state, cache and data folders, the runtime folder), the daemon's log, stdout and stderr of every
command, the argv of every command run and of the daemon (/proc/PID/cmdline).

Allowed, by SPEC: role credentials in the credentials file's sections traycred owns (those with
x_traycred_expiration), and on stdout of `env` and `credential-process`, whose job is to print
them; SSO tokens and the client secret in the SSO cache (~/.aws/sso/cache, shared with the AWS
CLI exactly as it writes them, SPEC §2.3). Nothing else, anywhere.
"""

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
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures.aws_setup import alice_config
from tests.test_cli_refresh import traycred
from tests.test_sso_helpers import browser_script, fast_scenario
from traycred import paths
from traycred.channel import client
from traycred.credfile import OWNER_MARKER
from traycred.emulator import Emulator, Scenario
from traycred.emulator.scenario import (
    ALICE_ACCESS_KEY_ID,
    ALICE_SECRET_ACCESS_KEY,
    DEMO_START_URL,
)
from traycred.keystore import Keystore

EmulatorFactory = Callable[[Scenario], Emulator]
ROLE_TTL = 6  # seconds: the daemon renews roles at half-life, a cycle every ~3 s

SSO_PROD_RO = f"""\
[sso-session demo]
sso_start_url = {DEMO_START_URL}
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile prod-ro]
sso_session = demo
sso_account_id = 333333333333
sso_role_name = ReadOnly
"""
CONFIG = alice_config("admin", "deploy", extra=[SSO_PROD_RO])

# Outputs that print credentials by design: role credentials may appear there, nothing else.
PRINTS_CREDENTIALS = ("env", "credential-process")


@dataclass
class Session:
    """What the user ran and saw, and the secrets that came into play."""

    commands: list[list[str]] = field(default_factory=list)
    outputs: list[tuple[list[str], str, str]] = field(default_factory=list)
    argv_seen: list[str] = field(default_factory=list)
    long_term: set[str] = field(default_factory=set)
    mfa_session: set[str] = field(default_factory=set)
    role: set[str] = field(default_factory=set)
    sso: set[str] = field(default_factory=set)

    def run(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        result = traycred(*args, stdin=stdin, env={**os.environ, **(env or {})})
        self.commands.append(list(result.args))
        self.outputs.append((list(args), result.stdout, result.stderr))
        assert result.returncode == 0, f"traycred {' '.join(args)}: {result.stderr}"
        return result.stdout

    def harvest_role_credentials(self) -> None:
        """Every role credential in traycred's sections right now (they change each refresh)."""
        parser = configparser.RawConfigParser()
        parser.read(paths.aws_credentials_file())
        for name in parser.sections():
            if parser.has_option(name, OWNER_MARKER):
                self.role.add(parser[name]["aws_secret_access_key"])
                self.role.add(parser[name]["aws_session_token"])


@pytest.fixture
def daemons() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def fresh_home(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AWS config outside HOME, so ~/.aws is created by traycred, as on a brand-new machine."""
    config = tmp_path / "dotfiles" / "aws-config"
    config.parent.mkdir()
    config.write_text(CONFIG)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert not (home / ".aws").exists()
    assert not (home / ".config").exists() and not (home / ".local").exists()
    return config


def run_full_session(
    session: Session,
    tmp_path: Path,
    emu: Emulator,
    daemons: list[subprocess.Popen[str]],
) -> None:
    # 1. The long-term key goes into the keyring, its secret on stdin.
    session.long_term.add(ALICE_SECRET_ACCESS_KEY)
    session.run(
        "keys", "add", "alice", "--access-key-id", ALICE_ACCESS_KEY_ID,
        stdin=ALICE_SECRET_ACCESS_KEY + "\n",
    )  # fmt: skip
    # 2. One MFA code; the MFA session lands in the keyring.
    session.run("refresh", "admin", "--mfa-code", "123456")
    mfa = Keystore().get_session("mfa:alice")
    assert mfa is not None and mfa.session_token
    session.mfa_session |= {mfa.secret_access_key, mfa.session_token}
    session.harvest_role_credentials()
    # 3. Default profile, env, credential-process.
    session.run("use", "deploy")
    session.harvest_role_credentials()
    printed = json.loads(session.run("env", "deploy", "--format", "json"))
    session.role |= {printed["AWS_SECRET_ACCESS_KEY"], printed["AWS_SESSION_TOKEN"]}
    answer = json.loads(session.run("credential-process", "admin"))
    session.role |= {answer["SecretAccessKey"], answer["SessionToken"]}
    # 4. SSO sign-in through the browser, and a refresh of an SSO profile.
    browser = browser_script(tmp_path, tmp_path / "opened.txt")
    session.run("login", "prod-ro", env={"BROWSER": str(browser)})
    for cache_file in paths.sso_cache_dir().glob("*.json"):
        data = json.loads(cache_file.read_text())
        for key in ("accessToken", "refreshToken", "clientSecret"):
            if data.get(key):
                session.sso.add(data[key])
    assert len(session.sso) == 3, "access token, refresh token and client secret expected"
    session.run("refresh", "prod-ro")
    session.harvest_role_credentials()
    # 5. The daemon, for a few renewal cycles; its argv read from /proc while it runs.
    command = [sys.executable, "-m", "traycred", "daemon"]
    session.commands.append(command)
    daemon = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    daemons.append(daemon)
    deadline = time.monotonic() + 15
    while (info := client.ping()) is None or info["pid"] != daemon.pid:
        assert daemon.poll() is None, daemon.stderr.read() if daemon.stderr else ""
        assert time.monotonic() < deadline, "the daemon did not start"
        time.sleep(0.05)
    session.argv_seen.append(Path(f"/proc/{daemon.pid}/cmdline").read_bytes().decode())
    renewed = emu.count("AssumeRole", status=200)
    deadline = time.monotonic() + 4 * ROLE_TTL
    while emu.count("AssumeRole", status=200) < renewed + 4:  # two cycles of admin and deploy
        assert time.monotonic() < deadline, "the daemon did not renew the roles"
        session.harvest_role_credentials()
        time.sleep(0.1)
    session.harvest_role_credentials()
    daemon.send_signal(signal.SIGTERM)
    out, err = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, err
    session.outputs.append((["daemon"], out, err))
    session.harvest_role_credentials()
    # 6. Sign out of everything.
    session.run("logout", "--all")


def private_modes(home: Path, tmp_path: Path) -> None:
    """Files 0600, folders 0700: what traycred created in the session."""
    aws = home / ".aws"
    for folder in (aws, aws / "sso", aws / "sso" / "cache"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for folder in (paths.settings_dir(), paths.state_dir(), paths.log_dir()):
        assert folder.is_dir(), folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    files = [
        paths.aws_credentials_file(),
        paths.settings_file(),
        *paths.sso_cache_dir().glob("*.json"),
        *paths.log_dir().glob("*.log*"),
    ]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # Whatever else traycred left in its folders and ~/.aws (lock files, state) is private too.
    for root in (aws, paths.settings_dir(), paths.state_dir(), paths.log_dir()):
        for path in root.rglob("*"):
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o077 == 0, f"{path} is {mode:o}"


def test_a_full_session_leaves_no_secret_outside_the_keyring_and_owned_sections(
    isolated_home: Path,
    real_keyring: str,
    emulator_factory: EmulatorFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    daemons: list[subprocess.Popen[str]],
) -> None:
    fresh_home(isolated_home, tmp_path, monkeypatch)
    scenario = fast_scenario().replace(ttl_override={"AssumeRole": ROLE_TTL})
    emu = emulator_factory(scenario)
    session = Session()
    run_full_session(session, tmp_path, emu, daemons)
    assert len(session.role) >= 12  # admin, deploy, prod-ro and the daemon's renewals

    everything = session.long_term | session.mfa_session | session.role | session.sso
    never_printed = session.long_term | session.mfa_session | session.sso

    # argv: what we ran (by construction) and what the daemon saw.
    for argv in [*(" ".join(c) for c in session.commands), *session.argv_seen]:
        assert not [s for s in everything if s in argv], argv
    # stdout/stderr of every command.
    for args, out, err in session.outputs:
        allowed_out = never_printed if args[0] in PRINTS_CREDENTIALS else everything
        assert not [s for s in allowed_out if s in out], f"stdout of traycred {args}"
        assert not [s for s in everything if s in err], f"stderr of traycred {args}"
    # Every file in the test's folders (HOME, XDG folders, runtime folder, the AWS config).
    log = paths.log_dir() / "daemon.log"
    assert "daemon stopped" in log.read_text()
    credentials = paths.aws_credentials_file()
    cache = paths.sso_cache_dir()
    scanned = 0
    for path in tmp_path.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        scanned += 1
        data = path.read_bytes()
        found = {s for s in everything if s.encode() in data}
        if path == credentials:
            assert not found & never_printed, f"{path}: long-term or SSO secret"
            assert_only_in_owned_sections(path, found)
        elif path.parent == cache:
            assert not found - session.sso, f"{path} holds a non-SSO secret"
        else:
            assert not found, f"{path} holds {len(found)} secret(s)"
    assert scanned >= 8  # credentials, settings, log, SSO cache, config, lock files...
    # And the modes of everything traycred created in this fresh HOME.
    private_modes(isolated_home, tmp_path)


def assert_only_in_owned_sections(path: Path, found: set[str]) -> None:
    parser = configparser.RawConfigParser()
    parser.read(path)
    for name in parser.sections():
        if parser.has_option(name, OWNER_MARKER):
            continue
        values = " ".join(parser[name].values())
        assert not [s for s in found if s in values], f"[{name}] of {path} holds a secret"


def test_private_modes_even_with_a_permissive_umask(
    isolated_home: Path,
    real_keyring: str,
    emulator_factory: EmulatorFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """umask 000 in the children: traycred's files and folders are still private."""
    fresh_home(isolated_home, tmp_path, monkeypatch)
    emulator_factory(fast_scenario())
    session = Session()
    old = os.umask(0)
    try:
        session.run(
            "keys", "add", "alice", "--access-key-id", ALICE_ACCESS_KEY_ID,
            stdin=ALICE_SECRET_ACCESS_KEY + "\n",
        )  # fmt: skip
        session.run("refresh", "admin", "--mfa-code", "123456")
        session.run("use", "admin")
        browser = browser_script(tmp_path, tmp_path / "opened.txt")
        session.run("login", "prod-ro", env={"BROWSER": str(browser)})
        session.run("refresh", "prod-ro")
    finally:
        os.umask(old)
    aws = isolated_home / ".aws"
    for folder in (aws, aws / "sso", aws / "sso" / "cache", paths.settings_dir()):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for path in (
        paths.aws_credentials_file(),
        paths.settings_file(),
        *paths.sso_cache_dir().glob("*.json"),
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
