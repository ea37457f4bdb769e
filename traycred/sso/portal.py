"""What the SSO portal lists for a session: the accounts and the roles the user may take in each.

Both lists are paginated (ListAccounts, ListAccountRoles); the per-account role listings run in
parallel, bounded. A refused token is dropped and reported as "sign-in needed".
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from traycred import aws
from traycred.config import SsoSessionConfig
from traycred.errors import AwsError
from traycred.sso.tokens import SsoTokenService, sign_in_needed

MAX_PARALLEL_LISTINGS = 8
_T = TypeVar("_T")


@dataclass(frozen=True)
class AccountRoles:
    """One account of the portal and the role (permission set) names the user has there."""

    account_id: str
    name: str
    email: str
    roles: tuple[str, ...]


def list_assignments(tokens: SsoTokenService, session: SsoSessionConfig) -> list[AccountRoles]:
    """Every account (sorted by name) with its roles, through the session's cached token."""
    token = tokens.access_token(session)
    portal = tokens.client("sso", session.region)

    def guarded(call: Callable[[], _T], what: str) -> _T:
        try:
            return aws.call(call, what=what)
        except AwsError as exc:
            if exc.code == "UnauthorizedException":
                tokens.invalidate(session, token)
                raise sign_in_needed(session) from None
            raise

    def pages(operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        paginator = portal.get_paginator(operation)
        items: list[dict[str, Any]] = []
        for page in paginator.paginate(accessToken=token, **params):
            items.extend(page.get(key, []))
        return items

    accounts = guarded(
        lambda: pages("list_accounts", "accountList"),
        what=f"Listing the accounts of SSO session {session.label}",
    )

    def roles_of(account: dict[str, Any]) -> AccountRoles:
        account_id = str(account["accountId"])
        roles = guarded(
            lambda: pages("list_account_roles", "roleList", accountId=account_id),
            what=f"Listing your roles in account {account_id}",
        )
        return AccountRoles(
            account_id=account_id,
            name=str(account.get("accountName") or account_id),
            email=str(account.get("emailAddress") or ""),
            roles=tuple(sorted(str(r["roleName"]) for r in roles)),
        )

    if not accounts:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_LISTINGS, len(accounts))) as pool:
        found = list(pool.map(roles_of, accounts))
    return sorted(found, key=lambda a: (a.name.lower(), a.account_id))
