"""The channel's wire format: one JSON object per line, one request and one response per connection.

Request:  {"v": 1, "op": "credentials", "args": {"profile": "dev"}}
Response: {"v": 1, "ok": true, "result": {...}}
      or  {"v": 1, "ok": false, "error": {"kind": "needs_user", "message": "...", "exit_code": 3}}

Standard library only: the CLI's fast path imports this.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing is slow to import and the CLI's fast path imports this module
if TYPE_CHECKING:
    from typing import Any

PROTOCOL_VERSION = 1
SOCKET_NAME = "traycred.sock"
LOCK_NAME = "traycred.lock"
MAX_LINE_BYTES = 1 << 20

# ping -> {pid, kind, version, protocol}
# credentials {profile} -> {AccessKeyId, SecretAccessKey, SessionToken, Expiration}
# status -> AppState JSON
# refresh {profiles, mfa_code?} -> {profile: {ok, expiration} | {ok: false, message, ...}}
# use {profile, mfa_code?} -> {expiration}
# resume {names} -> {resumed: [profile]}: the user acted outside the instance (an SSO sign-in
#   done by `traycred login`, a code given to a direct `refresh`, a new default): re-read the
#   settings and retry those profiles or groups (`sso:NAME`, `source:NAME`) now.
# show_menu -> {}
# There is no `login` op: `traycred login` runs the device flow in its own terminal (the
# daemon has no screen; the SSO lock across processes already makes a sign-in the tray has open
# be waited for, not repeated) and then sends `resume`.
OPS = ("ping", "credentials", "status", "refresh", "use", "resume", "show_menu")

# Error kinds in responses.
NEEDS_USER = "needs_user"  # exit 3: an MFA code or a sign-in is needed and nobody can ask
ERROR = "error"  # a TraycredError; `exit_code` says which
UNSUPPORTED = "unsupported"  # this instance cannot do that op (e.g. show_menu in the daemon)
BAD_REQUEST = "bad_request"
VERSION = "version"  # protocol version mismatch: the caller should go direct


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    value = json.loads(line.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("a channel message must be a JSON object")
    return value


def request(op: str, args: dict[str, Any] | None = None) -> bytes:
    return encode({"v": PROTOCOL_VERSION, "op": op, "args": args or {}})


def ok(result: Any) -> bytes:
    return encode({"v": PROTOCOL_VERSION, "ok": True, "result": result})


def failure(kind: str, message: str, exit_code: int = 1) -> bytes:
    error = {"kind": kind, "message": message, "exit_code": exit_code}
    return encode({"v": PROTOCOL_VERSION, "ok": False, "error": error})
