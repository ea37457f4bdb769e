"""`traycred demo [--backend qt|pystray]`: the tray against the local AWS emulator, then clean-up.

This process holds the emulator and the throw-away folder; the tray runs as a child process whose
environment points everything (HOME, AWS files, settings, socket, keyring service) at the folder.
Whichever way the demo ends (the tray's Quit, Ctrl-C, SIGTERM or SIGHUP), the emulator is stopped
and the folder and the demo's keyring entries are removed. `--no-tray` (for tests and scripts)
prints the demo's environment as `export` lines and waits for a signal instead.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

# How long the tray may take to quit (it finishes a write in progress) before it is killed.
TRAY_STOP_SECONDS = 15.0
READY_LINE = "# traycred demo ready"


# SIGINT arrives as KeyboardInterrupt; the others are turned into _Stop while the demo runs.
_TERM_SIGNALS = (signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))
_STOP_SIGNALS = (signal.SIGINT, *_TERM_SIGNALS)


class _Stop(BaseException):
    """A termination signal arrived (BaseException, so no `except Exception` swallows it)."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


def _install() -> dict[int, Any]:
    return {s: signal.signal(s, _on_signal) for s in _TERM_SIGNALS}


def _restore(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def run(args: argparse.Namespace) -> int:
    from traycred.demo import Demo

    backend = getattr(args, "backend", None) or "qt"
    no_tray = bool(getattr(args, "no_tray", False))
    previous = _install()
    demo = Demo()
    tray: subprocess.Popen[bytes] | None = None
    code = 0
    try:
        demo.start()
        print(demo.banner(), flush=True)
        if no_tray:
            print(demo.shell_lines())
            print(READY_LINE, flush=True)
            while True:
                time.sleep(3600)
        tray = subprocess.Popen(
            [sys.executable, "-m", "traycred", "tray", "--backend", backend],
            env=demo.environment(),
            stdin=subprocess.DEVNULL,
        )
        code = tray.wait()
        if code < 0 and -code in _STOP_SIGNALS:
            code = 0  # asked to stop (a logout, `kill`): the demo ends as with Quit
        if code != 0:
            print(f"traycred demo: the tray stopped with exit code {code}.", file=sys.stderr)
            code = 1  # a crash's -6 would otherwise reach the shell as 250
    except (KeyboardInterrupt, _Stop):
        code = 0
    finally:
        # Signals during clean-up must not leave the folder or keyring entries behind.
        _ignore_signals_while(lambda: _finish(demo, tray))
        _restore(previous)
    return code


def _finish(demo: Any, tray: subprocess.Popen[bytes] | None) -> None:
    if tray is not None and tray.poll() is None:
        tray.terminate()
        try:
            tray.wait(TRAY_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            tray.kill()
            tray.wait()
    folder = demo.folder
    demo.stop()
    if folder is not None:
        print(
            f"traycred demo: stopped; removed {folder} and the demo's keyring entries.",
            file=sys.stderr,
        )


def _ignore_signals_while(work: Callable[[], None]) -> None:
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in _STOP_SIGNALS}
    try:
        work()
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
