"""The Settings dialog: what it shows, what it saves, what it refuses, and how it merges."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QDialog
from pytestqt.qtbot import QtBot

from tests.ui.conftest import shown_text
from traycred.settings import ProfileSettings, Settings, SettingsStore
from traycred.ui.qt.dialogs.settings_dialog import SettingsChoice, SettingsDialog

pytestmark = pytest.mark.gui

PROFILES = ("admin", "alice", "deploy", "dev-admin", "readonly")


def _settings() -> Settings:
    return Settings(
        default_profile="deploy",
        refresh_margin_seconds=600,
        mfa_session_seconds=43_200,
        role_duration_seconds=3_600,
        profiles=MappingProxyType(
            {
                "admin": ProfileSettings(managed=True),
                "deploy": ProfileSettings(managed=True, output="deploy-live"),
                "readonly": ProfileSettings(managed=True),
                "alice": ProfileSettings(duration_seconds=7200),
            }
        ),
    )


def _dialog(qtbot: QtBot, settings: Settings | None = None, **kwargs: object) -> SettingsDialog:
    kwargs.setdefault("profiles", PROFILES)
    kwargs.setdefault("start_at_login", False)
    dialog = SettingsDialog(settings or _settings(), **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _type(qtbot: QtBot, field: object, text: str) -> None:
    from PySide6.QtWidgets import QAbstractSpinBox

    assert isinstance(field, QAbstractSpinBox)
    field.selectAll()
    qtbot.keyClicks(field, text)
    field.interpretText()


def _tick(qtbot: QtBot, box: QCheckBox) -> None:
    """Click on the box itself (a wide checkbox's centre may lie past its label)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))


def test_it_shows_the_current_settings_in_user_units(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    assert dialog.margin_field.value() == 10
    assert dialog.margin_field.suffix() == " min"
    assert dialog.mfa_hours_field.value() == 12.0
    assert dialog.role_hours_field.value() == 1.0
    assert dialog.notifications_box.isChecked()
    assert not dialog.auto_browser_box.isChecked()
    assert dialog.autostart_box.isEnabled() and not dialog.autostart_box.isChecked()
    table = dialog.output_table
    rows = [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]  # type: ignore[union-attr]
    assert rows == [("admin", ""), ("deploy", "deploy-live"), ("readonly", "")]
    assert dialog.save_button.isEnabled()
    assert dialog.problem_text() == ""
    assert dialog.output_table.isVisible()
    assert "Leave it empty to use the profile's own name" in shown_text(dialog)


def test_changed_values_come_back_as_a_new_settings(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    _type(qtbot, dialog.margin_field, "15")
    _type(qtbot, dialog.mfa_hours_field, "36")
    _type(qtbot, dialog.role_hours_field, "2.5")
    _tick(qtbot, dialog.notifications_box)
    _tick(qtbot, dialog.auto_browser_box)
    _tick(qtbot, dialog.autostart_box)
    dialog.set_output("admin", "admin-live")
    dialog.set_output("deploy", "")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted

    choice = dialog.values()
    assert isinstance(choice, SettingsChoice)
    s = choice.settings
    assert s.refresh_margin_seconds == 900
    assert s.mfa_session_seconds == 129_600
    assert s.role_duration_seconds == 9_000
    assert s.notifications is False
    assert s.auto_open_browser is True
    assert choice.start_at_login is True
    assert s.output_for("admin") == "admin-live"
    assert s.output_for("deploy") == "deploy"
    # What the dialog does not edit is kept.
    assert s.default_profile == "deploy"
    assert s.profile("alice").duration_seconds == 7200
    assert s.managed_profiles() == ("admin", "deploy", "readonly")
    s.validate()


def test_durations_stay_within_what_aws_accepts(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    assert dialog.mfa_hours_field.minimum() == 0.25
    assert dialog.mfa_hours_field.maximum() == 36.0
    assert dialog.role_hours_field.maximum() == 12.0
    assert (dialog.margin_field.minimum(), dialog.margin_field.maximum()) == (1, 60)
    _type(qtbot, dialog.mfa_hours_field, "99")
    _type(qtbot, dialog.role_hours_field, "0.1")
    s = dialog.values().settings
    assert 900 <= s.mfa_session_seconds <= 129_600
    assert 900 <= s.role_duration_seconds <= 43_200
    s.validate()


@pytest.mark.parametrize(
    ("profile", "output", "problem"),
    [
        ("admin", "my admin", "'my admin' cannot be a section name"),
        ("admin", "[x]", "no spaces, brackets"),
        ("admin", "default", "[default] holds the default profile"),
        (
            "admin",
            "deploy-live",
            "admin and deploy would both be written to [deploy-live]",
        ),
        ("admin", "alice", "[alice] is the section of your profile alice"),
        ("readonly", "admin", "[admin] is the section of your profile admin"),
    ],
)
def test_a_bad_or_colliding_output_name_keeps_save_disabled(
    qtbot: QtBot, profile: str, output: str, problem: str
) -> None:
    dialog = _dialog(qtbot)
    dialog.set_output(profile, output)
    assert not dialog.save_button.isEnabled()
    assert problem in dialog.problem_text()
    assert problem in shown_text(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() != QDialog.DialogCode.Accepted
    dialog.set_output(profile, "")
    assert dialog.save_button.isEnabled()
    assert dialog.problem_text() == ""


def test_two_rows_with_the_same_new_name_collide(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    dialog.set_output("admin", "shared")
    assert dialog.save_button.isEnabled()
    dialog.set_output("readonly", "shared")
    assert "admin and readonly would both be written to [shared]" in dialog.problem_text()


def test_typing_in_the_table_is_validated_as_typed(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    table = dialog.output_table
    table.setCurrentCell(0, 1)
    table.editItem(table.item(0, 1))
    editor = table.viewport().focusWidget() or dialog.focusWidget()
    assert editor is not None
    qtbot.keyClicks(editor, "admin live")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert table.item(0, 1).text() == "admin live"  # type: ignore[union-attr]
    assert "cannot be a section name" in dialog.problem_text()


def test_autostart_that_cannot_be_changed_is_disabled_and_left_alone(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, start_at_login=None)
    assert not dialog.autostart_box.isEnabled()
    assert "cannot be changed here" in shown_text(dialog)
    assert dialog.values().start_at_login is None


def test_no_kept_fresh_profile_says_so(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, Settings())
    assert "No profile is kept fresh yet." in shown_text(dialog)
    assert dialog.values().outputs == {}
    assert dialog.save_button.isEnabled()


def test_escape_cancels(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_saving_lays_the_choice_over_what_the_file_holds_now(
    qtbot: QtBot, isolated_home: Path
) -> None:
    store = SettingsStore()
    store.update(lambda _s: _settings())
    dialog = _dialog(qtbot, store.load())
    _type(qtbot, dialog.margin_field, "5")
    dialog.set_output("readonly", "readonly-live")
    choice = dialog.values()
    # Meanwhile the tray turned keep-fresh on for another profile and changed the default.
    store.update(
        lambda s: s.with_profile("dev-admin", managed=True).replace(default_profile="admin")
    )

    saved = store.update(choice.apply)
    assert saved.refresh_margin_seconds == 300
    assert saved.output_for("readonly") == "readonly-live"
    assert saved.output_for("deploy") == "deploy-live"
    assert saved.default_profile == "admin"
    assert saved.managed_profiles() == ("admin", "deploy", "dev-admin", "readonly")
    assert store.load() == saved
