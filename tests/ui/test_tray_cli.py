"""`traycred tray` on a desktop without a system tray: one clear line, exit 1, nothing left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def start_tray(env: dict[str, str]) -> list[str]:
    """Run `traycred tray` in `env`, expecting it to give up with exit 1: its stderr lines."""
    done = subprocess.run(
        [sys.executable, "-m", "traycred", "tray"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_without_a_system_tray_it_says_what_to_use_instead(isolated_home: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}  # Qt sees no tray there
    assert start_tray(env) == [
        "traycred: this desktop shows no system tray for Qt; try `traycred tray --backend "
        "pystray`, or run `traycred daemon` to keep credentials fresh without an icon."
    ]
    # The instance lock was released: nothing answers, and the next start may try again.
    runtime = Path(os.environ["TRAYCRED_RUNTIME_DIR"])
    assert not (runtime / "traycred.sock").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland only")
def test_with_no_display_at_all_it_says_so_instead_of_qt_aborting(isolated_home: Path) -> None:
    hidden = {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    assert start_tray(env) == [
        "traycred: no graphical session here (DISPLAY and WAYLAND_DISPLAY are not set); start "
        "the tray from your desktop, or run `traycred daemon` to keep credentials fresh without "
        "an icon."
    ]
