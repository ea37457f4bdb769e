"""The SSO sign-in dialog: the user code in large type, the link, and a countdown to its expiry.

It shows state and forwards the user's wishes as signals (`open_browser_requested`, `cancelled`);
opening the browser and polling AWS stay with the caller, which calls `finish` at the end.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QGuiApplication
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from traycred.credentials import utcnow
from traycred.ui.qt.dialogs._common import (
    MessageLabel,
    TrayDialog,
    bold_names,
    monospace_font,
)

if TYPE_CHECKING:
    from traycred.prompt.base import SignInRequest

_URL_DISPLAY_WIDTH = 560  # pixels; longer links are elided in the middle (the tooltip has it all)


def format_remaining(seconds: int) -> str:
    """9:41, or 1:02:03 past an hour."""
    seconds = max(0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SsoSignInDialog(TrayDialog):
    """Shows an SSO device sign-in in progress for `session` until `finish` is called."""

    open_browser_requested = Signal()
    cancelled = Signal()

    def __init__(
        self,
        session: str,
        profiles: tuple[str, ...],
        user_code: str,
        verification_uri_complete: str,
        expires_at: datetime,
        *,
        now: Callable[[], datetime] = utcnow,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Sign in to AWS", parent)
        self._session = session
        self._user_code = user_code
        self._url = verification_uri_complete
        self._expires_at = expires_at
        self._now = now
        self._finished = False
        self._expired = False

        heading = QLabel(self)
        heading.setTextFormat(Qt.TextFormat.RichText)
        heading.setWordWrap(True)
        text = f"<big>Sign in to SSO session <b>{html.escape(session)}</b></big>"
        if profiles:
            noun = "profile" if len(profiles) == 1 else "profiles"
            text += f"<br>for {noun} {bold_names(profiles)}"
        heading.setText(text)

        step = QLabel(
            "Approve the request in your browser. Check that the page shows this code:", self
        )
        step.setWordWrap(True)

        self._code = QLabel(self)
        self._code.setObjectName("user_code")
        self._code.setTextFormat(Qt.TextFormat.PlainText)
        self._code.setText(user_code)
        self._code.setFont(monospace_font(2.4, bold=True))
        self._code.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self._code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._copy = QPushButton("Copy", self)
        self._copy.setToolTip("Copy the code to the clipboard")
        self._copy.setAutoDefault(False)
        self._copy.clicked.connect(self.copy_code)
        code_row = QHBoxLayout()
        code_row.addStretch(1)
        code_row.addWidget(self._code)
        code_row.addSpacing(12)
        code_row.addWidget(self._copy, 0, Qt.AlignmentFlag.AlignVCenter)
        code_row.addStretch(1)

        self._link = QLabel(self)
        self._link.setObjectName("verification_link")
        self._link.setTextFormat(Qt.TextFormat.RichText)
        self._link.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        # The caller opens links (it checks the scheme and picks the browser), never QLabel.
        self._link.setOpenExternalLinks(False)
        self._link.linkActivated.connect(lambda _url: self.open_browser_requested.emit())
        shown = QFontMetrics(self._link.font()).elidedText(
            self._url, Qt.TextElideMode.ElideMiddle, _URL_DISPLAY_WIDTH
        )
        self._link.setText(f'<a href="{html.escape(self._url)}">{html.escape(shown)}</a>')
        self._link.setToolTip(html.escape(self._url))
        link_row = QHBoxLayout()
        link_row.addWidget(QLabel("Link:", self))
        link_row.addWidget(self._link, 1)

        self._countdown = QProgressBar(self)
        self._countdown.setObjectName("countdown")
        self._countdown.setTextVisible(True)
        self._total = max(1, math.ceil((expires_at - now()).total_seconds()))
        self._countdown.setRange(0, self._total)

        self._status = MessageLabel(self)
        self._status.setObjectName("status")

        self._again = QPushButton("Open browser again", self)
        self._again.setAutoDefault(False)
        self._again.clicked.connect(self.open_browser_requested.emit)
        self._buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self._buttons.addButton(self._again, QDialogButtonBox.ButtonRole.ActionRole)
        self._buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addSpacing(4)
        layout.addWidget(step)
        layout.addLayout(code_row)
        layout.addLayout(link_row)
        layout.addSpacing(4)
        layout.addWidget(self._countdown)
        layout.addWidget(self._status)
        layout.addWidget(self._buttons)
        self.setMinimumWidth(460)

        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        self.tick()
        if not self._expired:
            self._timer.start()
        self._copy.setFocus()

    @classmethod
    def from_request(cls, request: SignInRequest) -> SsoSignInDialog:
        return cls(
            request.session,
            request.profiles,
            request.user_code,
            request.verification_uri_complete,
            request.expires_at,
        )

    # -- the API ---------------------------------------------------------------------------

    @property
    def session(self) -> str:
        return self._session

    @property
    def user_code(self) -> str:
        return self._user_code

    @property
    def countdown(self) -> QProgressBar:
        return self._countdown

    @property
    def open_browser_button(self) -> QPushButton:
        return self._again

    @property
    def close_button(self) -> QPushButton:
        """Cancel while the sign-in runs, Close once it has ended."""
        button = self._buttons.button(QDialogButtonBox.StandardButton.Cancel)
        assert button is not None
        return button

    def status_text(self) -> str:
        return self._status.text() if self._status.is_shown() else ""

    def remaining_seconds(self) -> int:
        return max(0, math.ceil((self._expires_at - self._now()).total_seconds()))

    def is_finished(self) -> bool:
        return self._finished

    def copy_code(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self._user_code)
        self._copy.setText("Copied")
        QTimer.singleShot(1500, self, lambda: self._copy.setText("Copy"))

    def tick(self) -> None:
        """Once a second: move the countdown; at zero say the code expired and stop."""
        left = self.remaining_seconds()
        self._countdown.setValue(min(left, self._total))
        if left > 0:
            self._countdown.setFormat(f"Code expires in {format_remaining(left)}")
            return
        self._expired = True
        self._timer.stop()
        self._countdown.setFormat("The code expired")
        self._again.setEnabled(False)
        if not self._finished:
            self._status.show_error("The code expired. Cancel, then sign in again from the menu.")

    def finish(self, error: str | None) -> None:
        """The sign-in ended: close on success; on failure show why and offer Close."""
        self._timer.stop()
        self._finished = True
        if error is None:
            self.accept()
            return
        self._status.show_error(error)
        self._again.setEnabled(False)
        self._copy.setEnabled(False)
        self.close_button.setText("Close")
        self.close_button.setFocus()

    # -- behaviour -------------------------------------------------------------------------

    def reject(self) -> None:
        """Cancel, Escape or the window's close box: tell the caller, unless it already ended."""
        self._timer.stop()
        if not self._finished:
            self._finished = True
            self.cancelled.emit()
        super().reject()
