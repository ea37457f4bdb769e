"""The one error hierarchy: every message is written for the user (what happened, what to do).

The CLI prints `str(error)` as one line on stderr and exits with `error.exit_code`.
Messages never contain secrets: build them from profile names, key ids and AWS error text only.
"""

from __future__ import annotations


class TraycredError(Exception):
    """Something the user can understand and act on. Exit code 1."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} {hint}")


class UsageError(TraycredError):
    """The command line itself is wrong. Exit code 2."""

    exit_code = 2


class ConfigError(TraycredError):
    """The AWS config or credentials file cannot be read or is inconsistent."""


class SettingsError(TraycredError):
    """traycred's own settings file is malformed or holds a bad value."""


class ProfileNotFoundError(ConfigError):
    """A profile named by the user does not exist in any file."""


class CredentialsFileError(TraycredError):
    """The credentials file cannot be written safely."""


class ForeignSectionError(CredentialsFileError):
    """traycred would have to overwrite a section it does not own."""

    def __init__(self, message: str, *, section: str, hint: str | None = None) -> None:
        self.section = section
        super().__init__(message, hint=hint)


class KeyringError(TraycredError):
    """The OS keyring is missing, locked, refused access, or did not answer in time."""


class AwsError(TraycredError):
    """AWS (or the endpoint in use) answered with an error."""

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        self.code = code
        super().__init__(message, hint=hint)


class NetworkError(TraycredError):
    """An AWS endpoint could not be reached (refused, timed out, DNS)."""


class NeedsUserError(TraycredError):
    """The user must act: an MFA code or an SSO sign-in is needed. Exit code 3."""

    exit_code = 3


class MfaCodeNeededError(NeedsUserError):
    """An MFA code is needed and there is no way to ask for one."""


class SignInNeededError(NeedsUserError):
    """An SSO session has no usable token; the user must sign in.

    `session` names the SSO session (or legacy start URL) to sign in to, when known, so a front
    end that can show a sign-in (the tray) offers it instead of pointing to the terminal.
    """

    def __init__(self, message: str, *, session: str | None = None, hint: str | None = None):
        self.session = session
        super().__init__(message, hint=hint)


class CancelledError(TraycredError):
    """The user cancelled a prompt or a sign-in."""
