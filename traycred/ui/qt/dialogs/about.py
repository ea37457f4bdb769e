"""The About box: the logo, the version and a few facts the caller passes (keyring, file paths)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from traycred import __version__
from traycred.ui.icon import app_icon
from traycred.ui.qt.dialogs._common import TrayDialog

TAGLINE = (
    "Keeps short-lived AWS credentials fresh in the shared credentials file; "
    "long-term keys stay in the OS keyring."
)


class AboutDialog(TrayDialog):
    """`details` are (label, value) rows, e.g. ("Keyring", "SecretService"); values may be links."""

    def __init__(
        self,
        details: Sequence[tuple[str, str]] = (),
        *,
        version: str = __version__,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("About", parent)
        from traycred.ui.qt import pil_to_qimage

        logo = QLabel(self)
        logo.setPixmap(QPixmap.fromImage(pil_to_qimage(app_icon(64))))
        logo.setAlignment(Qt.AlignmentFlag.AlignTop)
        title = QLabel(f"<big><b>traycred</b></big> {html.escape(version)}", self)
        title.setTextFormat(Qt.TextFormat.RichText)
        tagline = QLabel(TAGLINE, self)
        tagline.setWordWrap(True)

        form = QFormLayout()
        for label, value in details:
            cell = QLabel(self)
            if value.startswith(("https://", "http://")):
                cell.setTextFormat(Qt.TextFormat.RichText)
                cell.setText(f'<a href="{html.escape(value)}">{html.escape(value)}</a>')
                cell.setOpenExternalLinks(True)
            else:
                cell.setTextFormat(Qt.TextFormat.PlainText)
                cell.setText(value)
                cell.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", cell)

        text = QVBoxLayout()
        text.addWidget(title)
        text.addWidget(tagline)
        text.addLayout(form)
        top = QHBoxLayout()
        top.addWidget(logo)
        top.addSpacing(12)
        top.addLayout(text, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)
