"""`traycred tray --backend pystray` on pystray's gtk backend: a real menu in a real XEmbed tray.

A real process under Xvfb + trayer, the real keyring and the emulator. pystray's gtk backend runs
GLib's main loop in traycred's pystray thread (Gtk.StatusIcon docks in trayer); the test
right-clicks the icon with xdotool, reads the menu's rows from the screen, picks a profile that
needs MFA from "Default profile" (so Qt is loaded for the MFA dialog while GTK keeps running) and
quits from the menu.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_tray_e2e import (
    Geometry,
    TrayProcess,
    _menu_rows,
    _need_screen,
    _run,
    geometry,
    launch_tray,
    wait_for,
)
from tests.e2e.test_tray_pystray_lazy_qt import mfa_window, qt_loaded
from tests.fixtures.aws_setup import CI_DEPLOY, alice_config, store_keys, write_config
from tests.fixtures.system import require_system
from traycred.channel import client
from traycred.emulator import Emulator
from traycred.settings import SettingsStore

CONFIG = alice_config("admin", extra=[CI_DEPLOY])


def _need_gtk() -> None:
    if importlib.util.find_spec("gi") is None:
        require_system(
            "PyGObject is missing: apt-get install libcairo2-dev libgirepository1.0-dev "
            "pkg-config gir1.2-gtk-3.0, then pip install 'PyGObject<3.51' (see .ci/run)"
        )


def gtk_icon() -> Geometry | None:
    """The docked Gtk.StatusIcon (GTK also maps a 10x10 helper window at 10,10: not that)."""
    for window in _run("xdotool", "search", "--class", "traycred").split():
        found = geometry(window)
        if found.x > 20 and 16 <= found.width <= 64 and found.y < 64:
            return found
    return None


def menus(icon: Geometry) -> list[Geometry]:
    """Visible popups of the tray by the icon: the menu first, then a submenu (opens leftwards)."""
    found = []
    for window in _run("xdotool", "search", "--onlyvisible", "--class", "traycred").split():
        g = geometry(window)
        if g.width > 80 and g.height > 30 and g.y >= icon.y and g != icon:
            found.append(g)
    return sorted(set(found), key=lambda g: (-g.x, g.y))


@pytest.fixture
def gtk_tray(
    isolated_home: Path, real_keyring: str, emulator: Emulator, tmp_path: Path
) -> Iterator[TrayProcess]:
    _need_screen()
    _need_gtk()
    write_config(isolated_home, CONFIG)
    store_keys("alice", "ci")
    SettingsStore().update(lambda s: s.replace(default_profile="ci-deploy"))
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYSTRAY_BACKEND": "gtk"}
    log = tmp_path / "tray.log"
    process = launch_tray(log, env, "--backend", "pystray", cwd=tmp_path)
    try:
        yield TrayProcess(process, log, isolated_home)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def click(x: int, y: int, button: int = 1) -> None:
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", str(button)], check=True)


def test_gtk_menu_switches_the_default_through_mfa_and_quits(gtk_tray: TrayProcess) -> None:
    icon = wait_for("the gtk icon to dock in trayer", gtk_icon)
    wait_for("[default]", lambda: gtk_tray.credentials().has_section("default"))
    assert "no menu" not in gtk_tray.stderr()

    click(*icon.centre, button=3)
    menu = wait_for("the menu to open", lambda: menus(icon))[0]
    rows = _menu_rows(menu)
    # Default line, Default profile, ci-deploy, Other profiles, Refresh all now, Add access
    # key, Import plaintext keys, Settings, About, Quit: the model's top level, one row each.
    assert len(rows) == 10, rows
    subprocess.run(["xdotool", "mousemove", str(menu.x + 60), str(rows[1])], check=True)
    sub = wait_for("the Default profile submenu", lambda: menus(icon)[1:])[0]
    sub_rows = _menu_rows(sub)
    # "Access keys (keyring)", alice, ci, "Roles", admin, ci-deploy (checked).
    assert len(sub_rows) == 6, sub_rows
    before = gtk_tray.credentials()["default"]["aws_access_key_id"]
    click(sub.x + 60, sub_rows[4])  # admin: alice's MFA is needed, so Qt comes up for it

    window = wait_for("the MFA dialog", mfa_window)
    assert qt_loaded(gtk_tray.process.pid)
    subprocess.run(["xdotool", "windowfocus", "--sync", window], check=False, timeout=10)
    subprocess.run(["xdotool", "type", "--delay", "20", "123456"], check=True, timeout=10)
    subprocess.run(["xdotool", "key", "Return"], check=True, timeout=10)
    wait_for(
        "[default] to hold admin's credentials",
        lambda: gtk_tray.credentials()["default"]["aws_access_key_id"] != before,
    )
    assert SettingsStore().load().default_profile == "admin"

    # GTK still answers with Qt up: the menu opens again and Quit quits.
    click(*icon.centre, button=3)
    menu = wait_for("the menu to open again", lambda: menus(icon))[0]
    click(menu.x + 60, _menu_rows(menu)[-1])
    assert gtk_tray.process.wait(60) == 0  # generous: only a hang should fail this
    assert client.ping() is None
    assert "Traceback" not in gtk_tray.stderr()
