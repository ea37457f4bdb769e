"""The "Import plaintext keys" dialog: key ids only, every key checked, what happens explained."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.ui.conftest import shown_text
from traycred.ui.qt.dialogs.import_keys_dialog import ImportKeysDialog

pytestmark = pytest.mark.gui

KEYS = {"legacy": "AKIAIOSFODNN7EXAMPLE", "ci": "AKIAEXAMPLECIUSER001"}
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _dialog(qtbot: QtBot, keys: dict[str, str] | None = None) -> ImportKeysDialog:
    dialog = ImportKeysDialog(
        KEYS if keys is None else keys,
        keyring="SecretService Keyring (keyring.backends.SecretService)",
        credentials_file="/home/u/.aws/credentials",
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _rows(dialog: ImportKeysDialog) -> list[tuple[str, str]]:
    tree = dialog.key_list
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    return [(item.text(0), item.text(1)) for item in items if item is not None]


def test_it_lists_profiles_and_key_ids_all_checked(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    assert _rows(dialog) == [("ci", "AKIAEXAMPLECIUSER001"), ("legacy", "AKIAIOSFODNN7EXAMPLE")]
    assert dialog.chosen() == ["ci", "legacy"]
    button = dialog.import_button
    assert button is not None and button.isEnabled()
    assert button.text() == "Import 2 keys"


def test_it_explains_what_will_happen(qtbot: QtBot) -> None:
    text = shown_text(_dialog(qtbot))
    assert "/home/u/.aws/credentials" in text
    assert "SecretService Keyring" in text
    assert "verifies it with AWS" in text
    assert "backup copy" in text and "0600" in text
    assert "stays in the file unchanged" in text


def test_unchecking_narrows_the_choice_and_none_disables_import(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.set_checked("legacy", False)
    assert dialog.chosen() == ["ci"]
    assert dialog.import_button is not None
    assert dialog.import_button.text() == "Import 1 key"
    dialog.set_checked("ci", False)
    assert dialog.chosen() == []
    assert not dialog.import_button.isEnabled()
    assert "Check at least one key" in dialog.problem_text()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_clicking_a_checkbox_and_import_returns_the_names(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    tree = dialog.key_list
    item = tree.topLevelItem(1)
    assert item is not None
    item.setCheckState(0, Qt.CheckState.Unchecked)  # what a click on its box does
    assert dialog.import_button is not None
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.chosen() == ["ci"]


def test_no_secret_is_ever_shown(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    everything = shown_text(dialog) + repr(_rows(dialog))
    assert SECRET not in everything
    assert "aws_secret_access_key" not in everything


def test_nothing_to_import_offers_only_close(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, {})
    assert dialog.import_button is None
    assert "There are no plaintext long-term access keys" in shown_text(dialog)
    assert not dialog.key_list.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected
