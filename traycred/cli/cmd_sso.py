"""`traycred sso accounts|populate --sso-session NAME`: what the SSO portal offers, as profiles.

`accounts` lists every account and role of the session. `populate` adds a
`[profile <account>-<role>]` section to the AWS config for every pair the user has no profile
for, after showing the change (and asking on a terminal unless `--yes`). The config is changed
by appending under its lock, atomically, so every byte already there stays as it was.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from traycred.errors import TraycredError, UsageError

if TYPE_CHECKING:
    from traycred.config import AwsConfig, SsoSessionConfig
    from traycred.sso.portal import AccountRoles

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class NewProfile:
    name: str
    account_id: str
    role_name: str
    session: str
    region: str

    def items(self) -> list[tuple[str, str]]:
        return [
            ("sso_session", self.session),
            ("sso_account_id", self.account_id),
            ("sso_role_name", self.role_name),
            ("region", self.region),
        ]


def profile_name(account_name: str, role: str) -> str:
    """`<account-name>-<role>` with anything but letters, digits, `.`, `_`, `-` made a `-`."""
    name = _UNSAFE.sub("-", f"{account_name}-{role}").strip("-.")
    return re.sub(r"-{2,}", "-", name) or "sso-profile"


def plan(
    cfg: AwsConfig, session: SsoSessionConfig, assignments: Iterable[AccountRoles]
) -> list[NewProfile]:
    """A new profile for every account/role pair of `session` that no profile covers yet."""
    have = {
        (p.sso_account_id, p.sso_role_name)
        for p in cfg.profiles.values()
        if p.sso_session is not None and p.sso_session.cache_key == session.cache_key
    }
    taken = {name.lower() for name in cfg.profiles}
    planned: list[NewProfile] = []
    for account in assignments:
        for role in account.roles:
            if (account.account_id, role) in have:
                continue
            base = profile_name(account.name, role)
            name, n = base, 2
            while name.lower() in taken:
                name, n = f"{base}-{n}", n + 1
            taken.add(name.lower())
            planned.append(NewProfile(name, account.account_id, role, session.name, session.region))
    return planned


def appended(original: bytes, profiles: Sequence[NewProfile]) -> bytes:
    """`original` with the new sections added at its end; every existing byte is kept.

    Raises TraycredError when a section of that name appeared meanwhile.
    """
    from traycred.inifile import IniDocument, IniEditError

    document = IniDocument.parse(original)
    for profile in profiles:
        try:
            document.append_section(f"profile {profile.name}", profile.items())
        except IniEditError as exc:
            raise TraycredError(
                f"Cannot add [profile {profile.name}]: {exc}; nothing written.",
                hint="Run `traycred sso populate` again.",
            ) from None
    return document.to_bytes()


def _accounts(args: argparse.Namespace) -> int:
    from traycred import config
    from traycred.cli.cmd_login import find_session
    from traycred.sso.portal import list_assignments
    from traycred.sso.tokens import SsoTokenService

    cfg = config.load()
    session = find_session(cfg, args.sso_session)
    assignments = list_assignments(SsoTokenService(), session)
    if not assignments:
        print(f"SSO session {session.label} gives you no accounts.")
        return 0
    for account in assignments:
        email = f"  {account.email}" if account.email else ""
        print(f"{account.name} ({account.account_id}){email}")
        for role in account.roles:
            print(f"    {role}")
    return 0


def _populate(args: argparse.Namespace) -> int:
    from traycred import config, fileio
    from traycred.cli.cmd_login import find_session
    from traycred.sso.portal import list_assignments
    from traycred.sso.tokens import SsoTokenService

    cfg = config.load()
    session = find_session(cfg, args.sso_session)
    assignments = list_assignments(SsoTokenService(), session)
    planned = plan(cfg, session, assignments)
    path = cfg.config_path
    if not planned:
        print(f"Every account and role of SSO session {session.label} already has a profile.")
        return 0
    before = fileio.read_bytes(path) or b""
    print(_diff(path, before, appended(before, planned)), end="")
    if not args.yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UsageError(
                f"Not written: {len(planned)} profile(s) would be added to {path}.",
                hint="Add --yes to write them.",
            )
        answer = input(f"Add {len(planned)} profile(s) to {path}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing written.")
            return 0
    with fileio.file_lock(path):
        # Re-read under the lock: an edit made since the diff was shown is kept too.
        current = fileio.read_bytes(path) or b""
        updated = appended(current, planned)
        mode = fileio.file_mode(path)
        fileio.atomic_write(path, updated, mode=mode or 0o600)
    print(f"Added {len(planned)} profile(s) to {path}: " + ", ".join(p.name for p in planned))
    return 0


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _diff(path: Path, before: bytes, after: bytes) -> str:
    lines = difflib.unified_diff(
        _text(before).splitlines(keepends=True),
        _text(after).splitlines(keepends=True),
        fromfile=str(path),
        tofile=str(path),
        n=1,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def run(args: argparse.Namespace) -> int:
    if args.sso_command == "accounts":
        return _accounts(args)
    if args.sso_command == "populate":
        return _populate(args)
    raise UsageError(f"Unknown sso action {args.sso_command!r}.")
