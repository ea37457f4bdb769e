"""UI tests run under a real X server (scripts/run-tests), else on Qt's offscreen platform."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from traycred.ui.model import Action
    from traycred.ui.qt.app import TrayApp

_Dialog = TypeVar("_Dialog")

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


@contextmanager
def dialog_app() -> Iterator[TrayApp]:
    """The tray's Qt app without an icon or a channel, for opening its dialogs from the menu;
    its dialogs are closed and its controller stopped at the end."""
    from traycred.ui.controller import create
    from traycred.ui.qt.app import TrayApp
    from traycred.ui.qt.prompter import QtPrompter
    from traycred.ui.qt.workers import GuiInvoker

    invoker = GuiInvoker()
    controller = create(None)
    app = TrayApp(controller, invoker, QtPrompter(invoker))
    controller.set_listener(app)
    try:
        yield app
    finally:
        for widget in list(app.dialogs):
            widget.close()
        controller.stop()


def open_dialog(qtbot: QtBot, app: TrayApp, action: Action, kind: type[_Dialog]) -> _Dialog:
    """Choose the menu entry `action` and wait for the dialog of type `kind` it opens."""
    app.trigger(action, None)
    qtbot.waitUntil(lambda: any(isinstance(d, kind) for d in app.dialogs), timeout=5000)
    return next(d for d in app.dialogs if isinstance(d, kind))
