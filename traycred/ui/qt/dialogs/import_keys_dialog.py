"""The "Import plaintext keys" dialog: pick which long-term keys move from the file to the keyring.

It lists profiles and access key ids only (never a secret), explains what the import does, and
returns the chosen profile names. The import itself (verify with AWS, store, read back, remove
from the file with a backup) is the caller's, off the GUI thread, as `traycred keys import`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from traycred.ui.qt.dialogs._common import MessageLabel, TrayDialog, monospace_font


class ImportKeysDialog(TrayDialog):
    """`keys`: profile -> access key id of each plaintext long-term key in the credentials file.

    `keyring` names the keyring backend and `credentials_file` the file, for the explanation.
    Every key starts checked; Import is enabled while at least one is.
    """

    def __init__(
        self,
        keys: Mapping[str, str],
        *,
        keyring: str | None = None,
        credentials_file: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Import plaintext keys", parent)
        self._keys = dict(sorted(keys.items()))
        where = html.escape(credentials_file or "the credentials file")
        into = html.escape(keyring or "your system keyring")

        intro = QLabel(self)
        intro.setObjectName("intro")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        if self._keys:
            intro.setText(
                f"These long-term access keys are stored in plaintext in <b>{where}</b>, where "
                "any program you run can read them. traycred can move them into "
                f"<b>{into}</b> and keep only short-lived credentials in the file."
            )
        else:
            intro.setText(f"There are no plaintext long-term access keys in <b>{where}</b>.")

        self._list = QTreeWidget(self)
        self._list.setObjectName("keys")
        self._list.setColumnCount(2)
        self._list.setHeaderLabels(["Profile", "Access key ID"])
        self._list.setRootIsDecorated(False)
        self._list.setUniformRowHeights(True)
        header = self._list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for profile, key_id in self._keys.items():
            item = QTreeWidgetItem([profile, key_id])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked)
            item.setFont(1, monospace_font())
            self._list.addTopLevelItem(item)
        self._list.itemChanged.connect(lambda _item, _column: self._revalidate())
        self._list.setVisible(bool(self._keys))
        self._list.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        if self._keys:
            # As tall as its rows (up to eight), so a short list does not leave a blank pane.
            first = self._list.topLevelItem(0)
            row = self._list.visualItemRect(first).height() if first is not None else 0
            row = max(row, self._list.fontMetrics().height() + 6)
            shown = min(len(self._keys), 8)
            self._list.setFixedHeight(
                self._list.header().sizeHint().height() + shown * row + 2 * self._list.frameWidth()
            )

        steps = QLabel(self)
        steps.setObjectName("steps")
        steps.setWordWrap(True)
        steps.setTextFormat(Qt.TextFormat.RichText)
        steps.setText(
            "For each key you check, traycred:<ol style='margin-left:-20px'>"
            "<li>verifies it with AWS (GetCallerIdentity), so a dead key is never moved;</li>"
            f"<li>stores it in {into} and reads it back;</li>"
            f"<li>only then removes its lines from {where}, keeping a backup copy of the file "
            "that only you can read (mode 0600).</li></ol>"
            "A key that fails any step stays in the file unchanged. Afterwards, the profile "
            "keeps working: traycred writes its short-lived credentials when it is kept fresh."
        )
        steps.setVisible(bool(self._keys))

        self._problem = MessageLabel(self)
        self._problem.setObjectName("problem")

        if self._keys:
            self._buttons = QDialogButtonBox(
                QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
            )
            self.import_button.setDefault(True)
        else:
            self._buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self._list)
        layout.addWidget(steps)
        layout.addWidget(self._problem)
        layout.addStretch(1)
        layout.addWidget(self._buttons)
        self.setMinimumWidth(520)
        self._revalidate()

    def sizeHint(self) -> QSize:
        # Qt sizes wrapped labels for a narrow width; ask for the height at the real width.
        hint = super().sizeHint()
        width = max(hint.width(), self.minimumWidth())
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth():
            return QSize(width, layout.heightForWidth(width))
        return hint

    # -- the API ---------------------------------------------------------------------------

    @property
    def import_button(self) -> QPushButton | None:
        """The Import button (None when there is nothing to import)."""
        return self._buttons.button(QDialogButtonBox.StandardButton.Ok)

    @property
    def key_list(self) -> QTreeWidget:
        return self._list

    def set_checked(self, profile: str, checked: bool) -> None:
        for index in range(self._list.topLevelItemCount()):
            item = self._list.topLevelItem(index)
            if item is not None and item.text(0) == profile:
                state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                item.setCheckState(0, state)
                return
        raise KeyError(profile)

    def chosen(self) -> list[str]:
        """The checked profiles, sorted."""
        names = []
        for index in range(self._list.topLevelItemCount()):
            item = self._list.topLevelItem(index)
            if item is not None and item.checkState(0) == Qt.CheckState.Checked:
                names.append(item.text(0))
        return names

    def problem_text(self) -> str:
        return self._problem.text() if self._problem.is_shown() else ""

    # -- behaviour -------------------------------------------------------------------------

    def _revalidate(self) -> None:
        button = self.import_button
        if button is None:
            return
        count = len(self.chosen())
        button.setEnabled(count > 0)
        button.setText("Import 1 key" if count == 1 else f"Import {count} keys")
        self._problem.show_hint(None if count else "Check at least one key to import.")

    def accept(self) -> None:
        if self._keys and not self.chosen():
            return
        super().accept()
