"""Long-term access keys (and MFA sessions) in the OS keyring, with a timeout on every call.

Service name `traycred` (overridable with TRAYCRED_KEYRING_SERVICE). An auto-selected plaintext
backend is refused; a missing, locked or hung keyring gives KeyringError within seconds.

Layout under the service: `key:<profile>` holds {"aws_access_key_id", "aws_secret_access_key"},
`session:<name>` holds {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} and,
because the keyring API cannot list entries, `__profiles__` holds the index {profile: key id}.
A copy of the index's profile names (no key ids, no secrets) is kept in the state folder, so
classifying profiles (`profile_names`) does not load the keyring stack (~18 MB) in a tray or daemon
that is only idling; the keyring stays the source of truth and refreshes that copy when read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from traycred.credentials import Credentials, format_iso, parse_iso
from traycred.errors import KeyringError, TraycredError

DEFAULT_SERVICE = "traycred"
DEFAULT_TIMEOUT_SECONDS = 5.0
SERVICE_ENV = "TRAYCRED_KEYRING_SERVICE"
INDEX_USERNAME = "__profiles__"
KEY_PREFIX = "key:"
SESSION_PREFIX = "session:"

_T = TypeVar("_T")
log = logging.getLogger(__name__)

# Backends already warned about (plaintext chosen explicitly): the warning is once per process.
_warned_plaintext: set[str] = set()
_warned_lock = threading.Lock()

_WHAT_TO_DO = (
    "Start gnome-keyring (or another Secret Service such as KeePassXC) in your desktop session, "
    "or name a keyring backend with PYTHON_KEYRING_BACKEND."
)


@dataclass(frozen=True)
class BackendChoice:
    """The keyring backend in use and how it was chosen (for messages and `doctor`)."""

    backend: Any  # keyring.backend.KeyringBackend (typed loosely: keyring is imported lazily)
    chosen_by: str  # "PYTHON_KEYRING_BACKEND", the keyringrc.cfg path, or "auto"
    plaintext: bool

    @property
    def explicit(self) -> bool:
        return self.chosen_by != "auto"

    @property
    def name(self) -> str:
        return describe_backend(self.backend)


def describe_backend(backend: Any) -> str:
    """'SecretService Keyring (keyring.backends.SecretService)'."""
    cls = type(backend)
    try:
        label = str(cls.name)
    except Exception:
        label = cls.__name__
    return f"{label} ({cls.__module__})"


def is_plaintext_backend(backend: Any) -> bool:
    """True for a backend that stores secrets unencrypted.

    Recognised by an explicit `plaintext = True` or `encrypted = False` class attribute, by
    keyrings.alt's "no encyption" scheme (sic), or by "plaintext" in the class name.
    """
    cls = type(backend)
    if getattr(cls, "plaintext", False) is True or getattr(cls, "encrypted", True) is False:
        return True
    scheme = getattr(cls, "scheme", None)
    if isinstance(scheme, str) and "no enc" in scheme.lower():
        return True
    return "plaintext" in cls.__name__.lower()


def _chained(backend: Any) -> list[Any]:
    """The member backends of a ChainerBackend (empty for any other backend)."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        return list(backend.backends)
    return []


def _is_null(backend: Any) -> bool:
    from keyring.backends import fail, null

    return isinstance(backend, fail.Keyring | null.Keyring)


def _load_named(name: str, chosen_by: str) -> Any:
    from keyring.core import load_keyring

    try:
        return load_keyring(name)
    except Exception as exc:
        detail = _first_line(str(exc)) or type(exc).__name__
        raise KeyringError(
            f"The keyring backend {name} named by {chosen_by} cannot be used: {detail}.",
            hint="Fix or remove that setting, or start the service it needs "
            "(for SecretService: gnome-keyring on your D-Bus session).",
        ) from None


def _config_choice() -> tuple[str, str] | None:
    """(backend name, config file path) when keyring's own keyringrc.cfg names a backend."""
    import configparser

    from keyring.util import platform_

    path = Path(platform_.config_root()) / "keyringrc.cfg"
    parser = configparser.RawConfigParser()
    try:
        if not parser.read(path, encoding="utf-8"):
            return None
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        raise KeyringError(
            f"keyring's config file {path} cannot be read: {_first_line(str(exc))}.",
            hint="Fix or remove it.",
        ) from None
    name = parser.get("backend", "default-keyring", fallback="").strip()
    if not name:
        return None
    keyring_path = parser.get("backend", "keyring-path", fallback="").strip()
    if keyring_path:
        import sys

        expanded = os.path.expanduser(keyring_path)
        if expanded not in sys.path:
            sys.path.insert(0, expanded)
    return name, str(path)


def choose_backend() -> BackendChoice:
    """Pick the backend as keyring would, but refuse an auto-selected plaintext one.

    A plaintext backend is allowed only when named explicitly (PYTHON_KEYRING_BACKEND or
    keyringrc.cfg); a chainer that was auto-selected is narrowed to its encrypted members.
    """
    env_name = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()
    if env_name:
        backend = _load_named(env_name, "PYTHON_KEYRING_BACKEND")
        chosen_by = "PYTHON_KEYRING_BACKEND"
    else:
        configured = _config_choice()
        if configured is not None:
            backend = _load_named(configured[0], configured[1])
            chosen_by = configured[1]
        else:
            from keyring.backend import by_priority, get_all_keyring
            from keyring.backends import fail

            fallback: Any = fail.Keyring()  # type: ignore[no-untyped-call]
            backend = max(get_all_keyring(), default=fallback, key=by_priority)
            chosen_by = "auto"

    if _is_null(backend):
        if chosen_by == "auto":
            why = "keyring found no usable backend (on Linux: no Secret Service answered on D-Bus)"
        else:
            why = f"{chosen_by} names {describe_backend(backend)}, which stores nothing"
        raise KeyringError(f"No OS keyring is available: {why}.", hint=_WHAT_TO_DO)

    members = _chained(backend)
    if chosen_by == "auto":
        if members:
            encrypted = [m for m in members if not is_plaintext_backend(m) and not _is_null(m)]
            if not encrypted:
                _refuse_plaintext(members[0])
            # keyring's chainer writes to its first member; keep that order, minus plaintext.
            backend = encrypted[0]
        elif is_plaintext_backend(backend):
            _refuse_plaintext(backend)
        return BackendChoice(backend, chosen_by, plaintext=False)

    plaintext = is_plaintext_backend(backend) or any(is_plaintext_backend(m) for m in members)
    if plaintext:
        name = describe_backend(backend)
        with _warned_lock:
            first = name not in _warned_plaintext
            _warned_plaintext.add(name)
        if first:
            log.warning(
                "the keyring backend %s (chosen with %s) stores keys UNENCRYPTED on disk.",
                name,
                chosen_by,
            )
    return BackendChoice(backend, chosen_by, plaintext=plaintext)


def _refuse_plaintext(backend: Any) -> None:
    cls = type(backend)
    raise KeyringError(
        f"The only keyring available is {describe_backend(backend)}, which stores keys "
        "unencrypted; traycred does not use it unless you choose it.",
        hint=f"Start gnome-keyring (or another Secret Service), or accept plaintext storage "
        f"with PYTHON_KEYRING_BACKEND={cls.__module__}.{cls.__name__}.",
    )


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = line.rstrip(".")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _safe_service_name(service: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", service)[:100] or "traycred"


class Keystore:
    """traycred's entries in the OS keyring. Every keyring call is bounded by `timeout` seconds.

    Instances are cheap and thread-safe; the backend is chosen on first use.
    """

    def __init__(
        self, service: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self.service = service or os.environ.get(SERVICE_ENV) or DEFAULT_SERVICE
        self.timeout = timeout
        self._choice: BackendChoice | None = None
        self._choice_lock = threading.Lock()
        self._index_lock = threading.Lock()

    # -- backend -----------------------------------------------------------------------------

    def choice(self) -> BackendChoice:
        """The backend in use and how it was chosen; KeyringError when there is none usable."""
        return self._run("open the keyring", lambda choice: choice)

    def backend_name(self) -> str:
        """E.g. 'SecretService Keyring (keyring.backends.SecretService)'."""
        return self.choice().name

    def _resolve(self) -> BackendChoice:
        with self._choice_lock:
            if self._choice is None:
                self._choice = choose_backend()
            return self._choice

    def _run(
        self, what: str, operation: Callable[[BackendChoice], _T], secrets: Iterable[str] = ()
    ) -> _T:
        """Run `operation` in a worker thread joined with the timeout; map every failure.

        The worker is a daemon thread: a keyring that never answers is abandoned, not waited on
        (the process can still exit), and the user gets a message instead of a hang.
        """
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["value"] = operation(self._resolve())
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=work, name=f"keyring: {what}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise KeyringError(
                f"{self._who()} did not answer within {self.timeout:g} s when asked to {what}.",
                hint="It may be waiting for you to unlock it: unlock it and try again; if it "
                "stays stuck, restart the Secret Service (gnome-keyring-daemon) or choose "
                "another backend with PYTHON_KEYRING_BACKEND.",
            )
        if "error" in outcome:
            raise self._translate(outcome["error"], what, list(secrets)) from None
        value: _T = outcome["value"]
        return value

    def _who(self) -> str:
        """The backend for messages: 'SecretService Keyring (keyring.backends.SecretService)'."""
        return self._choice.name if self._choice is not None else "The OS keyring"

    def _translate(self, exc: BaseException, what: str, secrets: list[str]) -> BaseException:
        if isinstance(exc, TraycredError):
            return exc
        if not isinstance(exc, Exception):
            return exc  # KeyboardInterrupt, SystemExit: not ours to rename
        from keyring import errors

        who = self._who()
        detail = _scrub(_first_line(str(exc)), secrets) or type(exc).__name__
        if isinstance(exc, errors.KeyringLocked):
            return KeyringError(
                f"{who} is locked, so traycred could not {what}.",
                hint="Unlock it (log in to your desktop session, or open Passwords and Keys / "
                "seahorse) and try again.",
            )
        if isinstance(exc, errors.NoKeyringError):
            return KeyringError(f"No OS keyring is available ({who}).", hint=_WHAT_TO_DO)
        if isinstance(exc, errors.InitError):
            return KeyringError(
                f"{who} could not be opened to {what}: {detail}.",
                hint="Unlock it, or start gnome-keyring with an unlocked login keyring, "
                "or name another backend with PYTHON_KEYRING_BACKEND.",
            )
        kind = "" if isinstance(exc, errors.KeyringError) else f"{type(exc).__name__}: "
        return KeyringError(
            f"{who} failed to {what}: {kind}{detail}.",
            hint="Check that it is running and unlocked, or name another backend with "
            "PYTHON_KEYRING_BACKEND.",
        )

    # -- raw entries -------------------------------------------------------------------------

    def _get(self, username: str, what: str) -> str | None:
        def op(choice: BackendChoice) -> str | None:
            value: str | None = choice.backend.get_password(self.service, username)
            return value

        return self._run(what, op)

    def _set(self, username: str, value: str, what: str, secrets: Iterable[str] = ()) -> None:
        def op(choice: BackendChoice) -> None:
            choice.backend.set_password(self.service, username, value)

        self._run(what, op, secrets=[value, *secrets])

    def _delete(self, username: str, what: str) -> bool:
        def op(choice: BackendChoice) -> bool:
            from keyring.errors import PasswordDeleteError

            # Asking first keeps "absent" apart from "cannot delete" on every backend.
            if choice.backend.get_password(self.service, username) is None:
                return False
            try:
                choice.backend.delete_password(self.service, username)
            except PasswordDeleteError:
                return False
            return True

        return self._run(what, op)

    # -- index -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _index_guard(self) -> Any:
        """Serialise index read-modify-writes within and across processes."""
        from traycred import fileio, paths

        with self._index_lock:
            lock_target = paths.state_dir() / f"keyring-{_safe_service_name(self.service)}"
            with fileio.file_lock(lock_target):
                yield

    def _read_index(self) -> dict[str, str]:
        raw = self._get(INDEX_USERNAME, "read the list of stored keys")
        if raw is None:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("the keyring index of stored keys is damaged; starting a new one.")
            return {}
        return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}

    def _write_index(self, index: dict[str, str]) -> None:
        if index:
            text = json.dumps(dict(sorted(index.items())), separators=(",", ":"))
            self._set(INDEX_USERNAME, text, "update the list of stored keys")
        else:
            self._delete(INDEX_USERNAME, "update the list of stored keys")
        self._write_names(index)

    def _names_path(self) -> Path:
        from traycred import paths

        return paths.state_dir() / f"keyring-{_safe_service_name(self.service)}-profiles.json"

    def _read_names(self) -> frozenset[str] | None:
        from traycred import fileio

        try:
            raw = fileio.read_bytes(self._names_path())
            data = json.loads(raw) if raw is not None else None
        except (TraycredError, ValueError):
            data = None
        names = data.get("profiles") if isinstance(data, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return None
        return frozenset(names)

    def _write_names(self, index: dict[str, str]) -> None:
        """Mirror the index's names to the state folder (best effort: the keyring is the truth)."""
        from traycred import fileio

        names = sorted(index)
        if self._read_names() == frozenset(names):
            return
        path = self._names_path()
        text = json.dumps({"service": self.service, "profiles": names}, indent=1) + "\n"
        try:
            with fileio.file_lock(path):
                fileio.atomic_write(path, text.encode())
        except TraycredError as exc:
            log.debug("cannot keep the list of keyring profiles in %s: %s", path, exc)

    def profiles(self) -> dict[str, str]:
        """Profile name -> access key id of every stored long-term key (no secrets)."""
        index = self._read_index()
        self._write_names(index)
        return index

    def profile_names(self) -> frozenset[str]:
        """Names of the profiles with a stored key, without opening the keyring when possible.

        Read from the state folder's copy of the index (written whenever traycred reads or
        changes the index); from the keyring itself when that copy is missing or damaged.
        """
        names = self._read_names()
        return names if names is not None else frozenset(self.profiles())

    # -- long-term keys ----------------------------------------------------------------------

    def get_key(self, profile: str) -> Credentials | None:
        raw = self._get(KEY_PREFIX + profile, f"read the key of profile {profile}")
        if raw is None:
            self.profiles()  # removed behind traycred's back: the names copy follows the index
            return None
        try:
            data = json.loads(raw)
            key = Credentials(
                access_key_id=str(data["aws_access_key_id"]),
                secret_access_key=str(data["aws_secret_access_key"]),
            )
        except (ValueError, KeyError, TypeError):
            raise KeyringError(
                f"The keyring entry for profile {profile} is not a traycred access key.",
                hint=f"Remove it with `traycred keys remove {profile}` and add the key again.",
            ) from None
        return key

    def set_key(self, profile: str, key: Credentials) -> None:
        """Store a long-term key (no session token) for `profile`."""
        if key.session_token is not None or key.access_key_id.upper().startswith("ASIA"):
            raise TraycredError(
                f"Refusing to store temporary credentials ({key.access_key_id}) as the "
                f"long-term key of profile {profile}: they expire.",
                hint="Store a long-term access key (an id starting with AKIA) instead.",
            )
        if not profile:
            raise TraycredError("A profile name is needed to store a key.")
        payload = json.dumps(
            {
                "aws_access_key_id": key.access_key_id,
                "aws_secret_access_key": key.secret_access_key,
            }
        )
        with self._index_guard():
            self._set(
                KEY_PREFIX + profile,
                payload,
                f"store the key of profile {profile}",
                secrets=[key.secret_access_key],
            )
            index = self._read_index()
            if index.get(profile) != key.access_key_id:
                index[profile] = key.access_key_id
                self._write_index(index)

    def delete_key(self, profile: str) -> bool:
        """Delete the key of `profile`; False when there was none."""
        with self._index_guard():
            deleted = self._delete(KEY_PREFIX + profile, f"delete the key of profile {profile}")
            index = self._read_index()
            if profile in index:
                del index[profile]
                self._write_index(index)
                deleted = True
        return deleted

    # -- MFA sessions ------------------------------------------------------------------------

    def get_session(self, name: str) -> Credentials | None:
        """Temporary credentials stored under `name` (an MFA session); None if absent or expired.

        An expired or unreadable session is deleted on the way.
        """
        raw = self._get(SESSION_PREFIX + name, f"read the MFA session {name}")
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            expiration = data.get("Expiration")
            session = Credentials(
                access_key_id=str(data["AccessKeyId"]),
                secret_access_key=str(data["SecretAccessKey"]),
                session_token=str(data["SessionToken"]),
                expiration=parse_iso(expiration) if expiration else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("the stored MFA session %s is unreadable; dropping it.", name)
            self.delete_session(name)
            return None
        if session.is_expired():
            self.delete_session(name)
            return None
        return session

    def set_session(self, name: str, credentials: Credentials) -> None:
        if credentials.session_token is None:
            raise TraycredError(
                f"Refusing to store a long-term key ({credentials.access_key_id}) as the MFA "
                f"session {name}.",
                hint="Only temporary credentials with a session token are sessions.",
            )
        payload = json.dumps(
            {
                "AccessKeyId": credentials.access_key_id,
                "SecretAccessKey": credentials.secret_access_key,
                "SessionToken": credentials.session_token,
                "Expiration": (
                    format_iso(credentials.expiration) if credentials.expiration else None
                ),
            }
        )
        self._set(
            SESSION_PREFIX + name,
            payload,
            f"store the MFA session {name}",
            secrets=[credentials.secret_access_key, credentials.session_token],
        )

    def delete_session(self, name: str) -> bool:
        return self._delete(SESSION_PREFIX + name, f"delete the MFA session {name}")
