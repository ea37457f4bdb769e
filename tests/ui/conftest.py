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
