"""The Settings dialog: refresh margin, durations, notifications, sign-in, autostart, output names.

It only collects and validates. The caller applies the result with `SettingsStore.update` (and
`traycred.autostart` for the login item) off the GUI thread; `SettingsChoice.apply` lays the
choices over whatever the file holds by then, so a keep-fresh toggled meanwhile is not lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from traycred.settings import (
    MAX_MFA_SESSION,
    MAX_ROLE_DURATION,
    MIN_DURATION,
    Settings,
    output_name_problem,
)
from traycred.ui.qt.dialogs._common import MessageLabel, TrayDialog

MARGIN_MINUTES = (1, 60)  # Settings.validate: 60 to 3600 seconds
HOUR_STEP = 0.25


@dataclass(frozen=True)
class SettingsChoice:
    """What the user chose: the settings the dialog edits, and the login item (None: unknown)."""

    settings: Settings
    start_at_login: bool | None = None
    # Profiles whose output name the dialog showed (only those are changed by `apply`).
    outputs: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))

    def apply(self, current: Settings) -> Settings:
        """`current` with this dialog's fields replaced; everything else stays as it is now."""
        updated = current.replace(
            refresh_margin_seconds=self.settings.refresh_margin_seconds,
            mfa_session_seconds=self.settings.mfa_session_seconds,
            role_duration_seconds=self.settings.role_duration_seconds,
            notifications=self.settings.notifications,
            auto_open_browser=self.settings.auto_open_browser,
        )
        for name, output in self.outputs.items():
            updated = updated.with_profile(name, output=output)
        return updated


def hours_to_seconds(hours: float) -> int:
    return round(hours * 3600)


class SettingsDialog(TrayDialog):
    """Edits `settings`. `output_profiles`: the rows of the output-name table (default: the
    managed profiles and any with an output name). `profiles`: every known profile name, so an
    output name cannot take another profile's section. `start_at_login`: the login item's
    current state, or None when it cannot be changed here (the checkbox is then disabled)."""

    def __init__(
        self,
        settings: Settings,
        *,
        profiles: Sequence[str] = (),
        output_profiles: Sequence[str] | None = None,
        start_at_login: bool | None = None,
        autostart_note: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Settings", parent)
        self._original = settings
        self._profiles = tuple(dict.fromkeys(profiles))
        if output_profiles is None:
            output_profiles = sorted(
                name for name, p in settings.profiles.items() if p.managed or p.output
            )
        self._rows = tuple(dict.fromkeys(output_profiles))
        self._autostart_known = start_at_login is not None

        # -- refreshing ----------------------------------------------------------------------
        self._margin = QSpinBox(self)
        self._margin.setObjectName("refresh_margin")
        self._margin.setRange(*MARGIN_MINUTES)
        self._margin.setSuffix(" min")
        self._margin.setValue(_clamp(round(settings.refresh_margin_seconds / 60), MARGIN_MINUTES))
        self._margin.setToolTip("Credentials are renewed this long before they expire.")

        self._mfa_hours = self._hours_box(
            "mfa_session_hours", settings.mfa_session_seconds, MAX_MFA_SESSION
        )
        self._mfa_hours.setToolTip(
            "How long one MFA code lasts: the session from GetSessionToken (15 min to 36 h)."
        )
        self._role_hours = self._hours_box(
            "role_duration_hours", settings.role_duration_seconds, MAX_ROLE_DURATION
        )
        self._role_hours.setToolTip(
            "Length of role sessions (15 min to 12 h; the role's maximum applies, and chained "
            "roles are always capped at 1 h)."
        )

        refresh = QGroupBox("Refreshing", self)
        refresh_form = QFormLayout(refresh)
        refresh_form.addRow("Renew &before expiry:", self._margin)
        refresh_form.addRow("&MFA session lasts:", self._mfa_hours)
        refresh_form.addRow("&Role sessions last:", self._role_hours)

        # -- behaviour -----------------------------------------------------------------------
        self._notifications = QCheckBox("Show &notifications when something needs you", self)
        self._notifications.setObjectName("notifications")
        self._notifications.setChecked(settings.notifications)
        self._auto_browser = QCheckBox(
            "Open the &browser for SSO sign-in without asking first", self
        )
        self._auto_browser.setObjectName("auto_open_browser")
        self._auto_browser.setChecked(settings.auto_open_browser)
        self._autostart = QCheckBox("&Start traycred when I log in", self)
        self._autostart.setObjectName("start_at_login")
        self._autostart.setChecked(bool(start_at_login))
        self._autostart.setEnabled(self._autostart_known)
        behaviour = QGroupBox("Behaviour", self)
        behaviour_layout = QVBoxLayout(behaviour)
        behaviour_layout.addWidget(self._notifications)
        behaviour_layout.addWidget(self._auto_browser)
        behaviour_layout.addWidget(self._autostart)
        if autostart_note or not self._autostart_known:
            note = QLabel(
                autostart_note or "Starting at login cannot be changed here on this system.",
                self,
            )
            note.setObjectName("autostart_note")
            note.setWordWrap(True)
            behaviour_layout.addWidget(note)

        # -- output names --------------------------------------------------------------------
        outputs = QGroupBox("Output names", self)
        outputs_layout = QVBoxLayout(outputs)
        explain = QLabel(
            "The credentials-file section each kept-fresh profile is written to. Leave it "
            "empty to use the profile's own name; give another name (e.g. dev-live) when tools "
            "would otherwise read the profile from ~/.aws/config.",
            self,
        )
        explain.setWordWrap(True)
        self._table = QTableWidget(len(self._rows), 2, self)
        self._table.setObjectName("output_names")
        self._table.setHorizontalHeaderLabels(["Profile", "Section in the credentials file"])
        self._table.verticalHeader().setVisible(False)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self._table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, name in enumerate(self._rows):
            profile_item = QTableWidgetItem(name)
            profile_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self._table.setItem(row, 0, profile_item)
            output = settings.profile(name).output or ""
            self._table.setItem(row, 1, QTableWidgetItem(output))
        self._table.itemChanged.connect(lambda _item: self._revalidate())
        outputs_layout.addWidget(explain)
        if self._rows:
            outputs_layout.addWidget(self._table)
            visible = min(len(self._rows), 6)
            self._table.setMinimumHeight(
                self._table.horizontalHeader().sizeHint().height()
                + visible * self._table.verticalHeader().defaultSectionSize()
                + 4
            )
        else:
            self._table.setVisible(False)
            none = QLabel("No profile is kept fresh yet.", self)
            none.setObjectName("no_outputs")
            outputs_layout.addWidget(none)

        self._problem = MessageLabel(self)
        self._problem.setObjectName("problem")

        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button.setDefault(True)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(refresh)
        layout.addWidget(behaviour)
        layout.addWidget(outputs)
        layout.addWidget(self._problem)
        layout.addWidget(self._buttons)
        self.setMinimumWidth(520)
        self._revalidate()

    def _hours_box(self, name: str, seconds: int, maximum: int) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setObjectName(name)
        box.setDecimals(2)
        box.setSingleStep(HOUR_STEP)
        box.setRange(MIN_DURATION / 3600, maximum / 3600)
        box.setSuffix(" h")
        box.setValue(seconds / 3600)
        box.valueChanged.connect(lambda _value: self._revalidate())
        return box

    # -- the API ---------------------------------------------------------------------------

    @property
    def save_button(self) -> QPushButton:
        button = self._buttons.button(QDialogButtonBox.StandardButton.Save)
        assert button is not None
        return button

    @property
    def margin_field(self) -> QSpinBox:
        return self._margin

    @property
    def mfa_hours_field(self) -> QDoubleSpinBox:
        return self._mfa_hours

    @property
    def role_hours_field(self) -> QDoubleSpinBox:
        return self._role_hours

    @property
    def notifications_box(self) -> QCheckBox:
        return self._notifications

    @property
    def auto_browser_box(self) -> QCheckBox:
        return self._auto_browser

    @property
    def autostart_box(self) -> QCheckBox:
        return self._autostart

    @property
    def output_table(self) -> QTableWidget:
        return self._table

    def set_output(self, profile: str, output: str) -> None:
        """Type an output name for `profile` (as the user would in the table)."""
        row = self._rows.index(profile)
        item = self._table.item(row, 1)
        assert item is not None
        item.setText(output)

    def outputs(self) -> dict[str, str | None]:
        """Profile -> output section entered (None: the profile's own name)."""
        found: dict[str, str | None] = {}
        for row, name in enumerate(self._rows):
            item = self._table.item(row, 1)
            text = item.text().strip() if item is not None else ""
            found[name] = None if not text or text == name else text
        return found

    def problems(self) -> list[str]:
        """Every reason Save is disabled (empty when the values can be saved)."""
        found: list[str] = []
        known = set(self._profiles) | set(self._rows) | set(self._original.profiles)
        # Profiles not in the table keep writing where they do now.
        taken = {s: p for s, p in self._original.writers().items() if p not in self._rows}
        for name, output in self.outputs().items():
            problem = output_name_problem(
                name, output or name, profiles=known - {name}, taken=taken
            )
            if problem:
                found.append(f"Output name for {name}: {problem}")
            else:
                taken[output or name] = name
        try:
            self._settings().validate()
        except Exception as exc:  # SettingsError: the spin boxes' ranges make it rare
            found.append(str(exc))
        return found

    def problem_text(self) -> str:
        return self._problem.text() if self._problem.is_shown() else ""

    def values(self) -> SettingsChoice:
        """The settings as edited (a new Settings), the login item choice, the output names."""
        outputs = self.outputs()
        settings = self._settings()
        for name, output in outputs.items():
            settings = settings.with_profile(name, output=output)
        return SettingsChoice(
            settings=settings,
            start_at_login=self._autostart.isChecked() if self._autostart_known else None,
            outputs=MappingProxyType(outputs),
        )

    def _settings(self) -> Settings:
        return dataclasses.replace(
            self._original,
            refresh_margin_seconds=self._margin.value() * 60,
            mfa_session_seconds=hours_to_seconds(self._mfa_hours.value()),
            role_duration_seconds=hours_to_seconds(self._role_hours.value()),
            notifications=self._notifications.isChecked(),
            auto_open_browser=self._auto_browser.isChecked(),
        )

    # -- behaviour -------------------------------------------------------------------------

    def _revalidate(self) -> None:
        problems = self.problems()
        self.save_button.setEnabled(not problems)
        self._problem.show_error(problems[0] if problems else None)

    def accept(self) -> None:
        if self.problems():
            return
        super().accept()


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], value))
