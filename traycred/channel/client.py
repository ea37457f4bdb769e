"""The CLI's side of the channel: ask the running tray or daemon, in a few milliseconds.

Imports only the standard library and traycred.channel.protocol, so `traycred
credential-process` answered by a running instance never loads boto3, botocore, keyring, Qt or
platformdirs. Where there are no Unix sockets (Windows) it talks TCP to 127.0.0.1 instead, proving
it holds the token the instance left in the runtime folder (protocol.transport()). The runtime
folder is computed here the way traycred.paths.runtime_dir() finds it
(platformdirs) for the common cases; anything unusual defers to traycred.paths.
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


def endpoint_path() -> str:
    """The TCP transport's port-and-token file (see protocol.transport())."""
    return os.path.join(runtime_dir(), protocol.ENDPOINT_NAME)


def call(
    op: str,
    args: dict[str, Any] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    folder: str | None = None,
) -> Any:
    """Send one request and return its result.

    `folder` is the runtime folder (default: runtime_dir()). Raises Unavailable when no
    instance answered, InstanceError when it answered with an error.
    """
    folder = folder or runtime_dir()
    if protocol.transport() == protocol.TCP:
        response = _exchange_tcp(folder, op, args, timeout)
    else:
        response = _exchange_unix(folder, op, args, timeout)
    if response.get("ok"):
        return response.get("result")
    error = response.get("error") or {}
    raise InstanceError(
        str(error.get("kind", protocol.ERROR)),
        str(error.get("message", "The running traycred instance reported an error.")),
        int(error.get("exit_code", 1)),
    )


def _exchange_unix(
    folder: str, op: str, args: dict[str, Any] | None, timeout: float
) -> dict[str, Any]:
    path = os.path.join(folder, protocol.SOCKET_NAME)
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
    return _response(line)


def _exchange_tcp(
    folder: str, op: str, args: dict[str, Any] | None, timeout: float
) -> dict[str, Any]:
    import hmac

    port, token = read_endpoint(os.path.join(folder, protocol.ENDPOINT_NAME))
    nonce = os.urandom(16).hex()
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        # The greeting is due at once: a stale file's port now held by some other program that
        # never speaks first is given up on after CONNECT_TIMEOUT, not after `timeout`.
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect((protocol.LOOPBACK, port))
            greeting = _response(read_line(sock))
        except OSError as exc:  # refused: the instance that wrote the file is gone
            raise Unavailable(f"no instance at {protocol.LOOPBACK}:{port}: {exc}") from None
        server_nonce = greeting.get("nonce")
        if not isinstance(server_nonce, str) or not server_nonce:
            raise Unavailable("the program on the channel's port is not a traycred instance")
        auth = {"nonce": nonce, "auth": protocol.mac(token, "request", server_nonce)}
        sock.settimeout(timeout)
        try:
            sock.sendall(protocol.request(op, args, auth))
            line = read_line(sock)
        except OSError as exc:
            raise Unavailable(f"the instance did not answer: {exc}") from None
    finally:
        sock.close()
    response = _response(line)
    proof = response.get("proof")
    if not isinstance(proof, str) or not hmac.compare_digest(
        proof, protocol.mac(token, "reply", nonce)
    ):
        # Whoever answered does not hold this user's token: do not trust what it sent.
        raise Unavailable("the answer on the channel's port is not from this user's instance")
    return response


def read_endpoint(path: str) -> tuple[int, str]:
    """The port and token the running instance wrote (TCP transport). Unavailable if unusable."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise Unavailable(f"no instance endpoint at {path}: {exc}") from None
    try:
        if hasattr(os, "geteuid"):
            # Only a file of ours that nobody else can change may say where our instance is.
            info = os.fstat(fd)
            if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
                raise Unavailable(f"{path} is not private to this user")
        raw = os.read(fd, 4096)
    except OSError as exc:
        raise Unavailable(f"cannot read {path}: {exc}") from None
    finally:
        os.close(fd)
    try:
        endpoint = json.loads(raw.decode("utf-8"))
        port, token = endpoint["port"], endpoint["token"]
        bytes.fromhex(token)
    except (ValueError, KeyError, TypeError) as exc:
        raise Unavailable(f"{path} is not a traycred endpoint: {exc}") from None
    if not isinstance(port, int) or not 0 < port < 65536 or len(token) < 32:
        raise Unavailable(f"{path} is not a traycred endpoint")
    return port, token


def _response(line: bytes) -> dict[str, Any]:
    if not line:
        raise Unavailable("the instance closed the connection without an answer")
    try:
        response = protocol.decode(line)
    except ValueError:
        raise Unavailable("the instance sent something that is not a channel message") from None
    if response.get("v") != protocol.PROTOCOL_VERSION:
        raise Unavailable(f"the instance speaks channel version {response.get('v')!r}")
    return response


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


def ping(timeout: float = 2.0, *, folder: str | None = None) -> dict[str, Any] | None:
    """The running instance's {pid, kind, version}, or None when none answers."""
    try:
        result = call("ping", timeout=timeout, folder=folder)
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
    if not isinstance(result, dict) or result.get("Version") != 1:
        return None  # not the credential_process object: resolve the profile here instead
    # The instance sends the object `Credentials.process_output` builds, printed as it is.
    sys.stdout.write(json.dumps(result) + "\n")
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
