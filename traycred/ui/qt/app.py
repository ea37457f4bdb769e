"""The tray application on Qt: QApplication set-up, the controller's listener, dialogs, quitting.

`TrayApp` sits between the UI-independent `TrayController` and a renderer (the Qt tray, or the
pystray icon whose dialogs are still Qt's). Controller callbacks arrive on worker threads and
are handed to the GUI thread through the `GuiInvoker`; menu clicks run dialogs here and engine
work on the controller's workers, so the GUI thread never waits for AWS, the keyring or a file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from traycred.errors import TraycredError
from traycred.ui.frontend import Renderer, RendererListener
from traycred.ui.model import Action
from traycred.ui.qt.prompter import QtPrompter, open_in_browser
from traycred.ui.qt.workers import GuiInvoker, deliver

if TYPE_CHECKING:
    from traycred.channel.server import ChannelServer
    from traycred.settings import Settings
    from traycred.ui.controller import TrayController
    from traycred.ui.qt.dialogs import NewAccessKey

log = logging.getLogger(__name__)

# The remaining times in the menu and tooltip move on even when nothing else happens.
REPUBLISH_MILLISECONDS = 30_000
NO_TRAY = (
    "traycred: this desktop shows no system tray for Qt; try `traycred tray --backend pystray`, "
    "or run `traycred daemon` to keep credentials fresh without an icon."
)


class TrayApp(QObject, RendererListener):
    """The controller's listener and the owner of the dialogs (GUI thread)."""

    def __init__(
        self,
        controller: TrayController,
        invoker: GuiInvoker,
        prompter: QtPrompter,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.invoker = invoker
        self.prompter = prompter
        self.renderer: Renderer | None = None
        self.dialogs: list[QWidget] = []  # kept alive while shown
        self._quitting = False
        self._timer = QTimer(self)
        self._timer.setInterval(REPUBLISH_MILLISECONDS)
        self._timer.timeout.connect(controller.publish)

    def attach(self, renderer: Renderer) -> None:
        self.renderer = renderer
        renderer.show(self.controller.view())
        self._timer.start()

    # ----- TrayListener (any thread): the rest is RendererListener's ---------------------

    def _on_main_thread(self, fn: Callable[[], Any]) -> None:
        self.invoker.call(fn)

    def copy_text(self, text: str) -> None:
        def copy() -> None:
            clipboard = QGuiApplication.clipboard()
            if clipboard is not None:
                clipboard.setText(text)

        self.invoker.call(copy)

    def open_url(self, url: str) -> None:
        self.invoker.call(lambda: open_in_browser(url))

    # ----- menu clicks (GUI thread) -------------------------------------------------------

    def trigger(self, action: Action, arg: str | None) -> None:
        handlers: dict[Action, Callable[[str | None], None]] = {
            Action.QUIT: lambda _arg: self.quit(),
            Action.ADD_KEY: self.open_add_key,
            Action.IMPORT_KEYS: lambda _arg: self.open_import(),
            Action.SETTINGS: lambda _arg: self.open_settings(),
            Action.ABOUT: lambda _arg: self.open_about(),
        }
        handler = handlers.get(action)
        if handler is not None:
            handler(arg)
        else:
            self.controller.perform(action, arg)

    def _keep(self, widget: QWidget) -> None:
        self.dialogs.append(widget)
        widget.destroyed.connect(lambda *_: self._forget(widget))
        if hasattr(widget, "finished"):
            widget.finished.connect(lambda *_: self._forget(widget))

    def _forget(self, widget: QWidget) -> None:
        with contextlib.suppress(ValueError):
            self.dialogs.remove(widget)

    def _failed(self, action: Action) -> Callable[[BaseException], None]:
        def report(error: BaseException) -> None:
            message = str(error) if isinstance(error, TraycredError) else type(error).__name__
            self.action_failed(action, None, message)

        return report

    def open_add_key(self, profile: str | None = None) -> None:
        """Ask for a key (the keyring is read first, on a worker, to warn before replacing)."""
        from traycred.ui.qt.dialogs import AddKeyDialog

        def show(stored: dict[str, str]) -> None:
            names = [p.name for p in self.controller.profiles if p.usable]
            dialog = AddKeyDialog(names, profile=profile, stored_keys=stored)
            dialog.setObjectName("add_key_dialog")
            dialog.accepted.connect(lambda: self._store_key(dialog.values()))
            self._keep(dialog)
            dialog.present()

        deliver(
            self.controller.submit(self.controller.stored_keys),
            self.invoker,
            show,
            self._failed(Action.ADD_KEY),
        )

    def _store_key(self, entered: NewAccessKey) -> None:
        controller = self.controller

        def store() -> str:
            message = controller.store_key(entered.profile, entered.credentials())
            serial = entered.mfa_serial
            if serial and not _has_mfa(controller, entered.profile):
                message += (
                    f" To use the MFA device, add `mfa_serial = {serial}` to [profile "
                    f"{entered.profile}] in your AWS config file."
                )
            return message

        controller.run_action(Action.ADD_KEY, entered.profile, store)

    def open_import(self) -> None:
        """Pick plaintext keys to move into the keyring (found, then imported, on workers)."""
        from traycred.ui.qt.dialogs.import_keys_dialog import ImportKeysDialog

        controller = self.controller

        def find() -> tuple[dict[str, str], str | None, str]:
            keys = controller.plaintext_keys()
            try:
                backend: str | None = controller.engine.keystore.backend_name()
            except TraycredError:
                backend = None
            return keys, backend, str(controller.engine.credentials_store.path)

        def show(found: tuple[dict[str, str], str | None, str]) -> None:
            keys, backend, path = found
            dialog = ImportKeysDialog(keys, keyring=backend, credentials_file=path)
            dialog.setObjectName("import_dialog")

            def start() -> None:
                chosen = dialog.chosen()
                controller.run_action(
                    Action.IMPORT_KEYS, None, lambda: controller.import_keys(chosen)
                )

            dialog.accepted.connect(start)
            self._keep(dialog)
            dialog.present()

        deliver(controller.submit(find), self.invoker, show, self._failed(Action.IMPORT_KEYS))

    def open_settings(self) -> None:
        """The Settings dialog; reading and saving (settings file, login item) run on workers."""
        from traycred import autostart
        from traycred.ui.qt.dialogs.settings_dialog import SettingsChoice, SettingsDialog

        controller = self.controller

        def read() -> tuple[Settings, bool | None]:
            settings = controller.engine.settings()
            try:
                enabled: bool | None = autostart.status().enabled
            except (TraycredError, OSError):
                enabled = None
            return settings, enabled

        def save(choice: SettingsChoice, was_enabled: bool | None) -> str | None:
            controller.apply_settings(choice.apply)
            wanted = choice.start_at_login
            if wanted is not None and wanted != was_enabled:
                (autostart.enable if wanted else autostart.disable)()
            return None

        def show(found: tuple[Settings, bool | None]) -> None:
            settings, enabled = found
            dialog = SettingsDialog(
                settings,
                profiles=[p.name for p in controller.profiles],
                start_at_login=enabled,
            )
            dialog.setObjectName("settings_dialog")

            def start() -> None:
                choice = dialog.values()  # read on the GUI thread, saved on a worker
                controller.run_action(Action.SETTINGS, None, lambda: save(choice, enabled))

            dialog.accepted.connect(start)
            self._keep(dialog)
            dialog.present()

        deliver(controller.submit(read), self.invoker, show, self._failed(Action.SETTINGS))

    def open_about(self) -> None:
        from traycred.ui.qt.dialogs import AboutDialog

        def show(details: list[tuple[str, str]]) -> None:
            dialog = AboutDialog(details)
            dialog.setObjectName("about_dialog")
            self._keep(dialog)
            dialog.present()

        deliver(
            self.controller.submit(self.controller.about_details),
            self.invoker,
            show,
            self._failed(Action.ABOUT),
        )

    # ----- quitting -----------------------------------------------------------------------

    def quit(self) -> None:
        """Release waiting prompts, stop the timer and the channel (off this thread), then exit."""
        if self._quitting:
            return
        self._quitting = True
        self._timer.stop()
        self.prompter.close()
        if self.renderer is not None:
            self.renderer.close()
        for widget in list(self.dialogs):
            widget.close()

        def stop() -> None:
            try:
                self.controller.stop()
            finally:
                self.invoker.call(QApplication.quit)

        threading.Thread(target=stop, name="traycred-quit", daemon=True).start()


def _has_mfa(controller: TrayController, profile: str) -> bool:
    try:
        return controller.engine.config().get(profile).mfa_serial is not None
    except TraycredError:
        return False


def hide_dock_icon() -> None:
    """No Dock icon on macOS (a menu-bar-only app, like LSUIElement in a bundle)."""
    if sys.platform != "darwin":
        return
    try:
        from AppKit import NSApplication  # type: ignore[import-not-found]
    except ImportError:
        log.info("PyObjC is missing: the Dock icon stays (the app bundle sets LSUIElement)")
        return
    accessory = 1  # NSApplicationActivationPolicyAccessory
    NSApplication.sharedApplication().setActivationPolicy_(accessory)


def application() -> QApplication:
    """The QApplication of a tray: no main window, so closing a dialog must not quit."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("traycred")
    app.setDesktopFileName("traycred")
    app.setQuitOnLastWindowClosed(False)
    hide_dock_icon()
    return app


def tray_available(wait_seconds: float = 2.0) -> bool:
    """Qt sees a system tray; at login the panel may come up a moment after us, so wait a bit."""
    if QSystemTrayIcon.isSystemTrayAvailable():
        return True
    deadline = threading.Event()
    for _ in range(int(wait_seconds / 0.25)):
        deadline.wait(0.25)
        QApplication.processEvents()
        if QSystemTrayIcon.isSystemTrayAvailable():
            return True
    return False


class _SignalWaker(QObject):
    """SIGINT/SIGTERM quit the app: the handler writes to a socket Qt watches (no polling)."""

    def __init__(self, on_signal: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._woken)
        self._on_signal = on_signal
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno())
        self._previous = {s: signal.signal(s, lambda *_: None) for s in _SIGNALS}

    def _woken(self) -> None:
        with contextlib.suppress(OSError):
            self._read.recv(64)
        self._on_signal()

    def restore(self) -> None:
        signal.set_wakeup_fd(self._previous_fd)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._notifier.setEnabled(False)
        self._read.close()
        self._write.close()


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run(
    backend: str = "qt",
    *,
    server: ChannelServer | None = None,
    on_started: Callable[[TrayApp], None] | None = None,
) -> int:
    """Run the tray until Quit (or SIGTERM/SIGINT). `backend`: "qt" or "pystray".

    `server` is the bound channel server (the single-instance lock), taken before Qt loads.
    `on_started` runs on the GUI thread once the icon is up (`traycred demo` uses it).
    """
    from traycred.ui.controller import create

    app = application()
    if backend == "qt" and not tray_available():
        print(NO_TRAY, file=sys.stderr)
        return 1
    started: list[TrayApp] = []

    def on_signal() -> None:
        if started:
            started[0].quit()
        else:
            QApplication.quit()

    # Before the channel answers anyone: a SIGTERM from then on always quits cleanly.
    waker = _SignalWaker(on_signal, app) if _main_thread() else None
    invoker = GuiInvoker()
    prompter = QtPrompter(invoker)
    controller = create(prompter, server=server)
    try:
        tray_app = TrayApp(controller, invoker, prompter)
        started.append(tray_app)
        controller.set_listener(tray_app)
        tray_app.attach(_renderer(backend, tray_app, invoker))
        controller.start()
        log.info("tray started (pid %d, %s backend)", os.getpid(), backend)
        if on_started is not None:
            on_started(tray_app)
        return int(app.exec())
    finally:
        if waker is not None:
            waker.restore()
        controller.stop()


def _renderer(backend: str, tray_app: TrayApp, invoker: GuiInvoker) -> Renderer:
    def trigger(action: Action, arg: str | None) -> None:
        # Queued even from Qt's own menu (it closes first); pystray calls from its thread.
        invoker.call(lambda: tray_app.trigger(action, arg))

    if backend == "pystray":
        from traycred.ui.pystray_tray import PystrayTray

        pystray_tray = PystrayTray(trigger)
        if not pystray_tray.has_menu:
            print(pystray_tray.no_menu_message(), file=sys.stderr)
        pystray_tray.start()
        return pystray_tray
    from traycred.ui.qt.tray import QtTray

    return QtTray(trigger, tray_app)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
