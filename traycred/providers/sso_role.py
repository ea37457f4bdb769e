"""Credentials for sso-session and sso-legacy profiles: the session token, then GetRoleCredentials.

The token comes from the shared SsoTokenService (one per SSO session, renewed with its refresh
token); this provider never signs in. A token the portal refuses (revoked, signed out elsewhere)
is dropped from the cache and reported as "sign-in needed".
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from traycred import aws
from traycred.config import Profile, SsoSessionConfig
from traycred.credentials import Credentials
from traycred.errors import AwsError, ConfigError, SignInNeededError
from traycred.sso.tokens import SsoTokenService, sign_in_needed

# At most this many GetRoleCredentials calls in flight per process, however many threads the
# engine runs: enough to refresh hundreds of profiles in a second or two, polite to the portal.
MAX_PARALLEL_CALLS = 16
_in_flight = threading.BoundedSemaphore(MAX_PARALLEL_CALLS)


class SsoRoleProvider:
    """GetRoleCredentials for one profile's account and role."""

    def __init__(self, profile: Profile, tokens: SsoTokenService) -> None:
        if profile.sso_session is None or not profile.sso_account_id or not profile.sso_role_name:
            raise ConfigError(
                f"Profile {profile.name} is not a complete SSO profile.",
                hint="It needs sso_session (or sso_start_url and sso_region), "
                "sso_account_id and sso_role_name.",
            )
        self.profile = profile
        self.session: SsoSessionConfig = profile.sso_session
        self.account_id: str = profile.sso_account_id
        self.role_name: str = profile.sso_role_name
        self._tokens = tokens

    def retrieve(self) -> Credentials:
        try:
            token = self._tokens.access_token(self.session)
        except SignInNeededError as exc:
            raise self._sign_in_needed(exc) from None
        portal = self._tokens.client("sso", self.session.region)
        what = f"GetRoleCredentials for role {self.role_name} in account {self.account_id}"
        try:
            with _in_flight:
                answer = aws.call(
                    lambda: portal.get_role_credentials(
                        roleName=self.role_name, accountId=self.account_id, accessToken=token
                    ),
                    what=what,
                )
        except AwsError as exc:
            if exc.code == "UnauthorizedException":
                self._tokens.invalidate(self.session, token)
                raise self._sign_in_needed(sign_in_needed(self.session)) from None
            if exc.code in ("ForbiddenException", "ResourceNotFoundException"):
                raise AwsError(
                    f"No access to role {self.role_name} in account {self.account_id} "
                    f"through SSO session {self.session.label} (profile {self.profile.name}).",
                    code=exc.code,
                    hint="Check sso_account_id and sso_role_name, or ask for the assignment "
                    "(`traycred sso accounts` lists what you have).",
                ) from None
            raise
        role = answer["roleCredentials"]
        return Credentials(
            access_key_id=role["accessKeyId"],
            secret_access_key=role["secretAccessKey"],
            session_token=role["sessionToken"],
            expiration=datetime.fromtimestamp(int(role["expiration"]) / 1000, UTC),
        )

    def _sign_in_needed(self, error: SignInNeededError) -> SignInNeededError:
        """For legacy profiles, name this profile in the command to run (no session name).

        Only a "sign-in needed" error names its session; "sign-in in progress elsewhere" does
        not and is passed on as it is."""
        if not self.session.legacy or error.session is None:
            return error
        return SignInNeededError(
            f"sign-in needed for SSO start URL {self.session.start_url}: "
            f"run `traycred login {self.profile.name}`",
            session=self.session.name,
        )
