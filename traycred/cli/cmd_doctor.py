"""`traycred doctor`: checks what silently breaks credentials and says how to fix each finding."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from traycred import fileio, paths
from traycred.errors import TraycredError

if TYPE_CHECKING:
    from traycred.config import AwsConfig

ENV_OVERRIDES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
CLOCK_SKEW_LIMIT_SECONDS = 120


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    message: str


def check_keyring() -> tuple[list[Finding], dict[str, str]]:
    """The keyring's state, and its index of stored keys (empty when it cannot be read)."""
    from traycred.keystore import Keystore

    try:
        store = Keystore()
        backend = store.backend_name()
        index = store.profiles()
    except TraycredError as exc:
        return [Finding(Level.ERROR, "keyring", str(exc))], {}
    return [Finding(Level.OK, "keyring", f"{backend}; {len(index)} long-term key(s) stored")], index


def check_permissions(files: list[Path], folders: list[Path]) -> list[Finding]:
    found: list[Finding] = []
    for path in files:
        mode = fileio.file_mode(path)
        if mode is None:
            continue
        if mode & 0o077:
            found.append(
                Finding(
                    Level.WARN,
                    "permissions",
                    f"{path} is readable by others (mode {mode:04o}): run `chmod 600 {path}`.",
                )
            )
        else:
            found.append(Finding(Level.OK, "permissions", f"{path} is private ({mode:04o})."))
    for folder in folders:
        mode = fileio.file_mode(folder)
        if mode is not None and mode & 0o077:
            found.append(
                Finding(
                    Level.WARN,
                    "permissions",
                    f"{folder} is open to others (mode {mode:04o}): run `chmod 700 {folder}`.",
                )
            )
    return found


def check_environment() -> list[Finding]:
    found: list[Finding] = []
    for name in ENV_OVERRIDES:
        if os.environ.get(name):
            what = "selects a profile" if name == "AWS_PROFILE" else "overrides the files"
            found.append(
                Finding(
                    Level.WARN,
                    "environment",
                    f"{name} is set and {what} for every AWS tool in this shell: "
                    f"`unset {name}` to use what traycred writes.",
                )
            )
    if not found:
        found.append(
            Finding(Level.OK, "environment", "no AWS credential variables override the files.")
        )
    return found


def check_profiles(model: AwsConfig) -> list[Finding]:
    from traycred import config
    from traycred.settings import SettingsStore

    try:
        settings = SettingsStore().load()
    except TraycredError as exc:
        return [Finding(Level.ERROR, "config", str(exc))]
    found: list[Finding] = []
    kept_fresh = set(settings.kept_fresh())
    for name, profile in sorted(model.profiles.items()):
        if profile.invalid_reason:
            found.append(Finding(Level.ERROR, "profile", f"{name}: {profile.invalid_reason}"))
        for warning in profile.warnings:
            found.append(Finding(Level.WARN, "profile", f"{name}: {warning}"))
        if name not in kept_fresh:
            continue
        for section in settings.sections_of(name):
            reason = config.shadowed_reason(profile, section, model)
            if reason:
                found.append(Finding(Level.WARN, "shadowed", f"{name}: {reason}"))
    usable = sum(1 for p in model.profiles.values() if p.is_usable)
    found.insert(
        0, Finding(Level.OK, "config", f"{len(model.profiles)} profile(s), {usable} usable.")
    )
    return found


def check_sso_sessions(model: AwsConfig) -> list[Finding]:
    """Each SSO session the profiles use: signed in, silently renewable, or needing a sign-in."""
    from traycred.sso.token_cache import TokenCache
    from traycred.sso.tokens import sign_in_hint

    sessions = {}
    for profile in model.profiles.values():
        if profile.sso_session is not None:
            sessions[profile.sso_session.cache_key] = profile.sso_session
    cache = TokenCache()
    now = datetime.now(UTC)
    found: list[Finding] = []
    for session in sorted(sessions.values(), key=lambda s: s.label):
        token = cache.load(session)
        if token is not None and token.remaining(now).total_seconds() > 0:
            minutes = int(token.remaining(now).total_seconds() // 60)
            found.append(
                Finding(Level.OK, "sso", f"{session.label}: signed in, {minutes} min left.")
            )
        elif token is not None and token.can_refresh(now):
            found.append(
                Finding(Level.OK, "sso", f"{session.label}: token expired; renewable silently.")
            )
        else:
            found.append(
                Finding(
                    Level.WARN,
                    "sso",
                    f"{session.label}: not signed in; {sign_in_hint(session)}.",
                )
            )
    return found


def check_clock() -> list[Finding]:
    """Compare the local clock with the STS endpoint's Date header (SigV4 fails past 5 min)."""
    from email.utils import parsedate_to_datetime

    from traycred import aws

    try:
        from botocore.exceptions import BotoCoreError, ClientError

        sts = aws.client("sts", max_attempts=1)
        try:
            response = sts.get_caller_identity()
        except ClientError as exc:
            response = exc.response
        date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    except (BotoCoreError, TraycredError, OSError):
        return [Finding(Level.WARN, "clock", "could not reach STS to compare clocks.")]
    if not date:
        return []
    skew = (datetime.now(UTC) - parsedate_to_datetime(date)).total_seconds()
    if abs(skew) > CLOCK_SKEW_LIMIT_SECONDS:
        return [
            Finding(
                Level.ERROR,
                "clock",
                f"this machine's clock is {skew:+.0f} s off AWS's: signed requests will fail. "
                "Enable time synchronisation (NTP).",
            )
        ]
    return [Finding(Level.OK, "clock", f"clock within {abs(skew):.0f} s of AWS.")]


def run_checks(*, network: bool = True) -> list[Finding]:
    from traycred import config

    config_file = paths.aws_config_file()
    credentials_file = paths.aws_credentials_file()
    # One keyring read and one parse of the AWS files serve every check below.
    findings, keyring_index = check_keyring()
    model: AwsConfig | None
    try:
        model = config.load(keyring_profiles=keyring_index)
    except TraycredError as exc:
        model = None
        findings.append(Finding(Level.ERROR, "config", str(exc)))
    else:
        findings += check_profiles(model)
    findings += check_permissions(
        [credentials_file, config_file, *sorted(paths.sso_cache_dir().glob("*.json"))],
        [credentials_file.parent, paths.sso_cache_dir()],
    )
    findings += check_environment()
    if model is not None:  # a malformed file is already reported above
        findings += check_sso_sessions(model)
    if network:
        findings += check_clock()
    return findings


def run(args: argparse.Namespace) -> int:
    findings = run_checks()
    for finding in findings:
        print(f"[{finding.level.value:>5}] {finding.topic}: {finding.message}")
    errors = sum(1 for f in findings if f.level is Level.ERROR)
    warnings = sum(1 for f in findings if f.level is Level.WARN)
    print(f"{errors} error(s), {warnings} warning(s).")
    return 1 if errors else 0
