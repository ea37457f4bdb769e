"""`traycred demo`: the throw-away world it builds, what the CLI sees in it, and its clean-up."""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from traycred.cli.cmd_demo import READY_LINE
from traycred.demo import FILE_KEYRING, Demo
from traycred.emulator.scenario import (
    ALICE_ACCESS_KEY_ID,
    ALICE_SECRET_ACCESS_KEY,
    CI_SECRET_ACCESS_KEY,
)

KINDS = {
    "keyring-keys",
    "static-keys",
    "session-keys",
    "assume-role",
    "sso-legacy",
    "sso-session",
    "process",
    "invalid",
}


def _secret_service_items(service: str) -> int:
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        return len(list(collection.search_items({"service": service})))
    finally:
        connection.close()


def _traycred(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traycred", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


class _Running:
    """A `traycred demo --no-tray` child: its banner, its environment, and how it ended."""

    def __init__(self, process: subprocess.Popen[str], lines: list[str]) -> None:
        self.process = process
        self.lines = lines
        exports = [line for line in lines if line.startswith("export ")]
        self.overrides: dict[str, str] = {}
        for line in exports:
            name, _, value = line[len("export ") :].partition("=")
            self.overrides[name] = shlex.split(value)[0] if value else ""
        self.env = {**os.environ, **self.overrides}
        self.folder = Path(self.overrides["HOME"]).parent

    @property
    def banner(self) -> str:
        return "\n".join(self.lines)

    def stop(self, signum: int) -> tuple[int, str]:
        self.process.send_signal(signum)
        _, err = self.process.communicate(timeout=30)
        return self.process.returncode, err


@pytest.fixture
def running_demo(tmp_path: Path) -> Iterator[_Running]:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "traycred", "demo", "--no-tray"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.strip() == READY_LINE:
            break
    else:
        process.wait(10)
        pytest.fail(f"demo did not start: {process.stderr.read() if process.stderr else ''}")
    running = _Running(process, lines)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_every_kind_of_profile_is_there_and_the_cli_works_in_it(
    running_demo: _Running, real_keyring: str
) -> None:
    # real_keyring only makes sure a Secret Service is there: the demo names its own service.
    demo = running_demo
    env = demo.env
    service = demo.overrides["TRAYCRED_KEYRING_SERVICE"]
    assert service.startswith("traycred-demo-")
    assert demo.overrides["PYTHON_KEYRING_BACKEND"] == "keyring.backends.SecretService.Keyring"
    assert "any six digits work, except 000000" in demo.banner
    assert "approve the request on the emulator's page" in demo.banner
    assert str(demo.folder) in demo.banner
    for secret in (ALICE_SECRET_ACCESS_KEY, CI_SECRET_ACCESS_KEY):
        assert secret not in demo.banner
    # The banner names a file that gives another terminal the same environment.
    env_file = demo.folder / "env.sh"
    assert f"in another terminal: . {env_file}" in demo.banner
    assert env_file.stat().st_mode & 0o777 == 0o600
    sourced = subprocess.run(
        ["sh", "-c", f'. "{env_file}" && env'], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for name, value in demo.overrides.items():
        assert f"{name}={value}" in sourced

    # HOME-independent: everything the tray reads or writes is in the folder.
    for name in (
        "HOME",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "TRAYCRED_RUNTIME_DIR",
    ):
        assert Path(demo.overrides[name]).is_relative_to(demo.folder), name
    assert stat.S_IMODE(demo.folder.stat().st_mode) == 0o700
    endpoint = urlsplit(demo.overrides["AWS_ENDPOINT_URL"])
    assert endpoint.hostname == "127.0.0.1"
    assert demo.overrides["TRAYCRED_FEDERATION_ENDPOINT"].startswith(
        demo.overrides["AWS_ENDPOINT_URL"]
    )

    listed = _traycred(env, "profiles", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert {row["kind"] for row in rows.values()} == KINDS
    assert rows["alice"]["kind"] == "keyring-keys"
    assert rows["ci"]["kind"] == "static-keys"
    assert rows["pasted"]["kind"] == "session-keys"
    assert rows["chained"]["chain"] == ["chained", "deploy", "alice"]
    assert rows["dev-admin"]["sso_session"] == "demo"
    assert rows["legacy-sso"]["kind"] == "sso-legacy"
    assert rows["via-process"]["kind"] == "process"
    assert "source_profile loop" in rows["loop-a"]["warnings"][0]
    managed = sorted(name for name, row in rows.items() if row["managed"])
    assert managed == ["admin", "deploy", "readonly"]
    assert rows["deploy"]["output"] == "deploy-live"

    keys = _traycred(env, "keys", "list")
    assert keys.returncode == 0, keys.stderr
    assert ALICE_ACCESS_KEY_ID in keys.stdout
    assert _secret_service_items(service) >= 2  # the key and the index

    refreshed = _traycred(env, "refresh", "admin", "--mfa-code", "123456")
    assert refreshed.returncode == 0, refreshed.stderr
    assert "[admin-live]" in refreshed.stdout
    written = Path(demo.overrides["AWS_SHARED_CREDENTIALS_FILE"]).read_text()
    assert "[admin-live]" in written
    assert "x_traycred_expiration" in written
    status = _traycred(env, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert "admin" in status.stdout

    # alice's MFA session from above serves deploy too: the (refused) code is not even sent.
    reused = _traycred(env, "refresh", "deploy", "--mfa-code", "000000")
    assert reused.returncode == 0, reused.stderr
    assert "[deploy-live]" in reused.stdout

    code, err = demo.stop(signal.SIGTERM)
    assert code == 0, err
    assert f"removed {demo.folder}" in err
    assert not demo.folder.exists()
    assert _secret_service_items(service) == 0


def test_ctrl_c_also_cleans_up(running_demo: _Running) -> None:
    assert running_demo.folder.is_dir()
    code, err = running_demo.stop(signal.SIGINT)
    assert code == 0, err
    assert not running_demo.folder.exists()
    assert "Traceback" not in err


def test_without_a_keyring_the_demo_uses_a_named_file_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with Demo(parent_dir=tmp_path) as demo:
        assert demo.keyring is not None and demo.keyring.file_backed
        env = demo.environment()
        assert env["PYTHON_KEYRING_BACKEND"] == FILE_KEYRING
        assert "plaintext file" in demo.banner()
        assert FILE_KEYRING in demo.banner()
        assert ".)," not in demo.banner()  # the keyring's reason is its own sentence
        keyring_file = demo.folder / "keyring.json"  # type: ignore[operator]
        assert stat.S_IMODE(keyring_file.stat().st_mode) == 0o600
        keys = _traycred(env, "keys", "list")
        assert keys.returncode == 0, keys.stderr
        assert ALICE_ACCESS_KEY_ID in keys.stdout
        folder = demo.folder
    assert folder is not None and not folder.exists()


def test_files_are_private_and_the_console_opens_for_a_demo_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with Demo(parent_dir=tmp_path) as demo:
        for path in (demo.config_file, demo.credentials_file):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(demo.config_file.parent.stat().st_mode) == 0o700
        assert CI_SECRET_ACCESS_KEY in demo.credentials_file.read_text()
        assert ALICE_SECRET_ACCESS_KEY not in demo.credentials_file.read_text()
        assert ALICE_SECRET_ACCESS_KEY not in demo.config_file.read_text()

        for name, value in demo.environment().items():
            monkeypatch.setenv(name, value)
        from traycred import aws
        from traycred.console import profile_console_url
        from traycred.engine import Engine

        aws.reset_sessions()
        url = profile_console_url(Engine(None), "audit")
        import urllib.request

        with urllib.request.urlopen(url, timeout=5) as page:  # noqa: S310 - loopback
            assert ">audit</b>" in page.read().decode()


def _start_tray_demo(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, list[int]]:
    """`traycred demo` with its tray; returns once the tray's channel socket is up."""
    if not os.environ.get("DISPLAY") or not os.environ.get("TRAYCRED_TRAY_HOST"):
        from tests.fixtures.system import require_system

        require_system("no X server with a tray host: run the tests with scripts/run-tests")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "traycred", "demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 30
    folder: Path | None = None
    while time.monotonic() < deadline and folder is None:
        folders = list(tmp_path.glob("traycred-demo-*"))
        folder = folders[0] if folders else None
        time.sleep(0.05)
    assert folder is not None, "no demo folder"
    # The tray's channel socket (its single-instance lock) appears in the demo's run dir.
    run_dir = folder / "run"
    while time.monotonic() < deadline and not any(run_dir.glob("*.sock")):
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.1)
    assert any(run_dir.glob("*.sock")), "the tray never started"
    children = _tray_children(folder)
    assert len(children) == 1
    # Ready when the tray handles SIGTERM itself (its Qt event loop is about to run).
    status = Path(f"/proc/{children[0]}/status")
    while time.monotonic() < deadline and not _catches_sigterm(status):
        time.sleep(0.05)
    return process, folder, children


def _catches_sigterm(status: Path) -> bool:
    for line in status.read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def _tray_children(folder: Path) -> list[int]:
    """Pids of `traycred tray` processes whose environment points into `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"tray" in cmdline and str(folder).encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_tray_runs_against_the_demo_and_sigterm_stops_everything(tmp_path: Path) -> None:
    process, folder, _ = _start_tray_demo(tmp_path)
    try:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert not folder.exists()
        assert _tray_children(folder) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_when_the_tray_quits_the_demo_cleans_up_and_ends(tmp_path: Path) -> None:
    process, folder, (tray,) = _start_tray_demo(tmp_path)
    try:
        os.kill(tray, signal.SIGTERM)  # the tray quits as from its menu's Quit
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert not folder.exists()
        assert "removed" in err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
