"""The console sign-in federation endpoint: getSigninToken, and a stand-in console for login.

`GET /federation?Action=getSigninToken&Session={...}` answers {"SigninToken": ...} for
temporary credentials this emulator issued to a role (AssumeRole or SSO), checking the session
key and token as AWS does; a session from GetSessionToken is refused, as AWS refuses it.
`GET /federation?Action=login&...&SigninToken=...` serves an "AWS console (emulator)" page naming
the role signed in as, so `traycred demo`'s "Open AWS console" works end to end.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
from dataclasses import dataclass

from traycred.emulator.protocol import CallInfo, Request, Response, json_response
from traycred.emulator.state import ApiError, Identity, State

SERVICE = "signin"
ROUTES = {("GET", "/federation"): "Federation"}
TOKEN_TTL = 900  # a sign-in token must be used within 15 minutes
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION = 43_200
# Operations that issue role sessions; AWS signs only those (and federation tokens) in.
_ROLE_OPERATIONS = ("AssumeRole", "GetRoleCredentials")


@dataclass(frozen=True)
class _SigninToken:
    identity: Identity
    expires_at: float  # when the token can no longer be used (not the console session)
    session_seconds: int


class Federation:
    """The endpoint of one emulator: its state and the sign-in tokens it handed out."""

    def __init__(self, state: State) -> None:
        self.state = state
        self._tokens: dict[str, _SigninToken] = {}
        self._lock = threading.Lock()

    def handle(self, request: Request, info: CallInfo) -> Response:
        return handle(self, request, info)

    def remember(self, token: str, entry: _SigninToken) -> None:
        now = self.state.now()
        with self._lock:
            # Expired tokens are dropped here, so a long demo does not keep them all.
            self._tokens = {t: e for t, e in self._tokens.items() if e.expires_at > now}
            self._tokens[token] = entry

    def lookup(self, token: str) -> _SigninToken | None:
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None or entry.expires_at <= self.state.now():
            return None
        return entry


def operation_of(request: Request) -> str:
    action = request.query.get("Action", "")
    return {"getSigninToken": "GetSigninToken", "login": "Login"}.get(action, action or "-")


def handle(endpoint: Federation, request: Request, info: CallInfo) -> Response:
    """Answer one federation request; an ApiError raised here is answered as an HTML page."""
    query = request.query
    # Only harmless parameters go to the call record: Session and SigninToken are secrets.
    info.params = {k: v for k, v in query.items() if k in ("Action", "Issuer", "Destination")}
    action = query.get("Action")
    if action == "getSigninToken":
        return _get_signin_token(endpoint, query, info)
    if action == "login":
        return _login(endpoint, query, info)
    raise ApiError("InvalidAction", "Action must be getSigninToken or login", 400)


def _get_signin_token(endpoint: Federation, query: dict[str, str], info: CallInfo) -> Response:
    state = endpoint.state
    try:
        session = json.loads(query.get("Session", ""))
    except ValueError:
        session = None
    if not isinstance(session, dict) or not all(
        isinstance(session.get(k), str) for k in ("sessionId", "sessionKey", "sessionToken")
    ):
        raise ApiError(
            "InvalidParameter", "Session must hold sessionId, sessionKey and sessionToken", 400
        )
    info.access_key_id = session["sessionId"]
    duration = query.get("SessionDuration")
    with state.lock:
        key = state.keys.get(session["sessionId"])
        valid = (
            key is not None
            and key.session_token is not None
            and secrets.compare_digest(key.secret_access_key, session["sessionKey"])
            and secrets.compare_digest(key.session_token, session["sessionToken"])
        )
        if not valid or key is None:
            raise ApiError("InvalidClientTokenId", "The security token is invalid", 400)
        if key.expires_at is not None and key.expires_at <= state.now():
            raise ApiError("ExpiredToken", "The security token has expired", 400)
        if key.issued_by not in _ROLE_OPERATIONS:
            raise ApiError(
                "InvalidParameter",
                "Console sign-in needs credentials of a role session, not of GetSessionToken",
                400,
            )
        seconds = 3600
        if duration is not None:
            if not duration.isdigit() or not (
                MIN_SESSION_DURATION <= int(duration) <= MAX_SESSION_DURATION
            ):
                raise ApiError("InvalidParameter", "SessionDuration must be 900 to 43200", 400)
            seconds = int(duration)
        identity = key.identity
        info.mfa = key.mfa
        token = secrets.token_urlsafe(48)
        entry = _SigninToken(identity, state.now() + TOKEN_TTL, seconds)
    endpoint.remember(token, entry)
    return json_response(200, {"SigninToken": token})


def _login(endpoint: Federation, query: dict[str, str], info: CallInfo) -> Response:
    state = endpoint.state
    entry = endpoint.lookup(query.get("SigninToken", ""))
    if entry is None:
        raise ApiError(
            "InvalidSigninToken",
            "This sign-in link is not valid or has expired. Open the console again from your "
            "application.",
            400,
        )
    identity = entry.identity
    role = identity.arn.split("/")[1] if ":assumed-role/" in identity.arn else identity.arn
    account = state.scenario.accounts
    account_name = next((a.name for a in account if a.account_id == identity.account_id), "")
    named = f"{identity.account_id} ({account_name})" if account_name else identity.account_id
    destination = query.get("Destination", "")
    issuer = query.get("Issuer", "")
    content = (
        f'<p>Signed in as role <b id="role">{html.escape(role)}</b> in account '
        f"{html.escape(named)}.</p>"
        f'<p class="arn" id="arn">{html.escape(identity.arn)}</p>'
        f"<p>Console session: {entry.session_seconds // 60} minutes.</p>"
        + (f"<p>Opened by {html.escape(issuer)}.</p>" if issuer else "")
        + (
            f'<p class="muted">The real console would now show {html.escape(destination)}</p>'
            if destination
            else ""
        )
    )
    return _page(200, "AWS console (emulator)", content)


def _page(status: int, title: str, content: str) -> Response:
    body = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;background:#f2f3f3;color:#16191f;margin:0}"
        "header{background:#232f3e;color:#fff;padding:.8rem 1.5rem;font-weight:600}"
        "main{max-width:40rem;margin:3rem auto;background:#fff;padding:2rem 2.5rem;"
        "border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}"
        ".arn{font-family:ui-monospace,monospace;word-break:break-all}"
        ".muted{color:#545b64;font-size:.9rem;word-break:break-all}</style></head>"
        f"<body><header>AWS console (emulator)</header><main><h1>{html.escape(title)}</h1>"
        f'{content}<p class="muted">Local AWS emulator (traycred)</p></main></body></html>'
    )
    return Response(status, body.encode("utf-8"), "text/html; charset=utf-8")


def error_response(error: ApiError) -> Response:
    """An error as a plain page (AWS's federation endpoint answers errors with HTML, too)."""
    content = f'<p>{html.escape(error.message)}</p><p class="muted">{html.escape(error.code)}</p>'
    return _page(error.status, "Sign-in failed", content)
