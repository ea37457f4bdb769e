"""The pystray backend renders the same menu model (pystray's dummy backend, no display needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fixtures.system import require_system
from traycred.settings import Settings
from traycred.state import AppState, ProfileState, ProfileStatus
from traycred.ui.model import Action, ProfileInfo, build_view
from traycred.ui.pystray_tray import PystrayTray, backend_name, to_pystray_menu

NOW = datetime.now(UTC)
PROFILES = (
    ProfileInfo("admin", "assume-role", "Roles"),
    ProfileInfo("deploy", "assume-role", "Roles"),
    ProfileInfo("sso-dev", "sso-session", "SSO session corp", sso_session="corp"),
)


@pytest.fixture
def pystray(monkeypatch: pytest.MonkeyPatch) -> Any:
    """pystray on its dummy backend (it picks its backend once, at the first import)."""
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    import pystray

    if backend_name(pystray) != "dummy":
        pytest.skip(f"pystray was already imported with its {backend_name(pystray)} backend")
    return pystray


def view() -> Any:
    state = AppState(
        profiles=(
            ProfileState(
                "admin",
                ProfileStatus.FRESH,
                expiration=NOW + timedelta(minutes=40, seconds=30),
                is_default=True,
            ),
            ProfileState("sso-dev", ProfileStatus.NEEDS_SIGN_IN, group="sso:corp"),
        ),
        default_profile="admin",
    )
    return build_view(state, PROFILES, Settings(default_profile="admin"), now=NOW)


def texts(menu: Any) -> list[str]:
    # pystray's separator is an item whose text is "- - - -".
    return [str(i.text) for i in menu.items if str(i.text) and str(i.text) != "- - - -"]


def entry(menu: Any, label: str) -> Any:
    return next(item for item in menu.items if str(item.text).startswith(label))


def test_the_same_entries_as_the_model_with_radio_and_submenus(pystray: Any) -> None:
    clicked: list[tuple[Action, str | None]] = []
    menu = to_pystray_menu(pystray, view().menu, lambda a, g: clicked.append((a, g)))
    assert texts(menu)[:3] == [
        "Sign in to SSO session corp…",
        "Default: admin — 40 min left",
        "Default profile",
    ]
    assert texts(menu)[-3:] == ["Settings…", "About", "Quit"]
    assert not entry(menu, "Default: admin — 40 min left").enabled  # a state line, not an action

    default = entry(menu, "Default profile").submenu
    admin = entry(default, "admin")
    deploy = entry(default, "deploy")
    assert admin.radio and admin.checked and not deploy.checked
    deploy(None)  # a click
    entry(menu, "Sign in to SSO session corp…")(None)
    assert clicked == [(Action.USE, "deploy"), (Action.SIGN_IN, "corp")]


def test_the_tray_shows_icon_tooltip_and_menu_of_a_view(pystray: Any) -> None:
    tray = PystrayTray(lambda a, g: None)
    shown = view()
    tray.show(shown)
    assert tray.icon.title == shown.tooltip
    assert tray.icon.title.startswith("traycred\nDefault: admin — 40 min left")
    assert texts(tray.icon.menu)[0] == "Sign in to SSO session corp…"
    assert tray.icon.icon.size == (64, 64)
    tray.close(timeout=20)


def test_the_xorg_backend_has_no_menu_and_says_so() -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display: pystray's xorg backend needs one")
    code = (
        "from traycred.ui.pystray_tray import PystrayTray\n"
        "t = PystrayTray(lambda a, g: None)\n"
        "print(t.backend, t.has_menu)\n"
        "print(t.no_menu_message())\n"
    )
    env = {**os.environ, "PYSTRAY_BACKEND": "xorg"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    first, message = done.stdout.splitlines()[:2]
    assert first == "xorg False"
    assert "xorg backend shows the icon but no menu" in message
    assert "--backend" not in message and "Qt backend" in message


def test_without_a_display_pystray_fails_with_one_clear_message() -> None:
    code = (
        "from traycred.errors import TraycredError\n"
        "from traycred.ui.pystray_tray import PystrayTray\n"
        "try:\n    PystrayTray(lambda a, g: None)\n"
        "except TraycredError as e:\n    print(e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "PYSTRAY_BACKEND")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("The pystray backend cannot start here (")
    assert "Traceback" not in done.stderr


# On pystray's xorg backend, wraps the icon's calls into its loop to record who calls them,
# then starts the tray, shows views and closes it, `cycles` times. Counts the closes that said
# the icon stopped and, of those, the icon windows still on the screen (asked of the X server).
_XORG_CYCLES = """
import sys, threading
from Xlib import display, error
from traycred.ui.model import TrayView
from traycred.ui.pystray_tray import PystrayTray

screen = display.Display()
callers = set()
stopped = windows_left = 0
for cycle in range(int(sys.argv[1])):
    tray = PystrayTray(lambda a, g: None)
    for name in ("_show", "_update_icon", "_update_title", "_stop"):
        inner = getattr(tray.icon, name)
        def record(inner=inner):
            callers.add(threading.current_thread().name)
            inner()
        setattr(tray.icon, name, record)
    tray.start()
    for n in range(3):
        tray.show(TrayView(tooltip=f"traycred {cycle}.{n}"))
    tray.close(timeout=5)
    if tray.stopped:
        stopped += 1
        try:
            screen.create_resource_object("window", tray.icon._window.id).get_attributes()
            windows_left += 1
        except error.BadWindow:
            pass
print(sorted(callers))
print("closed", cycle + 1, "stopped", stopped, "windows left", windows_left)
"""


def _xorg_cycles(cycles: int) -> tuple[str, int, int, int]:
    """(the threads that called into the icon, closes, stops, windows left after a stop)"""
    if not os.environ.get("DISPLAY"):
        require_system("no X display: run the tests with scripts/run-tests (Xvfb)")
    env = {**os.environ, "PYSTRAY_BACKEND": "xorg"}
    done = subprocess.run(
        [sys.executable, "-c", _XORG_CYCLES, str(cycles)],
        env=env,
        capture_output=True,
        text=True,
        timeout=100 + 5 * cycles,  # the old code hung here for ever
    )
    assert done.returncode == 0, done.stderr
    callers, counts = done.stdout.splitlines()[-2:]
    _, closed, _, stopped, _, _, left = counts.split()
    return callers, int(closed), int(stopped), int(left)


def test_once_started_only_one_thread_of_ours_calls_into_the_pystray_icon() -> None:
    # pystray's xorg backend shares one result queue among all callers: a second calling
    # thread (its setup thread showing the icon, the GUI thread stopping it) could hang both.
    callers, closed, _, _ = _xorg_cycles(1)
    assert callers == "['traycred-pystray-calls']"
    assert closed == 1


def test_closing_the_xorg_icon_straight_after_starting_never_hangs_and_removes_it() -> None:
    _, closed, stopped, windows_left = _xorg_cycles(30)
    assert closed == 30
    # A close that says it stopped the icon took it off the screen (python-xlib once kept the
    # DestroyWindow queued). A close can give up after its 5 s instead: python-xlib can lose a
    # reply when two threads share its connection, which pystray's design needs (left alone).
    assert stopped > 0
    assert windows_left == 0
