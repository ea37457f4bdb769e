"""Pieces every traycred dialog shares: the window set-up, fonts, an error line, profile lists."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from traycred.ui.model import join_names

APP_NAME = "traycred"


def window_title(title: str) -> str:
    return f"{title} — {APP_NAME}"


def monospace_font(scale: float = 1.0, *, bold: bool = False) -> QFont:
    """The system's fixed-width font, scaled relative to the default UI font size."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    base = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).pointSizeF()
    if base <= 0:
        base = 10.0
    font.setPointSizeF(base * scale)
    font.setBold(bold)
    return font


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Window).lightness() < 128


def error_colour(widget: QWidget) -> str:
    """A red that stays readable on the current theme (dark red on light, light red on dark)."""
    return "#ff8a80" if is_dark(widget) else "#b3261e"


def hint_colour(widget: QWidget) -> str:
    return widget.palette().color(QPalette.ColorRole.PlaceholderText).name()


def bold_names(names: Sequence[str], limit: int = 3) -> str:
    """Like join_names, as rich text with each name in bold and HTML-escaped."""
    shown = [f"<b>{html.escape(name)}</b>" for name in names[:limit]]
    return join_names([*shown, *names[limit:]], limit)


class MessageLabel(QLabel):
    """A wrapped, selectable line that is hidden while empty; `show_error` paints it red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setVisible(False)

    def show_error(self, text: str | None) -> None:
        self._show(text, error_colour(self))

    def show_hint(self, text: str | None) -> None:
        self._show(text, hint_colour(self))

    def _show(self, text: str | None, colour: str) -> None:
        self.setStyleSheet(f"color: {colour};")
        self.setText(text or "")
        self.setVisible(bool(text))

    def is_shown(self) -> bool:
        return not self.isHidden() and bool(self.text())


class TrayDialog(QDialog):
    """A top-level dialog with traycred's title and logo; the tray has no main window to own it."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from traycred.ui.qt import app_qicon

        self.setWindowTitle(window_title(title))
        self.setWindowIcon(app_qicon())
        self.setWindowFlag(Qt.WindowType.WindowContextHelpButtonHint, False)

    def present(self) -> None:
        """Show without blocking and bring to the front (it was opened from the tray)."""
        self.show()
        self.raise_()
        self.activateWindow()
