"""The Qt prompter as the engine meets it: called from worker threads, answered in dialogs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot
from shiboken6 import isValid

from tests.ui.conftest import shown_text
from traycred.config import SsoSessionConfig
from traycred.emulator import Emulator
from traycred.emulator.scenario import DEMO_SSO_REGION, DEMO_START_URL
from traycred.errors import CancelledError, MfaCodeNeededError
from traycred.prompt.base import MfaRequest
from traycred.sso.tokens import SsoTokenService
from traycred.ui.qt.dialogs import MfaDialog
from traycred.ui.qt.prompter import QtPrompter, open_in_browser
from traycred.ui.qt.workers import GuiInvoker

pytestmark = pytest.mark.gui

ALICE = "arn:aws:iam::111111111111:mfa/alice"
BOB = "arn:aws:iam::111111111111:mfa/bob"
WAIT_MS = 15_000


def in_thread(fn: Callable[[], str]) -> Future[str]:
    future: Future[str] = Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future


@pytest.fixture
def prompter(qtbot: QtBot) -> QtPrompter:
    invoker = GuiInvoker()
    prompter = QtPrompter(invoker, open_url=lambda url: True)
    yield prompter  # type: ignore[misc]
    prompter.close()


def dialogs_named(qtbot: QtBot, prompter: QtPrompter, profiles: tuple[str, ...]) -> MfaDialog:
    found: list[MfaDialog] = []

    def shown() -> bool:
        found[:] = [d for d in prompter.open_mfa_dialogs() if d.profiles == profiles]
        return bool(found)

    qtbot.waitUntil(shown, timeout=WAIT_MS)
    return found[0]


def type_code(qtbot: QtBot, dialog: MfaDialog, code: str) -> None:
    qtbot.keyClicks(dialog.code_field, code)
    qtbot.keyClick(dialog.code_field, Qt.Key.Key_Return)


def test_a_code_typed_in_the_dialog_goes_back_to_the_waiting_thread(
    qtbot: QtBot, prompter: QtPrompter
) -> None:
    answer = in_thread(lambda: prompter.mfa_code(MfaRequest(("admin",), ALICE)))
    dialog = dialogs_named(qtbot, prompter, ("admin",))
    assert "admin" in shown_text(dialog) and ALICE in shown_text(dialog)
    type_code(qtbot, dialog, "123456")
    assert answer.result(5) == "123456"
    qtbot.waitUntil(lambda: prompter.open_mfa_dialogs() == [], timeout=WAIT_MS)


def test_a_second_request_for_the_same_device_joins_the_open_dialog(
    qtbot: QtBot, prompter: QtPrompter
) -> None:
    first = in_thread(lambda: prompter.mfa_code(MfaRequest(("admin",), ALICE)))
    dialogs_named(qtbot, prompter, ("admin",))
    second = in_thread(lambda: prompter.mfa_code(MfaRequest(("deploy", "audit"), ALICE)))
    # One dialog for the device, naming everyone who waits on it.
    joined = dialogs_named(qtbot, prompter, ("admin", "deploy", "audit"))
    assert len(prompter.open_mfa_dialogs()) == 1
    assert "admin, deploy and audit" in shown_text(joined)

    type_code(qtbot, joined, "111111")
    assert first.result(5) == "111111"
    # AWS takes each code once: the second caller gets a dialog of its own, then its own code.
    again = dialogs_named(qtbot, prompter, ("deploy", "audit"))
    assert not second.done()
    type_code(qtbot, again, "222222")
    assert second.result(5) == "222222"


def test_different_devices_get_their_own_dialogs(qtbot: QtBot, prompter: QtPrompter) -> None:
    alice = in_thread(lambda: prompter.mfa_code(MfaRequest(("admin",), ALICE)))
    bob = in_thread(lambda: prompter.mfa_code(MfaRequest(("ops",), BOB)))
    dialogs_named(qtbot, prompter, ("admin",))
    ops = dialogs_named(qtbot, prompter, ("ops",))
    type_code(qtbot, ops, "333333")
    assert bob.result(5) == "333333"
    assert not alice.done()


def test_the_previous_aws_error_is_shown_when_asking_again(
    qtbot: QtBot, prompter: QtPrompter
) -> None:
    refused = "MultiFactorAuthentication failed with invalid MFA one time pass code."
    answer = in_thread(lambda: prompter.mfa_code(MfaRequest(("admin",), ALICE, refused)))
    dialog = dialogs_named(qtbot, prompter, ("admin",))
    assert dialog.error_text() == refused
    type_code(qtbot, dialog, "444444")
    assert answer.result(5) == "444444"


def test_cancel_answers_every_waiting_caller_as_needing_a_code(
    qtbot: QtBot, prompter: QtPrompter
) -> None:
    first = in_thread(lambda: prompter.mfa_code(MfaRequest(("admin",), ALICE)))
    dialogs_named(qtbot, prompter, ("admin",))
    second = in_thread(lambda: prompter.mfa_code(MfaRequest(("deploy",), ALICE)))
    joined = dialogs_named(qtbot, prompter, ("admin", "deploy"))
    qtbot.keyClick(joined.code_field, Qt.Key.Key_Escape)
    for future in (first, second):
        error = future.exception(5)
        # The timer parks the profiles as needing a code; nobody is told it "failed".
        assert isinstance(error, MfaCodeNeededError) and isinstance(error, CancelledError)
        assert "No MFA code was entered" in str(error)


def test_quitting_releases_a_waiting_caller(qtbot: QtBot, prompter: QtPrompter) -> None:
    answer = in_thread(lambda: prompter.mfa_code(MfaRequest(("admin",), ALICE)))
    dialogs_named(qtbot, prompter, ("admin",))
    prompter.close()
    assert isinstance(answer.exception(5), CancelledError)


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def catch(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def test_only_https_or_loopback_pages_are_opened(qtbot: QtBot) -> None:
    catcher = _UrlCatcher()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, catcher, "catch")
    try:
        assert open_in_browser("https://device.sso.us-east-1.amazonaws.com/?user_code=AB")
        assert open_in_browser("http://127.0.0.1:8080/device?user_code=AB")
        assert not open_in_browser("http://phish.example.com/device")
        assert not open_in_browser("file:///etc/passwd")
    finally:
        for scheme in ("http", "https"):
            QDesktopServices.unsetUrlHandler(scheme)
    assert catcher.urls == [
        "https://device.sso.us-east-1.amazonaws.com/?user_code=AB",
        "http://127.0.0.1:8080/device?user_code=AB",
    ]


def test_sso_sign_in_shows_the_code_opens_the_page_and_closes_on_approval(
    qtbot: QtBot, isolated_home: Path, emulator: Emulator
) -> None:
    opened: list[str] = []
    prompter = QtPrompter(GuiInvoker(), open_url=lambda url: opened.append(url) or True)
    session = SsoSessionConfig(
        "corp", DEMO_START_URL, DEMO_SSO_REGION, registration_scopes=("sso:account:access",)
    )
    service = SsoTokenService(cancel_check_seconds=0.05)
    token = in_thread(lambda: service.sign_in(session, prompter, profiles=("sso-dev",)))
    qtbot.waitUntil(lambda: bool(prompter.sign_in_dialogs()), timeout=WAIT_MS)
    dialog = prompter.sign_in_dialogs()[0]
    assert dialog.session == "corp"
    assert emulator.pending_user_codes() == [dialog.user_code]
    assert len(opened) == 1 and dialog.user_code in opened[0]

    qtbot.mouseClick(dialog.open_browser_button, Qt.MouseButton.LeftButton)
    assert len(opened) == 2  # "Open browser again"

    emulator.approve(dialog.user_code)
    assert token.result(15).access_token  # type: ignore[attr-defined]
    # It closes itself (and is then deleted).
    qtbot.waitUntil(lambda: not isValid(dialog) or not dialog.isVisible(), timeout=WAIT_MS)
    assert service.cached_token(session) is not None


def test_cancelling_the_sign_in_dialog_stops_the_sign_in(
    qtbot: QtBot, isolated_home: Path, emulator: Emulator
) -> None:
    prompter = QtPrompter(GuiInvoker(), open_url=lambda url: True)
    session = SsoSessionConfig(
        "corp", DEMO_START_URL, DEMO_SSO_REGION, registration_scopes=("sso:account:access",)
    )
    service = SsoTokenService(cancel_check_seconds=0.05)
    token = in_thread(lambda: service.sign_in(session, prompter))
    qtbot.waitUntil(lambda: bool(prompter.sign_in_dialogs()), timeout=WAIT_MS)
    qtbot.mouseClick(prompter.sign_in_dialogs()[0].close_button, Qt.MouseButton.LeftButton)
    assert token.exception(15) is not None
    assert service.cached_token(session) is None
