"""The channel's wire format: one JSON object per line, one request and one response per connection.

Request:  {"v": 1, "op": "credentials", "args": {"profile": "dev"}}
Response: {"v": 1, "ok": true, "result": {...}}
      or  {"v": 1, "ok": false, "error": {"kind": "needs_user", "message": "...", "exit_code": 3}}

Over TCP (see `transport()`), the server first sends {"v": 1, "nonce": S}; the request then
also carries "nonce": C and "auth": mac(token, "request", S), and the response "proof":
mac(token, "reply", C). The token itself never crosses the wire, so a process that took over the
port of an instance that died learns nothing useful and cannot pass itself off as traycred.

Standard library only: the CLI's fast path imports this.
"""

from __future__ import annotations

import _socket
import json
import os
import sys

TYPE_CHECKING = False  # typing is slow to import and the CLI's fast path imports this module
if TYPE_CHECKING:
    from typing import Any

PROTOCOL_VERSION = 1
SOCKET_NAME = "traycred.sock"
LOCK_NAME = "traycred.lock"
MAX_LINE_BYTES = 1 << 20

UNIX = "unix"
TCP = "tcp"
# "tcp" forces the loopback transport where Unix sockets exist too (tests run it on Linux).
TRANSPORT_ENV = "TRAYCRED_CHANNEL_TRANSPORT"
# The TCP transport's rendezvous: {"port": N, "token": 64 hex digits, "pid": P, "kind": K}.
ENDPOINT_NAME = "traycred.endpoint.json"
LOOPBACK = "127.0.0.1"

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


def transport() -> str:
    """How the channel travels here: UNIX (a 0600 socket in a 0700 folder, flock for the one
    instance) or TCP (127.0.0.1 with a per-instance token, filelock for the one instance).

    TCP where the platform has no usable AF_UNIX socket or fcntl (Windows), or when forced.
    """
    if os.environ.get(TRANSPORT_ENV, "").strip().lower() == TCP:
        return TCP
    if sys.platform == "win32" or not hasattr(_socket, "AF_UNIX"):
        return TCP
    return UNIX


def mac(token: str, purpose: str, nonce: str) -> str:
    """HMAC-SHA256 of `purpose:nonce` under the instance's token (hex), for the TCP handshake."""
    import hmac  # ~4 ms (OpenSSL): only the TCP transport pays it

    message = f"traycred-{purpose}:{nonce}".encode()
    return hmac.new(bytes.fromhex(token), message, "sha256").hexdigest()


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    value = json.loads(line.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("a channel message must be a JSON object")
    return value


def request(
    op: str, args: dict[str, Any] | None = None, auth: dict[str, str] | None = None
) -> bytes:
    message: dict[str, Any] = {"v": PROTOCOL_VERSION, "op": op, "args": args or {}}
    if auth:
        message.update(auth)
    return encode(message)


def ok(result: Any) -> bytes:
    return encode({"v": PROTOCOL_VERSION, "ok": True, "result": result})


def failure(kind: str, message: str, exit_code: int = 1) -> bytes:
    error = {"kind": kind, "message": message, "exit_code": exit_code}
    return encode({"v": PROTOCOL_VERSION, "ok": False, "error": error})
