"""The profile model: every profile of the user's AWS config and credentials files, classified.

Parsing is botocore's (`botocore.configloader`); this module adds the model of SPEC §1 on top:
each profile gets exactly one `Kind`, its source chain, its SSO session, and for `invalid` the
exact reason. Sections traycred itself wrote to the credentials file (marked with
`x_traycred_expiration`) are outputs, not inputs, and are ignored when classifying.

Where kinds overlap, the order is botocore's credential chain for a named profile
(`botocore.credentials.create_credential_resolver`): assume-role, web identity, SSO, the
shared credentials file, `login_session`, `credential_process`, then keys in the config file.
traycred's keyring keys stand in for the credentials file's keys (they are what traycred turns
into the session credentials it writes there), so they take that slot and win over plaintext.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from traycred.credentials import Credentials
from traycred.errors import ConfigError, ProfileNotFoundError


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

# The credential sources botocore's AssumeRoleProvider accepts (CanonicalNameCredentialSourcer).
CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")

# The key that marks a credentials-file section as traycred's output (credfile.py writes it).
OWNER_MARKER = "x_traycred_expiration"

_SECRET_KEYS = frozenset({"aws_secret_access_key", "aws_session_token", "aws_security_token"})


def _may_be_secret(key: str) -> bool:
    """A config key whose value may be a secret: the known ones, and any naming a secret,
    token or password once a BOM, zero-width or other invisible characters are dropped
    (botocore reads `\ufeffaws_secret_access_key` as a key of its own)."""
    visible = "".join(c for c in key if c.isprintable() and not c.isspace()).lower()
    return visible in _SECRET_KEYS or any(w in visible for w in ("secret", "token", "password"))


# botocore reads the legacy name first (SharedCredentialProvider.TOKENS).
_TOKEN_KEYS = ("aws_security_token", "aws_session_token")
_LEGACY_SSO_KEYS = ("sso_start_url", "sso_region", "sso_account_id", "sso_role_name")
_SSO_ROLE_KEYS = ("sso_account_id", "sso_role_name")
# The keys that really make botocore skip the credentials file for a profile: the assume-role
# and SSO providers run before it. `credential_process` runs after it, so it does not shadow.
_SDK_SHADOWING_KEYS = ("role_arn", "sso_account_id", "sso_role_name")
_LOOP_SHOWN = 8


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
        import hashlib  # lazily: hashlib loads OpenSSL (~3 MB) an idle tray does not need

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
    # A role profile sourcing its own keys (`source_profile` = itself) has the chain (name, name).
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
    # The file keys botocore would use for this profile (credentials file first, then config
    # file), whatever the kind: a role profile may hold keys for its chain's base.
    static_credentials: Credentials | None = field(default=None, repr=False)
    in_config: bool = False
    in_credentials: bool = False
    # The config-file keys of SHADOWING_KEYS present in this profile's config section.
    shadowing_keys: tuple[str, ...] = ()
    # Non-secret config values of the profile's config section (for region, endpoint_url, ...).
    # Left out of repr as well: an unknown key may still hold a secret.
    settings: Mapping[str, str] = field(default_factory=dict, repr=False)
    warnings: tuple[str, ...] = ()
    # How the identity at the end of `chain` is obtained: for a usable base profile its own
    # kind; for a role profile the kind of its chain's base *as a source* (a role profile that
    # also holds keys is used through its keys, as botocore does); None for credential_source.
    base_kind: Kind | None = None

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
    # `[sso-session NAME]` sections that cannot be used, with the reason.
    invalid_sso_sessions: Mapping[str, str] = field(default_factory=dict)
    # Credentials-file sections traycred wrote (they carry x_traycred_expiration).
    owned_sections: frozenset[str] = frozenset()

    def get(self, name: str) -> Profile:
        """The profile called `name`, or ProfileNotFoundError naming the known ones."""
        found = self.profiles.get(name)
        if found is not None:
            return found
        message = f"profile {name} not found in {self.config_path} or {self.credentials_path}."
        if not self.profiles:
            hint = "No profiles are defined yet: add one with `traycred keys add NAME`."
        else:
            close = difflib.get_close_matches(name, list(self.profiles), n=3)
            if close:
                hint = f"Did you mean {' or '.join(close)}? `traycred profiles` lists them all."
            else:
                known = sorted(self.profiles)
                shown = ", ".join(known[:5])
                more = f" and {len(known) - 5} more" if len(known) > 5 else ""
                hint = f"Known profiles: {shown}{more} (`traycred profiles` lists them)."
        raise ProfileNotFoundError(message, hint=hint)

    def profiles_of_session(self, session: str) -> tuple[Profile, ...]:
        """The profiles that sign in through SSO session (or legacy start URL) `session`."""
        return tuple(
            p
            for p in self.profiles.values()
            if p.sso_session is not None and p.sso_session.name == session and p.is_usable
        )


def shadowed_reason(
    profile: Profile, output_section: str, config: AwsConfig | None = None
) -> str | None:
    """Why SDK tools ignore what traycred writes to `[output_section]`, or None when they don't.

    An SDK asked for profile P reads P's config section first: with `role_arn` or SSO role keys
    there it assumes the role or signs in itself and never reads `[P]` of the credentials file.
    `config` lets the check look at another profile's config section when the output name is
    not the profile's own name (e.g. `default`).
    """
    if output_section == profile.name:
        target = profile
    elif config is not None and output_section in config.profiles:
        target = config.profiles[output_section]
    else:
        return None
    keys = [k for k in target.shadowing_keys if k in _SDK_SHADOWING_KEYS]
    if not keys:
        return None
    doing = (
        "assume the role themselves"
        if "role_arn" in keys
        else "fetch the role credentials themselves (with the shared SSO sign-in: no new login)"
    )
    own = "its" if target is profile else f"profile {output_section}'s"
    return (
        f"shadowed for SDK tools: {own} config section has {', '.join(keys)}, which SDKs read "
        f"before [{output_section}] of the credentials file, so they {doing}; give "
        f"{profile.name} another output name (e.g. {profile.name}-live) or use it as [default]"
    )


def load(
    config_path: Path | None = None,
    credentials_path: Path | None = None,
    *,
    keyring_profiles: Collection[str] = (),
) -> AwsConfig:
    """Read and classify every profile. `keyring_profiles`: names with a key in the keyring.

    Missing files count as empty. Raises ConfigError (one line naming the file and the problem)
    on a malformed file.
    """
    from botocore.configloader import build_profile_map

    from traycred import paths

    config_path = Path(config_path) if config_path is not None else paths.aws_config_file()
    if credentials_path is None:
        credentials_path = paths.aws_credentials_file()
    credentials_path = Path(credentials_path)

    mapped = build_profile_map(_parse(config_path))
    raw_credentials = _parse(credentials_path)
    owned = frozenset(n for n, values in raw_credentials.items() if OWNER_MARKER in values)
    user_sections = {n: v for n, v in raw_credentials.items() if n not in owned}
    model = _Model(
        config_path,
        credentials_path,
        mapped["profiles"],
        user_sections,
        keyring_profiles,
        mapped["sso_sessions"],
    )
    profiles = {name: model.profile(name) for name in model.merged}
    return AwsConfig(
        config_path=config_path,
        credentials_path=credentials_path,
        profiles=profiles,
        sso_sessions=model.sessions,
        invalid_sso_sessions=model.bad_sessions,
        owned_sections=owned,
    )


# --- parsing -------------------------------------------------------------------------------

_Section = Mapping[str, Any]  # botocore gives str values, or a dict for an indented sub-block


def _parse(path: Path) -> dict[str, dict[str, Any]]:
    """botocore's raw parse of one INI file; {} when it does not exist."""
    from botocore import configloader, exceptions

    try:
        parsed: dict[str, dict[str, Any]] = configloader.raw_config_parse(str(path))
    except exceptions.ConfigNotFound:
        return {}
    except exceptions.ConfigParseError as exc:
        raise _parse_error(path, exc.kwargs.get("error")) from None
    if not parsed:
        # configparser skips files it cannot open without a word; say so instead of
        # showing an empty setup.
        try:
            path.open("rb").close()
        except OSError as exc:
            raise ConfigError(
                f"cannot read {path}: {exc.strerror}.",
                hint=f"Check its permissions (chmod 600 {path}).",
            ) from None
    return parsed


def _parse_error(path: Path, error: object) -> ConfigError:
    """One line for a file botocore (so every SDK) cannot parse. Never quotes file content:
    the offending line may hold a secret."""
    import codecs
    import configparser

    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    if data.startswith(codecs.BOM_UTF8):
        return ConfigError(
            f"{path} starts with a UTF-8 byte order mark (BOM), which the AWS CLI and SDKs "
            "cannot read.",
            hint="Save it as UTF-8 without BOM.",
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return ConfigError(
            f"{path}, line {line}: not valid UTF-8 text.", hint="Save the file as UTF-8."
        )
    if isinstance(error, configparser.DuplicateSectionError):
        return ConfigError(
            f"{path}, line {error.lineno}: section [{error.section}] appears twice.",
            hint="Merge the two sections into one.",
        )
    if isinstance(error, configparser.DuplicateOptionError):
        return ConfigError(
            f"{path}, line {error.lineno}: key {error.option} appears twice in [{error.section}].",
            hint="Keep only one of them.",
        )
    if isinstance(error, configparser.MissingSectionHeaderError):
        return ConfigError(
            f"{path}, line {error.lineno}: a setting before any [section] header, or a "
            "header without its closing ].",
            hint="Put settings under a header such as [default].",
        )
    if isinstance(error, configparser.ParsingError):
        lines = [str(lineno) for lineno, _ in error.errors]
        where = f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(lines[:5])}"
        return ConfigError(
            f"{path}, {where}: neither a `key = value` setting nor a [section] header.",
            hint="Fix or remove the line.",
        )
    if isinstance(error, ValueError):
        return ConfigError(
            f"{path}: an indented block under a key has a line without `=`.",
            hint="Indented lines under a key must be `name = value`.",
        )
    return ConfigError(
        f"{path} cannot be parsed ({type(error).__name__}).", hint="Fix the file's INI syntax."
    )


# --- classification ------------------------------------------------------------------------


def _str(section: _Section | None, key: str) -> str | None:
    if section is None:
        return None
    value = section.get(key)
    return value if isinstance(value, str) else None


def _loop_reason(cycle: list[str], start: int = 0) -> str:
    """The loop as seen from cycle[start]; long loops abbreviated (cost bounded per member)."""
    size = len(cycle)
    if size <= _LOOP_SHOWN:
        shown = " -> ".join([*cycle[start:], *cycle[:start], cycle[start]])
    else:
        head = [cycle[(start + k) % size] for k in range(6)]
        shown = " -> ".join([*head, "...", cycle[start - 1], cycle[start]])
        shown += f" ({size} profiles)"
    return f"source_profile loop: {shown}"


@dataclass(frozen=True)
class _Base:
    """A profile classified without its role: what botocore's per-profile providers see."""

    kind: Kind
    reason: str | None = None
    sso: SsoSessionConfig | None = None


@dataclass(frozen=True)
class _Resolved:
    """A profile used as a role's source: its chain to the base identity, or why not."""

    chain: tuple[str, ...] = ()
    base_kind: Kind | None = None
    reason: str | None = None  # None when usable
    culprit: str = ""  # the profile whose own problem breaks the chain
    root: str = ""  # that profile's own reason


def _broken(name: str, reason: str) -> _Resolved:
    return _Resolved(reason=reason, culprit=name, root=reason)


def _through(name: str, source: str, resolved: _Resolved) -> _Resolved:
    """`name` takes its credentials from `source`, resolved as `resolved`."""
    if resolved.reason is None:
        return _Resolved(chain=(name, *resolved.chain), base_kind=resolved.base_kind)
    if resolved.culprit == source:
        reason = f"source profile {source} is invalid: {resolved.root}"
    else:
        reason = (
            f"source profile {source} is invalid: {resolved.root} (in profile {resolved.culprit})"
        )
    return _Resolved(reason=reason, culprit=resolved.culprit, root=resolved.root)


class _Model:
    """The merged view of both files, with memoized classification (one pass per profile)."""

    def __init__(
        self,
        config_path: Path,
        credentials_path: Path,
        config_profiles: Mapping[str, dict[str, Any]],
        credential_sections: Mapping[str, dict[str, Any]],
        keyring_profiles: Collection[str],
        sso_sections: Mapping[str, dict[str, Any]],
    ) -> None:
        self.config_path = config_path
        self.credentials_path = credentials_path
        self.cfg = config_profiles
        self.cred = credential_sections
        self.keyring = frozenset(keyring_profiles)
        # botocore's session.full_config: credentials-file values update the config's.
        self.merged: dict[str, _Section] = dict(config_profiles)
        for name, values in credential_sections.items():
            existing = self.merged.get(name)
            self.merged[name] = values if existing is None else {**existing, **values}
        for name in keyring_profiles:
            self.merged.setdefault(name, {})
        self.sso_raw = sso_sections
        self.sessions: dict[str, SsoSessionConfig] = {}
        self.bad_sessions: dict[str, str] = {}
        for name, values in sso_sections.items():
            self._add_session(name, values)
        self._bases: dict[str, _Base] = {}
        self._sources: dict[str, _Resolved] = {}

    def _add_session(self, name: str, values: _Section) -> None:
        url, region = _str(values, "sso_start_url"), _str(values, "sso_region")
        missing = [k for k, v in (("sso_start_url", url), ("sso_region", region)) if not v]
        if url is None or region is None or missing:
            self.bad_sessions[name] = f"missing {', '.join(missing)} in [sso-session {name}]"
            return
        scopes = _str(values, "sso_registration_scopes") or ""
        self.sessions[name] = SsoSessionConfig(
            name=name,
            start_url=url,
            region=region,
            registration_scopes=tuple(s.strip() for s in scopes.split(",") if s.strip()),
        )

    # -- the pieces botocore's providers look at --

    def has_static(self, name: str) -> bool:
        """botocore's AssumeRoleProvider._has_static_credentials, plus traycred's keyring."""
        m = self.merged[name]
        return name in self.keyring or "aws_access_key_id" in m or "aws_secret_access_key" in m

    def is_role(self, name: str) -> bool:
        m = self.merged[name]
        return "role_arn" in m and "web_identity_token_file" not in m

    def static_credentials(self, name: str) -> Credentials | None:
        for section in (self.cred.get(name), self.cfg.get(name)):
            key_id = _str(section, "aws_access_key_id")
            if key_id is None:
                continue
            secret = _str(section, "aws_secret_access_key")
            if not key_id or not secret:
                return None
            token = next((t for k in _TOKEN_KEYS if (t := _str(section, k))), None)
            return Credentials(key_id, secret, token)
        return None

    # -- classification without the role (botocore's ProfileProviderBuilder order) --

    def base(self, name: str) -> _Base:
        found = self._bases.get(name)
        if found is None:
            found = self._bases[name] = self._classify_base(name)
        return found

    def _classify_base(self, name: str) -> _Base:
        m = self.merged[name]
        if "web_identity_token_file" in m:
            return _Base(Kind.INVALID, "web identity profiles are not supported by traycred")
        if any(k in m for k in _SSO_ROLE_KEYS):
            return self._sso(name, m)
        if name in self.keyring:
            return _Base(Kind.KEYRING_KEYS)
        cred = self.cred.get(name)
        if cred is not None and "aws_access_key_id" in cred:
            return self._keys(cred, self.credentials_path)
        if "login_session" in m:
            return _Base(
                Kind.INVALID, "login_session profiles (`aws login`) are not supported by traycred"
            )
        if "credential_process" in m:
            if not _str(m, "credential_process"):
                return _Base(Kind.INVALID, "credential_process is empty")
            return _Base(Kind.PROCESS)
        cfg = self.cfg.get(name)
        if cfg is not None and "aws_access_key_id" in cfg:
            return self._keys(cfg, self.config_path)
        # Nothing botocore would use. Say what is closest to working.
        if any(k in m for k in ("sso_session", "sso_start_url", "sso_region")):
            return self._sso(name, m)
        for section, path in ((cred, self.credentials_path), (cfg, self.config_path)):
            if section is not None and "aws_secret_access_key" in section:
                return _Base(
                    Kind.INVALID, f"aws_secret_access_key without aws_access_key_id in {path}"
                )
        return _Base(
            Kind.INVALID,
            "no credentials: no keys, role, SSO or credential_process "
            f"(store a key with `traycred keys add {name}`)",
        )

    def _keys(self, section: _Section, path: Path) -> _Base:
        if not _str(section, "aws_secret_access_key"):
            return _Base(Kind.INVALID, f"aws_access_key_id without aws_secret_access_key in {path}")
        if not _str(section, "aws_access_key_id"):
            return _Base(Kind.INVALID, f"aws_access_key_id is empty in {path}")
        if any(_str(section, k) for k in _TOKEN_KEYS):
            return _Base(Kind.SESSION_KEYS)
        return _Base(Kind.STATIC_KEYS)

    def _sso(self, name: str, m: _Section) -> _Base:
        if "sso_session" not in m:
            missing = [k for k in _LEGACY_SSO_KEYS if not _str(m, k)]
            if missing:
                return _Base(
                    Kind.INVALID,
                    f"missing {', '.join(missing)}: a legacy SSO profile needs sso_start_url, "
                    "sso_region, sso_account_id and sso_role_name",
                )
            url, region = _str(m, "sso_start_url") or "", _str(m, "sso_region") or ""
            legacy = SsoSessionConfig(name=url, start_url=url, region=region, legacy=True)
            return _Base(Kind.SSO_LEGACY, sso=legacy)
        session = _str(m, "sso_session")
        if not session:
            return _Base(Kind.INVALID, "sso_session is empty")
        raw = self.sso_raw.get(session)
        if raw is None:
            return _Base(
                Kind.INVALID,
                f"sso-session {session} is named but not defined: add a [sso-session {session}] "
                "section with sso_start_url and sso_region",
            )
        bad = self.bad_sessions.get(session)
        if bad is not None:
            return _Base(Kind.INVALID, bad)
        config = self.sessions[session]
        for key, value in raw.items():
            if key in m and m[key] != value:
                return _Base(
                    Kind.INVALID,
                    f"{key} differs between profile {name} and [sso-session {session}]: "
                    "remove it from the profile",
                    sso=config,
                )
        missing = [k for k in _SSO_ROLE_KEYS if not _str(m, k)]
        if missing:
            return _Base(
                Kind.INVALID,
                f"missing {', '.join(missing)}: a profile with sso_session needs "
                "sso_account_id and sso_role_name",
                sso=config,
            )
        return _Base(Kind.SSO_SESSION, sso=config)

    # -- roles --

    def role_problem(self, name: str) -> str | None:
        """What botocore (or AWS) would refuse in this role profile's own settings."""
        m = self.merged[name]
        if not _str(m, "role_arn"):
            return "role_arn is empty"
        source, credential_source = m.get("source_profile"), m.get("credential_source")
        if source is not None and credential_source is not None:
            return "both source_profile and credential_source are set: keep only one"
        if source is None and credential_source is None:
            return (
                "role_arn without source_profile or credential_source: add "
                "source_profile = <a profile with keys>"
            )
        if credential_source is not None:
            if credential_source not in CREDENTIAL_SOURCES:
                return (
                    f"credential_source {credential_source} is not supported: use "
                    f"{', '.join(CREDENTIAL_SOURCES[:-1])} or {CREDENTIAL_SOURCES[-1]}"
                )
        elif not isinstance(source, str) or not source:
            return "source_profile is empty"
        elif source not in self.merged:
            return f"source_profile {source} does not exist"
        duration = m.get("duration_seconds")
        if duration is not None and _int(duration) is None:
            return f"duration_seconds must be a whole number of seconds, not {duration!r}"
        return None

    def _source_step(self, name: str) -> _Resolved | str:
        """One hop of a chain: a final answer for `name` as a source, or its own source's name."""
        if self.is_role(name) and not self.has_static(name):
            problem = self.role_problem(name)
            if problem is not None:
                return _broken(name, problem)
            source = _str(self.merged[name], "source_profile")
            if source is None:
                return _Resolved(chain=(name,))  # credential_source: the chain ends here
            return source
        # botocore resolves a source with keys (even if it also has role_arn) or without a role
        # through the per-profile providers, not through its role.
        base = self.base(name)
        if base.reason is not None:
            return _broken(name, base.reason)
        return _Resolved(chain=(name,), base_kind=base.kind)

    def source(self, start: str) -> _Resolved:
        """`start` resolved as a role's source. Iterative and memoized: linear in profiles."""
        memo = self._sources
        path: list[str] = []
        position: dict[str, int] = {}
        node = start
        while node not in memo:
            if node in position:
                cycle = path[position[node] :]
                for i, member in enumerate(cycle):
                    memo[member] = _broken(member, _loop_reason(cycle, i))
                del path[position[node] :]
                break
            step = self._source_step(node)
            if isinstance(step, _Resolved):
                memo[node] = step
                break
            position[node] = len(path)
            path.append(node)
            node = step
        for i in range(len(path) - 1, -1, -1):
            nxt = path[i + 1] if i + 1 < len(path) else node
            memo[path[i]] = _through(path[i], nxt, memo[nxt])
        return memo[start]

    def top_role(self, name: str) -> _Resolved:
        """`name` asked for directly, as botocore's AssumeRoleProvider walks it."""
        if not self.has_static(name):
            return self.source(name)
        # With keys of its own it may name itself as source; and, as botocore tracks every
        # profile visited from the top, a chain that comes back to it is a loop.
        problem = self.role_problem(name)
        if problem is not None:
            return _broken(name, problem)
        source = _str(self.merged[name], "source_profile")
        if source is None:
            return _Resolved(chain=(name,))
        if source == name:
            base = self.base(name)
            if base.reason is not None:
                return _broken(name, f"its own keys cannot be its source: {base.reason}")
            return _Resolved(chain=(name, name), base_kind=base.kind)
        resolved = self.source(source)
        if resolved.reason is None and name in resolved.chain:
            cycle = [name, *resolved.chain[: resolved.chain.index(name)]]
            return _broken(name, _loop_reason(cycle))
        return _through(name, source, resolved)

    # -- the Profile --

    def profile(self, name: str) -> Profile:
        m = self.merged[name]
        cfg, cred = self.cfg.get(name), self.cred.get(name)
        sso: SsoSessionConfig | None = None
        if self.is_role(name):
            resolved = self.top_role(name)
            kind = Kind.ASSUME_ROLE if resolved.reason is None else Kind.INVALID
            reason, chain, base_kind = resolved.reason, resolved.chain, resolved.base_kind
        else:
            base = self.base(name)
            kind, reason, sso = base.kind, base.reason, base.sso
            chain = (name,) if reason is None else ()
            base_kind = kind if reason is None else None
        return Profile(
            name=name,
            kind=kind,
            invalid_reason=reason,
            region=_str(m, "region"),
            chain=chain,
            source_profile=_str(m, "source_profile"),
            credential_source=_str(m, "credential_source"),
            role_arn=_str(m, "role_arn"),
            mfa_serial=_str(m, "mfa_serial"),
            external_id=_str(m, "external_id"),
            role_session_name=_str(m, "role_session_name"),
            duration_seconds=_int(m.get("duration_seconds")),
            sso_session=sso,
            sso_account_id=_str(m, "sso_account_id"),
            sso_role_name=_str(m, "sso_role_name"),
            credential_process=_str(m, "credential_process"),
            static_credentials=self.static_credentials(name),
            in_config=cfg is not None,
            in_credentials=cred is not None,
            shadowing_keys=tuple(k for k in SHADOWING_KEYS if cfg is not None and k in cfg),
            settings={
                k: v for k, v in (cfg or {}).items() if isinstance(v, str) and not _may_be_secret(k)
            },
            warnings=self._warnings(name, kind),
            base_kind=base_kind,
        )

    def _warnings(self, name: str, kind: Kind) -> tuple[str, ...]:
        found: list[str] = []
        if kind is Kind.SESSION_KEYS:
            found.append("pasted temporary credentials: traycred cannot refresh them")
        for section, path in (
            (self.cred.get(name), self.credentials_path),
            (self.cfg.get(name), self.config_path),
        ):
            if not _str(section, "aws_access_key_id") or not _str(section, "aws_secret_access_key"):
                continue
            if any(_str(section, k) for k in _TOKEN_KEYS):
                continue
            if name in self.keyring:
                found.append(
                    f"plaintext keys are still in {path} although traycred uses the key in the "
                    "keyring: remove them from the file"
                )
            elif path == self.credentials_path:
                found.append(
                    f"long-term keys in plaintext in {path}: move them to the keyring with "
                    f"`traycred keys import {name}`"
                )
            else:
                found.append(
                    f"long-term keys in plaintext in {path}: store them in the keyring with "
                    f"`traycred keys add {name}` and delete them from that file"
                )
        return tuple(found)


def _int(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
