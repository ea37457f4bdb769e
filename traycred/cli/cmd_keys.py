"""`traycred keys add|list|remove|import`: long-term access keys in the OS keyring.

Secrets are read hidden from a terminal or as one line from a piped stdin, never from argv, and
never printed: output shows profile names and access key ids only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from traycred import keyimport
from traycred.credentials import Credentials, mask_key_id
from traycred.errors import KeyringError, TraycredError, UsageError

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


def _confirm(candidates: list[keyimport.Candidate], path: Path, backend: str) -> bool:
    print(f"These long-term keys will move from {path} into {backend}:")
    for c in candidates:
        print(f"  {c.profile}: {mask_key_id(c.key.access_key_id)} ({c.caller_arn})")
    try:
        answer = input("Move them now? A backup of the file is kept. [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def import_keys(profiles: list[str], *, yes: bool) -> int:
    """Move verified plaintext keys from the credentials file into the keyring.

    Per profile: verify, store, read back, then remove from the file (with a backup). A key
    that fails any step stays in the file untouched; the others still move. Exit 1 if any failed.
    """
    from traycred import paths
    from traycred.credfile import CredentialsStore
    from traycred.errors import CancelledError

    if not yes and not _stdin_is_terminal():
        raise UsageError(
            "keys import changes your credentials file: add --yes to confirm when stdin is "
            "not a terminal.",
        )
    path = paths.aws_credentials_file()
    store = CredentialsStore(path)
    candidates, failures = keyimport.choose(profiles, store)
    if not candidates and not failures:
        print(f"No plaintext long-term keys found in {path}.")
        return 0

    verified: list[keyimport.Candidate] = []
    for candidate in candidates:
        try:
            verified.append(keyimport.verify(candidate))
        except TraycredError as exc:
            failures.append(
                f"profile {candidate.profile} was not imported: {exc} "
                "Its lines in the file are unchanged."
            )
    for reason in failures:
        print(f"traycred: {reason}", file=sys.stderr)
    if not verified:
        return 1
    failed = bool(failures)

    keystore = _keystore()
    backend = keystore.backend_name()
    if not yes and not _confirm(verified, path, backend):
        raise CancelledError("Nothing was imported; the credentials file is unchanged.")

    for candidate in verified:
        name = candidate.profile
        try:
            backup = keyimport.move(candidate, keystore, store)
        except KeyringError as exc:
            print(f"traycred: {exc}", file=sys.stderr)
            failed = True
            continue
        except TraycredError as exc:
            print(
                f"traycred: profile {name}: the key is now in {backend} but could not be "
                f"removed from {path}: {exc}",
                file=sys.stderr,
            )
            failed = True
            continue
        print(
            f"Imported profile {name}: key {mask_key_id(candidate.key.access_key_id)} "
            f"({candidate.caller_arn}) is now in {backend} and no longer in {path} "
            f"(backup: {backup})."
        )
    return 1 if failed else 0
