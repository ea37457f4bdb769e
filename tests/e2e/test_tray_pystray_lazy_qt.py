"""`traycred tray --backend pystray` idles without Qt and loads it for the first dialog.

A real process under Xvfb + trayer, the real keyring and the emulator: at idle no Qt library is
mapped into the tray; a `credential-process` request that needs an MFA code brings up the Qt MFA
dialog, the code typed into it (with xdotool, as a user would) answers the request, and SIGTERM
still quits cleanly afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_tray_e2e import _need_screen, _run, call_in_thread, launch_tray, wait_for
from tests.fixtures.aws_setup import alice_config, store_keys, write_config
from traycred.channel import client
from traycred.emulator import Emulator

CONFIG = alice_config("admin")


def qt_loaded(pid: int) -> bool:
    return "libQt6Core" in Path(f"/proc/{pid}/maps").read_text()


def mfa_window() -> str | None:
    found = _run("xdotool", "search", "--onlyvisible", "--name", "MFA code").split()
    return found[0] if found else None


@pytest.fixture
def pystray_tray(
    isolated_home: Path, real_keyring: str, emulator: Emulator, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    _need_screen()
    write_config(isolated_home, CONFIG)
    store_keys("alice")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    env.pop("PYSTRAY_BACKEND", None)
    log = tmp_path / "tray.log"
    process = launch_tray(log, env, "--backend", "pystray")
    try:
        yield process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_pystray_idles_without_qt_and_loads_it_for_the_mfa_dialog(
    pystray_tray: tuple[subprocess.Popen[bytes], Path],
) -> None:
    process, log = pystray_tray
    wait_for("the pystray tray to answer", lambda: (client.ping() or {}).get("kind"))
    assert not qt_loaded(process.pid)

    answer = call_in_thread("credentials", {"profile": "admin"})
    window = wait_for("the MFA dialog", mfa_window)
    assert qt_loaded(process.pid)
    subprocess.run(["xdotool", "windowfocus", "--sync", window], check=False, timeout=10)
    subprocess.run(["xdotool", "type", "--delay", "20", "123456"], check=True, timeout=10)
    subprocess.run(["xdotool", "key", "Return"], check=True, timeout=10)

    result = answer.result(30)
    assert result["AccessKeyId"].startswith("ASIA")
    assert result["Expiration"]

    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0  # generous: only a hang should fail this on a loaded machine
    assert "Traceback" not in log.read_text(errors="replace")


def test_pystray_quits_on_sigterm_before_qt_was_ever_needed(
    pystray_tray: tuple[subprocess.Popen[bytes], Path],
) -> None:
    process, log = pystray_tray
    wait_for("the pystray tray to answer", lambda: (client.ping() or {}).get("kind"))

    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0  # generous: only a hang should fail this on a loaded machine
    assert not client.ping()
    assert "Traceback" not in log.read_text(errors="replace")
