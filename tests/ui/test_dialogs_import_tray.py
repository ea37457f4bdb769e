"""Import plaintext keys from the tray menu: the chosen keys move into the real keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from tests.ui.conftest import dialog_app, open_dialog
from traycred.emulator import Emulator
from traycred.emulator.scenario import (
    ALICE_ACCESS_KEY_ID,
    ALICE_SECRET_ACCESS_KEY,
    CI_ACCESS_KEY_ID,
    CI_SECRET_ACCESS_KEY,
)
from traycred.keystore import Keystore
from traycred.ui.model import Action
from traycred.ui.qt.app import TrayApp
from traycred.ui.qt.dialogs.import_keys_dialog import ImportKeysDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def tray_app(
    qtbot: QtBot, isolated_home: Path, emulator: Emulator, real_keyring: str
) -> Iterator[TrayApp]:
    aws_dir = isolated_home / ".aws"
    aws_dir.mkdir(mode=0o700)
    (aws_dir / "config").write_text("[profile ci]\nregion = us-east-1\n\n[profile alice]\n")
    (aws_dir / "credentials").write_text(
        "# my keys\n"
        f"[ci]\naws_access_key_id = {CI_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {CI_SECRET_ACCESS_KEY}\n\n"
        f"[alice]\naws_access_key_id = {ALICE_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {ALICE_SECRET_ACCESS_KEY}\n"
    )
    with dialog_app() as app:
        yield app


def _open(qtbot: QtBot, app: TrayApp) -> ImportKeysDialog:
    return open_dialog(qtbot, app, Action.IMPORT_KEYS, ImportKeysDialog)


def test_the_checked_keys_move_to_the_keyring_and_out_of_the_file(
    qtbot: QtBot, tray_app: TrayApp, isolated_home: Path
) -> None:
    dialog = _open(qtbot, tray_app)
    assert dialog.chosen() == ["alice", "ci"]
    intro = dialog.findChild(QLabel, "intro")
    assert isinstance(intro, QLabel)
    assert "SecretService" in intro.text()
    dialog.set_checked("alice", False)
    assert dialog.import_button is not None
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)

    keystore = Keystore()
    qtbot.waitUntil(lambda: "ci" in keystore.profiles(), timeout=10_000)
    credentials = isolated_home / ".aws" / "credentials"
    qtbot.waitUntil(lambda: CI_SECRET_ACCESS_KEY not in credentials.read_text(), timeout=10_000)
    key = keystore.get_key("ci")
    assert key is not None and key.secret_access_key == CI_SECRET_ACCESS_KEY
    text = credentials.read_text()
    assert "# my keys" in text
    assert ALICE_SECRET_ACCESS_KEY in text  # unchecked: left alone
    assert "alice" not in keystore.profiles()
    backups = [p for p in credentials.parent.iterdir() if p.name != "credentials"]
    assert any(CI_SECRET_ACCESS_KEY in p.read_text() for p in backups if p.is_file())
