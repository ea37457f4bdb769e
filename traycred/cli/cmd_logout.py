"""`traycred logout PROFILE | --sso-session NAME | --all`: end SSO sessions and clean up after them.

For each session: the portal's Logout, then the cached token removed; then the credentials-file
sections traycred wrote for the profiles of those sessions are removed (never a foreign one).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from traycred.errors import UsageError

if TYPE_CHECKING:
    from traycred.config import AwsConfig, SsoSessionConfig
    from traycred.sso.tokens import LogoutResult


def _sessions(cfg: AwsConfig, args: argparse.Namespace) -> list[SsoSessionConfig]:
    from traycred.cli.cmd_login import resolve_session

    if args.all:
        found: dict[str, SsoSessionConfig] = {}
        for session in cfg.sso_sessions.values():
            found.setdefault(session.cache_key, session)
        for profile in cfg.profiles.values():
            if profile.sso_session is not None:
                found.setdefault(profile.sso_session.cache_key, profile.sso_session)
        return list(found.values())
    if args.profile is None and args.sso_session is None:
        raise UsageError("Say what to sign out of: a PROFILE, --sso-session NAME, or --all.")
    session, _ = resolve_session(cfg, args.profile, args.sso_session)
    return [session]


def _describe(result: LogoutResult) -> str:
    if not result.had_token:
        return f"SSO session {result.session}: not signed in (no cached token)."
    if result.portal_logout:
        return f"Signed out of SSO session {result.session}; its cached token is removed."
    return (
        f"Removed the cached token of SSO session {result.session}; the portal could not be "
        f"told ({result.error})."
    )


def run(args: argparse.Namespace) -> int:
    from traycred import config
    from traycred.credfile import CredentialsStore
    from traycred.settings import SettingsStore
    from traycred.sso.tokens import SsoTokenService

    cfg = config.load()
    sessions = _sessions(cfg, args)
    service = SsoTokenService()
    for session in sessions:
        print(_describe(service.logout(session)))
    if args.all:
        # Tokens of sessions no longer in the config (or written by another tool's login).
        known = {service.cache.token_path(s) for s in sessions}
        for path, token in service.cache.token_files().items():
            if path not in known:
                print(_describe(service.logout_file(path, token)))

    keys = {s.cache_key for s in sessions}
    profiles = sorted(
        p.name
        for p in cfg.profiles.values()
        if p.sso_session is not None and p.sso_session.cache_key in keys
    )
    settings = SettingsStore().load()
    wanted = {settings.output_for(name) for name in profiles}
    if settings.default_profile in profiles:
        wanted.add("default")
    store = CredentialsStore(cfg.credentials_path)
    owned = store.owned_sections()
    remove = sorted(name for name in wanted if name in owned)
    if remove:
        store.write({}, remove=remove)
        sections = ", ".join(f"[{name}]" for name in remove)
        print(f"Removed {sections} from {cfg.credentials_path}.")
    return 0
