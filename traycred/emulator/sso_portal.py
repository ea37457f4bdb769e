"""The SSO portal (rest-json): GetRoleCredentials, ListAccounts, ListAccountRoles, Logout."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from traycred.emulator.protocol import CallInfo, Request, Response, json_response, rest_json_error
from traycred.emulator.scenario import Sso
from traycred.emulator.state import AccessToken, ApiError, Identity, State, stable_id

SERVICE = "sso"
ROUTES = {
    ("GET", "/federation/credentials"): "GetRoleCredentials",
    ("GET", "/assignment/accounts"): "ListAccounts",
    ("GET", "/assignment/roles"): "ListAccountRoles",
    ("POST", "/logout"): "Logout",
}
BEARER_HEADER = "x-amz-sso_bearer_token"


def handle(state: State, request: Request, info: CallInfo) -> Response:
    """Answer one SSO portal request; the bearer token must be a live access token.

    An ApiError raised here is answered in rest-json form.
    """
    query = request.query
    info.params = dict(query)
    sso = state.scenario.sso
    if sso is None:
        raise ApiError("InvalidRequestException", "This emulator has no SSO")
    operations: dict[str, Callable[[], dict[str, Any] | None]] = {
        "GetRoleCredentials": lambda: _get_role_credentials(state, sso, query),
        "ListAccounts": lambda: _list_accounts(sso, query),
        "ListAccountRoles": lambda: _list_account_roles(sso, query),
        "Logout": lambda: _logout(state, request),
    }
    with state.lock:
        _access_token(state, request)
        payload = operations[info.operation]()
    if payload is None:
        return Response(200, b"", "application/json")
    return json_response(200, payload)


def _access_token(state: State, request: Request) -> AccessToken:
    token = request.header(BEARER_HEADER) or ""
    record = state.access_tokens.get(token)
    if record is None or record.revoked or record.expires_at <= state.now():
        raise ApiError("UnauthorizedException", "Session token not found or invalid", 401)
    return record


def _param(query: dict[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise ApiError("InvalidRequestException", f"Missing required parameter {name}")
    return value


def _assigned_roles(sso: Sso, account_id: str) -> tuple[str, ...]:
    account = sso.account(account_id)
    if account is None:
        raise ApiError("ForbiddenException", "No access", 403)
    return account.roles


def _get_role_credentials(state: State, sso: Sso, query: dict[str, str]) -> dict[str, Any]:
    role_name = _param(query, "role_name")
    account_id = _param(query, "account_id")
    if role_name not in _assigned_roles(sso, account_id):
        raise ApiError("ForbiddenException", "No access", 403)
    suffix = hashlib.sha256(f"{account_id}/{role_name}".encode()).hexdigest()[:16]
    reserved = f"AWSReservedSSO_{role_name}_{suffix}"
    identity = Identity(
        account_id=account_id,
        arn=f"arn:aws:sts::{account_id}:assumed-role/{reserved}/{sso.user}",
        user_id=f"{stable_id('AROA', account_id, reserved)}:{sso.user}",
        principal_arn=f"arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/{reserved}",
        user_name=None,
        root_user=None,
        is_role_session=True,
    )
    lifetime = state.ttl("GetRoleCredentials", sso.role_credentials_ttl)
    key = state.issue_key(identity, mfa=False, lifetime=lifetime, operation="GetRoleCredentials")
    assert key.expires_at is not None
    return {
        "roleCredentials": {
            "accessKeyId": key.access_key_id,
            "secretAccessKey": key.secret_access_key,
            "sessionToken": key.session_token,
            "expiration": int(key.expires_at * 1000),
        }
    }


def _page(sso: Sso, query: dict[str, str], items: Sequence[dict[str, str]], key: str) -> Any:
    """One page of `items` and the opaque token of the next one."""
    start = 0
    token = query.get("next_token")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("page:"))
        except ValueError:
            raise ApiError("InvalidRequestException", "Invalid next token") from None
    raw_size = query.get("max_result")
    try:
        size = int(raw_size) if raw_size else sso.default_page_size
    except ValueError:
        raise ApiError("InvalidRequestException", "Invalid max results") from None
    if size < 1:
        raise ApiError("InvalidRequestException", "Invalid max results")
    payload: dict[str, Any] = {key: list(items[start : start + size])}
    if start + size < len(items):
        payload["nextToken"] = base64.urlsafe_b64encode(f"page:{start + size}".encode()).decode()
    return payload


def _list_accounts(sso: Sso, query: dict[str, str]) -> dict[str, Any]:
    accounts = [
        {"accountId": a.account_id, "accountName": a.name, "emailAddress": a.email}
        for a in sso.accounts
        if a.roles
    ]
    result: dict[str, Any] = _page(sso, query, accounts, "accountList")
    return result


def _list_account_roles(sso: Sso, query: dict[str, str]) -> dict[str, Any]:
    account_id = _param(query, "account_id")
    roles = [{"roleName": r, "accountId": account_id} for r in _assigned_roles(sso, account_id)]
    result: dict[str, Any] = _page(sso, query, roles, "roleList")
    return result


def _logout(state: State, request: Request) -> None:
    record = _access_token(state, request)
    record.revoked = True
    if record.refresh_token is not None:
        refresh = state.refresh_tokens.get(record.refresh_token)
        if refresh is not None:
            refresh.revoked = True


def error_response(error: ApiError) -> Response:
    """An error in rest-json form (raised by a handler or injected as a fault)."""
    return rest_json_error(error)
