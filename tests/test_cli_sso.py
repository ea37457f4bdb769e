"""`traycred sso accounts` and `sso populate` against the emulator's portal, with real files."""

from __future__ import annotations

import configparser
import os
import pty
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.test_sso_helpers import CONFIG, SESSION, UserPrompter, fast_scenario, run_cli
from tests.test_sso_helpers import write_config as write
from traycred.emulator import Emulator, Scenario
from traycred.sso.tokens import SsoTokenService

EmulatorFactory = Callable[[Scenario], Emulator]
SANDBOXES = [f"sandbox-{i}-ReadOnly" for i in range(1, 6)]


@pytest.fixture
def emu(emulator_factory: EmulatorFactory) -> Emulator:
    # Two accounts per page, so every listing takes several pages.
    return emulator_factory(fast_scenario(default_page_size=2))


def sign_in(emu: Emulator) -> None:
    SsoTokenService().sign_in(SESSION, UserPrompter(emu))


def test_accounts_lists_every_account_and_role_across_pages(emu: Emulator) -> None:
    write()
    sign_in(emu)
    result = run_cli("sso", "accounts", "--sso-session", "demo")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "dev (111111111111)  dev@example.com",
        "    AdministratorAccess",
        "    ReadOnly",
        "prod (333333333333)  prod@example.com",
        "    ReadOnly",
    ]
    assert "sandbox-5 (444444444405)  sandbox-5@example.com" in lines
    assert emu.count("ListAccounts") == 4  # 7 accounts, 2 a page


def test_accounts_without_a_sign_in_exits_3(emu: Emulator) -> None:
    write()
    result = run_cli("sso", "accounts", "--sso-session", "demo")
    assert result.returncode == 3
    assert "sign-in needed for SSO session demo" in result.stderr


def test_populate_without_yes_and_no_terminal_shows_the_diff_and_writes_nothing(
    emu: Emulator,
) -> None:
    path = write()
    sign_in(emu)
    before = path.read_bytes()
    result = run_cli("sso", "populate", "--sso-session", "demo")
    assert result.returncode == 2
    assert "+[profile dev-ReadOnly]" in result.stdout
    assert "+sso_account_id = 444444444405" in result.stdout
    assert "Add --yes to write them." in result.stderr
    assert path.read_bytes() == before


def test_populate_appends_the_missing_profiles_and_keeps_every_byte(emu: Emulator) -> None:
    # CRLF line endings, a comment, odd spacing and no final newline: all must survive.
    original = (
        CONFIG.replace("\n", "\r\n").replace("[default]", "[default]  ; mine")
        + "[profile dev-ReadOnly]\r\nregion=eu-central-1"
    )
    path = write(original)
    raw_before = path.read_bytes()
    sign_in(emu)
    result = run_cli("sso", "populate", "--sso-session", "demo", "--yes")
    assert result.returncode == 0, result.stderr
    after = path.read_bytes()
    assert after.startswith(raw_before)
    added = after[len(raw_before) :].decode()
    assert "\n" not in added.replace("\r\n", "")  # the file's own line endings
    parser = configparser.RawConfigParser()
    parser.read_string(after.decode())
    # dev/ReadOnly is new for this session; its natural name is taken, so it gets a suffix.
    assert dict(parser["profile dev-ReadOnly-2"]) == {
        "sso_session": "demo",
        "sso_account_id": "111111111111",
        "sso_role_name": "ReadOnly",
        "region": "us-east-1",
    }
    for name in SANDBOXES:
        assert parser[f"profile {name}"]["sso_session"] == "demo"
    # prod/ReadOnly and dev/AdministratorAccess already had profiles: not added again.
    assert "profile prod-ReadOnly" not in parser
    assert "profile dev-AdministratorAccess" not in parser
    assert "Added 6 profile(s)" in result.stdout

    again = run_cli("sso", "populate", "--sso-session", "demo", "--yes")
    assert again.returncode == 0
    assert "already has a profile" in again.stdout
    assert path.read_bytes() == after


def run_on_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run traycred with a pseudo-terminal as stdin/stdout and type `answer` at the question."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "traycred", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=dict(os.environ),
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    answered = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
    os.close(master)
    return process.wait(timeout=30), seen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "written"), [("y", True), ("n", False)])
def test_populate_on_a_terminal_asks_first(emu: Emulator, answer: str, written: bool) -> None:
    path = write()
    sign_in(emu)
    before = path.read_bytes()
    code, output = run_on_terminal(["sso", "populate", "--sso-session", "demo"], answer)
    assert code == 0, output
    assert "+[profile sandbox-1-ReadOnly]" in output
    assert "Add 6 profile(s) to" in output
    if written:
        assert path.read_bytes().startswith(before) and path.read_bytes() != before
    else:
        assert "Nothing written." in output
        assert path.read_bytes() == before
