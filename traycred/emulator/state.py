"""The emulator's memory: issued credentials, SSO clients, device codes, tokens, used MFA codes.

One lock guards everything; the services take it for each request. Expiry times are epoch seconds
of the real clock; `age(seconds)` moves every one of them back, which is how the emulator lets
tests "wait" without sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from traycred.emulator.scenario import IamUser, Scenario

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_SECRET_CHARS = string.ascii_letters + string.digits + "+/"


def random_id(prefix: str, length: int = 16) -> str:
    return prefix + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(length))


def random_secret(length: int = 40) -> str:
    return "".join(secrets.choice(_SECRET_CHARS) for _ in range(length))


def stable_id(prefix: str, *parts: str, length: int = 17) -> str:
    """A deterministic AWS-style unique id (AIDA..., AROA...) for a name."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest().upper()
    return prefix + digest[:length]


class ApiError(Exception):
    """An error answer: the service formats it in its own protocol."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        oauth_error: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.oauth_error = oauth_error


@dataclass(frozen=True)
class Identity:
    """Who signs with a set of credentials.

    `arn` is what GetCallerIdentity reports; `principal_arn` is what trust policies match (the
    user, or the role behind an assumed-role session). `root_user` is the IAM user a chain
    started from (None for SSO), whose MFA device AssumeRole's SerialNumber must name.
    """

    account_id: str
    arn: str
    user_id: str
    principal_arn: str
    user_name: str | None
    root_user: IamUser | None
    is_role_session: bool

    @classmethod
    def of_user(cls, user: IamUser) -> Identity:
        return cls(
            account_id=user.account_id,
            arn=user.arn,
            user_id=stable_id("AIDA", user.account_id, user.name),
            principal_arn=user.arn,
            user_name=user.name,
            root_user=user,
            is_role_session=False,
        )


@dataclass
class KeyRecord:
    """A key pair the emulator accepts: a long-term IAM user key or issued temporary credentials."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(repr=False)
    expires_at: float | None
    identity: Identity
    mfa: bool
    issued_by: str | None = None  # the operation that issued temporary credentials


@dataclass
class Client:
    client_id: str
    client_secret: str = field(repr=False)
    name: str
    scopes: tuple[str, ...]
    expires_at: float

    @property
    def gets_refresh_tokens(self) -> bool:
        return "sso:account:access" in self.scopes


DeviceStatus = Literal["pending", "approved", "denied", "consumed"]


@dataclass
class DeviceAuth:
    device_code: str = field(repr=False)
    user_code: str
    client_id: str
    expires_at: float
    interval: float
    status: DeviceStatus = "pending"
    last_poll: float | None = None  # time.monotonic() of the previous CreateToken poll


@dataclass
class AccessToken:
    client_id: str
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    revoked: bool = False


@dataclass
class RefreshToken:
    client_id: str
    expires_at: float
    revoked: bool = False


class State:
    """Everything the emulator has issued, behind one lock."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.lock = threading.RLock()
        self.keys: dict[str, KeyRecord] = {
            user.access_key_id: KeyRecord(
                access_key_id=user.access_key_id,
                secret_access_key=user.secret_access_key,
                session_token=None,
                expires_at=None,
                identity=Identity.of_user(user),
                mfa=False,
            )
            for user in scenario.users
        }
        self.used_mfa_codes: dict[str, set[str]] = {}
        self.clients: dict[str, Client] = {}
        self.devices: dict[str, DeviceAuth] = {}  # by device code
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}

    @staticmethod
    def now() -> float:
        return time.time()

    def ttl(self, operation: str, requested: int) -> int:
        return self.scenario.ttl_override.get(operation, requested)

    def issue_key(
        self, identity: Identity, *, mfa: bool, lifetime: int, operation: str
    ) -> KeyRecord:
        record = KeyRecord(
            access_key_id=random_id("ASIA"),
            secret_access_key=random_secret(),
            session_token="IQoJtraycred" + random_secret(300),
            expires_at=self.now() + lifetime,
            identity=identity,
            mfa=mfa,
            issued_by=operation,
        )
        with self.lock:
            self.keys[record.access_key_id] = record
        return record

    def device_by_user_code(self, user_code: str) -> DeviceAuth | None:
        wanted = user_code.strip().upper()
        with self.lock:
            for device in self.devices.values():
                if device.user_code == wanted:
                    return device
        return None

    def age(self, seconds: float) -> None:
        """Make everything issued so far `seconds` older."""
        with self.lock:
            for key in self.keys.values():
                if key.expires_at is not None:
                    key.expires_at -= seconds
            for client in self.clients.values():
                client.expires_at -= seconds
            for device in self.devices.values():
                device.expires_at -= seconds
            for access in self.access_tokens.values():
                access.expires_at -= seconds
            for refresh in self.refresh_tokens.values():
                refresh.expires_at -= seconds

    def revoke_sso_tokens(self) -> None:
        with self.lock:
            for access in self.access_tokens.values():
                access.revoked = True
            for refresh in self.refresh_tokens.values():
                refresh.revoked = True
