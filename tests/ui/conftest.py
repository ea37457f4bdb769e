"""UI tests run under a real X server (scripts/run-tests), else on Qt's offscreen platform."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest

# Must happen before pytest-qt creates the QApplication (at the first `qtbot`).
if not (
    os.environ.get("DISPLAY")
    or os.environ.get("WAYLAND_DISPLAY")
    or os.environ.get("QT_QPA_PLATFORM")
):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

# PySide6 6.12.0 on Python 3.11 drops a reference to None on every void Qt call, and the test
# process then aborts at exit ("deallocating None"). Until the pinned version excludes it, give
# None references that are never released (a list of them would be freed at exit, too early),
# so the suite's own results are what counts.
from traycred.ui.qt import pyside_leaks_none

if pyside_leaks_none():
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value += 10_000_000

_TAGS = re.compile(r"<[^>]+>")


def shown_text(widget: object) -> str:
    """Every visible label's text in `widget`, tags stripped: what the user can read."""
    import html

    from PySide6.QtWidgets import QLabel, QWidget

    assert isinstance(widget, QWidget)
    parts = [
        html.unescape(_TAGS.sub("", label.text()))
        for label in widget.findChildren(QLabel)
        if label.isVisibleTo(widget) and label.text()
    ]
    return "\n".join(parts)


class Clock:
    """A settable time source for the dialogs' `now=` parameter (starts at a fixed instant)."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()
