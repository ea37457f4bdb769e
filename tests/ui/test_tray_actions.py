"""Menu actions clicked in the Qt tray, against the real engine, emulator, keyring and files.

The tray is built in-process the way `traycred tray` builds it (controller, Qt prompter, Qt
tray), minus the channel socket; menu entries are triggered like a click, dialogs answered by
typing, and the results read back from the credentials file, the settings and the clipboard.
"""

from __future__ import annotations

import configparser
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from tests.fixtures.aws_setup import CI_DEPLOY, alice_config, store_keys, write_config
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    ALICE_MFA_SERIAL,
)
from traycred.settings import SettingsStore
from traycred.ui.controller import TrayController, create
from traycred.ui.qt.app import TrayApp
from traycred.ui.qt.dialogs import MfaDialog
from traycred.ui.qt.prompter import QtPrompter
from traycred.ui.qt.tray import QtTray, menu_actions
from traycred.ui.qt.workers import GuiInvoker

pytestmark = pytest.mark.gui

CONFIG = alice_config("admin", "readonly", extra=[CI_DEPLOY])
WAIT_MS = 20_000


@dataclass
class Tray:
    controller: TrayController
    app: TrayApp
    tray: QtTray
    prompter: QtPrompter
    home: Path
    opened_urls: list[str]

    def action(self, *path: str) -> QAction:
        """The menu entry reached by `path` (labels, each matched by its start; "Profiles"
        also finds "Other profiles", its name once some profiles are kept fresh)."""
        menu: QMenu = self.tray.menu
        for depth, label in enumerate(path):
            found = [
                a
                for a in menu.actions()
                if a.text().startswith(label)
                or (label == "Profiles" and a.text() == "Other profiles")
            ]
            assert found, f"no {label!r} in {[a.text() for a in menu.actions()]}"
            if depth == len(path) - 1:
                return found[0]
            sub = found[0].menu()
            assert isinstance(sub, QMenu), f"{label!r} is not a submenu"
            menu = sub
        raise AssertionError("empty path")

    def click(self, *path: str) -> None:
        action = self.action(*path)
        assert action.isEnabled(), f"{path} is disabled"
        action.trigger()

    def labels(self) -> list[str]:
        return [a.text() for a in menu_actions(self.tray.menu) if a.text()]

    def sections(self) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(self.home / ".aws" / "credentials")
        return parser

    def settings(self) -> SettingsStore:
        return SettingsStore()


@pytest.fixture
def tray(
    qtbot: QtBot, isolated_home: Path, real_keyring: str, emulator: Emulator
) -> Iterator[Tray]:
    write_config(isolated_home, CONFIG)
    store_keys("alice", "ci")

    opened: list[str] = []
    invoker = GuiInvoker()
    prompter = QtPrompter(invoker, open_url=lambda url: opened.append(url) or True)
    controller = create(prompter)
    app = TrayApp(controller, invoker, prompter)
    controller.set_listener(app)
    qt_tray = QtTray(app.trigger, app)
    app.attach(qt_tray)
    controller.start()
    harness = Tray(controller, app, qt_tray, prompter, isolated_home, opened)
    # The profiles are read on a worker; the menu shows them once that is done.
    qtbot.waitUntil(
        lambda: any(t.startswith("ci-deploy") for t in harness.labels()), timeout=WAIT_MS
    )
    yield harness
    prompter.close()
    qt_tray.close()
    controller.stop()


def wait_for_mfa_dialog(qtbot: QtBot, tray: Tray) -> MfaDialog:
    found: list[MfaDialog] = []

    def shown() -> bool:
        found[:] = tray.prompter.open_mfa_dialogs()
        return bool(found)

    qtbot.waitUntil(shown, timeout=WAIT_MS)
    return found[0]


def answer(qtbot: QtBot, dialog: MfaDialog, code: str) -> None:
    qtbot.keyClicks(dialog.code_field, code)
    qtbot.keyClick(dialog.code_field, Qt.Key.Key_Return)


def test_choosing_a_default_rewrites_default_and_ticks_it(qtbot: QtBot, tray: Tray) -> None:
    assert tray.labels()[0] == "No default profile"
    tray.click("Default profile", "ci-deploy")

    qtbot.waitUntil(lambda: tray.sections().has_section("default"), timeout=WAIT_MS)
    default = tray.sections()["default"]
    assert default["aws_access_key_id"].startswith("ASIA")
    assert "x_traycred_expiration" in default
    qtbot.waitUntil(lambda: tray.settings().load().default_profile == "ci-deploy", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tray.labels()[0].startswith("Default: ci-deploy — "), timeout=WAIT_MS)
    assert tray.labels()[0].endswith("min left")
    assert tray.action("Default profile", "ci-deploy").isChecked()
    assert not tray.action("Default profile", "readonly").isChecked()
    assert tray.tray.icon.toolTip().startswith("traycred\nDefault: ci-deploy — ")


def test_keep_fresh_toggles_the_setting_and_refresh_now_renews(
    qtbot: QtBot, tray: Tray, emulator: Emulator
) -> None:
    tray.click("Profiles", "ci-deploy", "Keep fresh")
    qtbot.waitUntil(lambda: tray.settings().load().profile("ci-deploy").managed, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tray.sections().has_section("ci-deploy"), timeout=WAIT_MS)
    first = tray.sections()["ci-deploy"]["aws_access_key_id"]
    # Kept fresh: it moves to the top level, ticked.
    qtbot.waitUntil(lambda: tray.action("ci-deploy").menu() is not None, timeout=WAIT_MS)
    assert tray.action("ci-deploy", "Keep fresh").isChecked()

    calls = emulator.count("AssumeRole")
    tray.click("ci-deploy", "Refresh now")
    qtbot.waitUntil(lambda: emulator.count("AssumeRole") > calls, timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: tray.sections()["ci-deploy"]["aws_access_key_id"] != first, timeout=WAIT_MS
    )

    tray.click("ci-deploy", "Keep fresh")
    qtbot.waitUntil(
        lambda: not tray.settings().load().profile("ci-deploy").managed, timeout=WAIT_MS
    )
    qtbot.waitUntil(lambda: tray.action("Profiles").menu() is not None, timeout=WAIT_MS)


def test_copy_export_lines_puts_them_on_the_clipboard(qtbot: QtBot, tray: Tray) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("")
    tray.click("Profiles", "ci-deploy", "Copy export lines")
    qtbot.waitUntil(lambda: "AWS_SESSION_TOKEN" in clipboard.text(), timeout=WAIT_MS)
    lines = clipboard.text().splitlines()
    assert lines[0].startswith("export AWS_ACCESS_KEY_ID='ASIA")
    assert lines[1].startswith("export AWS_SECRET_ACCESS_KEY='")
    assert lines[3].startswith("export AWS_CREDENTIAL_EXPIRATION='")


def test_an_mfa_dialog_answered_with_a_code_refreshes_a_role(
    qtbot: QtBot, tray: Tray, emulator: Emulator
) -> None:
    tray.click("Profiles", "admin", "Keep fresh")
    dialog = wait_for_mfa_dialog(qtbot, tray)
    assert dialog.profiles == ("admin",)
    assert dialog.mfa_serial == ALICE_MFA_SERIAL
    answer(qtbot, dialog, "123456")

    qtbot.waitUntil(lambda: tray.sections().has_section("admin"), timeout=WAIT_MS)
    assert tray.sections()["admin"]["aws_access_key_id"].startswith("ASIA")
    assert emulator.count("GetSessionToken", 200) == 1
    qtbot.waitUntil(lambda: tray.action("admin").text().endswith("min left"), timeout=WAIT_MS)
    # The MFA session now serves the other role on alice without asking again.
    tray.click("Profiles", "readonly", "Keep fresh")
    qtbot.waitUntil(lambda: tray.sections().has_section("readonly"), timeout=WAIT_MS)
    assert tray.prompter.open_mfa_dialogs() == []
    assert emulator.count("GetSessionToken", 200) == 1


def test_a_wrong_code_shows_aws_error_and_asks_again(
    qtbot: QtBot, tray: Tray, emulator: Emulator
) -> None:
    tray.click("Profiles", "admin", "Keep fresh")
    first = wait_for_mfa_dialog(qtbot, tray)
    answer(qtbot, first, "000000")  # the emulator refuses this code

    def asked_again() -> bool:
        dialogs = tray.prompter.open_mfa_dialogs()
        return bool(dialogs) and dialogs[0] is not first and bool(dialogs[0].error_text())

    qtbot.waitUntil(asked_again, timeout=WAIT_MS)
    second = tray.prompter.open_mfa_dialogs()[0]
    assert "MultiFactorAuthentication failed" in second.error_text()
    answer(qtbot, second, "246810")
    qtbot.waitUntil(lambda: tray.sections().has_section("admin"), timeout=WAIT_MS)
    assert emulator.count("GetSessionToken", 200) == 1


def test_cancelling_the_mfa_dialog_parks_the_profile_and_the_menu_offers_the_code(
    qtbot: QtBot, tray: Tray
) -> None:
    tray.click("Profiles", "admin", "Keep fresh")
    dialog = wait_for_mfa_dialog(qtbot, tray)
    dialog.reject()
    # The timer then finds it due and, never prompting by itself, parks it as needing a code.
    qtbot.waitUntil(lambda: tray.labels()[0] == "Enter MFA code for admin…", timeout=WAIT_MS)
    assert not tray.sections().has_section("admin")
    tray.click("Enter MFA code for admin…")
    answer(qtbot, wait_for_mfa_dialog(qtbot, tray), "135790")
    qtbot.waitUntil(lambda: tray.sections().has_section("admin"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tray.labels()[0] == "No default profile", timeout=WAIT_MS)


def test_the_gui_keeps_running_while_aws_answers_slowly(
    qtbot: QtBot, tray: Tray, emulator: Emulator
) -> None:
    emulator.latency = 2.0
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
    heartbeat.start()
    try:
        tray.click("Profiles", "ci-deploy", "Keep fresh")
        start = time.monotonic()
        qtbot.waitUntil(lambda: tray.sections().has_section("ci-deploy"), timeout=WAIT_MS)
        end = time.monotonic()
    finally:
        heartbeat.stop()
    during = [t for t in ticks if start <= t <= end]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    print(
        f"\nheartbeat during a {end - start:.2f} s refresh: {len(during)} ticks, "
        f"longest gap {max(gaps, default=0) * 1000:.0f} ms"
    )
    # AssumeRole + GetSessionToken take >= 2 s each here; a blocked GUI would tick ~never.
    assert len(during) >= 25
