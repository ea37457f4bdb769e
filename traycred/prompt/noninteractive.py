"""Asking without a human at hand: `--mfa-code`, one line of piped stdin, or exit 3."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from traycred.errors import AwsError, MfaCodeNeededError, UsageError
from traycred.prompt.base import MfaRequest, SignInRequest, is_valid_mfa_code
from traycred.prompt.terminal import describe_request, show_sign_in, show_sign_in_finished

DEFAULT_HINT = "Pass --mfa-code CODE, pipe the code on stdin, or run the command in a terminal."


class NonInteractivePrompter:
    """Gives one code, once: the one passed in, else one line read from stdin when it is a pipe.

    A code is never reused: asked again (a refused code, or a second device), it raises: AWS's
    message when the code was refused, MfaCodeNeededError (exit 3) otherwise.
    """

    def __init__(
        self,
        code: str | None,
        stdin_pipe: bool,
        *,
        hint: str = DEFAULT_HINT,
        open_browser: bool = True,
        stdin: TextIO | None = None,
    ) -> None:
        self._code = code
        self.stdin_pipe = stdin_pipe
        self.hint = hint
        self.open_browser = open_browser
        self._stdin = stdin
        self._used = False
        self._lock = threading.Lock()

    def mfa_code(self, request: MfaRequest) -> str:
        with self._lock:
            if request.previous_error is not None:
                raise AwsError(
                    request.previous_error,
                    code="AccessDenied",
                    hint="Run the command again with a new code.",
                )
            if self._used:
                raise MfaCodeNeededError(
                    f"Another {describe_request(request)} is needed; the code given was "
                    "already used for another device.",
                    hint="Run the command again for these profiles with their own code.",
                )
            self._used = True
            if self._code is not None:
                return self._code
            if self.stdin_pipe:
                stream = self._stdin or sys.stdin
                line = stream.readline().strip() if stream is not None else ""
                if not line:
                    raise MfaCodeNeededError(
                        f"An {describe_request(request)} is needed and stdin gave none.",
                        hint=self.hint,
                    )
                if not is_valid_mfa_code(line):
                    raise UsageError(
                        "The MFA code read from stdin is not six digits; nothing was sent to AWS."
                    )
                return line
            raise MfaCodeNeededError(
                f"An {describe_request(request)} is needed and there is no terminal to ask on.",
                hint=self.hint,
            )

    def sign_in_started(self, request: SignInRequest) -> None:
        show_sign_in(request, open_browser=self.open_browser)

    def sign_in_cancelled(self) -> bool:
        return False

    def sign_in_finished(self, request: SignInRequest, error: str | None) -> None:
        show_sign_in_finished(request, error)
