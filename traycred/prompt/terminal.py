"""Asking on the terminal: hidden MFA input on the controlling terminal, sign-in URL on stderr.

`prompter_for_cli` picks the prompter a command should use (SPEC §5): `--mfa-code`, else the
terminal, else one line from piped stdin, else none (exit 3 when a code is needed).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import math
import os
import stat
import sys
from datetime import UTC, datetime
from typing import TextIO

from traycred.errors import CancelledError, UsageError
from traycred.prompt.base import MfaRequest, Prompter, SignInRequest, is_valid_mfa_code

MALFORMED_TRIES = 5


def describe_request(request: MfaRequest) -> str:
    """`MFA code for DEVICE (profile a, b)`: what the prompts and errors say."""
    noun = "profile" if len(request.profiles) == 1 else "profiles"
    return f"MFA code for {request.mfa_serial} ({noun} {', '.join(request.profiles)})"


def show_sign_in(
    request: SignInRequest,
    *,
    open_browser: bool,
    out: TextIO | None = None,
    can_cancel: bool = False,
    now: datetime | None = None,
) -> None:
    """Print who waits, the URL with the user code beside it, and when the code expires; open
    the browser when asked to. `can_cancel`: a person at a terminal can press Ctrl-C."""
    stream = out or sys.stderr
    waiting = ""
    if request.profiles:
        noun = "profile" if len(request.profiles) == 1 else "profiles"
        waiting = f" for {noun} {_join(request.profiles)}"
    expires = request.expires_at
    left = max(0, math.ceil((expires - (now or datetime.now(UTC))).total_seconds() / 60))
    until = f"The code expires at {expires.astimezone().strftime('%H:%M')} (in {left} min)"
    if can_cancel:
        until += "; waiting for your approval, Ctrl-C cancels."
    else:
        until += "; waiting for approval."
    print(
        f"Sign in to SSO session {request.session}{waiting}:\n"
        f"  {request.verification_uri_complete}\n"
        f"  Code: {request.user_code}   (check that the page shows it; or open "
        f"{request.verification_uri} and type it)\n"
        f"  {until}",
        file=stream,
        flush=True,
    )
    if open_browser:
        from traycred.sso.browser import open_url

        if not open_url(request.verification_uri_complete):
            print("  Could not open a browser: open the URL above yourself.", file=stream)


def _join(names: tuple[str, ...], shown: int = 4) -> str:
    if len(names) > shown:
        return f"{', '.join(names[:shown])} and {len(names) - shown} more"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def show_sign_in_finished(request: SignInRequest, error: str | None) -> None:
    if error is None:
        print(f"Signed in to SSO session {request.session}.", file=sys.stderr)
    else:
        print(f"Sign-in to SSO session {request.session} ended: {error}", file=sys.stderr)


class TerminalPrompter:
    """Hidden input on the controlling terminal; re-asks on a malformed code."""

    def __init__(self, open_browser: bool = True) -> None:
        self.open_browser = open_browser

    def mfa_code(self, request: MfaRequest) -> str:
        if request.previous_error:
            self._say(f"AWS refused that code: {request.previous_error}")
        prompt = f"{describe_request(request)}: "
        for _ in range(MALFORMED_TRIES):
            try:
                code = getpass.getpass(prompt).strip()
            except EOFError:
                raise CancelledError("No MFA code was entered.") from None
            if is_valid_mfa_code(code):
                return code
            self._say("An MFA code is six digits; try again.")
        raise CancelledError("No valid MFA code was entered.")

    def sign_in_started(self, request: SignInRequest) -> None:
        show_sign_in(request, open_browser=self.open_browser, can_cancel=True)

    def sign_in_cancelled(self) -> bool:
        return False

    def sign_in_finished(self, request: SignInRequest, error: str | None) -> None:
        show_sign_in_finished(request, error)

    @staticmethod
    def _say(message: str) -> None:
        # getpass talks to /dev/tty, so say things there too: under `credential_process` stderr
        # is captured by the SDK and the user would never see it.
        try:
            with open("/dev/tty", "w", encoding="utf-8") as tty:
                print(message, file=tty, flush=True)
        except OSError:
            print(message, file=sys.stderr, flush=True)


def has_terminal() -> bool:
    """True when this process has a controlling terminal to ask on."""
    if sys.stdin is not None and sys.stdin.isatty():
        return True
    if os.name == "nt":
        return False
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def stdin_is_pipe() -> bool:
    """stdin is a pipe or a file (something that can hold one line with a code)."""
    if sys.stdin is None:
        return False
    with contextlib.suppress(OSError, ValueError):
        mode = os.fstat(sys.stdin.fileno()).st_mode
        return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)
    return False


def prompter_for_cli(
    args: argparse.Namespace, *, allow_stdin: bool = True, hint: str | None = None
) -> Prompter:
    """The prompter for a command: --mfa-code, the terminal, one line of piped stdin, or none.

    `allow_stdin=False` (credential-process) never reads stdin: it belongs to the SDK's caller.
    """
    from traycred.prompt.noninteractive import NonInteractivePrompter

    code = getattr(args, "mfa_code", None)
    if code is not None:
        code = code.strip()
        if not is_valid_mfa_code(code):
            raise UsageError(
                "--mfa-code must be six digits (e.g. --mfa-code 123456); nothing was sent to AWS."
            )
        return NonInteractivePrompter(code, stdin_pipe=False)
    if sys.stdin is not None and sys.stdin.isatty():
        return TerminalPrompter()
    if allow_stdin and stdin_is_pipe():
        return NonInteractivePrompter(None, stdin_pipe=True)
    if has_terminal():
        return TerminalPrompter()
    if hint is None:
        return NonInteractivePrompter(None, stdin_pipe=False)
    return NonInteractivePrompter(None, stdin_pipe=False, hint=hint)
