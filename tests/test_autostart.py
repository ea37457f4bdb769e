"""`traycred autostart`: the login item a desktop session reads, written and removed for real."""

from __future__ import annotations

import configparser
import os
import plistlib
import subprocess
import sys
from pathlib import Path

from traycred import autostart


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traycred", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


def test_enable_writes_an_xdg_autostart_entry_that_starts_the_tray(isolated_home: Path) -> None:
    result = run_cli("autostart", "enable")
    assert result.returncode == 0, result.stderr
    entry = isolated_home / ".config" / "autostart" / "traycred.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(entry)
    desktop = parser["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].endswith("tray")
    status = run_cli("autostart", "status")
    assert status.stdout.startswith("enabled:")
    assert run_cli("autostart", "disable").returncode == 0
    assert not entry.exists()
    assert run_cli("autostart", "status").stdout.startswith("disabled")


def test_disable_when_not_enabled_is_not_an_error(isolated_home: Path) -> None:
    assert run_cli("autostart", "disable").returncode == 0


def test_macos_launch_agent_is_a_valid_plist_that_runs_at_load(isolated_home: Path) -> None:
    result = autostart.enable(platform="darwin")
    data = plistlib.loads(Path(result.location).read_bytes())
    assert data["Label"] == autostart.LAUNCH_AGENT_LABEL
    assert data["RunAtLoad"] is True
    assert data["ProgramArguments"][-1] == "tray"
    assert autostart.status(platform="darwin").enabled
    autostart.disable(platform="darwin")
    assert not autostart.status(platform="darwin").enabled


def test_packaged_desktop_entry_and_launch_agent_are_well_formed() -> None:
    root = Path(__file__).resolve().parent.parent / "packaging"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(root / "traycred.desktop")
    assert parser["Desktop Entry"]["Exec"] == "traycred tray"
    plist = plistlib.loads((root / "io.github.traycred.plist").read_bytes())
    assert plist["RunAtLoad"] is True
