"""SSO OIDC (rest-json): RegisterClient, StartDeviceAuthorization and CreateToken (RFC 8628)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from traycred.emulator.protocol import CallInfo, Request, Response, json_response, rest_json_error
from traycred.emulator.scenario import Sso
from traycred.emulator.state import (
    AccessToken,
    ApiError,
    Client,
    DeviceAuth,
    RefreshToken,
    State,
    random_secret,
)

SERVICE = "sso-oidc"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
ROUTES = {
    "/client/register": "RegisterClient",
    "/device_authorization": "StartDeviceAuthorization",
    "/token": "CreateToken",
}
# Parameters never copied into the call record.
SECRET_PARAMS = ("clientSecret", "deviceCode", "refreshToken", "code", "codeVerifier")
# Letters that cannot spell words or be confused with digits, as AWS's user codes use.
_USER_CODE_CHARS = "BCDFGHJKLMNPQRSTVWXZ"


def _oauth(code: str, oauth_error: str, description: str, status: int = 400) -> ApiError:
    return ApiError(code, description, status, oauth_error=oauth_error)


def handle(state: State, request: Request, info: CallInfo, base_url: str) -> Response:
    """Answer one SSO OIDC request; an ApiError raised here is answered in rest-json form."""
    body = request.json()
    info.params = {
        k: (",".join(map(str, v)) if isinstance(v, list) else str(v))
        for k, v in body.items()
        if k not in SECRET_PARAMS
    }
    sso = state.scenario.sso
    if sso is None:
        raise ApiError("InternalServerException", "This emulator has no SSO", 500)
    operations: dict[str, Callable[[], dict[str, Any]]] = {
        "RegisterClient": lambda: _register_client(state, sso, body),
        "StartDeviceAuthorization": lambda: _start_device(state, sso, body, base_url),
        "CreateToken": lambda: _create_token(state, sso, body),
    }
    with state.lock:
        payload = operations[info.operation]()
    return json_response(200, payload)


def _required(body: dict[str, Any], *names: str) -> None:
    for name in names:
        if not isinstance(body.get(name), str) or not body[name]:
            raise _oauth(
                "InvalidRequestException", "invalid_request", f"Missing required parameter {name}"
            )


def _register_client(state: State, sso: Sso, body: dict[str, Any]) -> dict[str, Any]:
    _required(body, "clientName", "clientType")
    if body["clientType"] != "public":
        raise _oauth(
            "InvalidClientMetadataException", "invalid_client_metadata", "Invalid client type"
        )
    scopes = body.get("scopes") or []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise _oauth("InvalidScopeException", "invalid_scope", "Invalid scopes")
    now = state.now()
    client = Client(
        client_id=secrets.token_urlsafe(16),
        client_secret=secrets.token_urlsafe(96),
        name=body["clientName"],
        scopes=tuple(scopes),
        expires_at=now + sso.client_registration_ttl,
    )
    state.clients[client.client_id] = client
    return {
        "clientId": client.client_id,
        "clientSecret": client.client_secret,
        "clientIdIssuedAt": int(now),
        "clientSecretExpiresAt": int(client.expires_at),
    }


def _client(state: State, body: dict[str, Any]) -> Client:
    _required(body, "clientId", "clientSecret")
    client = state.clients.get(body["clientId"])
    if (
        client is None
        or not secrets.compare_digest(client.client_secret, body["clientSecret"])
        or client.expires_at <= state.now()
    ):
        raise _oauth("InvalidClientException", "invalid_client", "Invalid client", 401)
    return client


def _start_device(state: State, sso: Sso, body: dict[str, Any], base_url: str) -> dict[str, Any]:
    client = _client(state, body)
    _required(body, "startUrl")
    if body["startUrl"] != sso.start_url:
        raise _oauth("InvalidRequestException", "invalid_request", "Invalid start URL")
    while True:
        raw = "".join(secrets.choice(_USER_CODE_CHARS) for _ in range(8))
        user_code = f"{raw[:4]}-{raw[4:]}"
        if state.device_by_user_code(user_code) is None:
            break
    device = DeviceAuth(
        device_code=random_secret(64).replace("/", "_").replace("+", "-"),
        user_code=user_code,
        client_id=client.client_id,
        expires_at=state.now() + sso.device_code_ttl,
        interval=sso.poll_interval,
    )
    state.devices[device.device_code] = device
    return {
        "deviceCode": device.device_code,
        "userCode": user_code,
        "verificationUri": f"{base_url}/device",
        "verificationUriComplete": f"{base_url}/device?user_code={user_code}",
        "expiresIn": sso.device_code_ttl,
        "interval": sso.poll_interval,
    }


def _create_token(state: State, sso: Sso, body: dict[str, Any]) -> dict[str, Any]:
    client = _client(state, body)
    _required(body, "grantType")
    grant = body["grantType"]
    if grant == DEVICE_GRANT:
        _required(body, "deviceCode")
        return _device_grant(state, sso, client, body["deviceCode"])
    if grant == REFRESH_GRANT:
        _required(body, "refreshToken")
        return _refresh_grant(state, sso, client, body["refreshToken"])
    raise _oauth(
        "UnsupportedGrantTypeException", "unsupported_grant_type", f"Unsupported grant {grant}"
    )


def _device_grant(state: State, sso: Sso, client: Client, device_code: str) -> dict[str, Any]:
    device = state.devices.get(device_code)
    if device is None or device.client_id != client.client_id or device.status == "consumed":
        raise _oauth("InvalidGrantException", "invalid_grant", "Invalid device code provided")
    if device.expires_at <= state.now():
        raise _oauth("ExpiredTokenException", "expired_token", "Device code has expired")
    now = time.monotonic()
    previous, device.last_poll = device.last_poll, now
    # A few milliseconds of slack: a client that sleeps exactly `interval` is not too early.
    if previous is not None and now - previous < device.interval - 0.005:
        device.interval += sso.slow_down_increment
        raise _oauth("SlowDownException", "slow_down", "Client is polling too quickly")
    if device.status == "denied":
        raise _oauth("AccessDeniedException", "access_denied", "Access denied by the user")
    if device.status == "pending":
        raise _oauth(
            "AuthorizationPendingException",
            "authorization_pending",
            "Authorization is still pending",
        )
    device.status = "consumed"
    return _issue_token(state, sso, client)


def _refresh_grant(state: State, sso: Sso, client: Client, refresh_token: str) -> dict[str, Any]:
    record = state.refresh_tokens.get(refresh_token)
    if (
        record is None
        or record.revoked
        or record.client_id != client.client_id
        or record.expires_at <= state.now()
    ):
        raise _oauth("InvalidGrantException", "invalid_grant", "Invalid refresh token provided")
    # Rotation: a refresh token is good for one use.
    del state.refresh_tokens[refresh_token]
    return _issue_token(state, sso, client, refresh_expires_at=record.expires_at)


def _issue_token(
    state: State, sso: Sso, client: Client, *, refresh_expires_at: float | None = None
) -> dict[str, Any]:
    now = state.now()
    lifetime = state.ttl("CreateToken", sso.access_token_ttl)
    access = "aoa" + secrets.token_urlsafe(96)
    payload: dict[str, Any] = {
        "accessToken": access,
        "tokenType": "Bearer",
        "expiresIn": lifetime,
    }
    refresh: str | None = None
    if client.gets_refresh_tokens:
        refresh = "aor" + secrets.token_urlsafe(96)
        # The sign-in session has a fixed end; rotated refresh tokens keep it.
        expires_at = refresh_expires_at or now + sso.refresh_token_ttl
        state.refresh_tokens[refresh] = RefreshToken(client.client_id, expires_at)
        payload["refreshToken"] = refresh
    state.access_tokens[access] = AccessToken(client.client_id, now + lifetime, refresh)
    return payload


def error_response(error: ApiError) -> Response:
    """An error in rest-json form (raised by a handler or injected as a fault)."""
    return rest_json_error(error)
