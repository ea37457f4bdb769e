"""sts:AssumeRole for a `role_arn` profile, signed by its source's credentials (any chain depth)."""

from __future__ import annotations

import getpass
import logging
import re
from typing import Any

from traycred import aws
from traycred.credentials import Credentials
from traycred.errors import AwsError
from traycred.prompt.base import Prompter
from traycred.providers import with_backoff
from traycred.providers.base import Provider
from traycred.providers.session_token import (
    EXPIRED_SESSION_CODES,
    ask_for_code,
    credentials_from_sts,
)

log = logging.getLogger(__name__)

# AWS allows at most one hour for a role session whose caller is itself a role session.
CHAINED_ROLE_MAX_SECONDS = 3600
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]", re.ASCII)


def default_session_name(user: str | None = None) -> str:
    """`traycred-<local user>`, reduced to AWS's RoleSessionName charset and 2-64 characters."""
    if user is None:
        try:
            user = getpass.getuser()
        except (KeyError, OSError, ImportError):
            user = "user"
    return sanitize_session_name(f"traycred-{user}")


def sanitize_session_name(name: str) -> str:
    cleaned = _SESSION_NAME_BAD.sub("-", name)[:64]
    return cleaned if len(cleaned) >= 2 else "traycred"


class AssumeRoleProvider:
    """AssumeRole of `role_arn` for `profile`, with credentials from `source`.

    `mfa_serial` is passed to AssumeRole only when the source cannot carry MFA itself (an SSO,
    process or environment source); a role on a long-term key gets MFA through the source's MFA
    session instead. When AWS says the source's session is expired, the source is invalidated and
    the call tried once more.
    """

    def __init__(
        self,
        *,
        profile: str,
        role_arn: str,
        source: Provider,
        duration_seconds: int | None,
        session_name: str,
        external_id: str | None = None,
        chained: bool = False,
        mfa_serial: str | None = None,
        prompter: Prompter | None = None,
        region: str | None = None,
        client_profile: str | None = None,
    ) -> None:
        self.profile = profile
        self.client_profile = client_profile
        self.role_arn = role_arn
        self.source = source
        self.chained = chained
        if chained and duration_seconds is not None:
            duration_seconds = min(duration_seconds, CHAINED_ROLE_MAX_SECONDS)
        self.duration_seconds = duration_seconds
        self.session_name = session_name
        self.external_id = external_id
        self.mfa_serial = mfa_serial
        self.prompter = prompter
        self.region = region

    def retrieve(self) -> Credentials:
        caller = self.source.retrieve()
        try:
            return self._assume(caller)
        except AwsError as exc:
            invalidate = getattr(self.source, "invalidate", None)
            if exc.code not in EXPIRED_SESSION_CODES or invalidate is None:
                raise
            log.info(
                "the session signing %s was refused (%s); asking again", self.profile, exc.code
            )
            invalidate()
            return self._assume(self.source.retrieve())

    def invalidate(self) -> None:
        """Pass an expired-session signal down the chain to the MFA session at its base."""
        invalidate = getattr(self.source, "invalidate", None)
        if invalidate is not None:
            invalidate()

    def _assume(self, caller: Credentials) -> Credentials:
        if self.mfa_serial is None:
            return self._call(caller, None)
        return ask_for_code(
            self.prompter,
            profiles=(self.profile,),
            mfa_serial=self.mfa_serial,
            attempt=lambda code: self._call(caller, code),
        )

    def _call(self, caller: Credentials, code: str | None) -> Credentials:
        params: dict[str, Any] = {"RoleArn": self.role_arn, "RoleSessionName": self.session_name}
        if self.duration_seconds is not None:
            params["DurationSeconds"] = self.duration_seconds
        if self.external_id is not None:
            params["ExternalId"] = self.external_id
        if code is not None and self.mfa_serial is not None:
            params.update(SerialNumber=self.mfa_serial, TokenCode=code)
        what = f"AssumeRole of {self.role_arn} for profile {self.profile}"

        def call() -> Credentials:
            client = self._client(caller)
            answer = aws.call(lambda: client.assume_role(**params), what=what)
            return credentials_from_sts(answer["Credentials"])

        try:
            return with_backoff(call)
        except AwsError as exc:
            if exc.code == "AccessDenied" and code is None:
                raise self._denied(exc, caller) from None
            if (
                exc.code == "ValidationError"
                and "MaxSessionDuration" in exc.message
                and (self.duration_seconds or 0) > CHAINED_ROLE_MAX_SECONDS
            ):
                # The role allows less than asked: one hour is always allowed.
                log.warning(
                    "%s allows less than %s s; using %s s",
                    self.role_arn,
                    self.duration_seconds,
                    CHAINED_ROLE_MAX_SECONDS,
                )
                params["DurationSeconds"] = CHAINED_ROLE_MAX_SECONDS
                return with_backoff(call)
            raise

    def _client(self, caller: Credentials) -> Any:
        return aws.client(
            "sts", region=self.region, credentials=caller, profile=self.client_profile
        )

    def _denied(self, exc: AwsError, caller: Credentials) -> AwsError:
        """AccessDenied, naming the role and who asked (AWS's message usually says who)."""
        identity = self._caller_arn(caller) if "User: " not in exc.message else None
        who = f" Caller: {identity}." if identity else ""
        return AwsError(
            f"{exc.message}{who}",
            code=exc.code,
            hint=f"Check that the trust policy of {self.role_arn} allows this caller (and any "
            "MFA or external id it requires).",
        )

    def _caller_arn(self, caller: Credentials) -> str:
        try:
            client = self._client(caller)
            answer = aws.call(client.get_caller_identity, what="GetCallerIdentity")
            return str(answer["Arn"])
        except Exception:  # a best-effort detail for an error message already being raised
            return f"access key {caller.access_key_id}"
