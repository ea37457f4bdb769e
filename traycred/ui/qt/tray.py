"""The Qt tray: a QSystemTrayIcon showing the Pillow icon, the tooltip and the menu model.

It only renders `TrayView`s and forwards clicks as (action, arg); all on the GUI thread. The menu
is rebuilt from the model at every change, except while it is open: then the newest view waits
until it closes, so an entry never moves under the user's pointer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QAction, QActionGroup, QCursor, QFont
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from traycred.ui.icon import IconState
from traycred.ui.model import Action, ItemKind, MenuItem, TrayView
from traycred.ui.notices import Level, Notice
from traycred.ui.qt import state_qicon

Trigger = Callable[[Action, "str | None"], None]

NOTICE_MILLISECONDS = 10_000
_LEVEL_ICONS = {
    Level.INFO: QSystemTrayIcon.MessageIcon.Information,
    Level.WARNING: QSystemTrayIcon.MessageIcon.Warning,
    Level.ERROR: QSystemTrayIcon.MessageIcon.Critical,
}


def fill_menu(menu: QMenu, items: Sequence[MenuItem], trigger: Trigger) -> None:
    """Replace `menu`'s entries with `items` (recursively); clicks call trigger(action, arg)."""
    menu.clear()
    group: QActionGroup | None = None
    for item in items:
        if item.kind is ItemKind.SEPARATOR:
            menu.addSeparator()
            group = None
            continue
        if item.kind is ItemKind.SUBMENU:
            sub = menu.addMenu(item.label)
            fill_menu(sub, item.children, trigger)
            sub.setEnabled(item.enabled)
            group = None
            continue
        action = QAction(item.label, menu)
        action.setEnabled(item.enabled and item.kind is not ItemKind.HEADER)
        if item.prominent:
            font = QFont(action.font())
            font.setBold(True)
            action.setFont(font)
        if item.kind in (ItemKind.RADIO, ItemKind.CHECK):
            action.setCheckable(True)
            action.setChecked(item.checked)
        if item.kind is ItemKind.RADIO:
            if group is None:
                group = QActionGroup(menu)
                group.setExclusive(True)
            group.addAction(action)
        elif item.kind is not ItemKind.HEADER:
            group = None
        if item.action is not None and item.kind is not ItemKind.HEADER:
            chosen, arg = item.action, item.arg
            action.triggered.connect(lambda _checked=False, a=chosen, g=arg: trigger(a, g))
        menu.addAction(action)


def menu_actions(menu: QMenu) -> list[QAction]:
    """Every action of `menu` and its submenus, depth first (for tests and screenshots)."""
    found: list[QAction] = []
    for action in menu.actions():
        found.append(action)
        sub = action.menu()
        if isinstance(sub, QMenu):
            found += menu_actions(sub)
    return found


class QtTray(QObject):
    """QSystemTrayIcon + QMenu over the model. Create and use it on the GUI thread only."""

    def __init__(self, trigger: Trigger, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._trigger = trigger
        self._icon_state: IconState | None = None
        self._pending: TrayView | None = None
        self._view = TrayView()
        self.icon = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.menu.setObjectName("traycred_menu")
        self.menu.aboutToHide.connect(self._menu_closed)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.rebuilds = 0  # tests check that an open menu is left alone

    @property
    def view(self) -> TrayView:
        return self._view

    def show(self, view: TrayView) -> None:
        """Show `view`: icon, tooltip, and the menu (deferred while the menu is open)."""
        if view.icon != self._icon_state:
            self.icon.setIcon(state_qicon(view.icon))
            self._icon_state = view.icon
        if view.tooltip != self._view.tooltip or not self.icon.toolTip():
            self.icon.setToolTip(view.tooltip)
        if self.menu.isVisible():
            self._pending = view
            self._view = view
            return
        if view.menu != self._view.menu or self.rebuilds == 0:
            fill_menu(self.menu, view.menu, self._trigger)
            self.rebuilds += 1
        self._view = view
        self.icon.setVisible(True)

    def _menu_closed(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            fill_menu(self.menu, pending.menu, self._trigger)
            self.rebuilds += 1

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A left click opens the menu too: on most Linux trays that is what users try first.
        if reason is QSystemTrayIcon.ActivationReason.Trigger:
            self.popup_menu()

    def popup_menu(self) -> None:
        geometry = self.icon.geometry()
        at = geometry.center() if geometry.isValid() and geometry.x() > 0 else QCursor.pos()
        self.menu.popup(QPoint(at))
        self.menu.activateWindow()

    def notify(self, notice: Notice) -> None:
        self.icon.showMessage(
            notice.title, notice.message, _LEVEL_ICONS[notice.level], NOTICE_MILLISECONDS
        )

    def close(self) -> None:
        self.icon.hide()
        self.menu.close()

    def menu_widget(self) -> QWidget:
        return self.menu
