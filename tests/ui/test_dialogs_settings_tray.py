"""Settings from the tray menu: read off the GUI thread, saved over the file, login item applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.conftest import dialog_app, open_dialog
from traycred import autostart
from traycred.settings import SettingsStore
from traycred.ui.model import Action
from traycred.ui.qt.app import TrayApp
from traycred.ui.qt.dialogs.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def tray_app(qtbot: QtBot, isolated_home: Path) -> Iterator[TrayApp]:
    aws_dir = isolated_home / ".aws"
    aws_dir.mkdir(mode=0o700)
    (aws_dir / "config").write_text(
        "[profile dev]\nrole_arn = arn:aws:iam::111111111111:role/deploy\n"
        "credential_source = Environment\n\n[profile prod]\ncredential_process = true\n"
    )
    SettingsStore().update(lambda s: s.with_profile("dev", managed=True))
    with dialog_app() as app:
        app.controller.reload().result(10)
        yield app


def _open(qtbot: QtBot, app: TrayApp) -> SettingsDialog:
    return open_dialog(qtbot, app, Action.SETTINGS, SettingsDialog)


def test_the_menu_entry_opens_the_dialog_with_the_files_values(
    qtbot: QtBot, tray_app: TrayApp
) -> None:
    dialog = _open(qtbot, tray_app)
    assert dialog.isVisible()
    assert dialog.margin_field.value() == 10
    assert dialog.autostart_box.isEnabled()
    assert not dialog.autostart_box.isChecked()
    table = dialog.output_table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["dev"]  # type: ignore[union-attr]


def test_save_writes_the_file_and_enables_start_at_login(qtbot: QtBot, tray_app: TrayApp) -> None:
    dialog = _open(qtbot, tray_app)
    dialog.margin_field.setValue(20)
    dialog.set_output("dev", "dev-live")
    dialog.autostart_box.setChecked(True)
    # Meanwhile (before Save) the menu turned keep-fresh on for prod.
    SettingsStore().update(lambda s: s.with_profile("prod", managed=True))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    store = SettingsStore()
    qtbot.waitUntil(lambda: store.load().refresh_margin_seconds == 1200, timeout=5000)
    saved = store.load()
    assert saved.output_for("dev") == "dev-live"
    assert saved.managed_profiles() == ("dev", "prod")
    qtbot.waitUntil(lambda: autostart.status().enabled, timeout=5000)
    assert tray_app.controller.settings.refresh_margin_seconds == 1200


def test_cancel_changes_nothing(qtbot: QtBot, tray_app: TrayApp) -> None:
    store = SettingsStore()
    before = store.path.read_bytes()
    dialog = _open(qtbot, tray_app)
    dialog.margin_field.setValue(30)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    qtbot.wait(200)
    assert store.path.read_bytes() == before
    assert not autostart.status().enabled
