"""The SSO token cache shared with the AWS CLI and every SDK: `~/.aws/sso/cache/<sha1>.json`.

Token files are named and shaped exactly as the AWS CLI v2 writes them (SPEC §2.3): the stem is
sha1(session name) for sso-session profiles and sha1(start URL) for legacy ones; the fields are
startUrl, region, accessToken, expiresAt and, for sso-session, clientId, clientSecret,
registrationExpiresAt and refreshToken. Client registrations sit beside them under the AWS CLI's
own key (sha1 of a small JSON document), so either tool reuses the other's registration.

Reading is tolerant (`+00:00`, fractional seconds, botocore's `UTC` suffix); writing is strict
(`%Y-%m-%dT%H:%M:%SZ`), atomic and 0600. One lock per SSO session (a `threading.Lock` plus a
file lock beside the token file) serialises sign-in, renewal and logout across threads and
processes; every read-modify-write re-reads the file under it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from traycred import fileio, paths
from traycred.config import SsoSessionConfig
from traycred.credentials import format_iso, parse_iso, utcnow
from traycred.errors import CredentialsFileError, SignInNeededError

log = logging.getLogger(__name__)


def parse_cache_time(value: object) -> datetime | None:
    """A timestamp as any AWS tool writes it, in UTC; None when it cannot be read.

    Accepts `Z`, `+00:00` and other offsets, fractional seconds, no zone (taken as UTC), and the
    `UTC` suffix that botocore's `%Z` formatting produces.
    """
    if not isinstance(value, str):
        return None
    text = value.strip().removesuffix("UTC")
    if text != text.rstrip():
        return None  # `%Z` puts `UTC` right after the seconds; a gap there is no tool's format
    if text.endswith("z"):
        text = text[:-1] + "Z"
    try:
        return parse_iso(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientRegistration:
    """An OIDC client registered with RegisterClient; the secret never shows in repr."""

    client_id: str
    client_secret: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...] = ()
    # Set by the AWS CLI's authorization-code flow; such a client cannot do the device grant.
    grant_types: tuple[str, ...] = ()

    def is_usable(self, wanted_scopes: tuple[str, ...], now: datetime, window: timedelta) -> bool:
        """Not expiring within `window`, made for the device grant, with every wanted scope."""
        if self.expires_at - now <= window:
            return False
        if "authorization_code" in self.grant_types:
            return False
        return set(wanted_scopes) <= set(self.scopes)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "expiresAt": format_iso(self.expires_at),
        }
        if self.scopes:
            data["scopes"] = list(self.scopes)
        return data

    @classmethod
    def from_json(cls, data: object) -> ClientRegistration | None:
        if not isinstance(data, dict):
            return None
        client_id, secret = data.get("clientId"), data.get("clientSecret")
        expires_at = parse_cache_time(data.get("expiresAt"))
        if not isinstance(client_id, str) or not isinstance(secret, str) or expires_at is None:
            return None
        return cls(
            client_id=client_id,
            client_secret=secret,
            expires_at=expires_at,
            scopes=_strings(data.get("scopes")),
            grant_types=_strings(data.get("grantTypes")),
        )


@dataclass(frozen=True)
class SsoToken:
    """One cached SSO access token (and, for sso-session, its refresh token and client)."""

    start_url: str
    region: str
    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    registration_expires_at: datetime | None = None

    def remaining(self, now: datetime | None = None) -> timedelta:
        return self.expires_at - (now or utcnow())

    def can_refresh(self, now: datetime | None = None) -> bool:
        """Holds a refresh token and a client registration that has not expired."""
        if not (self.refresh_token and self.client_id and self.client_secret):
            return False
        expiry = self.registration_expires_at
        return expiry is not None and expiry > (now or utcnow())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "startUrl": self.start_url,
            "region": self.region,
            "accessToken": self.access_token,
            "expiresAt": format_iso(self.expires_at),
        }
        if self.client_id and self.client_secret:
            data["clientId"] = self.client_id
            data["clientSecret"] = self.client_secret
            if self.registration_expires_at is not None:
                data["registrationExpiresAt"] = format_iso(self.registration_expires_at)
        if self.refresh_token:
            data["refreshToken"] = self.refresh_token
        return data

    @classmethod
    def from_json(cls, data: object) -> SsoToken | None:
        """The token in a cache file's JSON, or None when it lacks what any SDK needs."""
        if not isinstance(data, dict):
            return None
        access_token = data.get("accessToken")
        expires_at = parse_cache_time(data.get("expiresAt"))
        if not isinstance(access_token, str) or not access_token or expires_at is None:
            return None
        return cls(
            start_url=_string(data.get("startUrl")) or "",
            region=_string(data.get("region")) or "",
            access_token=access_token,
            expires_at=expires_at,
            refresh_token=_string(data.get("refreshToken")),
            client_id=_string(data.get("clientId")),
            client_secret=_string(data.get("clientSecret")),
            registration_expires_at=parse_cache_time(data.get("registrationExpiresAt")),
        )


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


DEFAULT_SCOPE = "sso:account:access"


def wanted_scopes(session: SsoSessionConfig) -> tuple[str, ...]:
    """The scopes traycred registers with: none for legacy, else the configured or default."""
    if session.legacy:
        return ()
    return session.registration_scopes or (DEFAULT_SCOPE,)


def registration_key(session: SsoSessionConfig) -> str:
    """The AWS CLI v2's cache key for a device-flow client registration of `session`.

    The CLI hashes a sorted JSON document of tool, start URL, region, the configured scopes (null
    when none are configured) and the session name (null for legacy profiles); using the same
    key lets traycred and `aws sso login` share one registration.
    """
    configured = list(session.registration_scopes) if session.registration_scopes else None
    args = {
        "tool": "botocore",
        "startUrl": session.start_url,
        "region": session.region,
        "scopes": None if session.legacy else configured,
        "session_name": None if session.legacy else session.name,
    }
    document = json.dumps(args, sort_keys=True).encode("utf-8")
    import hashlib  # lazily: hashlib loads OpenSSL (~3 MB) an idle tray does not need

    return hashlib.sha1(document).hexdigest()  # noqa: S324 - the AWS CLI's file name, not security


# One in-process lock per token file, shared by every TokenCache of the process (the tray and a
# CLI command may each hold one); the file lock then covers other processes.
_thread_locks: dict[Path, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _thread_locks_guard:
        lock = _thread_locks.get(path)
        if lock is None:
            lock = _thread_locks[path] = threading.Lock()
        return lock


class TokenCache:
    """The token and registration files in `folder` (default: paths.sso_cache_dir())."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or paths.sso_cache_dir()

    def token_path(self, session: SsoSessionConfig) -> Path:
        return self.folder / f"{session.cache_key}.json"

    def registration_path(self, session: SsoSessionConfig) -> Path:
        return self.folder / f"{registration_key(session)}.json"

    def load(self, session: SsoSessionConfig) -> SsoToken | None:
        """The cached token of `session`, or None (missing, unreadable JSON, other start URL)."""
        data = self._read_json(self.token_path(session))
        token = SsoToken.from_json(data)
        if token is None:
            return None
        if token.start_url and token.start_url.rstrip("/") != session.start_url.rstrip("/"):
            # The session was pointed at another portal since this token was issued.
            log.info("cached SSO token of %s is for another start URL; ignored", session.label)
            return None
        return token

    def save(self, session: SsoSessionConfig, token: SsoToken) -> None:
        """Write the token file (atomic, 0600). The caller holds `session_lock(session)`."""
        data = json.dumps(token.to_json()).encode("utf-8")
        fileio.atomic_write(self.token_path(session), data)

    def remove(self, session: SsoSessionConfig) -> bool:
        """Delete the token file (caller holds the session lock). True when there was one."""
        return self._unlink(self.token_path(session))

    def load_registration(self, session: SsoSessionConfig) -> ClientRegistration | None:
        return ClientRegistration.from_json(self._read_json(self.registration_path(session)))

    def save_registration(
        self, session: SsoSessionConfig, registration: ClientRegistration
    ) -> None:
        path = self.registration_path(session)
        with fileio.file_lock(path):
            fileio.atomic_write(path, json.dumps(registration.to_json()).encode("utf-8"))

    def token_files(self) -> dict[Path, SsoToken]:
        """Every token file in the folder (any tool's), for `logout --all`."""
        found: dict[Path, SsoToken] = {}
        if not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob("*.json")):
            token = SsoToken.from_json(self._read_json(path))
            if token is not None and token.start_url:
                found[path] = token
        return found

    def remove_file(self, path: Path) -> bool:
        with fileio.file_lock(path):
            return self._unlink(path)

    @contextlib.contextmanager
    def session_lock(self, session: SsoSessionConfig, *, timeout: float) -> Iterator[None]:
        """Hold the session's lock (threads, then processes), waiting at most `timeout` s.

        Raises SignInNeededError when another sign-in of the session outlasts the wait.
        """
        path = self.token_path(session)
        deadline = time.monotonic() + timeout
        thread_lock = _thread_lock(path.absolute())
        if not thread_lock.acquire(timeout=max(timeout, 0.0)):
            raise _busy(session)
        try:
            with contextlib.ExitStack() as stack:
                try:
                    left = max(deadline - time.monotonic(), 0.01)
                    stack.enter_context(fileio.file_lock(path, timeout=left))
                except CredentialsFileError:
                    raise _busy(session) from None
                yield
        finally:
            thread_lock.release()

    @staticmethod
    def _read_json(path: Path) -> Mapping[str, Any] | None:
        raw = fileio.read_bytes(path)
        if raw is None:
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            log.warning("ignoring unreadable SSO cache file %s", path)
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def _unlink(path: Path) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def _busy(session: SsoSessionConfig) -> SignInNeededError:
    return SignInNeededError(
        f"sign-in for SSO session {session.label} is still in progress in another window.",
        hint="Finish or cancel it, then try again.",
    )
