"""The SSO token service: one token per SSO session, shared by every profile, thread and process.

`access_token` is what providers use: the cached token, renewed with its refresh token when it
has under 15 minutes left (like botocore's SSOTokenProvider), else SignInNeededError. It never
starts a browser sign-in (RFC 8628 §3.10): only `sign_in`, called by `traycred login` and the
tray's "Sign in" action, does. Both run under the session's lock (threads and processes), re-read
the cache under it, and so a burst of requests makes one renewal or one sign-in, not a storm.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from traycred import aws
from traycred.config import SsoSessionConfig
from traycred.credentials import utcnow
from traycred.errors import AwsError, NetworkError, SignInNeededError, TraycredError
from traycred.prompt.base import Prompter, SignInRequest
from traycred.sso.browser import check_url
from traycred.sso.device_flow import CLIENT_REJECTED, DeviceFlow
from traycred.sso.token_cache import ClientRegistration, SsoToken, TokenCache, wanted_scopes

log = logging.getLogger(__name__)

# Renew a token with its refresh token once it has less than this left (botocore's window).
ADVISORY_REFRESH = timedelta(minutes=15)
# A token with less than this left is not handed out: GetRoleCredentials needs a moment.
MANDATORY_REFRESH = timedelta(minutes=1)
# A cached client registration is replaced when it expires within this window (the AWS CLI's).
REGISTRATION_WINDOW = timedelta(minutes=15)
# How long a renewal waits for another thread's or process's sign-in or renewal to finish.
LOCK_TIMEOUT = 60.0
# How long a sign-in waits for another one of the same session (device codes live 10 min).
SIGN_IN_WAIT = 15 * 60.0


def sign_in_hint(session: SsoSessionConfig) -> str:
    """The command that signs in to `session`, for messages."""
    if session.legacy:
        return "run `traycred login PROFILE` for a profile that uses it"
    return f"run `traycred login --sso-session {session.name}`"


def sign_in_needed(session: SsoSessionConfig) -> SignInNeededError:
    return SignInNeededError(
        f"sign-in needed for SSO session {session.label}: {sign_in_hint(session)}",
        session=session.name,
    )


@dataclass(frozen=True)
class LogoutResult:
    """What `logout` did for one session: had a token, told the portal, removed the file."""

    session: str
    had_token: bool
    portal_logout: bool
    error: str | None = None


class SsoTokenService:
    """Tokens of every SSO session, from the shared cache. Thread-safe; one per process is enough.

    Every argument has a default (the user's cache folder, the real clock); tests inject them.
    """

    def __init__(
        self,
        cache: TokenCache | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        lock_timeout: float = LOCK_TIMEOUT,
        sign_in_wait: float = SIGN_IN_WAIT,
        cancel_check_seconds: float = 0.25,
    ) -> None:
        self.cache = cache or TokenCache()
        self._clock = clock
        self._sleep = sleep
        self._lock_timeout = lock_timeout
        self._sign_in_wait = sign_in_wait
        self._cancel_check = cancel_check_seconds
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()

    # -- what providers use ------------------------------------------------------------------

    def cached_token(self, session: SsoSessionConfig) -> SsoToken | None:
        """The cached token as it is (maybe expired), or None. No network, no lock."""
        return self.cache.load(session)

    def token(self, session: SsoSessionConfig) -> SsoToken:
        """A token with time left, renewed first when under 15 min; else SignInNeededError."""
        token = self.cache.load(session)
        if token is not None and token.remaining(self._clock()) > ADVISORY_REFRESH:
            return token
        with self.cache.session_lock(session, timeout=self._lock_timeout):
            # Another thread or process may have renewed or signed in while we waited.
            token = self.cache.load(session)
            now = self._clock()
            if token is None:
                raise sign_in_needed(session)
            if token.remaining(now) > ADVISORY_REFRESH:
                return token
            if token.can_refresh(now):
                try:
                    renewed = self._flow(session).refresh(token)
                except NetworkError:
                    if token.remaining(now) > MANDATORY_REFRESH:
                        return token
                    raise
                except AwsError as exc:
                    # The refresh token was refused: the SSO session has ended.
                    log.info("renewing SSO token of %s failed: %s", session.label, exc)
                else:
                    self.cache.save(session, renewed)
                    log.info("renewed SSO token of %s", session.label)
                    return renewed
            if token.remaining(now) > MANDATORY_REFRESH:
                return token
            raise sign_in_needed(session)

    def access_token(self, session: SsoSessionConfig) -> str:
        """The access token for portal calls (GetRoleCredentials, ListAccounts, ...)."""
        return self.token(session).access_token

    def invalidate(self, session: SsoSessionConfig, access_token: str) -> None:
        """Drop the cached token after the portal refused it (revoked), unless replaced since."""
        with self.cache.session_lock(session, timeout=self._lock_timeout):
            current = self.cache.load(session)
            if current is not None and current.access_token == access_token:
                self.cache.remove(session)
                log.info("dropped the revoked SSO token of %s", session.label)

    # -- sign-in, logout ----------------------------------------------------------------------

    def sign_in(
        self,
        session: SsoSessionConfig,
        prompter: Prompter,
        *,
        profiles: Sequence[str] = (),
    ) -> SsoToken:
        """Sign in with the device flow and cache the token; returns it.

        When another thread or process signs in to the same session meanwhile, this waits for it
        and returns its token instead of starting a second sign-in.
        """
        before = self.cache.load(session)
        with self.cache.session_lock(session, timeout=self._sign_in_wait):
            current = self.cache.load(session)
            if (
                current is not None
                and current != before
                and current.remaining(self._clock()) > ADVISORY_REFRESH
            ):
                log.info("SSO session %s was signed in by another process", session.label)
                return current
            token = self._device_sign_in(session, prompter, tuple(profiles))
            self.cache.save(session, token)
            return token

    def logout(self, session: SsoSessionConfig) -> LogoutResult:
        """End the portal session (Logout), then remove the cached token."""
        with self.cache.session_lock(session, timeout=self._lock_timeout):
            token = self.cache.load(session)
            if token is None:
                self.cache.remove(session)
                return LogoutResult(session.label, had_token=False, portal_logout=False)
            told, error = self._portal_logout(token.region or session.region, token)
            self.cache.remove(session)
            return LogoutResult(session.label, True, told, error)

    def logout_file(self, path: Any, token: SsoToken) -> LogoutResult:
        """`logout --all` for a token file of a session not in the config (any tool's)."""
        told, error = self._portal_logout(token.region, token)
        self.cache.remove_file(path)
        return LogoutResult(token.start_url, True, told, error)

    # -- plumbing -----------------------------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        """A cached unsigned botocore client (`sso-oidc` or `sso`); clients are thread-safe."""
        key = (service, region)
        with self._clients_lock:
            found = self._clients.get(key)
            if found is None:
                found = self._clients[key] = aws.client(service, region=region)
            return found

    def _flow(self, session: SsoSessionConfig) -> DeviceFlow:
        return DeviceFlow(
            self.client("sso-oidc", session.region),
            session,
            clock=self._clock,
            sleep=self._sleep,
            cancel_check_seconds=self._cancel_check,
        )

    def _registration(
        self, session: SsoSessionConfig, flow: DeviceFlow
    ) -> tuple[ClientRegistration, bool]:
        """(registration, came from the cache): reuse a cached one until it expires."""
        cached = self.cache.load_registration(session)
        wanted = wanted_scopes(session)
        if cached is not None and cached.is_usable(wanted, self._clock(), REGISTRATION_WINDOW):
            return cached, True
        fresh = flow.register()
        self.cache.save_registration(session, fresh)
        return fresh, False

    def _device_sign_in(
        self, session: SsoSessionConfig, prompter: Prompter, profiles: tuple[str, ...]
    ) -> SsoToken:
        flow = self._flow(session)
        registration, from_cache = self._registration(session, flow)
        try:
            authorization = flow.authorize(registration)
        except AwsError as exc:
            if not (from_cache and exc.code in CLIENT_REJECTED):
                raise
            # The portal forgot the cached client (deleted, or another region's): register anew.
            registration = flow.register()
            self.cache.save_registration(session, registration)
            authorization = flow.authorize(registration)
        check_url(authorization.verification_uri_complete)
        request = SignInRequest(
            session=session.label,
            profiles=profiles,
            user_code=authorization.user_code,
            verification_uri=authorization.verification_uri,
            verification_uri_complete=authorization.verification_uri_complete,
            expires_at=authorization.expires_at,
        )
        prompter.sign_in_started(request)
        try:
            token = flow.poll(registration, authorization, prompter.sign_in_cancelled)
        except TraycredError as exc:
            prompter.sign_in_finished(request, exc.message)
            raise
        except KeyboardInterrupt:
            prompter.sign_in_finished(request, "cancelled")
            raise
        prompter.sign_in_finished(request, None)
        return token

    def _portal_logout(self, region: str, token: SsoToken) -> tuple[bool, str | None]:
        portal = self.client("sso", region)
        try:
            aws.call(
                lambda: portal.logout(accessToken=token.access_token),
                what="Signing out of the SSO portal",
            )
        except AwsError as exc:
            if exc.code == "UnauthorizedException":
                return True, None  # already ended on the portal's side
            return False, exc.message
        except NetworkError as exc:
            return False, exc.message
        return True, None
