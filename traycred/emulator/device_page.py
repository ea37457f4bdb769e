"""The browser side of the device flow: the page behind verificationUriComplete, and its buttons."""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template

from traycred.emulator.protocol import CallInfo, Request, Response
from traycred.emulator.state import ApiError, DeviceAuth, State

SERVICE = "device"
ROUTES = {
    ("GET", "/device"): "DevicePage",
    ("POST", "/device/approve"): "ApproveDevice",
    ("POST", "/device/deny"): "DenyDevice",
}


@cache
def _template() -> Template:
    text = resources.files("traycred.emulator").joinpath("device.html").read_text("utf-8")
    return Template(text)


def _page(state: State, status: int, title: str, content: str) -> Response:
    sso = state.scenario.sso
    body = _template().substitute(
        title=html.escape(title),
        content=content,
        start_url=html.escape(sso.start_url if sso else "-"),
    )
    return Response(status, body.encode("utf-8"), "text/html; charset=utf-8")


def live_device(state: State, user_code: str) -> DeviceAuth | None:
    """The unexpired authorization with this user code, if any."""
    device = state.device_by_user_code(user_code)
    if device is None or device.expires_at <= state.now():
        return None
    return device


def decide(state: State, user_code: str, *, approve: bool) -> None:
    """Approve or deny a pending user code (ValueError when it is unknown, expired or decided)."""
    with state.lock:
        device = live_device(state, user_code)
        if device is None or device.status != "pending":
            raise ValueError(f"no pending device authorization with user code {user_code!r}")
        device.status = "approved" if approve else "denied"


def handle(state: State, request: Request, info: CallInfo) -> Response:
    if request.method == "GET":
        user_code = request.query.get("user_code", "")
    else:
        user_code = request.form().get("user_code", "")
    info.params = {"user_code": user_code} if user_code else {}
    if info.operation == "DevicePage" and not user_code:
        return _page(state, 200, "Authorize request", _ENTER_CODE)
    try:
        if info.operation == "DevicePage" and not state.scenario.auto_approve_on_visit:
            return _show(state, user_code)
        approve = info.operation != "DenyDevice"
        decide(state, user_code, approve=approve)
    except ValueError:
        info.error_code = "InvalidUserCode"
        return _page(
            state,
            404,
            "Code not valid",
            "<p>This code is not valid, has expired, or was already used. "
            "Start the sign-in again from your application.</p>",
        )
    if approve:
        return _page(
            state,
            200,
            "Request approved",
            f'<div class="code">{html.escape(user_code.upper())}</div>'
            "<p>You can close this window and return to your application.</p>",
        )
    return _page(state, 200, "Request denied", "<p>The application was not given access.</p>")


def _show(state: State, user_code: str) -> Response:
    device = live_device(state, user_code)
    if device is None or device.status != "pending":
        raise ValueError(user_code)
    code = html.escape(device.user_code)
    content = (
        "<p>An application is asking for access to your AWS accounts. Check that this code "
        "matches the one it shows:</p>"
        f'<div class="code" id="user-code">{code}</div>'
        '<div class="actions">'
        '<form method="post" action="/device/approve">'
        f'<input type="hidden" name="user_code" value="{code}">'
        '<button class="primary" type="submit">Approve</button></form>'
        '<form method="post" action="/device/deny">'
        f'<input type="hidden" name="user_code" value="{code}">'
        '<button type="submit">Deny</button></form>'
        "</div>"
    )
    return _page(state, 200, "Authorize request", content)


_ENTER_CODE = (
    "<p>Enter the code shown by your application.</p>"
    '<form method="get" action="/device"><input name="user_code" placeholder="XXXX-XXXX" '
    'autofocus> <button class="primary" type="submit">Next</button></form>'
)


def error_response(error: ApiError) -> Response:
    """An error as a plain page (an injected fault: this page's handler raises none)."""
    body = f"<h1>{error.status}</h1><p>{html.escape(error.message)}</p>".encode()
    return Response(error.status, body, "text/html; charset=utf-8")
