"""Moving plaintext long-term keys from the credentials file into the keyring (`keys import`).

Shared by the CLI and the tray; prints nothing. Per profile: verify the key with AWS, store it,
read it back, and only then remove it from the file (a 0600 backup is kept), so the only copy
of a key is never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from traycred.credentials import Credentials
from traycred.credfile import CredentialsStore
from traycred.errors import KeyringError
from traycred.keystore import Keystore


@dataclass(frozen=True)
class Candidate:
    """A profile whose long-term key sits in plaintext in the credentials file."""

    profile: str
    key: Credentials
    caller_arn: str = ""


def choose(requested: list[str], store: CredentialsStore) -> tuple[list[Candidate], list[str]]:
    """The profiles to import (default: every static-keys profile with plaintext keys in the
    credentials file), and a reason for each requested one that cannot be.

    Only keys in the credentials file itself can be removed from it; a key set in
    ~/.aws/config is not traycred's to move.
    """
    from traycred import config
    from traycred.config import Kind

    in_file, path = store.plaintext_keys(), store.path
    refused: list[str] = []
    if not requested:
        model = config.load()
        requested = [
            name for name, profile in model.profiles.items() if profile.kind is Kind.STATIC_KEYS
        ]
        # Profiles the model classified from elsewhere (e.g. keys in ~/.aws/config) are skipped.
        requested = [name for name in requested if name in in_file]
    candidates: list[Candidate] = []
    for name in dict.fromkeys(requested):
        key = in_file.get(name)
        if key is None:
            refused.append(f"profile {name} has no plaintext access key in {path}.")
        elif key.is_temporary or key.access_key_id.startswith("ASIA"):
            refused.append(
                f"profile {name} holds temporary credentials (with a session token), "
                "not a long-term key; they cannot be imported."
            )
        else:
            candidates.append(Candidate(name, key))
    return candidates, refused


def verify(candidate: Candidate) -> Candidate:
    """sts:GetCallerIdentity with the key: it must work before it leaves the file."""
    from traycred import aws

    sts = aws.client("sts", credentials=candidate.key, profile=candidate.profile, max_attempts=2)
    identity = aws.call(
        sts.get_caller_identity, what=f"GetCallerIdentity for profile {candidate.profile}"
    )
    return Candidate(candidate.profile, candidate.key, str(identity.get("Arn", "")))


def move(candidate: Candidate, keystore: Keystore, store: CredentialsStore) -> Path:
    """Store a verified key in the keyring, check it, then remove it from the file.

    Returns the backup's path. Raises KeyringError when the keyring did not keep the key (the
    file is then unchanged), or the store's error when the file could not be changed (the key
    is then in both places).
    """
    keystore.set_key(candidate.profile, candidate.key)
    if keystore.get_key(candidate.profile) != candidate.key:
        raise KeyringError(
            f"profile {candidate.profile} was not imported: the keyring did not return the key "
            "just stored. Its lines in the file are unchanged."
        )
    return store.remove_long_term_keys(candidate.profile)
