"""Credentials that are simply there: keyring keys, plaintext keys, pasted keys, env vars."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from traycred.credentials import Credentials, parse_iso
from traycred.errors import ConfigError

if TYPE_CHECKING:
    from traycred.keystore import Keystore

log = logging.getLogger(__name__)

# credential_source values botocore knows; only Environment makes sense on a desktop.
KNOWN_CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")


class StaticProvider:
    """Fixed credentials: plaintext long-term keys or pasted temporary ones (used as they are)."""

    def __init__(self, credentials: Credentials, *, profile: str) -> None:
        self.credentials = credentials
        self.profile = profile

    def retrieve(self) -> Credentials:
        if self.credentials.is_expired():
            raise ConfigError(
                f"The temporary credentials pasted into profile {self.profile} have expired.",
                hint="traycred cannot refresh pasted session keys: paste new ones, or store a "
                "long-term key with `traycred keys add`.",
            )
        return self.credentials


class KeyringKeyProvider:
    """The long-term access key traycred keeps in the OS keyring for `profile`."""

    def __init__(self, keystore: Keystore, profile: str) -> None:
        self.keystore = keystore
        self.profile = profile

    def retrieve(self) -> Credentials:
        key = self.keystore.get_key(self.profile)
        if key is None:
            raise ConfigError(
                f"No access key for profile {self.profile} in the keyring.",
                hint=f"Store one with `traycred keys add {self.profile}`.",
            )
        return key


class EnvironmentProvider:
    """`credential_source = Environment`: the AWS_* variables of traycred's own environment."""

    def __init__(self, profile: str, environ: Mapping[str, str] | None = None) -> None:
        self.profile = profile
        self.environ = os.environ if environ is None else environ

    def retrieve(self) -> Credentials:
        key_id = self.environ.get("AWS_ACCESS_KEY_ID", "").strip()
        secret = self.environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
        if not key_id or not secret:
            raise ConfigError(
                f"Profile {self.profile} uses credential_source = Environment, but "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set.",
                hint="Export them where traycred runs, or use source_profile instead.",
            )
        token = (
            self.environ.get("AWS_SESSION_TOKEN") or self.environ.get("AWS_SECURITY_TOKEN") or ""
        ).strip()
        expiration = None
        raw_expiry = self.environ.get("AWS_CREDENTIAL_EXPIRATION", "").strip()
        if raw_expiry:
            try:
                expiration = parse_iso(raw_expiry)
            except ValueError:
                log.warning("ignoring AWS_CREDENTIAL_EXPIRATION: not an ISO-8601 time")
        return Credentials(key_id, secret, token or None, expiration if token else None)


def credential_source_provider(profile: str, source: str) -> EnvironmentProvider:
    """The provider for a `credential_source`, or a clear error for the ones traycred lacks."""
    if source == "Environment":
        return EnvironmentProvider(profile)
    if source in KNOWN_CREDENTIAL_SOURCES:
        raise ConfigError(
            f"Profile {profile} uses credential_source = {source}, which traycred does not "
            "support (it is meant for code running on EC2 or ECS).",
            hint="Use source_profile, or credential_source = Environment.",
        )
    raise ConfigError(
        f"Profile {profile} has an unknown credential_source {source!r}.",
        hint="Valid values are Environment, Ec2InstanceMetadata and EcsContainer.",
    )
