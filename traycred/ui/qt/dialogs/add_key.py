"""The "Add access key" dialog: a profile name, a long-term key pair (masked) and an MFA device.

It validates what it can offline and hands back a `NewAccessKey`; storing it in the keyring (off
the GUI thread) is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from traycred.credentials import Credentials
from traycred.ui.qt.dialogs._common import MessageLabel, TrayDialog, monospace_font

ACCESS_KEY_ID_PATTERN = re.compile(r"^AKIA[A-Z0-9]{16}$")
_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9/+=]{16,128}$")
_MFA_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(mfa|u2f)/\S+$")
# A hardware token's serial number (AWS accepts it as SerialNumber): [\w+=/:,.@-]{9,256}.
_MFA_SERIAL_PATTERN = re.compile(r"^[\w+=/:,.@-]{9,256}$")
# Characters that would break an INI section header or a keyring entry name.
_BAD_PROFILE_CHARS = re.compile(r"[\[\]\s#;]")


@dataclass(frozen=True)
class NewAccessKey:
    """What the user entered; the secret never shows in repr."""

    profile: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    mfa_serial: str | None = None

    def credentials(self) -> Credentials:
        """The long-term key as the keystore stores it."""
        return Credentials(self.access_key_id, self.secret_access_key)


def profile_name_problem(name: str) -> str | None:
    if not name:
        return "Enter a profile name."
    if _BAD_PROFILE_CHARS.search(name) or not name.isprintable():
        return "A profile name cannot contain spaces, brackets, '#' or ';'."
    return None


def access_key_id_problem(key_id: str) -> str | None:
    if not key_id:
        return "Enter the access key ID."
    if key_id.startswith("ASIA"):
        return (
            "ASIA… is a temporary key: it expires within hours. Paste a long-term key (AKIA…) "
            "from the IAM console instead."
        )
    if not key_id.startswith("AKIA"):
        return "A long-term access key ID starts with AKIA."
    if not ACCESS_KEY_ID_PATTERN.match(key_id):
        return f"An access key ID is AKIA followed by 16 letters or digits ({len(key_id)}/20)."
    return None


def secret_problem(secret: str) -> str | None:
    if not secret:
        return "Enter the secret access key."
    if not _SECRET_PATTERN.match(secret):
        return "That does not look like a secret access key (usually 40 characters)."
    return None


def mfa_serial_problem(serial: str) -> str | None:
    if not serial:
        return None  # optional
    if serial.startswith("arn:"):
        if _MFA_ARN_PATTERN.match(serial):
            return None
        return "An MFA device ARN looks like arn:aws:iam::123456789012:mfa/name."
    if _MFA_SERIAL_PATTERN.match(serial):
        return None
    return "Enter the MFA device's ARN (or a hardware token's serial number)."


class _KeyIdValidator(QValidator):
    """Upper-cases and drops spaces as the user types or pastes; at most 20 characters."""

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        cleaned = "".join(text.split()).upper()
        pos = min(pos, len(cleaned))
        if len(cleaned) > 20 or (cleaned and not (cleaned.isascii() and cleaned.isalnum())):
            return QValidator.State.Invalid, text, pos
        if ACCESS_KEY_ID_PATTERN.match(cleaned):
            return QValidator.State.Acceptable, cleaned, pos
        return QValidator.State.Intermediate, cleaned, pos


class AddKeyDialog(TrayDialog):
    """Asks for a long-term access key to store in the keyring for a profile.

    `profiles` fills the profile list; `stored_keys` (profile -> key id) lets the dialog warn
    before a stored key is replaced.
    """

    def __init__(
        self,
        profiles: Sequence[str],
        *,
        profile: str | None = None,
        stored_keys: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Add access key", parent)
        self._stored = dict(stored_keys or {})

        intro = QLabel(
            "The key is stored in your system keyring, never in a file. traycred then writes "
            "only short-lived credentials for this profile.",
            self,
        )
        intro.setWordWrap(True)

        self._profile = QComboBox(self)
        self._profile.setObjectName("profile")
        self._profile.setEditable(True)
        self._profile.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._profile.addItems(sorted(dict.fromkeys(profiles)))
        line = self._profile.lineEdit()
        assert line is not None
        line.setPlaceholderText("profile name, e.g. work")
        self._profile.setEditText(profile or "")
        self._profile.editTextChanged.connect(self._revalidate)

        self._key_id = QLineEdit(self)
        self._key_id.setObjectName("access_key_id")
        self._key_id.setFont(monospace_font())
        self._key_id.setPlaceholderText("AKIA…")
        self._key_id.setValidator(_KeyIdValidator(self._key_id))
        self._key_id.textChanged.connect(self._revalidate)

        self._secret = QLineEdit(self)
        self._secret.setObjectName("secret_access_key")
        self._secret.setFont(monospace_font())
        self._secret.setEchoMode(QLineEdit.EchoMode.Password)
        self._secret.setInputMethodHints(
            Qt.InputMethodHint.ImhSensitiveData
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhHiddenText
        )
        self._secret.setPlaceholderText("secret access key")
        self._secret.textChanged.connect(self._revalidate)
        self._reveal = QToolButton(self)
        self._reveal.setObjectName("reveal_secret")
        self._reveal.setCheckable(True)
        self._reveal.setText("Show")
        self._reveal.setToolTip("Show or hide the secret access key")
        self._reveal.toggled.connect(self.set_secret_visible)
        secret_row = QHBoxLayout()
        secret_row.setContentsMargins(0, 0, 0, 0)
        secret_row.addWidget(self._secret, 1)
        secret_row.addWidget(self._reveal)

        self._mfa = QLineEdit(self)
        self._mfa.setObjectName("mfa_serial")
        self._mfa.setFont(monospace_font())
        self._mfa.setPlaceholderText("arn:aws:iam::123456789012:mfa/name (optional)")
        self._mfa.textChanged.connect(self._revalidate)

        form = QFormLayout()
        form.addRow("&Profile:", self._profile)
        form.addRow("Access &key ID:", self._key_id)
        form.addRow("&Secret access key:", secret_row)
        form.addRow("&MFA device:", self._mfa)
        label = form.labelForField(secret_row)
        if isinstance(label, QLabel):
            label.setBuddy(self._secret)

        self._problem = MessageLabel(self)
        self._problem.setObjectName("problem")
        self._note = MessageLabel(self)
        self._note.setObjectName("note")

        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button.setText("Store key")
        self.ok_button.setDefault(True)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(4)
        layout.addLayout(form)
        layout.addWidget(self._note)
        layout.addWidget(self._problem)
        layout.addWidget(self._buttons)
        self.setMinimumWidth(520)

        self._revalidate()
        (self._key_id if profile else self._profile).setFocus()

    # -- the API ---------------------------------------------------------------------------

    @property
    def ok_button(self) -> QPushButton:
        button = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        return button

    @property
    def profile_field(self) -> QComboBox:
        return self._profile

    @property
    def key_id_field(self) -> QLineEdit:
        return self._key_id

    @property
    def secret_field(self) -> QLineEdit:
        return self._secret

    @property
    def mfa_field(self) -> QLineEdit:
        return self._mfa

    @property
    def reveal_button(self) -> QToolButton:
        return self._reveal

    def problem_text(self) -> str:
        """The first validation problem as shown to the user ("" when none is shown)."""
        return self._problem.text() if self._problem.is_shown() else ""

    def note_text(self) -> str:
        return self._note.text() if self._note.is_shown() else ""

    def set_secret_visible(self, visible: bool) -> None:
        self._secret.setEchoMode(
            QLineEdit.EchoMode.Normal if visible else QLineEdit.EchoMode.Password
        )
        self._reveal.setText("Hide" if visible else "Show")
        if self._reveal.isChecked() != visible:
            self._reveal.setChecked(visible)

    def values(self) -> NewAccessKey:
        """What was entered, trimmed. Only meaningful once OK is enabled (or accepted)."""
        return NewAccessKey(
            profile=self._profile.currentText().strip(),
            access_key_id=self._key_id.text().strip(),
            secret_access_key="".join(self._secret.text().split()),
            mfa_serial=self._mfa.text().strip() or None,
        )

    def problems(self) -> list[str]:
        """Every reason OK is disabled, in field order (empty when the input is valid)."""
        v = self.values()
        found = (
            profile_name_problem(v.profile),
            access_key_id_problem(v.access_key_id),
            secret_problem(v.secret_access_key),
            mfa_serial_problem(v.mfa_serial or ""),
        )
        return [p for p in found if p]

    # -- behaviour -------------------------------------------------------------------------

    def _revalidate(self) -> None:
        v = self.values()
        problems = self.problems()
        self.ok_button.setEnabled(not problems)
        # Only complain about fields the user has started on, so a fresh dialog is not all red.
        typed = (
            (v.profile, profile_name_problem(v.profile)),
            (v.access_key_id, access_key_id_problem(v.access_key_id)),
            (v.secret_access_key, secret_problem(v.secret_access_key)),
            (v.mfa_serial or "", mfa_serial_problem(v.mfa_serial or "")),
        )
        shown = next((problem for text, problem in typed if text and problem), None)
        self._problem.show_error(shown)
        existing = self._stored.get(v.profile)
        if existing:
            self._note.show_hint(
                f"Profile {v.profile} already has a stored key ({existing}); it will be replaced."
            )
        else:
            self._note.show_hint(None)

    def accept(self) -> None:
        if self.problems():
            return
        super().accept()
