"""The MFA dialog as a user meets it: names who waits, takes six digits, shows AWS's refusal."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QDialog, QLabel
from pytestqt.qtbot import QtBot

from tests.ui.conftest import shown_text
from traycred.prompt.base import MfaRequest
from traycred.ui.qt.dialogs import MfaDialog

pytestmark = pytest.mark.gui

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
REFUSED = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def _dialog(qtbot: QtBot, **kwargs: object) -> MfaDialog:
    profiles = kwargs.pop("profiles", ("dev",))
    dialog = MfaDialog(profiles, SERIAL, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_names_the_waiting_profiles_and_the_device(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, profiles=("dev", "prod", "ops", "audit", "ci"))
    text = shown_text(dialog)
    assert "dev, prod, ops and 2 more" in text
    assert SERIAL in text
    assert "MFA code" in dialog.windowTitle()
    assert dialog.focusWidget() is dialog.code_field  # the user can type at once


def test_letters_are_refused_and_ok_waits_for_six_digits(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    qtbot.keyClicks(dialog.code_field, "12ab")
    assert dialog.code_field.text() == "12"
    assert not dialog.ok_button.isEnabled()
    assert "4 more digits" in shown_text(dialog)

    qtbot.keyClick(dialog.code_field, Qt.Key.Key_Return)  # incomplete: must not submit
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted

    qtbot.keyClicks(dialog.code_field, "3456")
    assert dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.code_field, "7")  # a seventh digit is not taken
    assert dialog.code_field.text() == "123456"

    with qtbot.waitSignal(dialog.code_submitted) as submitted:
        qtbot.keyClick(dialog.code_field, Qt.Key.Key_Return)
    assert submitted.args == ["123456"]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()
    assert dialog.code() == "123456"


def test_a_pasted_code_with_spaces_is_cleaned(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    QApplication.clipboard().setText("123 456")
    dialog.code_field.paste()
    assert dialog.code() == "123456"
    assert dialog.ok_button.isEnabled()


def test_non_ascii_digits_are_refused(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    # Arabic-Indic digits (typed with an input method; QTest can only type ASCII): AWS refuses them.
    dialog.code_field.insert("١٢٣٤٥٦")
    assert dialog.code() == ""
    assert not dialog.ok_button.isEnabled()


def test_escape_cancels_without_submitting(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    qtbot.keyClicks(dialog.code_field, "123456")
    submitted: list[str] = []
    dialog.code_submitted.connect(submitted.append)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not dialog.isVisible()
    assert submitted == []


def test_aws_error_from_the_previous_attempt_is_shown_in_red(qtbot: QtBot) -> None:
    dialog = MfaDialog.from_request(MfaRequest(("dev",), SERIAL, previous_error=REFUSED))
    qtbot.addWidget(dialog)
    dialog.show()
    assert REFUSED in shown_text(dialog)
    assert dialog.error_text() == REFUSED
    label = dialog.findChild(QLabel, "mfa_error")
    assert label is not None
    colour = QColor(label.styleSheet().split("color:")[1].strip(" ;"))
    assert colour.red() > 2 * max(colour.green(), colour.blue())
    dialog.set_error(None)
    assert REFUSED not in shown_text(dialog)


def test_stay_open_checks_in_place_and_asks_again_after_a_refusal(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, stay_open=True)
    qtbot.keyClicks(dialog.code_field, "111111")
    with qtbot.waitSignal(dialog.code_submitted):
        qtbot.keyClick(dialog.code_field, Qt.Key.Key_Return)
    # Busy: still open, input frozen, the user is told what happens.
    assert dialog.isVisible()
    assert dialog.is_busy()
    assert dialog.code_field.isReadOnly()
    assert not dialog.ok_button.isEnabled()
    assert "Checking the code" in shown_text(dialog)

    dialog.set_error(REFUSED)
    assert not dialog.is_busy()
    assert dialog.code() == ""
    assert REFUSED in shown_text(dialog)
    # The refused code is not worth sending twice (one-time codes are single use).
    qtbot.keyClicks(dialog.code_field, "111111")
    assert not dialog.ok_button.isEnabled()
    assert "wait for your device to show a new one" in shown_text(dialog)

    dialog.code_field.clear()
    qtbot.keyClicks(dialog.code_field, "222222")
    assert dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.code_field, Qt.Key.Key_Return)
    assert dialog.is_busy()
    dialog.verified()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()
    assert dialog.code() == "222222"


def test_modal_exec_answered_like_a_user(qtbot: QtBot) -> None:
    """The way the tray uses it: exec() blocks until the user types a code and presses Return."""
    dialog = MfaDialog(("dev",), SERIAL)
    qtbot.addWidget(dialog)

    def answer() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            QTimer.singleShot(10, answer)
            return
        assert isinstance(modal, MfaDialog)
        qtbot.keyClicks(modal.code_field, "654321")
        qtbot.keyClick(modal.code_field, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)
    assert dialog.exec() == QDialog.DialogCode.Accepted
    assert dialog.code() == "654321"
