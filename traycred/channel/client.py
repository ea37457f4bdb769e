"""The CLI's side of the channel: ask the running tray or daemon, in a few milliseconds.

Imports only the standard library and traycred.channel.protocol, so `traycred
credential-process` answered by a running instance never loads boto3, botocore, keyring, Qt or
platformdirs. The socket path is computed here the way traycred.paths.runtime_dir() finds it
(platformdirs), for the common cases; anything unusual defers to traycred.paths.
"""

from __future__ import annotations

# `_socket` rather than `socket`: the wrapper module pulls in selectors and select, a few
# milliseconds this process does not need for one connect/send/receive.
import _socket
import json
import os
import stat
import sys

from traycred.channel import protocol

TYPE_CHECKING = False  # typing itself costs milliseconds to import on this path
if TYPE_CHECKING:
    from typing import Any

CONNECT_TIMEOUT = 2.0
DEFAULT_TIMEOUT = 10.0
# An answer may wait for the user (the tray's MFA dialog or sign-in page).
CREDENTIALS_TIMEOUT = 600.0


class Unavailable(Exception):
    """No instance answered (none running, stale socket, or it speaks another protocol)."""


class InstanceError(Exception):
    """The instance answered with an error: `kind` (protocol.*), message, exit code."""

    def __init__(self, kind: str, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exit_code = exit_code


def _private_dir(path: str) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )


def runtime_dir() -> str:
    """traycred.paths.runtime_dir(), without importing platformdirs in the usual cases."""
    override = os.environ.get("TRAYCRED_RUNTIME_DIR")
    if override:
        return override
    if sys.platform.startswith("linux"):
        # platformdirs accepts $XDG_RUNTIME_DIR when it is an absolute, private, owned directory.
        xdg = os.environ.get("XDG_RUNTIME_DIR", "")
        if os.path.isabs(xdg) and _private_dir(xdg):
            return os.path.join(xdg, "traycred")
    from traycred import paths

    return str(paths.runtime_dir())


def socket_path() -> str:
    return os.path.join(runtime_dir(), protocol.SOCKET_NAME)


def call(op: str, args: dict[str, Any] | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Send one request and return its result.

    Raises Unavailable when no instance answered, InstanceError when it answered with an error.
    """
    path = socket_path()
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect(path)
        except OSError as exc:  # missing, refused (stale socket), permission, timeout
            raise Unavailable(f"no instance at {path}: {exc}") from None
        sock.settimeout(timeout)
        try:
            sock.sendall(protocol.request(op, args))
            line = read_line(sock)
        except OSError as exc:
            raise Unavailable(f"the instance did not answer: {exc}") from None
    finally:
        sock.close()
    if not line:
        raise Unavailable("the instance closed the connection without an answer")
    try:
        response = protocol.decode(line)
    except ValueError:
        raise Unavailable("the instance sent something that is not a channel message") from None
    if response.get("v") != protocol.PROTOCOL_VERSION:
        raise Unavailable(f"the instance speaks channel version {response.get('v')!r}")
    if response.get("ok"):
        return response.get("result")
    error = response.get("error") or {}
    raise InstanceError(
        str(error.get("kind", protocol.ERROR)),
        str(error.get("message", "The running traycred instance reported an error.")),
        int(error.get("exit_code", 1)),
    )


def read_line(sock: _socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > protocol.MAX_LINE_BYTES:
            break
    return b"".join(chunks).split(b"\n", 1)[0]


def ping(timeout: float = 2.0) -> dict[str, Any] | None:
    """The running instance's {pid, kind, version}, or None when none answers."""
    try:
        result = call("ping", timeout=timeout)
    except (Unavailable, InstanceError):
        return None
    return result if isinstance(result, dict) else None


def credential_process(profile: str) -> int | None:
    """`traycred credential-process PROFILE` answered by the running instance.

    Prints the credential_process JSON and returns the exit code, or returns None when the
    caller should resolve the profile itself: no instance, or the instance needs the user and
    this process has a terminal to ask on.
    """
    try:
        result = call("credentials", {"profile": profile}, timeout=CREDENTIALS_TIMEOUT)
    except Unavailable:
        return None
    except InstanceError as exc:
        if exc.kind == protocol.NEEDS_USER and _has_terminal():
            return None
        if exc.kind in (protocol.UNSUPPORTED, protocol.BAD_REQUEST, protocol.VERSION):
            return None
        sys.stderr.write(f"traycred: {exc.message}\n")
        return exc.exit_code
    output = {
        "Version": 1,
        "AccessKeyId": result["AccessKeyId"],
        "SecretAccessKey": result["SecretAccessKey"],
    }
    if result.get("SessionToken"):
        output["SessionToken"] = result["SessionToken"]
    if result.get("Expiration"):
        output["Expiration"] = result["Expiration"]
    sys.stdout.write(json.dumps(output) + "\n")
    sys.stdout.flush()
    return 0


def resume(names: list[str]) -> list[str] | None:
    """Tell the running instance the user acted outside it (see protocol `resume`).

    Returns the profiles it retries now, or None when no instance took the message.
    """
    try:
        result = call("resume", {"names": names})
    except (Unavailable, InstanceError):
        return None
    resumed = result.get("resumed") if isinstance(result, dict) else None
    return [str(n) for n in resumed] if isinstance(resumed, list) else []


def _has_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):
        return False
