"""Long-term key -> sts:GetSessionToken, with the MFA session kept for every role built on it.

One MFA prompt per source identity per MFA session (SPEC §3): the session is cached in memory and
in the keyring under `mfa:<base profile>` until it is about to expire, and a per-base lock makes
concurrent callers wait for the one prompt instead of asking again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from traycred import aws
from traycred.credentials import Credentials
from traycred.errors import AwsError, KeyringError
from traycred.prompt.base import MfaRequest, Prompter, is_valid_mfa_code
from traycred.providers import with_backoff
from traycred.providers.base import Provider

if TYPE_CHECKING:
    from traycred.keystore import Keystore

_T = TypeVar("_T")
log = logging.getLogger(__name__)

# Like botocore's mandatory refresh window: an MFA session with less left than this is not used
# to sign new role sessions, so a role is never assumed with credentials about to lapse.
MFA_SESSION_MARGIN = timedelta(minutes=10)
MFA_ATTEMPTS = 3
# AWS's answers when the signing session is no longer valid (expired, or revoked/unknown).
EXPIRED_SESSION_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"})
MALFORMED_CODE_MESSAGE = "An MFA code is six digits."


def mfa_session_name(base: str) -> str:
    """The keyring entry holding the MFA session of base profile `base`."""
    return f"mfa:{base}"


def credentials_from_sts(data: Mapping[str, Any]) -> Credentials:
    """The `Credentials` member of a GetSessionToken/AssumeRole answer, as botocore parsed it."""
    return Credentials(
        access_key_id=str(data["AccessKeyId"]),
        secret_access_key=str(data["SecretAccessKey"]),
        session_token=str(data["SessionToken"]),
        expiration=data["Expiration"],
    )


def ask_for_code(
    prompter: Prompter | None,
    *,
    profiles: tuple[str, ...],
    mfa_serial: str,
    attempt: Callable[[str], _T],
) -> _T:
    """Ask for a code and run `attempt` with it; on a malformed or refused code, ask again.

    AWS's message for a refused code goes back to the prompter, which shows it or (when it cannot
    ask twice) raises. After MFA_ATTEMPTS refusals the last AWS error is raised.
    """
    from traycred.errors import MfaCodeNeededError

    if prompter is None:
        raise MfaCodeNeededError(
            f"An MFA code for {mfa_serial} is needed "
            f"(profile{'s' if len(profiles) > 1 else ''} {', '.join(profiles)}).",
            hint="Enter it from the tray menu, or run `traycred refresh` in a terminal "
            "(or with --mfa-code CODE).",
        )
    previous: str | None = None
    last_error: AwsError | None = None
    for _ in range(MFA_ATTEMPTS):
        code = prompter.mfa_code(MfaRequest(profiles, mfa_serial, previous)).strip()
        if not is_valid_mfa_code(code):
            previous = MALFORMED_CODE_MESSAGE
            last_error = AwsError(
                f"{MALFORMED_CODE_MESSAGE} Nothing was sent to AWS.", code="InvalidMfaCode"
            )
            continue
        try:
            return attempt(code)
        except AwsError as exc:
            if exc.code != "AccessDenied":
                raise
            previous = exc.message
            last_error = exc
    assert last_error is not None
    raise AwsError(
        last_error.message, code=last_error.code, hint="Wait for the next code and try again."
    )


class MfaSessionCache:
    """MFA sessions by base profile, in memory and in the keyring; thread-safe."""

    def __init__(self, keystore: Keystore | None, margin: timedelta = MFA_SESSION_MARGIN) -> None:
        self.keystore = keystore
        self.margin = margin
        self._memory: dict[str, Credentials] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, base: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(base, threading.Lock())

    def get(self, base: str) -> Credentials | None:
        """A session for `base` with more than the margin left, or None."""
        with self._guard:
            session = self._memory.get(base)
        if session is not None and not session.expires_within(self.margin):
            return session
        if self.keystore is None:
            return None
        try:
            stored = self.keystore.get_session(mfa_session_name(base))
        except KeyringError as exc:
            log.warning("cannot read the MFA session of %s from the keyring: %s", base, exc)
            return None
        if stored is None or stored.expires_within(self.margin):
            return None
        with self._guard:
            self._memory[base] = stored
        return stored

    def put(self, base: str, session: Credentials) -> None:
        with self._guard:
            self._memory[base] = session
        if self.keystore is None:
            return
        try:
            self.keystore.set_session(mfa_session_name(base), session)
        except KeyringError as exc:
            # The session still serves this process; only other processes will ask again.
            log.warning("cannot keep the MFA session of %s in the keyring: %s", base, exc)

    def drop(self, base: str) -> None:
        with self._guard:
            self._memory.pop(base, None)
        if self.keystore is None:
            return
        try:
            self.keystore.delete_session(mfa_session_name(base))
        except KeyringError as exc:
            log.warning("cannot delete the MFA session of %s from the keyring: %s", base, exc)


class SessionTokenProvider:
    """GetSessionToken signed by the long-term key of base profile `base`.

    With `mfa_serial`, the code comes from `prompter` and the session is cached for every role on
    this base; without it, each call asks AWS for a new plain session (nothing to save a prompt).
    """

    def __init__(
        self,
        *,
        base: str,
        key: Provider,
        mfa_serial: str | None,
        duration_seconds: int,
        prompter: Prompter | None,
        waiting: tuple[str, ...],
        cache: MfaSessionCache | None,
        region: str | None = None,
        client_profile: str | None = None,
    ) -> None:
        self.base = base
        self.client_profile = client_profile
        self.key = key
        self.mfa_serial = mfa_serial
        self.duration_seconds = duration_seconds
        self.prompter = prompter
        self.waiting = waiting
        self.cache = cache
        self.region = region

    def retrieve(self) -> Credentials:
        if self.cache is not None:
            # An MFA session of this identity serves everything, even what needs no MFA.
            cached = self.cache.get(self.base)
            if cached is not None:
                return cached
        if self.mfa_serial is None:
            return self._get_session_token(None)
        serial = self.mfa_serial
        if self.cache is None:
            return self._with_code(serial)
        with self.cache.lock(self.base):
            # Another thread may have got the session while this one waited for the lock.
            cached = self.cache.get(self.base)
            if cached is not None:
                return cached
            session = self._with_code(serial)
            self.cache.put(self.base, session)
            log.info("new MFA session for %s until %s", self.base, session.expiration)
            return session

    def invalidate(self) -> None:
        """AWS refused the cached session: forget it so the next retrieve asks again."""
        if self.cache is not None:
            self.cache.drop(self.base)

    def _with_code(self, serial: str) -> Credentials:
        return ask_for_code(
            self.prompter,
            profiles=self.waiting,
            mfa_serial=serial,
            attempt=self._get_session_token,
        )

    def _get_session_token(self, code: str | None) -> Credentials:
        key = self.key.retrieve()
        params: dict[str, Any] = {"DurationSeconds": self.duration_seconds}
        if code is not None and self.mfa_serial is not None:
            params.update(SerialNumber=self.mfa_serial, TokenCode=code)

        def call() -> Credentials:
            client = aws.client(
                "sts", region=self.region, credentials=key, profile=self.client_profile
            )
            answer = aws.call(
                lambda: client.get_session_token(**params),
                what=f"GetSessionToken for profile {self.base}",
            )
            return credentials_from_sts(answer["Credentials"])

        return with_backoff(call)
