"""The OAuth device authorization grant against SSO OIDC (RFC 8628), and refresh-token renewal.

RegisterClient (or a cached registration), StartDeviceAuthorization, then CreateToken polled at
the server's interval: `authorization_pending` waits, `slow_down` adds 5 s to the interval,
`expired_token` and `access_denied` end the sign-in, and so does the front end's cancel. Nothing
here touches files or the user: the token service caches, the Prompter shows.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from traycred import aws
from traycred.config import SsoSessionConfig
from traycred.credentials import utcnow
from traycred.errors import AwsError, CancelledError, NetworkError
from traycred.sso.token_cache import ClientRegistration, SsoToken, wanted_scopes

log = logging.getLogger(__name__)

CLIENT_NAME = "traycred"
CLIENT_TYPE = "public"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
# RFC 8628 §3.5: each slow_down adds 5 seconds; §3.2: 5 seconds when no interval is given.
SLOW_DOWN_STEP = 5
DEFAULT_INTERVAL = 5
# A zero interval from a server would make a busy loop; never poll faster than this.
MIN_INTERVAL = 0.2
# Consecutive unreachable-endpoint errors tolerated while polling before giving up.
MAX_NETWORK_ERRORS = 3

# CreateToken error codes that mean the registered client itself is no longer accepted.
CLIENT_REJECTED = ("InvalidClientException", "UnauthorizedClientException")


@dataclass(frozen=True)
class DeviceAuthorization:
    """A StartDeviceAuthorization answer; the device code is a secret."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: datetime
    interval: float


class DeviceFlow:
    """One SSO session's OIDC conversation, over an `sso-oidc` client of its region."""

    def __init__(
        self,
        oidc: Any,
        session: SsoSessionConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        cancel_check_seconds: float = 0.25,
    ) -> None:
        self._oidc = oidc
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self._cancel_check = cancel_check_seconds

    def register(self) -> ClientRegistration:
        """RegisterClient as a public client named `traycred`, with the session's scopes."""
        scopes = wanted_scopes(self._session)
        kwargs: dict[str, Any] = {"clientName": CLIENT_NAME, "clientType": CLIENT_TYPE}
        if scopes:
            kwargs["scopes"] = list(scopes)
        answer = aws.call(
            lambda: self._oidc.register_client(**kwargs),
            what=f"Registering traycred with SSO session {self._session.label}",
        )
        return ClientRegistration(
            client_id=answer["clientId"],
            client_secret=answer["clientSecret"],
            expires_at=datetime.fromtimestamp(int(answer["clientSecretExpiresAt"]), UTC),
            scopes=scopes,
        )

    def authorize(self, registration: ClientRegistration) -> DeviceAuthorization:
        """StartDeviceAuthorization: the user code and the page where the user approves it."""
        answer = aws.call(
            lambda: self._oidc.start_device_authorization(
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
                startUrl=self._session.start_url,
            ),
            what=f"Starting sign-in to SSO session {self._session.label}",
        )
        interval = answer.get("interval")
        return DeviceAuthorization(
            device_code=answer["deviceCode"],
            user_code=answer.get("userCode", ""),
            verification_uri=answer.get("verificationUri", ""),
            verification_uri_complete=answer.get("verificationUriComplete")
            or answer.get("verificationUri", ""),
            expires_at=self._clock() + timedelta(seconds=int(answer["expiresIn"])),
            interval=float(DEFAULT_INTERVAL if interval is None else interval),
        )

    def poll(
        self,
        registration: ClientRegistration,
        authorization: DeviceAuthorization,
        cancelled: Callable[[], bool],
    ) -> SsoToken:
        """Poll CreateToken until the user approves; raise on denial, expiry or cancel."""
        interval = max(authorization.interval, MIN_INTERVAL)
        network_errors = 0
        label = self._session.label
        while True:
            self._wait(interval, cancelled, authorization)
            try:
                answer = aws.call(
                    lambda: self._oidc.create_token(
                        grantType=DEVICE_GRANT,
                        clientId=registration.client_id,
                        clientSecret=registration.client_secret,
                        deviceCode=authorization.device_code,
                    ),
                    what=f"Signing in to SSO session {label}",
                )
            except NetworkError:
                network_errors += 1
                if network_errors > MAX_NETWORK_ERRORS:
                    raise
                continue
            except AwsError as exc:
                network_errors = 0
                if exc.code == "AuthorizationPendingException":
                    continue
                if exc.code == "SlowDownException":
                    interval += SLOW_DOWN_STEP
                    log.info("SSO asked to slow down; polling every %.0f s", interval)
                    continue
                if exc.code == "ExpiredTokenException":
                    raise _expired(label) from None
                if exc.code == "AccessDeniedException":
                    raise AwsError(
                        f"Sign-in to SSO session {label} was denied in the browser.",
                        code=exc.code,
                        hint="Run the sign-in again and approve the request.",
                    ) from None
                raise
            return self._token(answer, registration)

    def refresh(self, token: SsoToken) -> SsoToken:
        """CreateToken with the refresh_token grant; the caller checked `token.can_refresh()`."""
        assert token.client_id and token.client_secret and token.refresh_token
        answer = aws.call(
            lambda: self._oidc.create_token(
                grantType=REFRESH_GRANT,
                clientId=token.client_id,
                clientSecret=token.client_secret,
                refreshToken=token.refresh_token,
            ),
            what=f"Renewing the token of SSO session {self._session.label}",
        )
        registration = ClientRegistration(
            client_id=token.client_id,
            client_secret=token.client_secret,
            expires_at=token.registration_expires_at or self._clock(),
        )
        renewed = self._token(answer, registration)
        if renewed.refresh_token is None:
            # RFC 6749 §6: without a new refresh token the old one stays valid; keep it.
            renewed = dataclasses.replace(renewed, refresh_token=token.refresh_token)
        return renewed

    def _token(self, answer: dict[str, Any], registration: ClientRegistration) -> SsoToken:
        with_client = not self._session.legacy
        return SsoToken(
            start_url=self._session.start_url,
            region=self._session.region,
            access_token=answer["accessToken"],
            expires_at=self._clock() + timedelta(seconds=int(answer["expiresIn"])),
            refresh_token=answer.get("refreshToken") or None,
            client_id=registration.client_id if with_client else None,
            client_secret=registration.client_secret if with_client else None,
            registration_expires_at=registration.expires_at if with_client else None,
        )

    def _wait(
        self, seconds: float, cancelled: Callable[[], bool], authorization: DeviceAuthorization
    ) -> None:
        """Sleep `seconds`, checking the user's cancel and the code's expiry as it goes."""
        left = seconds
        while True:
            if cancelled():
                raise CancelledError(f"Sign-in to SSO session {self._session.label} cancelled.")
            if self._clock() >= authorization.expires_at:
                raise _expired(self._session.label)
            if left <= 0:
                return
            step = min(left, self._cancel_check)
            self._sleep(step)
            left -= step


def _expired(label: str) -> AwsError:
    return AwsError(
        f"The sign-in code for SSO session {label} expired before it was approved.",
        code="ExpiredTokenException",
        hint="Run the sign-in again and approve it in the browser within the time shown.",
    )
