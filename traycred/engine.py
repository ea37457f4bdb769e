"""The engine: resolve a profile to credentials through the providers, refresh and write them.

UI-independent (no Qt): the CLI and the tray each hand it a `Prompter`. One engine keeps the MFA
sessions of its source identities (memory + keyring), so several profiles on one source share one
MFA prompt, and `refresh` lands every profile it fetched in one locked write of the credentials
file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from traycred.config import AwsConfig, Kind, Profile
from traycred.credentials import Credentials
from traycred.errors import (
    ConfigError,
    CredentialsFileError,
    ForeignSectionError,
    KeyringError,
    NeedsUserError,
    TraycredError,
    UsageError,
)
from traycred.prompt.base import Prompter
from traycred.providers.base import Provider
from traycred.providers.session_token import MfaSessionCache
from traycred.settings import DEFAULT_SECTION, output_name_problem

if TYPE_CHECKING:
    from traycred.credfile import CredentialsStore
    from traycred.keystore import Keystore
    from traycred.settings import Settings, SettingsStore
    from traycred.sso.tokens import SsoTokenService

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# botocore's refresh windows: with less than ADVISORY left it tries to refresh, with less than
# MANDATORY it must. Credentials handed to an SDK (credential-process, env) must have more than
# the advisory window left, or botocore asks again at once and, within the mandatory window,
# fails with "refreshed credentials are still expired".
ADVISORY_REFRESH = timedelta(minutes=15)
MANDATORY_REFRESH = timedelta(minutes=10)
REUSE_MARGIN = ADVISORY_REFRESH + timedelta(minutes=2)
SSO_WORKERS = 16
# Config keys that change nothing about how an STS client connects (region is passed as is):
# a profile with only these shares one botocore session (a new one costs ~0.1 s of model loading).
_CLIENT_NEUTRAL_KEYS = frozenset(
    {
        "region",
        "output",
        "role_arn",
        "source_profile",
        "credential_source",
        "mfa_serial",
        "external_id",
        "role_session_name",
        "duration_seconds",
        "credential_process",
        "sso_session",
        "sso_start_url",
        "sso_region",
        "sso_account_id",
        "sso_role_name",
        "sso_registration_scopes",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "x_traycred_expiration",
    }
)
LONG_TERM_KINDS = (Kind.KEYRING_KEYS, Kind.STATIC_KEYS)
SSO_KINDS = (Kind.SSO_SESSION, Kind.SSO_LEGACY)


@dataclass(frozen=True)
class ProfileOutcome:
    """What refresh/use did for one profile: the sections written and their expiry, or why not."""

    profile: str
    sections: tuple[str, ...] = ()
    expiration: datetime | None = None
    error: TraycredError | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did. `notes`: one summary for the whole run (the outcomes' own `notes`
    say the same per profile, for a front end showing one profile)."""

    outcomes: tuple[ProfileOutcome, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 when all went well; 3 when the user must act on any; else 1."""
        errors = [o.error for o in self.outcomes if o.error is not None]
        if not errors:
            return 0
        if any(isinstance(e, NeedsUserError) for e in errors):
            return 3
        return max(e.exit_code for e in errors)


@dataclass(frozen=True)
class _Built:
    provider: Provider
    # The credentials come from a role session (SSO, AssumeRole; assumed for process, pasted and
    # environment session keys): AssumeRole with them is role chaining, capped at one hour.
    role_session: bool


class _RunMemo:
    """Credentials fetched during one refresh, by profile; one fetch per profile at a time."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._results: dict[str, Credentials] = {}

    def get(self, name: str, fetch: Callable[[], Credentials]) -> Credentials:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            found = self._results.get(name)
            if found is None:
                found = fetch()
                self._results[name] = found
            return found

    def drop(self, name: str) -> None:
        with self._guard:
            self._results.pop(name, None)


class _Shared:
    """A provider whose result is shared through a `_RunMemo` for the rest of the run."""

    def __init__(self, name: str, inner: Provider, memo: _RunMemo) -> None:
        self.name = name
        self.inner = inner
        self.memo = memo

    def retrieve(self) -> Credentials:
        return self.memo.get(self.name, self.inner.retrieve)

    def invalidate(self) -> None:
        self.memo.drop(self.name)
        invalidate = getattr(self.inner, "invalidate", None)
        if invalidate is not None:
            invalidate()


def _shared(built: _Built, key: str, kind: Kind, memo: _RunMemo | None) -> _Built:
    """`built`, fetched once per run through `memo` under `key` (keys at hand are not shared)."""
    if memo is None or kind in (*LONG_TERM_KINDS, Kind.SESSION_KEYS):
        return built
    return _Built(_Shared(key, built.provider, memo), built.role_session)


class Engine:
    """Resolves, refreshes and writes credentials. Thread-safe for concurrent `credentials_for`."""

    def __init__(
        self,
        prompter: Prompter | None = None,
        *,
        keystore: Keystore | None = None,
        settings_store: SettingsStore | None = None,
        credentials_store: CredentialsStore | None = None,
        config_path: Path | None = None,
        credentials_path: Path | None = None,
        sso_tokens: SsoTokenService | None = None,
        sso_workers: int = SSO_WORKERS,
    ) -> None:
        self.prompter = prompter
        self._keystore = keystore
        self._settings_store = settings_store
        self._credentials_store = credentials_store
        self.config_path = config_path
        self.credentials_path = credentials_path
        self._sso_tokens = sso_tokens
        self.sso_workers = sso_workers
        self._config: AwsConfig | None = None
        self._keyring_error: KeyringError | None = None
        self._lock = threading.RLock()
        self._mfa_sessions: MfaSessionCache | None = None
        self._local = threading.local()
        self._config_stamp: tuple[int, int] | None = None

    @property
    def active_prompter(self) -> Prompter | None:
        """The prompter of this thread's current call (see `prompting`), else the engine's."""
        override: list[Prompter | None] = getattr(self._local, "prompter", [])
        return override[-1] if override else self.prompter

    @contextlib.contextmanager
    def prompting(self, prompter: Prompter | None) -> Iterator[None]:
        """Use `prompter` (None: never ask; a code needed -> MfaCodeNeededError) in this thread."""
        stack: list[Prompter | None] = getattr(self._local, "prompter", None) or []
        self._local.prompter = stack
        stack.append(prompter)
        try:
            yield
        finally:
            stack.pop()

    # --- the parts, created when first needed (keyring and botocore imports are slow) ---------

    def _part(self, attr: str, make: Callable[[], _T]) -> _T:
        """The part held in `attr`, made by `make` under the engine lock the first time."""
        with self._lock:
            part = getattr(self, attr)
            if part is None:
                part = make()
                setattr(self, attr, part)
            return cast(_T, part)

    @property
    def keystore(self) -> Keystore:
        from traycred.keystore import Keystore

        return self._part("_keystore", Keystore)

    @property
    def settings_store(self) -> SettingsStore:
        from traycred.settings import SettingsStore

        return self._part("_settings_store", SettingsStore)

    @property
    def credentials_store(self) -> CredentialsStore:
        from traycred.credfile import CredentialsStore

        return self._part("_credentials_store", lambda: CredentialsStore(self.credentials_path))

    @property
    def sso_tokens(self) -> SsoTokenService:
        from traycred.sso.tokens import SsoTokenService

        return self._part("_sso_tokens", SsoTokenService)

    @property
    def mfa_sessions(self) -> MfaSessionCache:
        return self._part("_mfa_sessions", lambda: MfaSessionCache(self._keystore_or_none()))

    def _keystore_or_none(self) -> Keystore | None:
        try:
            return self.keystore
        except KeyringError as exc:
            log.debug("the keyring is not available: %s", exc)
            self._keyring_error = exc
            return None

    def settings(self) -> Settings:
        return self.settings_store.load()

    def config(self, *, reload: bool = False) -> AwsConfig:
        """The classified profiles; re-read from the files when `reload` (or never read)."""
        with self._lock:
            if self._config is None or reload:
                from traycred import aws, config

                keyring_profiles: tuple[str, ...] = ()
                keystore = self._keystore_or_none()
                if keystore is not None:
                    try:
                        keyring_profiles = tuple(keystore.profile_names())
                        self._keyring_error = None
                    except KeyringError as exc:
                        log.debug("cannot list keys in the keyring: %s", exc)
                        self._keyring_error = exc
                self._config = config.load(
                    self.config_path, self.credentials_path, keyring_profiles=keyring_profiles
                )
                stamp = _files_stamp(self._config)
                if stamp != self._config_stamp:
                    # botocore sessions cache the files they read; rebuilding one costs ~0.5 s
                    # of model loading, so only when the config file really changed.
                    if self._config_stamp is not None:
                        aws.reset_sessions()
                    self._config_stamp = stamp
            return self._config

    def profile(self, name: str) -> Profile:
        """The usable profile `name`, or an error saying why it is not usable."""
        profile = self.config().get(name)
        if profile.kind is Kind.INVALID:
            hint = None
            if self._keyring_error is not None:
                hint = f"(The keyring could not be read: {self._keyring_error.message})"
            raise ConfigError(f"Profile {name} cannot be used: {profile.invalid_reason}", hint=hint)
        return profile

    # --- building providers -------------------------------------------------------------------

    def provider(
        self, name: str, *, waiting: tuple[str, ...] | None = None, memo: _RunMemo | None = None
    ) -> Provider:
        """The provider tree that yields fresh credentials for profile `name`.

        With `memo`, a profile needed twice in one run (as a target and as another's source)
        is fetched once.
        """
        return self._build(
            name, waiting or (name,), None, as_output=True, seen=(), memo=memo
        ).provider

    def _build(
        self,
        name: str,
        waiting: tuple[str, ...],
        inherited_mfa: str | None,
        *,
        as_output: bool,
        seen: tuple[str, ...],
        memo: _RunMemo | None = None,
    ) -> _Built:
        built = self._build_one(
            name, waiting, inherited_mfa, as_output=as_output, seen=seen, memo=memo
        )
        return _shared(built, name, self.profile(name).kind, memo)

    def _build_one(
        self,
        name: str,
        waiting: tuple[str, ...],
        inherited_mfa: str | None,
        *,
        as_output: bool,
        seen: tuple[str, ...],
        memo: _RunMemo | None,
    ) -> _Built:
        if name in seen:
            raise ConfigError(f"Profile {name} is its own source ({' -> '.join((*seen, name))}).")
        profile = self.profile(name)
        if profile.kind is Kind.ASSUME_ROLE:
            return self._build_role(profile, self.settings(), waiting, inherited_mfa, seen, memo)
        return self._build_kind(profile, profile.kind, waiting, inherited_mfa, as_output=as_output)

    def _build_kind(
        self,
        profile: Profile,
        kind: Kind,
        waiting: tuple[str, ...],
        inherited_mfa: str | None,
        *,
        as_output: bool,
    ) -> _Built:
        """`profile` obtained as `kind`: its own kind, or (as a role's source) its base kind."""
        from traycred.providers import static

        name = profile.name
        if kind in LONG_TERM_KINDS:
            key = self._long_term_key(profile, kind)
            serial = profile.mfa_serial or inherited_mfa
            if not as_output and serial is None and self.mfa_sessions.get(name) is None:
                # Nothing to save a prompt for: sign AssumeRole with the long-term key itself.
                return _Built(key, role_session=False)
            return _Built(self._session_token(profile, key, serial, waiting), role_session=False)
        if kind is Kind.SESSION_KEYS:
            assert profile.static_credentials is not None
            return _Built(static.StaticProvider(profile.static_credentials, profile=name), True)
        if kind is Kind.PROCESS:
            from traycred.providers.process import ProcessProvider

            assert profile.credential_process is not None
            return _Built(ProcessProvider(name, profile.credential_process), role_session=True)
        if kind in SSO_KINDS:
            from traycred.providers.sso_role import SsoRoleProvider

            return _Built(SsoRoleProvider(profile, self.sso_tokens), role_session=True)
        raise ConfigError(f"Profile {name} has no way to get credentials ({kind}).")

    def _source_base(self, profile: Profile) -> tuple[Profile, Kind] | None:
        """The base of `profile`'s chain with the kind it is used as, when that is not its role.

        botocore uses a source profile's own keys even when it also has a role_arn (and a role
        naming itself as source is signed with its own keys): `Profile.chain` ends there and
        `base_kind` says how that base is obtained. None when the source is simply built as what
        it is.
        """
        base_kind = profile.base_kind
        if (
            profile.source_profile is None
            or not profile.chain
            or profile.source_profile != profile.chain[-1]
            or base_kind is None
            or base_kind in (Kind.ASSUME_ROLE, Kind.INVALID)
        ):
            return None
        # config().get, not profile(): the base may be unusable as a role yet fine as keys.
        base = self.config().get(profile.chain[-1])
        if base.kind is base_kind:
            return None
        return base, base_kind

    def _build_base(
        self,
        base: Profile,
        kind: Kind,
        waiting: tuple[str, ...],
        inherited_mfa: str | None,
        memo: _RunMemo | None,
    ) -> _Built:
        built = self._build_kind(base, kind, waiting, inherited_mfa, as_output=False)
        # Keyed apart from the profile's own role, which the same run may also fetch.
        return _shared(built, f"{base.name}\0{kind}", kind, memo)

    def _session_token(
        self, profile: Profile, key: Provider, serial: str | None, waiting: tuple[str, ...]
    ) -> Provider:
        """GetSessionToken on `profile`'s long-term `key`, its MFA session kept in the engine's."""
        from traycred.providers.session_token import SessionTokenProvider

        return SessionTokenProvider(
            base=profile.name,
            key=key,
            mfa_serial=serial,
            duration_seconds=self.settings().mfa_session_seconds,
            prompter=self.active_prompter,
            waiting=waiting,
            cache=self.mfa_sessions,
            region=profile.region,
            client_profile=_client_profile(profile),
        )

    def _long_term_key(self, profile: Profile, kind: Kind | None = None) -> Provider:
        from traycred.providers import static

        if (kind or profile.kind) is Kind.KEYRING_KEYS:
            return static.KeyringKeyProvider(self.keystore, profile.name)
        assert profile.static_credentials is not None
        return static.StaticProvider(profile.static_credentials, profile=profile.name)

    def _build_role(
        self,
        profile: Profile,
        settings: Settings,
        waiting: tuple[str, ...],
        inherited_mfa: str | None,
        seen: tuple[str, ...],
        memo: _RunMemo | None,
    ) -> _Built:
        from traycred.providers import static
        from traycred.providers.assume_role import AssumeRoleProvider, default_session_name

        assert profile.role_arn is not None
        serial = profile.mfa_serial or inherited_mfa
        role_mfa: str | None = None
        source: Provider
        base = self._source_base(profile)
        if base is not None:
            source_kind = base[1]
            built = self._build_base(base[0], base[1], waiting, serial, memo)
            source, chained = built.provider, built.role_session
            if source_kind not in LONG_TERM_KINDS:
                role_mfa = serial
        elif profile.source_profile is not None:
            source_kind = self.profile(profile.source_profile).kind
            built = self._build(
                profile.source_profile,
                waiting,
                serial,
                as_output=False,
                seen=(*seen, profile.name),
                memo=memo,
            )
            source, chained = built.provider, built.role_session
            if source_kind not in LONG_TERM_KINDS and source_kind is not Kind.ASSUME_ROLE:
                # No GetSessionToken below (SSO, process, pasted keys): MFA goes on AssumeRole.
                role_mfa = serial
        elif profile.credential_source is not None:
            import os

            source = static.credential_source_provider(profile.name, profile.credential_source)
            chained = bool(os.environ.get("AWS_SESSION_TOKEN"))
            role_mfa = serial
        else:
            raise ConfigError(f"Profile {profile.name} has a role_arn but no source.")
        duration = (
            settings.profile(profile.name).duration_seconds
            or profile.duration_seconds
            or settings.role_duration_seconds
        )
        return _Built(
            AssumeRoleProvider(
                profile=profile.name,
                role_arn=profile.role_arn,
                source=source,
                duration_seconds=duration,
                session_name=profile.role_session_name or default_session_name(),
                external_id=profile.external_id,
                chained=chained,
                mfa_serial=role_mfa,
                prompter=self.active_prompter,
                region=profile.region,
                client_profile=_client_profile(profile),
            ),
            role_session=True,
        )

    def mfa_source(self, name: str) -> tuple[str, str] | None:
        """(base profile, MFA device) when resolving `name` needs an MFA session not yet held."""
        profile = self.profile(name)
        if profile.base_kind not in LONG_TERM_KINDS or not profile.chain:
            return None  # SSO, a process, pasted keys or credential_source at the bottom
        base = profile.chain[-1]
        inherited: str | None = None
        # The deepest role's mfa_serial wins, as `_build_role` hands it down.
        for role in profile.chain[:-1]:
            inherited = self.config().get(role).mfa_serial or inherited
        serial = self.config().get(base).mfa_serial or inherited
        if serial is None or self.mfa_sessions.get(base) is not None:
            return None
        return base, serial

    # --- resolving ----------------------------------------------------------------------------

    def resolve(self, name: str, *, memo: _RunMemo | None = None) -> Credentials:
        """Fresh credentials for `name` from AWS (MFA sessions are reused, never re-asked)."""
        return self.provider(name, memo=memo).retrieve()

    def credentials_for(self, name: str) -> Credentials:
        """Credentials for `name` with more than botocore's refresh window left.

        Reuses what traycred already has (its section in the credentials file, the MFA session,
        or the keyring cache) before asking AWS, so `credential-process` and `env` are cheap.
        """
        settings = self.settings()
        sections = [settings.output_for(name)]
        if settings.default_profile == name:
            sections.append(DEFAULT_SECTION)
        for section in sections:
            try:
                owned = self.credentials_store.read_owned(section)
            except TraycredError as exc:
                log.info("cannot read [%s] of the credentials file: %s", section, exc)
                owned = None
            if owned is not None and not owned.expires_within(REUSE_MARGIN):
                return owned
        profile = self.profile(name)
        if profile.kind is Kind.SESSION_KEYS:
            assert profile.static_credentials is not None
            log.warning(
                "profile %s holds pasted temporary credentials: traycred cannot refresh them", name
            )
            return profile.static_credentials
        if profile.kind in LONG_TERM_KINDS:
            session = self.mfa_sessions.get(name)
            if session is not None and not session.expires_within(REUSE_MARGIN):
                return session
        cache_name = self._cache_name(profile)
        cached = self._cache_get(cache_name)
        if cached is not None:
            return cached
        fresh = self.resolve(name)
        if fresh.expiration is not None and fresh.is_temporary:
            self._cache_put(cache_name, fresh)
        return fresh

    def _cache_name(self, profile: Profile) -> str:
        """Keyring name of a profile's cached credentials; changes when its config changes."""
        shape = json.dumps(
            [
                profile.kind,
                profile.chain,
                profile.role_arn,
                profile.external_id,
                profile.mfa_serial,
                profile.credential_process,
                profile.credential_source,
                profile.sso_account_id,
                profile.sso_role_name,
                profile.sso_session.name if profile.sso_session else None,
            ]
        )
        import hashlib  # lazily: hashlib loads OpenSSL (~3 MB) an idle tray does not need

        digest = hashlib.sha1(shape.encode("utf-8")).hexdigest()[:12]  # noqa: S324 - not security
        return f"creds:{profile.name}:{digest}"

    def _cache_get(self, cache_name: str) -> Credentials | None:
        keystore = self._keystore_or_none()
        if keystore is None:
            return None
        try:
            cached = keystore.get_session(cache_name)
        except KeyringError as exc:
            log.info("keyring cache unavailable: %s", exc)
            return None
        if cached is None or cached.expires_within(REUSE_MARGIN):
            return None
        return cached

    def _cache_put(self, cache_name: str, credentials: Credentials) -> None:
        keystore = self._keystore_or_none()
        if keystore is None:
            return
        try:
            keystore.set_session(cache_name, credentials)
        except KeyringError as exc:
            log.info("cannot cache credentials in the keyring: %s", exc)

    # --- refresh and use ----------------------------------------------------------------------

    def refresh(
        self,
        profiles: Sequence[str] | None = None,
        *,
        output: str | None = None,
        mark_managed: bool = True,
    ) -> RefreshReport:
        """Fetch fresh credentials for `profiles` (default: every managed one) and write them.

        Profiles sharing a source share its MFA session (one prompt naming them all); every
        credential fetched lands in one locked write. `[default]` is updated when the default
        profile is among them. `output` (one profile only) sets where that profile is written.
        """
        config = self.config(reload=True)
        settings = self.settings()
        names = list(dict.fromkeys(profiles or ()))
        only_default: list[str] = []
        if not names:
            names = list(settings.managed_profiles())
            default = settings.default_profile
            if default is not None and default not in names:
                only_default.append(default)
        if output is not None:
            if len(names) != 1:
                raise UsageError("--output needs exactly one profile.")
            self._check_output_name(names[0], output, config, settings)

        targets = {
            name: refresh_sections(settings, name, output=output, own=mark_managed)
            for name in names
        }
        for name in only_default:
            targets[name] = [DEFAULT_SECTION]  # not asked for: only the timer's [default]

        errors: dict[str, TraycredError] = {}
        for name, sections in targets.items():
            try:
                self._check_targets(self.profile(name), sections)
            except TraycredError as exc:
                errors[name] = exc

        self._prefetch_mfa_sessions([n for n in targets if n not in errors], errors)
        fetched = self._fetch_all([n for n in targets if n not in errors], errors)

        updates: dict[str, Credentials] = {}
        for name, credentials in fetched.items():
            try:
                _check_writable(name, credentials)
            except TraycredError as exc:
                errors[name] = exc
                continue
            for section in targets[name]:
                updates[section] = credentials

        removals = self._stale_outputs(names, output, settings)
        written = self._write(updates, removals, targets, errors)

        succeeded = [n for n in names if n not in errors]
        if succeeded and (mark_managed or output is not None):
            self.remember(succeeded, output=output, managed=mark_managed)

        outcomes = []
        done_by_name: dict[str, tuple[str, ...]] = {}
        for name in targets:
            if name in errors:
                outcomes.append(ProfileOutcome(name, error=errors[name]))
                continue
            credentials = fetched[name]
            done = done_by_name[name] = tuple(s for s in targets[name] if s in written)
            outcomes.append(
                ProfileOutcome(
                    name,
                    sections=done,
                    expiration=credentials.expiration,
                    notes=tuple(self._notes(name, done)),
                )
            )
        return RefreshReport(tuple(outcomes), notes=self.shadow_notes(done_by_name))

    def use(self, name: str) -> ProfileOutcome:
        """Make `name` the default: `[default]` gets its credentials and the choice persists."""
        self.config(reload=True)
        profile = self.profile(name)
        self._check_targets(profile, [DEFAULT_SECTION])
        credentials = self.credentials_for(name)
        _check_writable(name, credentials)
        self.credentials_store.write({DEFAULT_SECTION: credentials})
        self.settings_store.update(lambda s: s.replace(default_profile=name))
        return ProfileOutcome(
            name,
            sections=(DEFAULT_SECTION,),
            expiration=credentials.expiration,
            notes=tuple(self._notes(name, (DEFAULT_SECTION,))),
        )

    def _check_output_name(
        self, name: str, output: str, config: AwsConfig, settings: Settings
    ) -> None:
        """`--output`: the same rule as the Settings dialog's output names."""
        problem = output_name_problem(
            name, output, profiles=config.profiles, taken=settings.writers()
        )
        if problem is not None:
            raise UsageError(problem)

    def _check_targets(self, profile: Profile, sections: Sequence[str]) -> None:
        """Refuse what would overwrite the user's own keys or cannot be refreshed at all."""
        if profile.kind is Kind.SESSION_KEYS and profile.name in sections:
            raise CredentialsFileError(
                f"Profile {profile.name} holds pasted temporary credentials that traycred "
                "cannot refresh; they are used as they are.",
                hint="Store a long-term key with `traycred keys add` to have them renewed.",
            )
        if profile.kind is Kind.STATIC_KEYS and profile.name in sections:
            raise CredentialsFileError(
                f"Profile {profile.name} keeps its long-term keys in [{profile.name}] of the "
                "credentials file; traycred will not overwrite them.",
                hint=f"Move them into the keyring with `traycred keys import {profile.name}`, or "
                f"write elsewhere with `traycred refresh {profile.name} --output "
                f"{profile.name}-session`.",
            )

    def _prefetch_mfa_sessions(
        self, names: Sequence[str], errors: dict[str, TraycredError]
    ) -> None:
        """Get each needed MFA session once, before anything else, naming every waiting profile."""
        groups: dict[tuple[str, str], list[str]] = {}
        for name in names:
            try:
                source = self.mfa_source(name)
            except TraycredError as exc:
                errors[name] = exc
                continue
            if source is not None:
                groups.setdefault(source, []).append(name)
        for (base, serial), waiting in groups.items():
            base_profile = self.config().get(base)
            base_kind = self.profile(waiting[0]).base_kind
            key = self._long_term_key(base_profile, base_kind)
            provider = self._session_token(base_profile, key, serial, tuple(waiting))
            try:
                provider.retrieve()
            except TraycredError as exc:
                for name in waiting:
                    errors[name] = exc

    def _fetch_all(
        self, names: Sequence[str], errors: dict[str, TraycredError]
    ) -> dict[str, Credentials]:
        """Run every provider: SSO ones in a bounded pool, the others (which may prompt) here."""
        fetched: dict[str, Credentials] = {}
        memo = _RunMemo()
        sso = [n for n in names if self.profile(n).kind in SSO_KINDS]
        others = [n for n in names if n not in sso]
        futures: dict[str, Future[Credentials]] = {}
        pool: ThreadPoolExecutor | None = None
        if sso:
            pool = ThreadPoolExecutor(
                max_workers=min(self.sso_workers, len(sso)), thread_name_prefix="traycred-sso"
            )
            for name in sso:
                futures[name] = pool.submit(self.resolve, name, memo=memo)
        try:
            for name in others:
                try:
                    fetched[name] = self.resolve(name, memo=memo)
                except TraycredError as exc:
                    errors[name] = exc
            for name, future in futures.items():
                try:
                    fetched[name] = future.result()
                except TraycredError as exc:
                    errors[name] = exc
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        return fetched

    def _stale_outputs(
        self, names: Sequence[str], output: str | None, settings: Settings
    ) -> tuple[str, ...]:
        """The section a profile used to be written to, when `output` moves it elsewhere."""
        if output is None or not names:
            return ()
        previous = settings.output_for(names[0])
        if previous in (output, DEFAULT_SECTION):
            return ()
        try:
            owned = self.credentials_store.owned_sections()
        except TraycredError:
            return ()
        return (previous,) if previous in owned else ()

    def _write(
        self,
        updates: dict[str, Credentials],
        removals: tuple[str, ...],
        targets: dict[str, list[str]],
        errors: dict[str, TraycredError],
    ) -> set[str]:
        """One write for everything; if a section is refused, write the others one by one."""
        if not updates:
            return set()
        try:
            self.credentials_store.write(updates, remove=removals)
            return set(updates)
        except ForeignSectionError:
            pass
        written: set[str] = set()
        for section, credentials in updates.items():
            try:
                self.credentials_store.write({section: credentials})
                written.add(section)
            except ForeignSectionError as exc:
                for name, sections in targets.items():
                    if section in sections:
                        errors.setdefault(name, exc)
        return written

    def remember(
        self, names: Sequence[str], *, output: str | None = None, managed: bool = True
    ) -> None:
        """Record in the settings what a refresh of `names` asked for: kept fresh (`managed`)
        and, for one profile, its output section."""

        def change(settings: Settings) -> Settings:
            for name in names:
                changes: dict[str, Any] = {}
                if managed:
                    changes["managed"] = True
                if output is not None:
                    changes["output"] = None if output == name else output
                if changes:
                    settings = settings.with_profile(name, **changes)
            return settings

        self.settings_store.update(change)

    def _notes(self, name: str, sections: Iterable[str]) -> list[str]:
        return list(self.shadow_notes({name: tuple(sections)}))

    def shadow_notes(self, written: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
        """What to tell the user when SDK tools will not read what was written (SPEC §2.2).

        `written`: profile -> the sections it was written to. Whether a section is shadowed is
        `config.shadowed_reason`'s call (`role_arn` or SSO role keys in its config section;
        `credential_process` runs after the credentials file, so it does not shadow). Every
        shadowed profile of the run goes into one summary line; `[default]` gets its own.
        """
        from traycred.config import shadowed_reason

        cfg = self.config()
        default_keys: tuple[str, ...] = ()
        keyring: list[str] = []  # roles whose source key only traycred can read
        own: list[str] = []  # roles SDKs assume themselves
        sso: list[str] = []  # SSO profiles: SDKs use the shared token cache
        for name, sections in written.items():
            profile = cfg.profiles.get(name)
            if profile is None:
                continue
            for section in sections:
                if shadowed_reason(profile, section, cfg) is None:
                    continue
                target = cfg.profiles[section]
                keys = tuple(k for k in _SHADOW_NAMED_KEYS if k in target.shadowing_keys)
                if section == DEFAULT_SECTION:
                    default_keys = keys
                elif "role_arn" not in keys:
                    sso.append(section)
                elif target.base_kind is Kind.KEYRING_KEYS:
                    keyring.append(section)
                else:
                    own.append(section)
        notes: list[str] = []
        parts: list[str] = []
        if keyring:
            parts.append(
                f"{_names(keyring)} they cannot resolve (the source key is in the keyring, "
                "which SDKs do not read)"
            )
        if own:
            parts.append(
                f"{_names(own)} they assume themselves (with their own MFA prompt where one is "
                "needed)"
            )
        if sso:
            parts.append(
                f"{_names(sso)} they get through the SSO sign-in they share with traycred (no "
                "new login needed)"
            )
        roles = [*keyring, *own]
        if roles:
            first = roles[0]
            parts.append(
                "to have SDKs use what traycred wrote for a role, give it another output name "
                f"(`traycred refresh {first} --output {first}-live`) or make it the default "
                f"(`traycred use {first}`)"
            )
        if parts:
            shadowed = [*roles, *sso]
            notes.append(
                f"note: SDK tools resolve {_names(shadowed)} from your AWS config and skip "
                f"{_names(shadowed, brackets=True)} of the credentials file: "
                f"{'; '.join(parts)}."
            )
        if default_keys:
            notes.append(
                f"note: [default] in your AWS config has {', '.join(default_keys)}, so SDK tools "
                "use that instead of [default] in the credentials file; remove those keys "
                "from [default] in the config file to use what traycred wrote."
            )
        return tuple(notes)


# The keys `config.shadowed_reason` counts as shadowing, named in the notes.
_SHADOW_NAMED_KEYS = ("role_arn", "sso_account_id", "sso_role_name")
_NAMES_SHOWN = 5


def _names(names: Sequence[str], *, brackets: bool = False) -> str:
    """`a, b and c` (at most a few, then `and N more`)."""
    shown = [f"[{n}]" if brackets else n for n in dict.fromkeys(names)]
    if len(shown) > _NAMES_SHOWN:
        return f"{', '.join(shown[:_NAMES_SHOWN])} and {len(shown) - _NAMES_SHOWN} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _files_stamp(config: AwsConfig) -> tuple[int, int]:
    try:
        stat = config.config_path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _client_profile(profile: Profile) -> str | None:
    """The profile whose botocore session the STS client needs: its own only when its config
    sets something that changes the connection (endpoint_url, ca_bundle, ...)."""
    if any(key not in _CLIENT_NEUTRAL_KEYS for key in profile.settings):
        return profile.name
    return None


def refresh_sections(
    settings: Settings, name: str, *, output: str | None = None, own: bool = False
) -> list[str]:
    """The sections a refresh of `name` writes: `Settings.sections_of`, unless the run writes it
    to `output` or makes it managed (`own`): then that section, and `[default]` when it is the
    default. A section is listed once (a profile's own section may be `[default]`)."""
    if output is None and not own:
        return list(settings.sections_of(name))
    sections = [output if output is not None else settings.output_for(name)]
    if settings.default_profile == name and DEFAULT_SECTION not in sections:
        sections.append(DEFAULT_SECTION)
    return sections


def _check_writable(name: str, credentials: Credentials) -> None:
    if not credentials.is_temporary:
        raise CredentialsFileError(
            f"Profile {name} gave long-term keys; traycred never writes those to a file."
        )
    if credentials.expiration is None:
        raise CredentialsFileError(
            f"Profile {name} gave temporary credentials without an expiry; traycred cannot "
            "tell when to renew them, so it does not write them."
        )


class SchedulerEngine:
    """The engine as the refresh timer sees it (traycred.scheduler.RefreshEngine)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def group_of(self, profile: str) -> str:
        """`sso:<session>` for SSO profiles, else `source:<base profile>` of the chain."""
        resolved = self.engine.profile(profile)
        if resolved.kind in SSO_KINDS and resolved.sso_session is not None:
            return f"sso:{resolved.sso_session.name}"
        return f"source:{resolved.base}"

    def expiry(self, profile: str) -> datetime | None:
        return self.expiries([profile])[profile]

    def expiries(self, profiles: Iterable[str]) -> dict[str, datetime | None]:
        """`expiry` of each profile from one read of the settings and the credentials file."""
        settings = self.engine.settings()
        owned = self.engine.credentials_store.owned_sections()
        found: dict[str, datetime | None] = {}
        for profile in profiles:
            written = owned.get(settings.sections_of(profile)[0])
            found[profile] = written.expiration if written is not None else None
        return found

    def refresh(
        self, profiles: Sequence[str], *, mfa_code: str | None = None, interactive: bool = False
    ) -> Mapping[str, datetime | Exception]:
        """Refresh in one write; never prompts unless `interactive` (or given `mfa_code`)."""
        prompter: Prompter | None = None
        if mfa_code is not None:
            from traycred.prompt.noninteractive import NonInteractivePrompter

            prompter = NonInteractivePrompter(mfa_code, stdin_pipe=False)
        elif interactive:
            prompter = self.engine.prompter
        with self.engine.prompting(prompter):
            report = self.engine.refresh(list(profiles), mark_managed=False)
        results: dict[str, datetime | Exception] = {}
        for outcome in report.outcomes:
            if outcome.error is not None:
                results[outcome.profile] = outcome.error
            elif outcome.expiration is not None:
                results[outcome.profile] = outcome.expiration
        return results
