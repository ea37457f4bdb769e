"""`traycred login PROFILE | --sso-session NAME [--no-browser]`: SSO device sign-in in the browser.

Prints the user code and the verification URL, opens the browser unless `--no-browser`, and
exits 0 once the sign-in is approved (1 with the reason on denial, expiry or Ctrl-C). A second
`login` of the same session started meanwhile waits for this one and uses its token.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from traycred.errors import CancelledError, ConfigError, MfaCodeNeededError, UsageError

if TYPE_CHECKING:
    from traycred.config import AwsConfig, SsoSessionConfig
    from traycred.prompt.base import MfaRequest, SignInRequest


class CliSignInPrompter:
    """Shows a sign-in on the terminal and opens the browser; Ctrl-C is the cancel.

    Kept small and local until the shared TerminalPrompter (prompt/terminal.py) covers sign-in.
    """

    def __init__(self, *, open_browser: bool, out: TextIO | None = None) -> None:
        self._open_browser = open_browser
        self._out = out or sys.stdout

    def mfa_code(self, request: MfaRequest) -> str:
        raise MfaCodeNeededError("`login` does not ask for MFA codes.")

    def sign_in_started(self, request: SignInRequest) -> None:
        from traycred.sso.browser import open_url

        names = ", ".join(request.profiles)
        lines = [
            f"Signing in to SSO session {request.session}" + (f" ({names})." if names else ".")
        ]
        opened = False
        if self._open_browser:
            opened = open_url(request.verification_uri_complete)
        if opened:
            lines.append("The sign-in page is open in your browser. If it did not open, visit:")
        elif self._open_browser:
            lines.append("No browser could be opened. Open this page yourself (on any device):")
        else:
            lines.append("Open this page in a browser (on any device):")
        lines += [
            "",
            f"    {request.verification_uri_complete}",
            "",
            f"and check that it shows the code:  {request.user_code}",
            f"(or go to {request.verification_uri} and enter that code).",
            f"Waiting for approval; the code expires at {_local(request)}. Ctrl-C cancels.",
        ]
        print("\n".join(lines), file=self._out, flush=True)

    def sign_in_cancelled(self) -> bool:
        return False

    def sign_in_finished(self, request: SignInRequest, error: str | None) -> None:
        pass  # the command itself reports the outcome


def _local(request: SignInRequest) -> str:
    return request.expires_at.astimezone().strftime("%H:%M:%S")


def resolve_session(
    cfg: AwsConfig, profile: str | None, session_name: str | None
) -> tuple[SsoSessionConfig, tuple[str, ...]]:
    """The SSO session named by a PROFILE or --sso-session, and every profile that uses it."""
    from traycred.config import Kind

    if session_name is not None:
        session = cfg.sso_sessions.get(session_name)
        if session is None:
            known = ", ".join(sorted(cfg.sso_sessions)) or "none"
            raise ConfigError(
                f"There is no [sso-session {session_name}] in {cfg.config_path} "
                f"(sessions: {known}).",
                hint="Check the name, or add the section.",
            )
    else:
        assert profile is not None
        found = cfg.get(profile)
        if found.kind is Kind.INVALID:
            raise ConfigError(f"Profile {profile} cannot be used: {found.invalid_reason}")
        if found.kind not in (Kind.SSO_SESSION, Kind.SSO_LEGACY) or found.sso_session is None:
            raise UsageError(
                f"Profile {profile} is a {found.kind.value} profile, not an SSO one.",
                hint="`login` signs in to SSO; use `traycred refresh` for other profiles.",
            )
        session = found.sso_session
    users = tuple(
        sorted(
            p.name
            for p in cfg.profiles.values()
            if p.sso_session is not None and p.sso_session.cache_key == session.cache_key
        )
    )
    return session, users


def run(args: argparse.Namespace) -> int:
    from traycred import config
    from traycred.sso.tokens import SsoTokenService

    cfg = config.load()
    session, profiles = resolve_session(cfg, args.profile, args.sso_session)
    prompter = CliSignInPrompter(open_browser=not args.no_browser)
    try:
        token = SsoTokenService().sign_in(session, prompter, profiles=profiles)
    except KeyboardInterrupt:
        raise CancelledError(f"Sign-in to SSO session {session.label} cancelled.") from None
    until = token.expires_at.astimezone().strftime("%Y-%m-%d %H:%M")
    renewal = ", renewed automatically while the session lasts" if token.refresh_token else ""
    print(f"Signed in to SSO session {session.label}, valid until {until}{renewal}.")
    return 0
