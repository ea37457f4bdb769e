"""`traycred` / `traycred tray [--backend qt|pystray]`: the tray app, one per user.

The channel socket (also the single-instance lock) is taken before Qt or anything heavy loads,
so a second start is turned away in milliseconds: it asks the running tray to show its menu and
exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traycred.channel.server import AlreadyRunningError


def run(args: argparse.Namespace) -> int:
    from traycred.channel.server import AlreadyRunningError, ChannelServer
    from traycred.ui.controller import KIND, TrayService

    backend = getattr(args, "backend", None) or "qt"
    if _no_display():
        # Without this, Qt aborts (SIGABRT) with a page about xcb plugins that helps no one.
        print(NO_DISPLAY, file=sys.stderr)
        return 1
    server = ChannelServer(TrayService(), kind=KIND)
    try:
        server.bind()
    except AlreadyRunningError as exc:
        return _show_running(exc)
    try:
        from traycred import logs

        # The tray has no console to speak of: what happens goes to its own log file.
        logs.setup_file_logging(KIND, debug=bool(getattr(args, "debug", False)))
        if backend == "pystray":
            # Qt is loaded only when a dialog is first needed (SPEC §6: pystray under 50 MB).
            from traycred.ui.pystray_app import run as run_pystray

            return run_pystray(server=server)
        from traycred.ui.qt.app import run as run_tray

        return run_tray(backend, server=server)
    finally:
        server.close()


NO_DISPLAY = (
    "traycred: no graphical session here (DISPLAY and WAYLAND_DISPLAY are not set); start the "
    "tray from your desktop, or run `traycred daemon` to keep credentials fresh without an icon."
)


def _no_display() -> bool:
    """On X11/Wayland systems, nothing to draw on (and no platform named for Qt explicitly)."""
    if sys.platform == "darwin" or sys.platform.startswith(("win", "cygwin")):
        return False
    if os.environ.get("QT_QPA_PLATFORM"):
        return False  # offscreen, vnc, ...: the caller knows what it wants
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _show_running(exc: AlreadyRunningError) -> int:
    from traycred.channel import client

    try:
        client.call("show_menu")
    except client.InstanceError as error:
        print(f"traycred: {exc.message} {error.message}", file=sys.stderr)
        return 1
    except client.Unavailable:
        print(f"traycred: {exc}", file=sys.stderr)
        return 1
    print("traycred is already running; its menu is shown.", file=sys.stderr)
    return 0
