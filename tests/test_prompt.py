"""Prompters: one code once from --mfa-code or stdin, hidden input on a real terminal."""

from __future__ import annotations

import argparse
import fcntl
import io
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.fixtures.aws_setup import store_keys, write_config
from tests.test_engine import CONFIG
from traycred.emulator import Emulator
from traycred.emulator.scenario import ALICE_MFA_SERIAL
from traycred.errors import AwsError, MfaCodeNeededError, UsageError
from traycred.prompt.base import MfaRequest, SignInRequest
from traycred.prompt.noninteractive import NonInteractivePrompter
from traycred.prompt.terminal import prompter_for_cli

REQUEST = MfaRequest(("admin", "deploy"), ALICE_MFA_SERIAL)


def test_given_code_is_used_once() -> None:
    prompter = NonInteractivePrompter("123456", stdin_pipe=False)
    assert prompter.mfa_code(REQUEST) == "123456"
    with pytest.raises(MfaCodeNeededError, match="already used"):
        prompter.mfa_code(REQUEST)


def test_a_refused_code_is_not_asked_again_but_reported() -> None:
    prompter = NonInteractivePrompter("123456", stdin_pipe=False)
    prompter.mfa_code(REQUEST)
    refused = MfaRequest(REQUEST.profiles, REQUEST.mfa_serial, "MultiFactorAuthentication failed")
    with pytest.raises(AwsError, match="MultiFactorAuthentication failed"):
        prompter.mfa_code(refused)


def test_one_line_from_piped_stdin() -> None:
    prompter = NonInteractivePrompter(None, stdin_pipe=True, stdin=io.StringIO("246810\n999999\n"))
    assert prompter.mfa_code(REQUEST) == "246810"
    with pytest.raises(MfaCodeNeededError):
        prompter.mfa_code(REQUEST)


def test_empty_or_malformed_stdin() -> None:
    with pytest.raises(MfaCodeNeededError):
        NonInteractivePrompter(None, True, stdin=io.StringIO("")).mfa_code(REQUEST)
    with pytest.raises(UsageError, match="six digits"):
        NonInteractivePrompter(None, True, stdin=io.StringIO("12ab\n")).mfa_code(REQUEST)


def test_nothing_to_ask_with_names_profiles_and_device() -> None:
    with pytest.raises(MfaCodeNeededError) as caught:
        NonInteractivePrompter(None, stdin_pipe=False).mfa_code(REQUEST)
    assert caught.value.exit_code == 3
    assert "admin, deploy" in str(caught.value)
    assert ALICE_MFA_SERIAL in str(caught.value)


def test_malformed_mfa_code_option_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="six digits"):
        prompter_for_cli(argparse.Namespace(mfa_code="12ab"))
    chosen = prompter_for_cli(argparse.Namespace(mfa_code="123456"))
    assert isinstance(chosen, NonInteractivePrompter)


class Terminal:
    """A child process on a real pseudo-terminal that is its controlling terminal."""

    def __init__(self, argv: list[str]) -> None:
        self.master, slave = os.openpty()

        def become_controlled() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, preexec_fn=become_controlled
        )
        os.close(slave)
        self.seen = ""
        self.consumed = 0

    def expect(self, text: str, timeout: float = 30) -> None:
        """Wait for `text` after what earlier expects matched (getpass drops early input)."""
        deadline = time.monotonic() + timeout
        while text not in self.seen[self.consumed :]:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never appeared in {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"terminal closed before {text!r}: {self.seen!r}"
                self.seen += chunk.decode("utf-8", "replace")
        self.consumed += self.seen[self.consumed :].index(text) + len(text)

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> int:
        code = self.process.wait(timeout=30)
        os.close(self.master)
        return code


def test_terminal_prompt_is_hidden_rechecks_and_shows_aws_message(
    isolated_home: Path, real_keyring: str, emulator: Emulator
) -> None:
    write_config(isolated_home, CONFIG)
    store_keys("alice")
    terminal = Terminal([sys.executable, "-m", "traycred", "refresh", "admin", "deploy"])
    try:
        terminal.expect(f"MFA code for {ALICE_MFA_SERIAL} (profiles admin, deploy): ")
        terminal.send("12ab")
        terminal.expect("six digits")
        terminal.expect("(profiles admin, deploy): ")
        assert emulator.calls == []
        terminal.send("000000")
        terminal.expect("MultiFactorAuthentication failed")
        terminal.expect("(profiles admin, deploy): ")
        terminal.send("123456")
        terminal.expect("deploy: [deploy] until")
    finally:
        code = terminal.close()
    assert code == 0
    assert "123456" not in terminal.seen  # hidden input: never echoed
    assert emulator.count("GetSessionToken") == 2


def test_terminal_sign_in_says_who_waits_when_the_code_expires_and_how_to_cancel() -> None:
    from datetime import UTC, datetime, timedelta

    from traycred.prompt.terminal import show_sign_in

    expires = datetime(2030, 5, 17, 9, 30, tzinfo=UTC)
    request = SignInRequest(
        session="demo",
        profiles=("prod-ro", "dev-admin"),
        user_code="WDKX-QRPL",
        verification_uri="https://device.sso.us-east-1.amazonaws.com/",
        verification_uri_complete="https://device.sso.us-east-1.amazonaws.com/?user_code=WDKX-QRPL",
        expires_at=expires,
    )
    out = io.StringIO()
    show_sign_in(
        request, open_browser=False, out=out, can_cancel=True, now=expires - timedelta(minutes=10)
    )
    lines = out.getvalue().splitlines()
    local = expires.astimezone().strftime("%H:%M")
    assert lines == [
        "Sign in to SSO session demo for profiles prod-ro and dev-admin:",
        "  https://device.sso.us-east-1.amazonaws.com/?user_code=WDKX-QRPL",
        "  Code: WDKX-QRPL   (check that the page shows it; or open "
        "https://device.sso.us-east-1.amazonaws.com/ and type it)",
        f"  The code expires at {local} (in 10 min); waiting for your approval, Ctrl-C cancels.",
    ]
    # Without a person at a terminal (piped stdin), Ctrl-C is not offered; many profiles are cut.
    out = io.StringIO()
    many = tuple(f"p{i}" for i in range(9))
    show_sign_in(
        SignInRequest("demo", many, "WDKX-QRPL", "u", "u?c", expires),
        open_browser=False,
        out=out,
        now=expires - timedelta(seconds=90),
    )
    text = out.getvalue()
    assert "for profiles p0, p1, p2, p3 and 5 more:" in text
    assert "(in 2 min); waiting for approval." in text and "Ctrl-C" not in text
