"""Start traycred at login: XDG autostart on Linux, a LaunchAgent on macOS, a Run key on Windows."""

from __future__ import annotations

import contextlib
import os
import plistlib
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from traycred import fileio
from traycred.errors import TraycredError

LAUNCH_AGENT_LABEL = "io.github.traycred"
WINDOWS_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
WINDOWS_VALUE_NAME = "traycred"


@dataclass(frozen=True)
class AutostartStatus:
    enabled: bool
    location: str
    command: tuple[str, ...] | None


def launch_command() -> tuple[str, ...]:
    """How to start the tray: the installed `traycred` script, else this Python with `-m`."""
    beside = Path(sys.executable).with_name("traycred")
    if beside.exists():
        return (str(beside), "tray")
    found = shutil.which("traycred")
    if found:
        return (found, "tray")
    return (sys.executable, "-m", "traycred", "tray")


def _xdg_entry_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / "traycred.desktop"


def _launch_agent_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def _desktop_entry(command: tuple[str, ...]) -> str:
    exec_line = " ".join(shlex.quote(part) for part in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=traycred\n"
        "Comment=Keeps short-lived AWS credentials fresh from the system tray\n"
        f"Exec={exec_line}\n"
        "Icon=traycred\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=5\n"
    )


def _exec_from_entry(text: str) -> tuple[str, ...] | None:
    for line in text.splitlines():
        if line.startswith("Exec="):
            return tuple(shlex.split(line[len("Exec=") :]))
    return None


def enable(platform: str = sys.platform) -> AutostartStatus:
    command = launch_command()
    if platform == "darwin":
        path = _launch_agent_path()
        plist = {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
        fileio.atomic_write(path, plistlib.dumps(plist), mode=0o644)
        return AutostartStatus(True, str(path), command)
    if platform == "win32":
        return _windows_set(command)
    path = _xdg_entry_path()
    fileio.atomic_write(path, _desktop_entry(command).encode("utf-8"), mode=0o644)
    return AutostartStatus(True, str(path), command)


def disable(platform: str = sys.platform) -> AutostartStatus:
    if platform == "win32":
        return _windows_set(None)
    path = _launch_agent_path() if platform == "darwin" else _xdg_entry_path()
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise TraycredError(f"Cannot remove {path}: {exc.strerror}.") from None
    return AutostartStatus(False, str(path), None)


def status(platform: str = sys.platform) -> AutostartStatus:
    if platform == "win32":
        return _windows_get()
    if platform == "darwin":
        path = _launch_agent_path()
        if not path.exists():
            return AutostartStatus(False, str(path), None)
        data = plistlib.loads(path.read_bytes())
        return AutostartStatus(True, str(path), tuple(data.get("ProgramArguments", ())))
    path = _xdg_entry_path()
    if not path.exists():
        return AutostartStatus(False, str(path), None)
    text = path.read_text(encoding="utf-8", errors="replace")
    enabled = "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text
    return AutostartStatus(enabled, str(path), _exec_from_entry(text))


def _windows_set(command: tuple[str, ...] | None) -> AutostartStatus:  # pragma: no cover
    if sys.platform != "win32":
        raise TraycredError("The Windows Run key exists only on Windows.")
    import subprocess
    import winreg

    location = f"HKCU\\{WINDOWS_RUN_KEY}\\{WINDOWS_VALUE_NAME}"
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
        if command is None:
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, WINDOWS_VALUE_NAME)
            return AutostartStatus(False, location, None)
        value = subprocess.list2cmdline(list(command))
        winreg.SetValueEx(key, WINDOWS_VALUE_NAME, 0, winreg.REG_SZ, value)
    return AutostartStatus(True, location, command)


def _windows_get() -> AutostartStatus:  # pragma: no cover
    if sys.platform != "win32":
        raise TraycredError("The Windows Run key exists only on Windows.")
    import winreg

    location = f"HKCU\\{WINDOWS_RUN_KEY}\\{WINDOWS_VALUE_NAME}"
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
            value, _ = winreg.QueryValueEx(key, WINDOWS_VALUE_NAME)
    except FileNotFoundError:
        return AutostartStatus(False, location, None)
    return AutostartStatus(True, location, (str(value),))
