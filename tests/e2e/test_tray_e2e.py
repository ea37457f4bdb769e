"""`traycred tray` as a user starts it: a real X server (Xvfb), a real tray host (trayer), clicks.

The tray runs as its own process against the emulator, the real keyring and real files; the
test finds its icon with xdotool, right-clicks it, reads the result from the screen, the
credentials file and the channel, and leaves a screenshot of the menu for the README.
"""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.aws_setup import CI_DEPLOY, SSO_DEV, alice_config, store_keys, write_config
from tests.fixtures.channel import call_in_thread
from tests.fixtures.system import require_system
from traycred.channel import client
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    AUDIT_ROLE_ARN,
)
from traycred.settings import SettingsStore

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "assets" / "screenshots" / "menu.png"
TIMEOUT = 20.0

AUDIT = f"""\
[profile audit]
role_arn = {AUDIT_ROLE_ARN}
source_profile = alice
external_id = demo-external-id
"""
CONFIG = alice_config("admin", "readonly", extra=[AUDIT, CI_DEPLOY, SSO_DEV])


def _need_screen() -> None:
    if not os.environ.get("DISPLAY"):
        require_system("no X display: run the tests with scripts/run-tests (Xvfb + trayer)")
    if os.environ.get("TRAYCRED_TRAY_HOST") != "trayer" or not shutil.which("trayer"):
        require_system("no tray host: install trayer and run the tests with scripts/run-tests")
    for tool in ("xdotool", "xwininfo", "import"):
        if not shutil.which(tool):
            require_system(f"{tool} is missing (apt-get install xdotool x11-utils imagemagick)")


def _run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout


def launch_tray(
    log: Path, env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """`traycred tray ARGS` in its own process, its stdout and stderr going to `log` (with
    every thread's stack too, should `stop` have to abort it)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "traycred", "tray", *args],
            env={**env, "PYTHONFAULTHANDLER": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )


def stop(process: subprocess.Popen[bytes], log: Path) -> int:
    """SIGTERM, as a desktop session's logout sends it; the exit code. A tray that does not quit
    within a minute (generous, for loaded machines) is aborted, its stacks left in `log`."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        process.wait(10)
        stacks = log.read_text(errors="replace")
        raise AssertionError(f"the tray hung on SIGTERM:\n{stacks}") from None


@dataclass(frozen=True)
class Geometry:
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


def geometry(window: str) -> Geometry:
    values: dict[str, int] = {}
    for line in _run("xwininfo", "-id", window).splitlines():
        key, _, value = line.strip().partition(":")
        if key in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height"):
            values[key] = int(value.strip())
    return Geometry(
        values.get("Absolute upper-left X", 0),
        values.get("Absolute upper-left Y", 0),
        values.get("Width", 0),
        values.get("Height", 0),
    )


def wait_for(what: str, check: Any, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def docked_icon() -> Geometry | None:
    """The tray icon's window once trayer has docked it (its position is 0,0 until then)."""
    for window in _run("xdotool", "search", "--class", "traycred").split():
        found = geometry(window)
        if found.x > 0 and 0 < found.width <= 64 and found.y < 64:
            return found
    return None


def settled_icon() -> Geometry | None:
    """The docked icon once trayer has stopped moving it: two readings 0.3 s apart agree.
    (trayer can resize and move an icon after docking it; a click must go where it is now.)"""
    first = docked_icon()
    time.sleep(0.3)
    return first if first is not None and docked_icon() == first else None


def open_menu_window(icon: Geometry, min_height: int = 100) -> Geometry | None:
    """A visible popup by the icon that is wider than the icon: the menu (or a balloon)."""
    for window in _run("xdotool", "search", "--onlyvisible", "--class", "traycred").split():
        found = geometry(window)
        if found.width > 120 and found.height > min_height and found.y >= icon.y:
            return found
    return None


@dataclass
class TrayProcess:
    process: subprocess.Popen[bytes]
    log: Path
    home: Path

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def credentials(self) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(self.home / ".aws" / "credentials")
        return parser


@pytest.fixture
def tray_process(
    isolated_home: Path, real_keyring: str, emulator: Emulator, tmp_path: Path
) -> Iterator[TrayProcess]:
    _need_screen()
    write_config(isolated_home, CONFIG)
    store_keys("alice", "ci")
    SettingsStore().update(
        lambda s: s.replace(default_profile="ci-deploy").with_profile("sso-dev", managed=True)
    )
    log = tmp_path / "tray.log"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    env.pop("PYSTRAY_BACKEND", None)
    process = launch_tray(log, env, cwd=tmp_path)
    tray = TrayProcess(process, log, isolated_home)
    try:
        yield tray
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        print(f"the tray's output:\n{tray.stderr()}")  # shown when the test failed


def test_the_icon_docks_and_a_right_click_opens_the_menu(
    tray_process: TrayProcess, emulator: Emulator
) -> None:
    icon = wait_for("the icon to dock in trayer", docked_icon)
    assert client.ping()["kind"] == "tray"  # type: ignore[index]
    # Started with a default: the timer writes [default] at once (no MFA needed for ci).
    wait_for("[default]", lambda: tray_process.credentials().has_section("default"))
    # The SSO profile kept fresh has no sign-in yet: the menu offers it on top.
    wait_for(
        "sso-dev to wait for a sign-in",
        lambda: any(p["status"] == "needs-sign-in" for p in client.call("status")["profiles"]),
    )

    # The tray said so once (a balloon by the icon); click it away before the screenshot.
    balloon = wait_for("the sign-in notification", lambda: open_menu_window(icon, min_height=40))
    subprocess.run(
        ["xdotool", "mousemove", str(balloon.x + 20), str(balloon.y + 20), "click", "1"],
        check=True,
    )
    wait_for("the notification to close", lambda: not open_menu_window(icon, min_height=40))

    icon = wait_for("the icon to settle", settled_icon)
    x, y = icon.centre
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "3"], check=True)
    menu = wait_for("the menu to open", lambda: open_menu_window(icon))
    # Hover "Default profile" (the row under the sign-in entry, a separator and the default
    # line) so the screenshot shows the radio list too.
    rows = _menu_rows(menu)
    assert len(rows) >= 6, rows
    subprocess.run(["xdotool", "mousemove", str(menu.x + 60), str(rows[2])], check=True)
    time.sleep(1.0)
    shot = tray_process.home.parent / "menu-full.png"
    subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=20)
    # The README's screenshot is refreshed only on request, so a test run never edits the repo.
    target = (
        SCREENSHOT
        if os.environ.get("TRAYCRED_UPDATE_SCREENSHOTS") == "1"
        else tray_process.home.parent / "menu.png"
    )
    _crop_to_menu(shot, icon, menu, target)
    assert target.stat().st_size > 1000
    subprocess.run(["xdotool", "key", "Escape"], check=False)
    assert tray_process.process.poll() is None


def _menu_rows(menu: Geometry) -> list[int]:
    """The y of each row's middle, from the screen: rows are bands of non-background pixels."""
    from PIL import Image

    shot = subprocess.run(
        [
            "import",
            "-window",
            "root",
            "-crop",
            f"{menu.width}x{menu.height}+{menu.x}+{menu.y}",
            "png:-",
        ],
        capture_output=True,
        timeout=20,
        check=True,
    ).stdout
    import io

    image = Image.open(io.BytesIO(shot)).convert("L")
    width, height = image.size
    background = image.getpixel((width - 3, height // 2))
    inked = [
        any(abs(int(image.getpixel((c, r))) - int(background)) > 60 for c in range(8, width // 2))
        for r in range(height)
    ]
    rows: list[int] = []
    start: int | None = None
    for r, ink in enumerate([*inked, False]):
        if ink and start is None:
            start = r
        elif not ink and start is not None:
            if r - start >= 5:
                rows.append(menu.y + (start + r) // 2)
            start = None
    return rows


def _crop_to_menu(shot: Path, icon: Geometry, menu: Geometry, out: Path) -> None:
    """The part of the screen with the icon, the menu and an open submenu, with a margin."""
    from PIL import Image

    image = Image.open(shot)
    left = max(0, min(menu.x, icon.x) - 240 - 12)
    right = min(image.width, max(menu.x + menu.width, icon.x + icon.width) + 12)
    bottom = min(image.height, menu.y + menu.height + 12)
    image.crop((left, 0, right, bottom)).save(out)


def test_the_menu_opens_while_a_refresh_waits_for_slow_aws(
    tray_process: TrayProcess, emulator: Emulator
) -> None:
    wait_for("[default]", lambda: tray_process.credentials().has_section("default"))
    icon = wait_for("the icon to dock in trayer and settle", settled_icon)
    emulator.latency = 3.0
    refresh = call_in_thread("refresh", {"profiles": ["ci-deploy"]})
    wait_for(
        "the refresh to start",
        lambda: any(p["status"] == "refreshing" for p in client.call("status")["profiles"]),
    )
    x, y = icon.centre
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "3"], check=True)
    wait_for("the menu to open", lambda: open_menu_window(icon))
    # The menu was up while AWS was still answering.
    assert not refresh.done()
    subprocess.run(["xdotool", "key", "Escape"], check=False)
    result = refresh.result(30)
    assert result["ci-deploy"]["ok"]


def test_a_second_start_shows_the_menu_and_sigterm_quits_cleanly(
    tray_process: TrayProcess,
) -> None:
    icon = wait_for("the icon to dock in trayer", docked_icon)
    second = subprocess.run(
        [sys.executable, "-m", "traycred", "tray"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "QT_QPA_PLATFORM": "xcb"},
    )
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    wait_for("the first instance's menu", lambda: open_menu_window(icon))
    subprocess.run(["xdotool", "key", "Escape"], check=False)

    assert stop(tray_process.process, tray_process.log) == 0
    assert client.ping() is None
    assert "Traceback" not in tray_process.stderr()


def test_the_pystray_backend_starts_and_says_its_backend_has_no_menu(
    isolated_home: Path, tmp_path: Path
) -> None:
    _need_screen()
    # xorg by name: with PyGObject installed pystray would pick appindicator (which has a menu).
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYSTRAY_BACKEND": "xorg"}
    log = tmp_path / "pystray.log"
    process = launch_tray(log, env, "--backend", "pystray")
    try:
        wait_for("the pystray tray to answer", lambda: (client.ping() or {}).get("kind"))
        text = wait_for("its first line", lambda: log.read_text())
        assert "backend shows the icon but no menu" in text
    finally:
        assert stop(process, log) == 0, log.read_text()
    assert "Traceback" not in log.read_text()
