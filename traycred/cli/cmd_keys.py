"""`traycred keys add|list|remove|import`: long-term access keys in the OS keyring.

Secrets are read hidden from a terminal or as one line from a piped stdin, never from argv, and
never printed: output shows profile names and access key ids only.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from traycred.credentials import Credentials
from traycred.errors import TraycredError, UsageError

if TYPE_CHECKING:
    from traycred.keystore import Keystore

KEY_ID_PATTERN = re.compile(r"^[A-Z0-9]{16,128}$")
TYPICAL_SECRET_LENGTH = 40


def run(args: argparse.Namespace) -> int:
    command: str = args.keys_command
    if command == "add":
        return add(args.profile, args.access_key_id)
    if command == "list":
        return list_keys()
    if command == "remove":
        return remove(args.profile)
    if command == "import":
        return import_keys(list(args.profiles), yes=bool(args.yes))
    raise UsageError(f"Unknown `keys` action {command!r}.", hint="See `traycred keys --help`.")


def _keystore() -> Keystore:
    from traycred.keystore import Keystore

    return Keystore()


def _warn(message: str) -> None:
    print(f"traycred: warning: {message}", file=sys.stderr)


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def mask_key_id(key_id: str) -> str:
    """'AKIA...WXYZ': enough to recognise a key, as the AWS console shows it."""
    return f"{key_id[:4]}...{key_id[-4:]}" if len(key_id) > 8 else key_id


def check_key_id(key_id: str) -> list[str]:
    """Raise UsageError for an id that cannot be a long-term key; return warnings."""
    if not key_id:
        raise UsageError("The access key id is empty.")
    if key_id.upper().startswith("ASIA"):
        raise UsageError(
            f"{mask_key_id(key_id)} is a temporary key id (ASIA...): it expires, so it cannot "
            "be stored as a long-term key.",
            hint="Use the long-term access key (AKIA...) of the IAM user.",
        )
    if not KEY_ID_PATTERN.match(key_id):
        raise UsageError(
            "That is not an AWS access key id: expected 16 to 128 characters A-Z and 0-9, "
            "like AKIAIOSFODNN7EXAMPLE.",
        )
    if not key_id.startswith("AKIA"):
        return [f"{mask_key_id(key_id)} does not start with AKIA, as long-term key ids do."]
    return []


def check_secret(secret: str) -> list[str]:
    """Raise UsageError for an unusable secret; return warnings. Never echoes the secret."""
    if not secret:
        raise UsageError("The secret access key is empty.")
    if any(ch.isspace() for ch in secret):
        raise UsageError(
            "The secret access key contains whitespace.",
            hint="Paste exactly the secret, on one line.",
        )
    if not secret.isprintable() or not secret.isascii():
        raise UsageError("The secret access key contains characters AWS keys never have.")
    if len(secret) != TYPICAL_SECRET_LENGTH:
        return [
            f"the secret access key is {len(secret)} characters long; AWS secrets are "
            f"usually {TYPICAL_SECRET_LENGTH}. Stored anyway."
        ]
    return []


def _check_profile_name(profile: str) -> None:
    if not profile.strip() or any(ch in profile for ch in "[]\r\n") or profile != profile.strip():
        raise UsageError(
            f"{profile!r} is not a usable profile name.",
            hint="Use the name as it appears in ~/.aws/config, without brackets or spaces "
            "around it.",
        )


def _read_secret() -> str:
    if _stdin_is_terminal():
        import getpass

        try:
            return getpass.getpass("Secret access key (hidden): ").strip()
        except EOFError:
            raise TraycredError("No secret access key was entered.") from None
    line = sys.stdin.readline()
    # Only the line ending is stripped: inner or surrounding spaces are reported, not guessed.
    return line.rstrip("\r\n")


def add(profile: str, access_key_id: str | None) -> int:
    _check_profile_name(profile)
    warnings: list[str] = []
    if access_key_id is None:
        if not _stdin_is_terminal():
            raise UsageError(
                "stdin is not a terminal: give the key id with --access-key-id "
                "(the secret is then read as one line from stdin).",
            )
        try:
            access_key_id = input("Access key id: ")
        except EOFError:
            raise TraycredError("No access key id was entered.") from None
    access_key_id = access_key_id.strip()
    warnings += check_key_id(access_key_id)
    secret = _read_secret()
    warnings += check_secret(secret)
    for message in warnings:
        _warn(message)

    keystore = _keystore()
    previous = keystore.profiles().get(profile)
    keystore.set_key(profile, Credentials(access_key_id, secret))
    replacing = f" (replacing {mask_key_id(previous)})" if previous else ""
    print(
        f"Stored access key {mask_key_id(access_key_id)} for profile {profile}{replacing} "
        f"in {keystore.backend_name()}."
    )
    return 0


def format_table(rows: list[tuple[str, str]], headers: tuple[str, str]) -> str:
    width = max(len(headers[0]), *(len(name) for name, _ in rows))
    lines = [f"{headers[0]:<{width}}  {headers[1]}"]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def list_keys() -> int:
    stored = _keystore().profiles()
    if not stored:
        print("No keys stored.")
        return 0
    print(format_table(sorted(stored.items()), ("PROFILE", "ACCESS KEY ID")))
    return 0


def remove(profile: str) -> int:
    keystore = _keystore()
    if not keystore.delete_key(profile):
        raise TraycredError(
            f"No key is stored for profile {profile}.",
            hint="`traycred keys list` shows the stored ones.",
        )
    print(f"Removed the access key of profile {profile} from {keystore.backend_name()}.")
    return 0


@dataclass(frozen=True)
class ImportResult:
    profile: str
    access_key_id: str
    backup: Path | None
    error: str | None = None


def import_keys(profiles: list[str], *, yes: bool) -> int:
    raise TraycredError("`keys import` is not available yet.")
