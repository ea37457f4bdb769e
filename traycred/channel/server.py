"""The running instance's side of the channel, which is also the one-instance-per-user lock.

`ChannelServer.bind()` takes an flock on `traycred.lock` in the runtime folder (0700): the kernel
drops it when the process dies, so a crashed instance never blocks the next one, and two
instances starting at the same moment cannot both win. The winner replaces any stale socket and
listens on `traycred.sock` (0600); a loser raises AlreadyRunningError naming the instance that
runs (pid and kind, asked over the socket or read from the lock file). Connections from another
user are refused (SO_PEERCRED) even though the folder's mode already keeps them out.

Where there are no Unix sockets or fcntl (Windows; protocol.transport() says "tcp"), the same
lock file is taken with `filelock` (LockFileEx on Windows, which the OS also drops when the
process dies), the server listens on 127.0.0.1 on a free port, and writes the port and a fresh
random token to `traycred.endpoint.json` (0600) in the runtime folder. Any local user can
connect to a loopback port, so the token is what keeps them out: a connection that does not
prove it holds the token is closed without an answer (see protocol's docstring for the
handshake).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import socket
import stat
import struct
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from traycred import __version__, paths
from traycred.channel import client, protocol
from traycred.credentials import Credentials, format_iso
from traycred.errors import NeedsUserError, TraycredError, UsageError
from traycred.state import AppState

log = logging.getLogger(__name__)

READ_TIMEOUT = 10.0


class AlreadyRunningError(TraycredError):
    """Another tray or daemon of this user is running (one instance per user)."""


class UnsupportedOperation(TraycredError):
    """This kind of instance cannot do that (e.g. show the menu: the daemon has none)."""


class ChannelHandler(Protocol):
    """What a running instance answers; the daemon and the tray each implement it."""

    def credentials(self, profile: str) -> Credentials:
        """Fresh credentials; may ask the user through the instance's own prompter."""
        ...

    def status(self) -> AppState: ...

    def refresh(
        self, profiles: Sequence[str], mfa_code: str | None
    ) -> Mapping[str, datetime | Exception]: ...

    def use(self, profile: str) -> datetime | None:
        """Make `profile` the default; returns the expiry of what [default] now holds."""
        ...

    def show_menu(self) -> None: ...


class ChannelServer:
    """Listens on the per-user socket and answers each request on its own thread."""

    def __init__(self, handler: ChannelHandler, *, kind: str, folder: Path | None = None) -> None:
        self.handler = handler
        self.kind = kind
        self.folder = folder or paths.runtime_dir()
        self.socket_path = self.folder / protocol.SOCKET_NAME
        self.lock_path = self.folder / protocol.LOCK_NAME
        self.endpoint_path = self.folder / protocol.ENDPOINT_NAME
        self.transport = protocol.transport()
        self._lock_fd: int | None = None
        self._file_lock: Any = None  # a filelock.FileLock on the TCP transport
        self._listener: socket.socket | None = None
        self._socket_inode: int | None = None
        self._token: str | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ChannelServer:
        self.bind()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- claiming the instance -----

    def bind(self) -> None:
        """Become the instance: lock, replace a stale socket, listen. AlreadyRunningError if not."""
        self._ensure_folder()
        tcp = self.transport == protocol.TCP
        self._take_file_lock() if tcp else self._take_lock()
        try:
            self._listen_tcp() if tcp else self._listen()
        except BaseException:
            self._release_lock()
            raise

    def _ensure_folder(self) -> None:
        from traycred.fileio import ensure_private_dir

        ensure_private_dir(self.folder)
        try:
            info = self.folder.stat()
        except OSError as exc:
            raise TraycredError(
                f"Cannot create the runtime folder {self.folder}: {exc.strerror}.",
                hint="Set TRAYCRED_RUNTIME_DIR to a private folder.",
            ) from None
        if not hasattr(os, "geteuid"):
            # Windows: platformdirs' runtime folder is under the user's own profile
            # (%LOCALAPPDATA%), whose ACL already admits only this user, SYSTEM and admins.
            return
        if info.st_uid != os.geteuid():
            raise TraycredError(
                f"The runtime folder {self.folder} belongs to another user.",
                hint="Set TRAYCRED_RUNTIME_DIR to a private folder of yours.",
            )
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(self.folder, 0o700)

    def _take_lock(self) -> None:
        import fcntl

        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._already_running() from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {self.kind}\n".encode())
        self._lock_fd = fd

    def _take_file_lock(self) -> None:
        from filelock import FileLock, Timeout

        # Not thread-local: the tray binds on its main thread and may close on another.
        lock = FileLock(str(self.lock_path), mode=0o600, thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise self._already_running() from None
        self._file_lock = lock

    def _already_running(self) -> AlreadyRunningError:
        if self.transport == protocol.TCP:
            info = client.ping(folder=str(self.folder))
            if info is None:
                # The lock file cannot be read while locked on Windows; the endpoint file can.
                try:
                    endpoint = json.loads(self.endpoint_path.read_text())
                    info = {"pid": int(endpoint["pid"]), "kind": str(endpoint["kind"])}
                except (OSError, ValueError, KeyError, TypeError):
                    info = {}
        else:
            info = _ping_at(self.socket_path)
        if info is None:
            try:
                pid, kind = self.lock_path.read_text().split()[:2]
                info = {"pid": int(pid), "kind": kind}
            except (OSError, ValueError):
                info = {}
        if info:
            who = f"the traycred {info.get('kind', 'instance')} (pid {info.get('pid', '?')})"
        else:
            who = "another traycred instance"
        return AlreadyRunningError(
            f"{who} is already running for this user.",
            hint="Use it (`traycred status`), or stop it first.",
        )

    def _listen(self) -> None:
        if self.socket_path.exists() or self.socket_path.is_symlink():
            # We hold the lock, so whatever is there is left over from an instance that died.
            if _ping_at(self.socket_path) is not None:
                raise self._already_running()
            log.info("removing stale socket %s", self.socket_path)
            self.socket_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.socket_path))
            # The folder is 0700, so nobody else can reach the socket between bind and chmod.
            os.chmod(self.socket_path, 0o600)
            listener.listen(16)
        except OSError as exc:
            listener.close()
            raise TraycredError(
                f"Cannot listen on {self.socket_path}: {exc.strerror}.",
                hint="Set TRAYCRED_RUNTIME_DIR to a private folder.",
            ) from None
        listener.setblocking(False)
        self._socket_inode = self.socket_path.stat().st_ino
        self._listener = listener

    def _listen_tcp(self) -> None:
        from traycred.fileio import atomic_write

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((protocol.LOOPBACK, 0))
            listener.listen(16)
        except OSError as exc:
            listener.close()
            raise TraycredError(
                f"Cannot listen on {protocol.LOOPBACK}: {exc.strerror}.",
                hint="Check that the loopback interface is up and not blocked.",
            ) from None
        port = listener.getsockname()[1]
        token = os.urandom(32).hex()
        endpoint = {"port": port, "token": token, "pid": os.getpid(), "kind": self.kind}
        try:
            # We hold the lock, so an endpoint file already there is from an instance that
            # died: replaced whole (0600; on Windows the private runtime folder guards it).
            atomic_write(self.endpoint_path, json.dumps(endpoint).encode() + b"\n")
        except BaseException:
            listener.close()
            raise
        listener.setblocking(False)
        self._token = token
        self._listener = listener

    def _release_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()  # closing the handle drops the OS lock
            self._file_lock = None
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._lock_fd, 0)
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    # ----- serving -----

    def start(self) -> None:
        if self._listener is None:
            raise RuntimeError("bind() first")
        # A socket pair, not a pipe: select() on Windows takes sockets only.
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="traycred-channel", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening, remove the socket (if it is still ours) and release the lock."""
        if self._thread is not None:
            if self._wake_w is not None:
                with contextlib.suppress(OSError):
                    self._wake_w.send(b"x")
            self._thread.join(5)
            self._thread = None
        for end in (self._wake_r, self._wake_w):
            if end is not None:
                end.close()
        self._wake_r = self._wake_w = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            if self.transport == protocol.TCP:
                self._remove_endpoint()
            else:
                with contextlib.suppress(OSError):
                    if self.socket_path.stat().st_ino == self._socket_inode:
                        self.socket_path.unlink()
        self._token = None
        self._release_lock()

    def _remove_endpoint(self) -> None:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            if json.loads(self.endpoint_path.read_text())["token"] == self._token:
                self.endpoint_path.unlink()

    def _serve(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        # Blocks without a timeout: an idle instance costs no wake-ups here.
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ, "accept")
            selector.register(self._wake_r, selectors.EVENT_READ, "stop")
            while True:
                for key, _ in selector.select():
                    if key.data == "stop":
                        return
                    try:
                        conn, _ = self._listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        log.exception("accept failed")
                        continue
                    threading.Thread(
                        target=self._handle_connection,
                        args=(conn,),
                        name="traycred-channel-request",
                        daemon=True,
                    ).start()

    def _handle_connection(self, conn: socket.socket) -> None:
        with conn:
            conn.setblocking(True)
            conn.settimeout(READ_TIMEOUT)
            if self.transport == protocol.TCP:
                token = self._token
                if token is not None:  # None: closing
                    self._handle_tcp(conn, token)
                return
            if not _same_user(conn):
                log.warning("refused a channel connection from another user")
                return
            try:
                line = client.read_line(conn)
            except OSError:
                return
            if not line:
                return
            reply = self.answer(line)
            conn.settimeout(None)
            with contextlib.suppress(OSError):
                conn.sendall(reply)

    def _handle_tcp(self, conn: socket.socket, token: str) -> None:
        nonce = os.urandom(16).hex()
        try:
            conn.sendall(protocol.encode({"v": protocol.PROTOCOL_VERSION, "nonce": nonce}))
            line = client.read_line(conn)
        except OSError:
            return
        if not line:
            return
        try:
            request = protocol.decode(line)
        except ValueError:
            request = {}
        auth, client_nonce = request.get("auth"), request.get("nonce")
        import hmac  # the TCP transport only; hmac loads OpenSSL, which the Unix path avoids

        if not (
            isinstance(auth, str)
            and isinstance(client_nonce, str)
            and client_nonce
            and hmac.compare_digest(auth, protocol.mac(token, "request", nonce))
        ):
            # Any local user can reach a loopback port: without the token, no answer at all.
            log.warning("refused a channel connection without this instance's token")
            return
        reply = protocol.decode(self.answer(line))
        reply["proof"] = protocol.mac(token, "reply", client_nonce)
        conn.settimeout(None)
        with contextlib.suppress(OSError):
            conn.sendall(protocol.encode(reply))

    def answer(self, line: bytes) -> bytes:
        """The response line for one request line (never raises)."""
        try:
            request = protocol.decode(line)
        except ValueError:
            return protocol.failure(protocol.BAD_REQUEST, "Not a channel request.", 2)
        if request.get("v") != protocol.PROTOCOL_VERSION:
            return protocol.failure(
                protocol.VERSION,
                f"This traycred instance speaks channel version {protocol.PROTOCOL_VERSION}.",
            )
        op = request.get("op")
        args = request.get("args") or {}
        if not isinstance(op, str) or not isinstance(args, dict):
            return protocol.failure(protocol.BAD_REQUEST, "Malformed channel request.", 2)
        try:
            return protocol.ok(self._dispatch(op, args))
        except NeedsUserError as exc:
            return protocol.failure(protocol.NEEDS_USER, str(exc), exc.exit_code)
        except UnsupportedOperation as exc:
            return protocol.failure(protocol.UNSUPPORTED, str(exc), exc.exit_code)
        except TraycredError as exc:
            return protocol.failure(protocol.ERROR, str(exc), exc.exit_code)
        except Exception:
            log.exception("channel request %r failed", op)
            return protocol.failure(
                protocol.ERROR,
                "The running traycred instance failed on this request; see its log.",
            )

    def _dispatch(self, op: str, args: dict[str, Any]) -> Any:
        if op == "ping":
            return {
                "pid": os.getpid(),
                "kind": self.kind,
                "version": __version__,
                "protocol": protocol.PROTOCOL_VERSION,
            }
        if op == "credentials":
            # Exactly what `traycred credential-process` prints: the client passes it on.
            return self.handler.credentials(_text(args, "profile")).process_output()
        if op == "status":
            return self.handler.status().to_json()
        if op == "refresh":
            profiles = args.get("profiles") or []
            if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
                raise UsageError("`profiles` must be a list of profile names.")
            code = args.get("mfa_code")
            outcomes = self.handler.refresh(profiles, code if isinstance(code, str) else None)
            return {name: _outcome_json(outcome) for name, outcome in outcomes.items()}
        if op == "use":
            profile = _text(args, "profile")
            code = args.get("mfa_code")
            if isinstance(code, str) and code:
                # Optional in a handler (the daemon's and the tray's have it).
                use_with_code = getattr(self.handler, "use_with_code", None)
                if use_with_code is None:
                    raise UnsupportedOperation("This instance cannot take an MFA code for `use`.")
                expiration = use_with_code(profile, code)
            else:
                expiration = self.handler.use(profile)
            return {"expiration": None if expiration is None else format_iso(expiration)}
        if op == "resume":
            names = args.get("names") or []
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise UsageError("`names` must be a list of profile or group names.")
            resume = getattr(self.handler, "resume", None)
            if resume is None:
                raise UnsupportedOperation("This instance cannot be told to resume profiles.")
            return {"resumed": list(resume(names))}
        if op == "show_menu":
            self.handler.show_menu()
            return {}
        raise UnsupportedOperation(f"Unknown channel operation {op!r}.")


def _text(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise UsageError(f"`{key}` is required.")
    return value


def _outcome_json(outcome: datetime | Exception) -> dict[str, Any]:
    if isinstance(outcome, datetime):
        return {"ok": True, "expiration": format_iso(outcome)}
    error: dict[str, Any] = {"ok": False, "message": str(outcome)}
    if isinstance(outcome, TraycredError):
        error["exit_code"] = outcome.exit_code
        error["needs_user"] = isinstance(outcome, NeedsUserError)
    else:
        error["message"] = f"Unexpected error: {type(outcome).__name__}."
        error["exit_code"] = 1
    return error


def _same_user(conn: socket.socket) -> bool:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:  # not Linux: the 0700 folder is the protection
        return True
    try:
        raw = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return False
    _pid, uid, _gid = struct.unpack("3i", raw)
    return bool(uid == os.geteuid())


def _ping_at(path: Path) -> dict[str, Any] | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(2.0)
        sock.connect(str(path))
        sock.sendall(protocol.request("ping"))
        line = client.read_line(sock)
        response = protocol.decode(line) if line else {}
    except (OSError, ValueError):
        return None
    finally:
        sock.close()
    result = response.get("result")
    return result if response.get("ok") and isinstance(result, dict) else None
