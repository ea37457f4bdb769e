"""What the emulated AWS knows: accounts, IAM users and keys, roles and trust, the SSO directory.

Values are frozen dataclasses so a test builds one in a few lines (or tweaks `Scenario.demo()` with
`replace` / `replace_sso`); `Scenario.from_file` reads the same structure from TOML or JSON.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Operations whose issued lifetime `Scenario.ttl_override` can force.
TTL_OPERATIONS = ("GetSessionToken", "AssumeRole", "GetRoleCredentials", "CreateToken")

_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")

# The demo scenario's identities, exported so tests and `traycred demo` can use them.
DEMO_ACCOUNT_ID = "111111111111"
DEMO_OTHER_ACCOUNT_ID = "222222222222"
DEMO_PROD_ACCOUNT_ID = "333333333333"
ALICE_ACCESS_KEY_ID = "AKIAEXAMPLEALICE0001"
ALICE_SECRET_ACCESS_KEY = "aLiCe/SecretAccessKey+ForTraycredDemo001"
ALICE_MFA_SERIAL = "arn:aws:iam::111111111111:mfa/alice"
CI_ACCESS_KEY_ID = "AKIAEXAMPLECIUSER001"
CI_SECRET_ACCESS_KEY = "cIuSeR/SecretAccessKey+ForTraycredDemo02"
ADMIN_ROLE_ARN = "arn:aws:iam::111111111111:role/admin"
DEPLOY_ROLE_ARN = "arn:aws:iam::111111111111:role/deploy"
READONLY_ROLE_ARN = "arn:aws:iam::111111111111:role/readonly"
AUDIT_ROLE_ARN = "arn:aws:iam::111111111111:role/audit"
AUDIT_EXTERNAL_ID = "demo-external-id"
CHAINED_ROLE_ARN = "arn:aws:iam::222222222222:role/chained"
DEMO_START_URL = "https://traycred-demo.awsapps.com/start"
DEMO_SSO_REGION = "us-east-1"
DEMO_SSO_USER = "alice"


@dataclass(frozen=True)
class Account:
    """An AWS account (id and a friendly name)."""

    account_id: str
    name: str = ""


@dataclass(frozen=True)
class IamUser:
    """An IAM user with one long-term access key and at most one virtual MFA device."""

    name: str
    account_id: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    mfa_serial: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/{self.name}"


@dataclass(frozen=True)
class Role:
    """An IAM role and its trust policy, reduced to what AssumeRole checks.

    `trusted` holds IAM user names, principal ARNs (users or roles), or "*" for any principal of
    the role's own account.
    """

    arn: str
    trusted: tuple[str, ...] = ("*",)
    requires_mfa: bool = False
    external_id: str | None = None
    max_session_duration: int = 3600

    def __post_init__(self) -> None:
        if not _ROLE_ARN.match(self.arn):
            raise ValueError(f"not a role ARN: {self.arn!r}")
        if not 3600 <= self.max_session_duration <= 43200:
            raise ValueError("max_session_duration must be 3600..43200 seconds")

    @property
    def account_id(self) -> str:
        match = _ROLE_ARN.match(self.arn)
        assert match is not None
        return match.group(1)

    @property
    def name(self) -> str:
        match = _ROLE_ARN.match(self.arn)
        assert match is not None
        return match.group(2)


@dataclass(frozen=True)
class SsoAccount:
    """An account in the SSO portal with the permission sets (role names) assigned to the user."""

    account_id: str
    name: str
    email: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sso:
    """IAM Identity Center: one start URL, one user, their account assignments and lifetimes.

    Lifetimes are seconds. `poll_interval` is an integer because the API's `interval` is one
    (botocore truncates anything else); 0 means "poll as often as you like". After a too-early poll
    the required interval grows by `slow_down_increment` (RFC 8628 says 5 s).
    """

    start_url: str = DEMO_START_URL
    region: str = DEMO_SSO_REGION
    user: str = DEMO_SSO_USER
    accounts: tuple[SsoAccount, ...] = ()
    device_code_ttl: int = 600
    poll_interval: int = 1
    slow_down_increment: int = 5
    access_token_ttl: int = 8 * 3600
    refresh_token_ttl: int = 7 * 86400
    client_registration_ttl: int = 90 * 86400
    role_credentials_ttl: int = 3600
    default_page_size: int = 20

    def account(self, account_id: str) -> SsoAccount | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)


@dataclass(frozen=True)
class Scenario:
    """Everything the emulator serves. Build one directly, or start from `Scenario.demo()`.

    MFA: a code is valid when it is six digits and not in `mfa_rejected_codes`; each code is
    accepted once per device. `ttl_override` forces the lifetime (seconds) of what an operation
    issues (keys: GetSessionToken, AssumeRole, GetRoleCredentials, CreateToken).
    `auto_approve_on_visit`: a GET of the device page approves its user code, as if the user had
    clicked Approve (for tests whose BROWSER only fetches the URL).
    """

    accounts: tuple[Account, ...] = ()
    users: tuple[IamUser, ...] = ()
    roles: tuple[Role, ...] = ()
    sso: Sso | None = None
    mfa_rejected_codes: tuple[str, ...] = ("000000",)
    ttl_override: Mapping[str, int] = field(default_factory=dict)
    auto_approve_on_visit: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.ttl_override) - set(TTL_OPERATIONS)
        if unknown:
            raise ValueError(f"ttl_override for unknown operations: {sorted(unknown)}")
        keys = [u.access_key_id for u in self.users]
        if len(keys) != len(set(keys)):
            raise ValueError("two IAM users share an access key id")

    def user(self, name: str) -> IamUser:
        """The IAM user called `name` (KeyError if none)."""
        for candidate in self.users:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def role(self, arn: str) -> Role | None:
        return next((r for r in self.roles if r.arn == arn), None)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (dataclasses.replace)."""
        return dataclasses.replace(self, **changes)

    def replace_sso(self, **changes: Any) -> Scenario:
        """A copy whose SSO settings have some fields changed."""
        if self.sso is None:
            raise ValueError("this scenario has no SSO")
        return dataclasses.replace(self, sso=dataclasses.replace(self.sso, **changes))

    @classmethod
    def demo(cls) -> Scenario:
        """The scenario behind the tests and `traycred demo` (see the module's DEMO constants)."""
        alice = IamUser(
            name="alice",
            account_id=DEMO_ACCOUNT_ID,
            access_key_id=ALICE_ACCESS_KEY_ID,
            secret_access_key=ALICE_SECRET_ACCESS_KEY,
            mfa_serial=ALICE_MFA_SERIAL,
        )
        ci = IamUser(
            name="ci",
            account_id=DEMO_ACCOUNT_ID,
            access_key_id=CI_ACCESS_KEY_ID,
            secret_access_key=CI_SECRET_ACCESS_KEY,
        )
        extra = tuple(
            SsoAccount(
                account_id=f"44444444440{i}",
                name=f"sandbox-{i}",
                email=f"sandbox-{i}@example.com",
                roles=("ReadOnly",),
            )
            for i in range(1, 6)
        )
        return cls(
            accounts=(
                Account(DEMO_ACCOUNT_ID, "dev"),
                Account(DEMO_OTHER_ACCOUNT_ID, "shared"),
                Account(DEMO_PROD_ACCOUNT_ID, "prod"),
            ),
            users=(alice, ci),
            roles=(
                Role(ADMIN_ROLE_ARN, trusted=("alice",), requires_mfa=True),
                Role(DEPLOY_ROLE_ARN, trusted=("alice", "ci")),
                Role(READONLY_ROLE_ARN, trusted=("alice", "ci")),
                Role(AUDIT_ROLE_ARN, trusted=("alice", "ci"), external_id=AUDIT_EXTERNAL_ID),
                Role(CHAINED_ROLE_ARN, trusted=(DEPLOY_ROLE_ARN,)),
            ),
            sso=Sso(
                accounts=(
                    SsoAccount(
                        DEMO_ACCOUNT_ID,
                        "dev",
                        "dev@example.com",
                        ("AdministratorAccess", "ReadOnly"),
                    ),
                    SsoAccount(DEMO_PROD_ACCOUNT_ID, "prod", "prod@example.com", ("ReadOnly",)),
                    *extra,
                )
            ),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build a scenario from plain data (the shape of the dataclasses, lists for tuples)."""
        sso_data = data.get("sso")
        sso = None
        if sso_data is not None:
            sso_fields = dict(sso_data)
            sso_fields["accounts"] = tuple(
                SsoAccount(**{**a, "roles": tuple(a.get("roles", ()))})
                for a in sso_fields.get("accounts", ())
            )
            sso = Sso(**sso_fields)
        return cls(
            accounts=tuple(Account(**a) for a in data.get("accounts", ())),
            users=tuple(IamUser(**u) for u in data.get("users", ())),
            roles=tuple(
                Role(**{**r, "trusted": tuple(r.get("trusted", ("*",)))})
                for r in data.get("roles", ())
            ),
            sso=sso,
            mfa_rejected_codes=tuple(data.get("mfa_rejected_codes", ("000000",))),
            ttl_override=dict(data.get("ttl_override", {})),
            auto_approve_on_visit=bool(data.get("auto_approve_on_visit", False)),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        """Read a scenario from a .toml or .json file."""
        file = Path(path)
        text = file.read_text(encoding="utf-8")
        data = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
        return cls.from_dict(data)
