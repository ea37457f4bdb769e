"""The "Add access key" dialog: what it accepts, what it refuses with a hint, the masked secret."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit
from pytestqt.qtbot import QtBot

from tests.ui.conftest import shown_text
from traycred.ui.qt.dialogs import AddKeyDialog, NewAccessKey

pytestmark = pytest.mark.gui

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def _dialog(qtbot: QtBot, **kwargs: object) -> AddKeyDialog:
    dialog = AddKeyDialog(["prod", "dev", "prod"], **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _fill(qtbot: QtBot, dialog: AddKeyDialog, profile: str, key_id: str, secret: str) -> None:
    line = dialog.profile_field.lineEdit()
    assert line is not None
    line.clear()
    qtbot.keyClicks(line, profile)
    dialog.key_id_field.clear()
    qtbot.keyClicks(dialog.key_id_field, key_id)
    dialog.secret_field.clear()
    qtbot.keyClicks(dialog.secret_field, secret)


def test_a_fresh_dialog_lists_known_profiles_and_is_not_all_red(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    combo = dialog.profile_field
    assert [combo.itemText(i) for i in range(combo.count())] == ["dev", "prod"]
    assert combo.isEditable()
    assert not dialog.ok_button.isEnabled()
    assert dialog.problem_text() == ""
    assert "keyring" in shown_text(dialog)
    assert dialog.focusWidget() is combo


def test_valid_input_enables_ok_and_return_stores(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    _fill(qtbot, dialog, "work", KEY_ID, SECRET)
    qtbot.keyClicks(dialog.mfa_field, SERIAL)
    assert dialog.ok_button.isEnabled()
    assert dialog.ok_button.text() == "Store key"
    qtbot.keyClick(dialog.secret_field, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    key = dialog.values()
    assert key == NewAccessKey("work", KEY_ID, SECRET, SERIAL)
    assert SECRET not in repr(key)
    assert SECRET not in str(key)
    creds = key.credentials()
    assert creds.access_key_id == KEY_ID
    assert creds.secret_access_key == SECRET
    assert not creds.is_temporary


def test_key_id_is_upper_cased_and_stripped_as_typed(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    qtbot.keyClicks(dialog.key_id_field, "akia iosf odnn 7example")
    assert dialog.key_id_field.text() == KEY_ID
    qtbot.keyClicks(dialog.key_id_field, "X")  # a 21st character is not taken
    assert dialog.key_id_field.text() == KEY_ID


def test_a_temporary_asia_key_is_refused_with_a_hint(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    _fill(qtbot, dialog, "work", "ASIAIOSFODNN7EXAMPLE", SECRET)
    assert not dialog.ok_button.isEnabled()
    assert "temporary key" in dialog.problem_text()
    assert "AKIA" in dialog.problem_text()
    qtbot.keyClick(dialog.secret_field, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted


@pytest.mark.parametrize(
    ("profile", "key_id", "secret", "serial", "problem"),
    [
        ("my work", KEY_ID, SECRET, "", "cannot contain spaces"),
        ("[x]", KEY_ID, SECRET, "", "cannot contain spaces, brackets"),
        ("work", "AKIA123", SECRET, "", "AKIA followed by 16"),
        ("work", "XKIAIOSFODNN7EXAMPLE", SECRET, "", "starts with AKIA"),
        ("work", KEY_ID, "short", "", "does not look like a secret"),
        ("work", KEY_ID, SECRET, "arn:aws:iam::12:mfa/x", "arn:aws:iam::123456789012:mfa/name"),
        ("work", KEY_ID, SECRET, "bad serial", "MFA device"),
    ],
)
def test_invalid_input_keeps_ok_disabled_and_says_why(
    qtbot: QtBot, profile: str, key_id: str, secret: str, serial: str, problem: str
) -> None:
    dialog = _dialog(qtbot)
    _fill(qtbot, dialog, profile, key_id, secret)
    if serial:
        qtbot.keyClicks(dialog.mfa_field, serial)
    assert not dialog.ok_button.isEnabled()
    assert problem in dialog.problem_text()
    assert problem in shown_text(dialog)


def test_a_hardware_token_serial_is_accepted(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    _fill(qtbot, dialog, "work", KEY_ID, SECRET)
    qtbot.keyClicks(dialog.mfa_field, "GAHT12345678")
    assert dialog.ok_button.isEnabled()
    assert dialog.values().mfa_serial == "GAHT12345678"


def test_the_secret_is_masked_until_shown_and_cannot_be_copied(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    qtbot.keyClicks(dialog.secret_field, SECRET)
    assert dialog.secret_field.echoMode() == QLineEdit.EchoMode.Password
    assert SECRET not in dialog.secret_field.displayText()
    assert SECRET not in shown_text(dialog)
    QApplication.clipboard().setText("clipboard before")
    dialog.secret_field.selectAll()
    dialog.secret_field.copy()
    assert QApplication.clipboard().text() == "clipboard before"

    qtbot.mouseClick(dialog.reveal_button, Qt.MouseButton.LeftButton)
    assert dialog.secret_field.echoMode() == QLineEdit.EchoMode.Normal
    assert dialog.secret_field.displayText() == SECRET
    assert dialog.reveal_button.text() == "Hide"
    qtbot.mouseClick(dialog.reveal_button, Qt.MouseButton.LeftButton)
    assert dialog.secret_field.echoMode() == QLineEdit.EchoMode.Password


def test_replacing_a_stored_key_is_announced(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, stored_keys={"prod": "AKIAOLDOLDOLDOLDOLD0"})
    line = dialog.profile_field.lineEdit()
    assert line is not None
    qtbot.keyClicks(line, "prod")
    assert "already has a stored key (AKIAOLDOLDOLDOLDOLD0)" in dialog.note_text()
    line.clear()
    qtbot.keyClicks(line, "dev")
    assert dialog.note_text() == ""


def test_preselected_profile_puts_the_cursor_on_the_key_id(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, profile="dev")
    assert dialog.profile_field.currentText() == "dev"
    assert dialog.focusWidget() is dialog.key_id_field


def test_escape_cancels(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    _fill(qtbot, dialog, "work", KEY_ID, SECRET)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not dialog.isVisible()
