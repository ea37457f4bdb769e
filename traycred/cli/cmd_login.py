"""`traycred login PROFILE | --sso-session NAME [--no-browser]`: SSO device sign-in in the browser.

Prints the user code and the verification URL, opens the browser unless `--no-browser`, and
exits 0 once the sign-in is approved (1 with the reason on denial, expiry or Ctrl-C). A second
`login` of the same session started meanwhile waits for this one and uses its token.

The device flow always runs here, even with a tray or daemon running: the user is at this
terminal (and `--no-browser` is about it), the daemon has no screen, and the SSO lock across
processes makes a sign-in the tray already has open be waited for rather than repeated. Once
signed in, the running instance is told (`resume` over the channel) so the session's profiles it
keeps fresh stop waiting for a sign-in and are refreshed at once.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from traycred.errors import CancelledError, ConfigError, UsageError

if TYPE_CHECKING:
    from traycred.config import AwsConfig, SsoSessionConfig


def find_session(cfg: AwsConfig, name: str) -> SsoSessionConfig:
    """The `[sso-session NAME]` of the config, or ConfigError naming the known ones."""
    session = cfg.sso_sessions.get(name)
    if session is None:
        known = ", ".join(sorted(cfg.sso_sessions)) or "none"
        raise ConfigError(
            f"There is no [sso-session {name}] in {cfg.config_path} (sessions: {known}).",
            hint="Check the name, or add the section.",
        )
    return session


def resolve_session(
    cfg: AwsConfig, profile: str | None, session_name: str | None
) -> tuple[SsoSessionConfig, tuple[str, ...]]:
    """The SSO session named by a PROFILE or --sso-session, and every profile that uses it."""
    from traycred.config import Kind

    if session_name is not None:
        session = find_session(cfg, session_name)
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
    from traycred.prompt.terminal import TerminalPrompter

    prompter = TerminalPrompter(open_browser=not args.no_browser)
    try:
        token = SsoTokenService().sign_in(session, prompter, profiles=profiles)
    except KeyboardInterrupt:
        raise CancelledError(f"Sign-in to SSO session {session.label} cancelled.") from None
    until = token.expires_at.astimezone().strftime("%Y-%m-%d %H:%M")
    renewal = ", renewed automatically while the session lasts" if token.refresh_token else ""
    print(f"SSO session {session.label}: signed in, valid until {until}{renewal}.")
    _tell_instance(session.name, profiles)
    return 0


def _tell_instance(session: str, profiles: tuple[str, ...]) -> None:
    """Let a running tray or daemon refresh what waited for this sign-in."""
    import sys

    from traycred.channel import client

    resumed = client.resume([f"sso:{session}", *profiles])
    if resumed:
        info = client.ping() or {}
        who = f"the running traycred {info.get('kind', 'instance')}"
        print(f"traycred: {who} now refreshes {', '.join(resumed)}.", file=sys.stderr)
