"""The profile model: every profile of the user's AWS config and credentials files, classified.

Parsing is botocore's (`botocore.configloader`); this module adds the model of SPEC §1 on top:
each profile gets exactly one `Kind`, its source chain, its SSO session, and for `invalid` the
exact reason. Sections traycred itself wrote to the credentials file (marked with
`x_traycred_expiration`) are outputs, not inputs, and are ignored when classifying.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from traycred.credentials import Credentials


class Kind(StrEnum):
    KEYRING_KEYS = "keyring-keys"
    STATIC_KEYS = "static-keys"
    SESSION_KEYS = "session-keys"
    ASSUME_ROLE = "assume-role"
    SSO_LEGACY = "sso-legacy"
    SSO_SESSION = "sso-session"
    PROCESS = "process"
    INVALID = "invalid"


# Keys in a config section that make SDKs resolve the profile from ~/.aws/config before the
# credentials file (SPEC §2.2): a managed profile with one of these is "shadowed".
SHADOWING_KEYS = (
    "role_arn",
    "credential_source",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "sso_role_name",
    "sso_region",
)


@dataclass(frozen=True)
class SsoSessionConfig:
    """One SSO login scope: a `[sso-session NAME]` section, or a legacy start URL."""

    name: str  # the sso-session name; for legacy profiles, the start URL
    start_url: str
    region: str
    registration_scopes: tuple[str, ...] = ()
    legacy: bool = False

    @property
    def cache_key(self) -> str:
        """The AWS CLI's token cache file stem: sha1(session name) or sha1(start URL)."""
        source = self.start_url if self.legacy else self.name
        return hashlib.sha1(source.encode("utf-8")).hexdigest()  # noqa: S324 - AWS CLI's key

    @property
    def label(self) -> str:
        """What to call it in messages: the session name, or the start URL for legacy ones."""
        return self.name


@dataclass(frozen=True)
class Profile:
    """One profile, classified. Secrets (static keys) are hidden from repr."""

    name: str
    kind: Kind
    invalid_reason: str | None = None
    region: str | None = None
    # This profile first, then its source, ..., down to the base profile (or credential_source).
    chain: tuple[str, ...] = ()
    source_profile: str | None = None
    credential_source: str | None = None
    role_arn: str | None = None
    mfa_serial: str | None = None
    external_id: str | None = None
    role_session_name: str | None = None
    duration_seconds: int | None = None
    sso_session: SsoSessionConfig | None = None
    sso_account_id: str | None = None
    sso_role_name: str | None = None
    credential_process: str | None = None
    static_credentials: Credentials | None = field(default=None, repr=False)
    in_config: bool = False
    in_credentials: bool = False
    # The config-file keys of SHADOWING_KEYS present in this profile's config section.
    shadowing_keys: tuple[str, ...] = ()
    # Non-secret config values of the profile's config section (for region, endpoint_url, ...).
    settings: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def source(self) -> str | None:
        """The immediate source: `source_profile`, or `credential_source` (e.g. Environment)."""
        return self.source_profile or self.credential_source

    @property
    def base(self) -> str:
        """The last profile of the chain (the one holding the long-term identity)."""
        return self.chain[-1] if self.chain else self.name

    @property
    def is_usable(self) -> bool:
        return self.kind is not Kind.INVALID


@dataclass(frozen=True)
class AwsConfig:
    """Every profile and SSO session of the user's files, as read at one moment."""

    config_path: Path
    credentials_path: Path
    profiles: Mapping[str, Profile]
    sso_sessions: Mapping[str, SsoSessionConfig]

    def get(self, name: str) -> Profile:
        """The profile called `name`, or ProfileNotFoundError naming the known ones."""
        raise NotImplementedError


def load(
    config_path: Path | None = None,
    credentials_path: Path | None = None,
    *,
    keyring_profiles: Collection[str] = (),
) -> AwsConfig:
    """Read and classify every profile. `keyring_profiles`: names with a key in the keyring.

    Raises ConfigError (one line naming the file and the problem) on a malformed file.
    """
    raise NotImplementedError
