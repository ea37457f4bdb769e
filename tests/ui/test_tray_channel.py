"""The tray as the running instance: the CLI's requests are answered by it, and its dialogs ask.

Also SSO from the menu: a kept-fresh SSO profile whose session ended puts "Sign in to SSO
session NAME…" on top; signing in through the emulator's approval renews the profile.
"""

from __future__ import annotations

import configparser
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from tests.fixtures.aws_setup import SSO_DEV, alice_config, store_keys, write_config
from tests.fixtures.channel import call_in_thread
from traycred.channel import client
from traycred.channel.server import AlreadyRunningError, ChannelServer
from traycred.cli import cmd_tray
from traycred.emulator import Emulator
from traycred.settings import SettingsStore
from traycred.ui.controller import KIND, TrayService, create
from traycred.ui.qt.app import TrayApp
from traycred.ui.qt.prompter import QtPrompter
from traycred.ui.qt.tray import QtTray
from traycred.ui.qt.workers import GuiInvoker

pytestmark = pytest.mark.gui

CONFIG = alice_config("admin", extra=[SSO_DEV])
WAIT_MS = 20_000


class Running:
    def __init__(self, tray: QtTray, prompter: QtPrompter, home: Path, opened: list[str]):
        self.tray = tray
        self.prompter = prompter
        self.home = home
        self.opened = opened

    def top(self) -> list[str]:
        return [a.text() for a in self.tray.menu.actions() if a.text()]

    def action(self, label: str, menu: QMenu | None = None) -> QAction:
        menu = menu or self.tray.menu
        return next(a for a in menu.actions() if a.text().startswith(label))

    def credentials(self) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(self.home / ".aws" / "credentials")
        return parser


@pytest.fixture
def running(
    qtbot: QtBot, isolated_home: Path, real_keyring: str, emulator: Emulator
) -> Iterator[Running]:
    write_config(isolated_home, CONFIG)
    store_keys("alice")
    SettingsStore().update(lambda s: s.with_profile("sso-dev", managed=True))
    server = ChannelServer(TrayService(), kind=KIND)
    server.bind()
    opened: list[str] = []
    invoker = GuiInvoker()
    prompter = QtPrompter(invoker, open_url=lambda url: opened.append(url) or True)
    controller = create(prompter, server=server)
    app = TrayApp(controller, invoker, prompter)
    controller.set_listener(app)
    tray = QtTray(app.trigger, app)
    app.attach(tray)
    controller.start()
    yield Running(tray, prompter, isolated_home, opened)
    prompter.close()
    tray.close()
    controller.stop()


def test_credential_process_waits_for_the_tray_mfa_dialog(qtbot: QtBot, running: Running) -> None:
    assert client.ping()["kind"] == "tray"  # type: ignore[index]
    answer = call_in_thread("credentials", {"profile": "admin"})
    qtbot.waitUntil(lambda: bool(running.prompter.open_mfa_dialogs()), timeout=WAIT_MS)
    dialog = running.prompter.open_mfa_dialogs()[0]
    assert dialog.profiles == ("admin",)
    qtbot.keyClicks(dialog.code_field, "123456")
    qtbot.keyClick(dialog.code_field, Qt.Key.Key_Return)
    result = answer.result(30)
    assert result["AccessKeyId"].startswith("ASIA")
    assert result["Expiration"]


def test_a_second_start_shows_the_running_menu_and_exits(
    qtbot: QtBot, running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(AlreadyRunningError):
        ChannelServer(TrayService(), kind=KIND).bind()
    shown: list[bool] = []
    running.tray.menu.aboutToShow.connect(lambda: shown.append(True))
    # cmd_tray's second start runs on its own thread here, as it would in its own process.
    rc: Future[int] = Future()
    threading.Thread(
        target=lambda: rc.set_result(cmd_tray.run(SimpleNamespace(backend="qt"))), daemon=True
    ).start()
    qtbot.waitUntil(lambda: rc.done(), timeout=WAIT_MS)
    assert rc.result() == 0
    assert "already running" in capsys.readouterr().err
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    running.tray.menu.hide()


def test_an_ended_sso_session_is_offered_on_top_and_signing_in_renews_the_profile(
    qtbot: QtBot, running: Running, emulator: Emulator
) -> None:
    # Nobody signed in yet: the timer parks sso-dev and the menu offers the sign-in first.
    qtbot.waitUntil(lambda: running.top()[:1] == ["Sign in to SSO session corp…"], timeout=WAIT_MS)
    assert running.action("Sign in to SSO session corp…").font().bold()
    running.action("Sign in to SSO session corp…").trigger()

    qtbot.waitUntil(lambda: bool(running.prompter.sign_in_dialogs()), timeout=WAIT_MS)
    code = running.prompter.sign_in_dialogs()[0].user_code
    assert running.opened and code in running.opened[0]
    emulator.approve(code)

    qtbot.waitUntil(lambda: running.credentials().has_section("sso-dev"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Sign in to SSO session corp…" not in running.top(), timeout=WAIT_MS)
    # The menu may still say "refreshing…" for a moment after the file was written.
    qtbot.waitUntil(lambda: running.action("sso-dev").text().endswith("min left"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: running.tray.view.icon.value == "fresh", timeout=WAIT_MS)


def test_choosing_an_sso_default_without_a_sign_in_opens_the_tray_sign_in_not_the_terminal(
    qtbot: QtBot, running: Running, emulator: Emulator
) -> None:
    def sso_dev_radio() -> QAction | None:
        if "Default profile" not in running.top():
            return None
        defaults = running.action("Default profile").menu()
        return next((a for a in defaults.actions() if a.text() == "sso-dev"), None)

    qtbot.waitUntil(lambda: sso_dev_radio() is not None, timeout=WAIT_MS)
    radio = sso_dev_radio()
    assert radio is not None and radio.isCheckable() and not radio.isChecked()
    radio.trigger()

    # The user asked for sso-dev: the tray shows its own sign-in instead of an error that says
    # to run `traycred login` in a terminal.
    qtbot.waitUntil(lambda: bool(running.prompter.sign_in_dialogs()), timeout=WAIT_MS)
    emulator.approve(running.prompter.sign_in_dialogs()[0].user_code)
    qtbot.waitUntil(lambda: running.credentials().has_section("default"), timeout=WAIT_MS)
    assert running.credentials()["default"]["aws_access_key_id"].startswith("ASIA")
    # The choice is saved right after [default] is written.
    qtbot.waitUntil(lambda: SettingsStore().load().default_profile == "sso-dev", timeout=WAIT_MS)
