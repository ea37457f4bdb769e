"""The Prompter protocol: how the engine asks a human for an MFA code or an SSO sign-in.

The engine only ever sees a `Prompter`; the CLI gives it a terminal or non-interactive one, the
tray a Qt one (dialogs on the GUI thread). Nothing else in the engine knows which it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MFA_CODE_PATTERN = re.compile(r"^[0-9]{6}$")


def is_valid_mfa_code(code: str) -> bool:
    """Six ASCII digits, checked before anything is sent to AWS."""
    return bool(MFA_CODE_PATTERN.match(code))


@dataclass(frozen=True)
class MfaRequest:
    """An MFA code is needed for `mfa_serial`, on behalf of the waiting `profiles`."""

    profiles: tuple[str, ...]
    mfa_serial: str
    # AWS's message for the previous code, when that code was refused; None on the first ask.
    previous_error: str | None = None


@dataclass(frozen=True)
class SignInRequest:
    """A device-authorization sign-in in progress for SSO session `session`."""

    session: str
    profiles: tuple[str, ...]
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: datetime


class Prompter(Protocol):
    def mfa_code(self, request: MfaRequest) -> str:
        """Return a six-digit code. Raise CancelledError if the user cancels, or
        MfaCodeNeededError when there is no way to ask (no terminal, no --mfa-code)."""
        ...

    def sign_in_started(self, request: SignInRequest) -> None:
        """Show the user code and URL, and open the browser if this front end does."""
        ...

    def sign_in_cancelled(self) -> bool:
        """Polled during the sign-in: True once the user has cancelled it."""
        ...

    def sign_in_finished(self, request: SignInRequest, error: str | None) -> None:
        """The sign-in ended: `error` is None on success, else the reason."""
        ...
