"""The MFA code dialog: names the waiting profiles and the device, accepts exactly six digits.

It only collects the code. Whoever opened it checks the code with AWS off the GUI thread and either
closes it (`verified`), or shows AWS's message with `set_error` and lets the user try again.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from traycred.prompt.base import is_valid_mfa_code
from traycred.ui.qt.dialogs._common import (
    MessageLabel,
    TrayDialog,
    bold_names,
    monospace_font,
)

if TYPE_CHECKING:
    from traycred.prompt.base import MfaRequest

CODE_LENGTH = 6


class MfaCodeValidator(QValidator):
    """Digits only, at most six; spaces and dashes are dropped so "123 456" pastes cleanly."""

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        before_cursor = text[:pos]
        cleaned = "".join(c for c in text if c not in " -\t")
        pos -= len(before_cursor) - len("".join(c for c in before_cursor if c not in " -\t"))
        if not cleaned.isascii() or not (cleaned.isdigit() or cleaned == ""):
            return QValidator.State.Invalid, text, pos
        if len(cleaned) > CODE_LENGTH:
            return QValidator.State.Invalid, text, pos
        if len(cleaned) == CODE_LENGTH:
            return QValidator.State.Acceptable, cleaned, pos
        return QValidator.State.Intermediate, cleaned, pos


class MfaDialog(TrayDialog):
    """Asks for one MFA code for `mfa_serial` on behalf of `profiles`.

    By default OK (or Return) accepts the dialog and `.code()` holds the code. With
    `stay_open=True` OK instead emits `code_submitted` and shows "Checking…" until the caller
    calls `verified()` (closes) or `set_error(message)` (asks again).
    """

    code_submitted = Signal(str)

    def __init__(
        self,
        profiles: tuple[str, ...],
        mfa_serial: str,
        error: str | None = None,
        *,
        stay_open: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("MFA code", parent)
        self._profiles = tuple(profiles)
        self._mfa_serial = mfa_serial
        self._stay_open = stay_open
        self._busy = False
        # A one-time code AWS just refused is never worth sending again.
        self._refused: str | None = None
        self._submitted: str | None = None

        heading = QLabel(self)
        heading.setTextFormat(Qt.TextFormat.RichText)
        heading.setWordWrap(True)
        names = bold_names(self._profiles)
        noun = "profile" if len(self._profiles) == 1 else "profiles"
        heading.setText(
            f"Enter the code shown by your MFA device to refresh {noun} {names}."
            if self._profiles
            else "Enter the code shown by your MFA device."
        )

        device_caption = QLabel("Device:", self)
        self._device = QLabel(self)
        self._device.setTextFormat(Qt.TextFormat.PlainText)
        self._device.setText(mfa_serial)
        self._device.setFont(monospace_font(0.95))
        self._device.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._device.setToolTip(html.escape(mfa_serial))
        device_row = QHBoxLayout()
        device_row.addWidget(device_caption)
        device_row.addWidget(self._device, 1)

        self._field = QLineEdit(self)
        self._field.setObjectName("mfa_code")
        self._field.setAccessibleName("MFA code")
        self._field.setValidator(MfaCodeValidator(self._field))
        self._field.setFont(monospace_font(1.8, bold=True))
        self._field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._field.setPlaceholderText("000000")
        self._field.setInputMethodHints(
            Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData
        )
        metrics = self._field.fontMetrics()
        self._field.setMinimumWidth(metrics.horizontalAdvance("0" * (CODE_LENGTH + 4)))
        self._field.textChanged.connect(self._revalidate)

        self._hint = MessageLabel(self)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._error = MessageLabel(self)
        self._error.setObjectName("mfa_error")

        self._busy_bar = QProgressBar(self)
        self._busy_bar.setRange(0, 0)  # indeterminate: we cannot know how long AWS takes
        self._busy_bar.setTextVisible(False)
        self._busy_bar.setMaximumHeight(8)
        self._busy_label = QLabel("Checking the code with AWS…", self)
        busy_row = QVBoxLayout()
        busy_row.addWidget(self._busy_label)
        busy_row.addWidget(self._busy_bar)
        self._busy_bar.setVisible(False)
        self._busy_label.setVisible(False)

        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        self.ok_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(device_row)
        layout.addSpacing(6)
        layout.addWidget(self._field)
        layout.addWidget(self._hint)
        layout.addWidget(self._error)
        layout.addLayout(busy_row)
        layout.addWidget(self._buttons)
        self.setMinimumWidth(380)

        self.set_error(error)
        self._field.setFocus()

    @classmethod
    def from_request(cls, request: MfaRequest, *, stay_open: bool = False) -> MfaDialog:
        return cls(
            request.profiles, request.mfa_serial, request.previous_error, stay_open=stay_open
        )

    # -- the API ---------------------------------------------------------------------------

    @property
    def ok_button(self) -> QPushButton:
        button = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        return button

    @property
    def code_field(self) -> QLineEdit:
        return self._field

    @property
    def profiles(self) -> tuple[str, ...]:
        return self._profiles

    @property
    def mfa_serial(self) -> str:
        return self._mfa_serial

    def code(self) -> str:
        """The six digits typed (valid once the dialog was accepted)."""
        return self._field.text()

    def error_text(self) -> str:
        """The error line as the user sees it ("" when none is shown)."""
        return self._error.text() if self._error.is_shown() else ""

    def set_error(self, error: str | None) -> None:
        """Show AWS's message for the last code (None clears it) and ask for a new code."""
        self._error.show_error(error)
        if error is not None and self._submitted is not None:
            self._refused = self._submitted
        self.set_busy(False)
        if error is not None:
            self._field.clear()
        self._field.setFocus()
        self._revalidate()

    def set_busy(self, busy: bool) -> None:
        """While True the code is being checked: input is frozen and a busy bar runs."""
        self._busy = busy
        self._field.setReadOnly(busy)
        self._busy_bar.setVisible(busy)
        self._busy_label.setVisible(busy)
        if busy:
            self._error.show_error(None)
        self._revalidate()

    def is_busy(self) -> bool:
        return self._busy

    def verified(self) -> None:
        """The code worked: close the dialog as accepted."""
        self._busy = False
        super().accept()

    # -- behaviour -------------------------------------------------------------------------

    def _revalidate(self) -> None:
        code = self._field.text()
        valid = is_valid_mfa_code(code)
        refused = valid and code == self._refused
        self.ok_button.setEnabled(valid and not refused and not self._busy)
        if self._busy:
            self._hint.show_hint(None)
        elif refused:
            self._hint.show_error(
                "AWS just refused this code: wait for your device to show a new one."
            )
        elif code and not valid:
            missing = CODE_LENGTH - len(code)
            self._hint.show_hint(f"{missing} more digit{'s' if missing != 1 else ''}")
        else:
            self._hint.show_hint(f"{CODE_LENGTH} digits" if not code else None)

    def accept(self) -> None:
        if not self.ok_button.isEnabled():
            return  # Return on an incomplete code must not submit it
        code = self.code()
        self._submitted = code
        self.code_submitted.emit(code)
        if self._stay_open:
            self.set_busy(True)
            return
        super().accept()
