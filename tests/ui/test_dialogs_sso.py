"""The SSO sign-in dialog: the code to match, the link, the countdown, cancel and the outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel
from pytestqt.qtbot import QtBot

from tests.ui.conftest import Clock, shown_text
from traycred.credentials import utcnow
from traycred.prompt.base import SignInRequest
from traycred.ui.qt.dialogs import SsoSignInDialog

pytestmark = pytest.mark.gui

CODE = "WDJB-MJHT"
URL = "https://device.sso.us-east-1.amazonaws.com/?user_code=WDJB-MJHT"


def _dialog(qtbot: QtBot, clock: Clock, seconds: float = 600) -> SsoSignInDialog:
    start = clock()
    dialog = SsoSignInDialog(
        "corp", ("dev", "prod"), CODE, URL, start + timedelta(seconds=seconds), now=clock
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_shows_the_session_profiles_code_and_link(qtbot: QtBot, clock: Clock) -> None:
    dialog = _dialog(qtbot, clock)
    text = shown_text(dialog)
    assert "Sign in to SSO session corp" in text
    assert "dev and prod" in text
    assert CODE in text
    code_label = dialog.findChild(QLabel, "user_code")
    assert code_label is not None
    assert code_label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    # Large type: clearly bigger than the body text.
    assert code_label.font().pointSizeF() >= 2 * dialog.font().pointSizeF()
    link = dialog.findChild(QLabel, "verification_link")
    assert link is not None
    assert f'href="{URL}"' in link.text().replace("&amp;", "&")
    assert "Sign in to AWS" in dialog.windowTitle()


def test_countdown_falls_as_time_passes_and_says_when_the_code_expired(
    qtbot: QtBot, clock: Clock
) -> None:
    dialog = _dialog(qtbot, clock, seconds=600)
    bar = dialog.countdown
    assert bar.maximum() == 600
    assert bar.value() == 600
    assert bar.text() == "Code expires in 10:00"

    clock.advance(139)
    dialog.tick()
    assert bar.value() == 461
    assert bar.text() == "Code expires in 7:41"
    assert dialog.open_browser_button.isEnabled()

    clock.advance(500)
    dialog.tick()
    assert bar.value() == 0
    assert bar.text() == "The code expired"
    assert "The code expired" in dialog.status_text()
    assert not dialog.open_browser_button.isEnabled()
    assert dialog.isVisible()  # the engine still reports the outcome with finish()


def test_the_countdown_runs_by_itself(qtbot: QtBot) -> None:
    """The real once-a-second timer, on a code that lives for two seconds."""
    dialog = SsoSignInDialog("corp", (), CODE, URL, utcnow() + timedelta(seconds=2))
    qtbot.addWidget(dialog)
    dialog.show()
    first = dialog.countdown.value()
    qtbot.waitUntil(lambda: dialog.countdown.value() < first, timeout=3000)
    qtbot.waitUntil(lambda: dialog.countdown.text() == "The code expired", timeout=4000)
    assert dialog.countdown.value() == 0


def test_a_code_already_expired_on_arrival_says_so(qtbot: QtBot, clock: Clock) -> None:
    dialog = _dialog(qtbot, clock, seconds=-5)
    assert dialog.countdown.text() == "The code expired"
    assert not dialog.open_browser_button.isEnabled()


def test_open_browser_again_and_the_link_ask_the_caller_to_open_it(
    qtbot: QtBot, clock: Clock
) -> None:
    dialog = _dialog(qtbot, clock)
    with qtbot.waitSignal(dialog.open_browser_requested, timeout=1000):
        qtbot.mouseClick(dialog.open_browser_button, Qt.MouseButton.LeftButton)
    link = dialog.findChild(QLabel, "verification_link")
    assert link is not None
    assert not link.openExternalLinks()  # the caller vets the URL and picks the browser
    with qtbot.waitSignal(dialog.open_browser_requested, timeout=1000):
        link.linkActivated.emit(URL)


def test_copy_puts_the_code_on_the_clipboard(qtbot: QtBot, clock: Clock) -> None:
    dialog = _dialog(qtbot, clock)
    QApplication.clipboard().setText("something else")
    dialog.copy_code()
    assert QApplication.clipboard().text() == CODE


@pytest.mark.parametrize("how", ["button", "escape"])
def test_cancel_emits_cancelled_and_closes(qtbot: QtBot, clock: Clock, how: str) -> None:
    dialog = _dialog(qtbot, clock)
    with qtbot.waitSignal(dialog.cancelled, timeout=1000):
        if how == "button":
            qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
        else:
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not dialog.isVisible()


def test_finish_without_error_closes_it(qtbot: QtBot, clock: Clock) -> None:
    dialog = _dialog(qtbot, clock)
    dialog.finish(None)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.isVisible()


def test_finish_with_an_error_shows_it_and_offers_close(qtbot: QtBot, clock: Clock) -> None:
    dialog = SsoSignInDialog.from_request(
        SignInRequest(
            "corp", ("dev",), CODE, URL.split("?")[0], URL, clock() + timedelta(minutes=10)
        )
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.finish("The sign-in was denied in the browser.")
    assert dialog.isVisible()
    assert "The sign-in was denied in the browser." in shown_text(dialog)
    assert dialog.close_button.text() == "Close"
    assert not dialog.open_browser_button.isEnabled()
    cancelled: list[bool] = []
    dialog.cancelled.connect(lambda: cancelled.append(True))
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert cancelled == []  # it had already ended: closing is not a cancel
