"""`traycred tray` on a desktop without a system tray: one clear line, exit 1, nothing left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_without_a_system_tray_it_says_what_to_use_instead(isolated_home: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}  # Qt sees no tray there
    done = subprocess.run(
        [sys.executable, "-m", "traycred", "tray"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [
        "traycred: this desktop shows no system tray for Qt; try `traycred tray --backend "
        "pystray`, or run `traycred daemon` to keep credentials fresh without an icon."
    ]
    # The instance lock was released: nothing answers, and the next start may try again.
    runtime = Path(os.environ["TRAYCRED_RUNTIME_DIR"])
    assert not (runtime / "traycred.sock").exists()
