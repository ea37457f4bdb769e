"""The local channel over a real Unix socket and over loopback TCP with a token (the transport where
there are no Unix sockets, forced here): single-instance lock, stale sockets and endpoint files,
every op, refused strangers, and the CLI's import-light `credential-process` fast path."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from traycred import paths
from traycred.channel import client, protocol
from traycred.channel.server import AlreadyRunningError, ChannelServer, UnsupportedOperation
from traycred.credentials import Credentials
from traycred.errors import MfaCodeNeededError, NetworkError, ProfileNotFoundError
from traycred.state import AppState, ProfileState, ProfileStatus

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE" + "Q" * 120
EXPIRY = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


class Instance:
    """A running instance's answers, scripted per profile."""

    def __init__(self) -> None:
        self.refreshed: list[tuple[tuple[str, ...], str | None]] = []
        self.default: str | None = None
        self.menu_shown = 0

    def credentials(self, profile: str) -> Credentials:
        if profile == "dev":
            return Credentials("ASIAEXAMPLEDEV000001", SECRET, TOKEN, EXPIRY)
        if profile == "static":
            return Credentials("AKIAEXAMPLESTATIC001", SECRET)
        if profile == "mfa":
            raise MfaCodeNeededError("An MFA code is needed for mfa; run `traycred refresh mfa`.")
        if profile == "offline":
            raise NetworkError("Cannot reach sts.amazonaws.com.", hint="Check the network.")
        raise ProfileNotFoundError(f"No profile named {profile}.")

    def status(self) -> AppState:
        return AppState(
            profiles=(ProfileState("dev", ProfileStatus.FRESH, EXPIRY, is_default=True),),
            default_profile="dev",
        )

    def refresh(
        self, profiles: Sequence[str], mfa_code: str | None
    ) -> Mapping[str, datetime | Exception]:
        self.refreshed.append((tuple(profiles), mfa_code))
        return {"dev": EXPIRY, "mfa": MfaCodeNeededError("An MFA code is needed for mfa.")}

    def use(self, profile: str) -> datetime | None:
        self.default = profile
        return EXPIRY

    def show_menu(self) -> None:
        self.menu_shown += 1


class Daemonish(Instance):
    def show_menu(self) -> None:
        raise UnsupportedOperation("The traycred daemon has no menu.")


@pytest.fixture(params=[protocol.UNIX, protocol.TCP], autouse=True)
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs over both transports unless it is marked `unix_only`/`tcp_only`."""
    monkeypatch.setenv(protocol.TRANSPORT_ENV, request.param)
    assert protocol.transport() == request.param
    return str(request.param)


unix_only = pytest.mark.parametrize("transport", [protocol.UNIX], indirect=True)
tcp_only = pytest.mark.parametrize("transport", [protocol.TCP], indirect=True)


@pytest.fixture
def instance(transport: str) -> Iterator[Instance]:
    handler = Instance()
    with ChannelServer(handler, kind="tray"):
        yield handler


def test_the_channel_is_private_and_ping_names_the_instance(
    instance: Instance, transport: str
) -> None:
    folder = paths.runtime_dir()
    if transport == protocol.UNIX:
        sock = folder / protocol.SOCKET_NAME
        assert stat.S_ISSOCK(sock.stat().st_mode)
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    else:
        endpoint = folder / protocol.ENDPOINT_NAME
        assert stat.S_IMODE(endpoint.stat().st_mode) == 0o600
        assert not (folder / protocol.SOCKET_NAME).exists()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    info = client.ping()
    assert info is not None
    assert info["pid"] == os.getpid() and info["kind"] == "tray"
    assert info["protocol"] == protocol.PROTOCOL_VERSION


def test_a_missing_runtime_folder_is_created_private(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = paths.runtime_dir() / "nested" / "run"
    monkeypatch.setenv("TRAYCRED_RUNTIME_DIR", str(folder))
    with ChannelServer(Instance(), kind="daemon"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert client.ping() is not None


def test_a_second_instance_refuses_and_names_the_first(instance: Instance) -> None:
    with pytest.raises(AlreadyRunningError) as caught:
        ChannelServer(Instance(), kind="daemon").bind()
    assert f"the traycred tray (pid {os.getpid()}) is already running" in str(caught.value)
    assert client.ping() is not None  # the first one is untouched


def test_closing_removes_the_socket_and_frees_the_instance() -> None:
    server = ChannelServer(Instance(), kind="daemon")
    server.bind()
    server.start()
    server.close()
    assert not (paths.runtime_dir() / protocol.SOCKET_NAME).exists()
    assert not (paths.runtime_dir() / protocol.ENDPOINT_NAME).exists()
    assert client.ping() is None
    with ChannelServer(Instance(), kind="tray"):
        assert client.ping()["kind"] == "tray"  # type: ignore[index]


@unix_only
def test_a_stale_socket_is_ignored_by_clients_and_replaced_by_the_next_instance() -> None:
    path = paths.runtime_dir() / protocol.SOCKET_NAME
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # left behind, nobody listening (like after SIGKILL)
    dead.close()
    assert path.exists()
    assert client.ping() is None
    assert client.credential_process("dev") is None  # the CLI goes direct
    with ChannelServer(Instance(), kind="daemon"):
        assert client.ping()["kind"] == "daemon"  # type: ignore[index]


def test_credential_process_prints_the_instances_credentials(
    instance: Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    assert client.credential_process("dev") == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "Version": 1,
        "AccessKeyId": "ASIAEXAMPLEDEV000001",
        "SecretAccessKey": SECRET,
        "SessionToken": TOKEN,
        "Expiration": "2031-05-06T07:08:09Z",
    }
    assert err == ""


def test_keys_without_a_session_print_neither_token_nor_expiration(
    instance: Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    # Long-term keys have neither: both are left out, as when the CLI resolves the profile
    # itself (botocore reads a credential_process without Expiration as never expiring).
    assert client.credential_process("static") == 0
    out, _ = capsys.readouterr()
    assert json.loads(out) == {
        "Version": 1,
        "AccessKeyId": "AKIAEXAMPLESTATIC001",
        "SecretAccessKey": SECRET,
    }


def test_needs_user_without_a_terminal_exits_3_with_the_message(
    instance: Instance, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - closed by pytest
    assert client.credential_process("mfa") == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "traycred: An MFA code is needed for mfa; run `traycred refresh mfa`.\n"


def test_needs_user_with_a_terminal_falls_back_to_asking_directly(
    instance: Instance, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    assert client.credential_process("mfa") is None
    assert capsys.readouterr() == ("", "")


def test_instance_errors_keep_their_message_and_exit_code(
    instance: Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    assert client.credential_process("offline") == 1
    assert capsys.readouterr().err == (
        "traycred: Cannot reach sts.amazonaws.com. Check the network.\n"
    )
    assert client.credential_process("nope") == 1
    assert capsys.readouterr().err == "traycred: No profile named nope.\n"


def test_status_refresh_use_and_show_menu(instance: Instance) -> None:
    state = AppState.from_json(client.call("status"))
    assert state == instance.status()
    outcomes = client.call("refresh", {"profiles": ["dev", "mfa"], "mfa_code": "123456"})
    assert outcomes == {
        "dev": {"ok": True, "expiration": "2031-05-06T07:08:09Z"},
        "mfa": {
            "ok": False,
            "message": "An MFA code is needed for mfa.",
            "exit_code": 3,
            "needs_user": True,
        },
    }
    assert instance.refreshed == [(("dev", "mfa"), "123456")]
    assert client.call("use", {"profile": "dev"}) == {"expiration": "2031-05-06T07:08:09Z"}
    assert instance.default == "dev"
    assert client.call("show_menu") == {}
    assert instance.menu_shown == 1


class WithExtras(Instance):
    """An instance with the optional ops: `use` with a code, and `resume`."""

    def __init__(self) -> None:
        super().__init__()
        self.codes: list[str | None] = []
        self.resumed: list[list[str]] = []

    def use_with_code(self, profile: str, mfa_code: str | None) -> datetime | None:
        self.codes.append(mfa_code)
        return self.use(profile)

    def resume(self, names: Sequence[str]) -> list[str]:
        self.resumed.append(list(names))
        return [n for n in names if not n.startswith("sso:")]


def test_use_with_a_code_and_resume_reach_a_handler_that_has_them() -> None:
    handler = WithExtras()
    with ChannelServer(handler, kind="daemon"):
        answer = client.call("use", {"profile": "dev", "mfa_code": "123456"})
        assert answer == {"expiration": "2031-05-06T07:08:09Z"}
        assert handler.codes == ["123456"] and handler.default == "dev"
        assert client.resume(["sso:demo", "prod-ro"]) == ["prod-ro"]
        assert handler.resumed == [["sso:demo", "prod-ro"]]


def test_a_handler_without_the_optional_ops_says_so_and_the_cli_goes_direct(
    instance: Instance,
) -> None:
    with pytest.raises(client.InstanceError) as caught:
        client.call("use", {"profile": "dev", "mfa_code": "123456"})
    assert caught.value.kind == protocol.UNSUPPORTED
    assert instance.default is None
    assert client.resume(["dev"]) is None


def test_resume_with_nobody_running_is_none() -> None:
    assert client.resume(["dev"]) is None


def test_the_daemon_says_it_has_no_menu() -> None:
    with ChannelServer(Daemonish(), kind="daemon"), pytest.raises(client.InstanceError) as caught:
        client.call("show_menu")
    assert caught.value.kind == protocol.UNSUPPORTED
    assert caught.value.message == "The traycred daemon has no menu."


@unix_only
def test_malformed_requests_get_a_clear_refusal(instance: Instance) -> None:
    with pytest.raises(client.InstanceError) as caught:
        client.call("credentials", {})
    assert caught.value.exit_code == 2 and caught.value.message == "`profile` is required."
    with pytest.raises(client.InstanceError) as caught:
        client.call("launch_missiles")
    assert caught.value.kind == protocol.UNSUPPORTED
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(client.socket_path())
    sock.sendall(b'{"v": 99, "op": "ping"}\n')
    reply = protocol.decode(client.read_line(sock))
    sock.close()
    assert reply["ok"] is False and reply["error"]["kind"] == protocol.VERSION


@unix_only
def test_client_socket_path_matches_paths_runtime_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert client.socket_path() == str(paths.runtime_dir() / protocol.SOCKET_NAME)
    monkeypatch.delenv("TRAYCRED_RUNTIME_DIR")
    xdg = tmp_path / "xdg-run"
    xdg.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    assert client.runtime_dir() == str(paths.runtime_dir()) == str(xdg / "traycred")
    xdg.chmod(0o755)  # not private: platformdirs falls back, and the client follows it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs says it once per process
        assert client.runtime_dir() == str(paths.runtime_dir()) != str(xdg / "traycred")


FORBIDDEN = ("boto3", "botocore", "keyring", "PySide6", "platformdirs", "traycred.engine")


def test_credential_process_answered_by_an_instance_imports_nothing_heavy(
    instance: Instance,
) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "traycred", "credential-process", "dev"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["AccessKeyId"] == "ASIAEXAMPLEDEV000001"
    imported = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "traycred.channel.client" in imported  # the measurement itself works
    heavy = sorted(m for m in imported if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN)
    assert heavy == []


# ----- the TCP transport: a loopback port that only the token's holder may use -----


def _endpoint() -> dict[str, object]:
    value = json.loads((paths.runtime_dir() / protocol.ENDPOINT_NAME).read_text())
    assert isinstance(value, dict)
    return value


def _raw_exchange(port: int, request: bytes) -> tuple[dict[str, object], bytes]:
    """Greeting and whatever the server sends back to `request` (b"" when it just hangs up)."""
    with socket.create_connection((protocol.LOOPBACK, port), timeout=5) as sock:
        greeting = protocol.decode(client.read_line(sock))
        sock.sendall(request)
        return greeting, sock.recv(65536)


@tcp_only
def test_the_endpoint_names_a_loopback_port_and_a_fresh_random_token(instance: Instance) -> None:
    endpoint = _endpoint()
    assert set(endpoint) == {"port", "token", "pid", "kind"}
    assert endpoint["pid"] == os.getpid() and endpoint["kind"] == "tray"
    token = endpoint["token"]
    assert isinstance(token, str) and len(bytes.fromhex(token)) == 32
    port = endpoint["port"]
    assert isinstance(port, int)
    with socket.create_connection((protocol.LOOPBACK, port), timeout=5) as sock:
        assert sock.getpeername() == (protocol.LOOPBACK, port)


@tcp_only
def test_requests_without_the_token_are_refused_without_an_answer(instance: Instance) -> None:
    port = int(str(_endpoint()["port"]))
    # No proof at all: the credentials request gets no answer, just a closed connection.
    greeting, reply = _raw_exchange(port, protocol.request("credentials", {"profile": "dev"}))
    assert greeting["v"] == protocol.PROTOCOL_VERSION and greeting["nonce"]
    assert reply == b""
    # A proof made with another token, or one replayed from another connection's greeting.
    wrong = os.urandom(32).hex()
    auth = {"nonce": "c" * 32, "auth": protocol.mac(wrong, "request", str(greeting["nonce"]))}
    assert _raw_exchange(port, protocol.request("ping", None, auth))[1] == b""
    auth = {"nonce": "c" * 32, "auth": protocol.mac(str(_endpoint()["token"]), "request", "x")}
    assert _raw_exchange(port, protocol.request("ping", None, auth))[1] == b""
    # Garbage is no better.
    assert _raw_exchange(port, b"GET / HTTP/1.0\r\n\r\n")[1] == b""
    # The right proof gets the answer, with the server's own proof of the token.
    with socket.create_connection((protocol.LOOPBACK, port), timeout=5) as sock:
        nonce = str(protocol.decode(client.read_line(sock))["nonce"])
        token = str(_endpoint()["token"])
        auth = {"nonce": "c" * 32, "auth": protocol.mac(token, "request", nonce)}
        sock.sendall(protocol.request("ping", None, auth))
        answer = protocol.decode(client.read_line(sock))
    assert answer["ok"] is True and answer["result"]["pid"] == os.getpid()
    assert answer["proof"] == protocol.mac(token, "reply", "c" * 32)


@tcp_only
def test_a_client_with_the_wrong_token_gets_nothing_and_goes_direct(
    instance: Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    path = paths.runtime_dir() / protocol.ENDPOINT_NAME
    endpoint = _endpoint()
    path.write_text(json.dumps({**endpoint, "token": os.urandom(32).hex()}))
    assert client.ping() is None
    assert client.credential_process("dev") is None
    assert capsys.readouterr() == ("", "")


@tcp_only
def test_an_endpoint_file_others_could_change_is_not_trusted(instance: Instance) -> None:
    path = paths.runtime_dir() / protocol.ENDPOINT_NAME
    path.chmod(0o644)
    assert client.ping() is None
    path.chmod(0o600)
    assert client.ping() is not None


def _impostor(reply: bytes | None) -> tuple[socket.socket, threading.Thread]:
    """A program that took the port of a dead instance: greets like traycred, then sends `reply`
    (or nothing, never greeting, when None)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((protocol.LOOPBACK, 0))
    listener.listen(4)

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                if reply is None:
                    conn.recv(65536)  # waits for the client to give up
                    return
                conn.sendall(protocol.encode({"v": protocol.PROTOCOL_VERSION, "nonce": "n"}))
                client.read_line(conn)
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


@tcp_only
def test_a_stale_endpoint_whose_port_another_program_took_is_not_believed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from traycred.fileio import atomic_write

    fake = protocol.ok({"AccessKeyId": "AKIAATTACKER", "SecretAccessKey": "x", "SessionToken": "y"})
    for reply in (fake, None):
        listener, thread = _impostor(reply)
        endpoint = {
            "port": listener.getsockname()[1],
            "token": os.urandom(32).hex(),
            "pid": 1,
            "kind": "tray",
        }
        atomic_write(paths.runtime_dir() / protocol.ENDPOINT_NAME, json.dumps(endpoint).encode())
        monkeypatch.setattr(client, "CONNECT_TIMEOUT", 0.3)  # the silent one: give up soon
        assert client.credential_process("dev") is None  # the CLI resolves it itself
        assert capsys.readouterr() == ("", "")
        listener.close()
        thread.join(5)


CHILD = """
import sys, time
from traycred.channel.server import ChannelServer

class Handler:
    def show_menu(self):
        pass

server = ChannelServer(Handler(), kind="daemon")
server.bind()
server.start()
print("ready", flush=True)
time.sleep(120)
"""


@tcp_only
def test_a_killed_instance_leaves_no_lock_and_its_stale_endpoint_is_replaced() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        # A second instance, in another process, is refused and told which one runs.
        with pytest.raises(AlreadyRunningError) as caught:
            ChannelServer(Instance(), kind="tray").bind()
        assert f"the traycred daemon (pid {child.pid}) is already running" in str(caught.value)
        old = _endpoint()
        assert old["pid"] == child.pid
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert _endpoint() == old  # left behind, like after a crash
    assert client.ping() is None
    with ChannelServer(Instance(), kind="tray"):  # the OS dropped the dead one's lock
        new = _endpoint()
        assert new["pid"] == os.getpid()
        assert new["token"] != old["token"]
        assert stat.S_IMODE((paths.runtime_dir() / protocol.ENDPOINT_NAME).stat().st_mode) == 0o600
        assert client.ping()["pid"] == os.getpid()  # type: ignore[index]
