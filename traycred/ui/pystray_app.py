"""The pystray tray with Qt loaded only once a dialog (or the clipboard) is first needed.

Qt costs ~60 MB resident, more than the pystray backend's whole budget (SPEC §6: an idle tray
under 50 MB), and an idle tray shows no dialog. So the main thread first runs a plain queue loop
(`MainLoop`): views go to the pystray icon, notices to its notifications, menu actions to the
controller's workers. The first MFA code, SSO sign-in, Add key/Import/Settings/About dialog or
clipboard copy starts Qt on the main thread (`QtParts`); from then on Qt's event loop runs the
main thread and the Qt backend's `TrayApp` is the controller's listener, still rendering to the
same pystray icon, exactly as `traycred.ui.qt.app.run("pystray")` does from the start.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from traycred.errors import CancelledError, TraycredError
from traycred.prompt.base import MfaRequest, SignInRequest
from traycred.ui.frontend import RendererListener, call_and_wait
from traycred.ui.model import Action

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from traycred.channel.server import ChannelServer
    from traycred.ui.controller import TrayController
    from traycred.ui.pystray_tray import PystrayTray
    from traycred.ui.qt.app import TrayApp
    from traycred.ui.qt.prompter import QtPrompter

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Like the Qt tray's timer: the remaining times in the menu and tooltip move on.
REPUBLISH_SECONDS = 30.0
# How long a worker waits for the main thread to bring Qt up before giving up.
QT_START_TIMEOUT = 60.0
# Actions that open a dialog, so they need Qt.
_DIALOG_ACTIONS = frozenset({Action.ADD_KEY, Action.IMPORT_KEYS, Action.SETTINGS, Action.ABOUT})


class MainLoop:
    """Runs callables on the main thread: from a queue until Qt is up, then through Qt's invoker.

    `call` is safe from any thread (and from a signal handler); calls keep their order across
    the switch, because the queue is drained into Qt's invoker before new calls go there.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], Any]] = queue.SimpleQueue()
        self._main = threading.current_thread()
        self._lock = threading.RLock()  # re-entrant: a signal handler may call in on this thread
        self._forward: Callable[[Callable[[], Any]], None] | None = None
        self._stopped = False

    def on_gui_thread(self) -> bool:
        return threading.current_thread() is self._main

    def call(self, fn: Callable[[], Any]) -> None:
        with self._lock:
            if self._forward is not None:
                self._forward(fn)
            else:
                self._queue.put(fn)

    def call_and_wait(self, fn: Callable[[], _T], timeout: float | None = None) -> _T:
        """Run `fn()` on the main thread and return its result (directly when already there)."""
        return fn() if self.on_gui_thread() else call_and_wait(self.call, fn, timeout)

    def forward_to(self, forward: Callable[[Callable[[], Any]], None]) -> None:
        """From now on hand every call to `forward` (main thread); queued ones go first."""
        with self._lock:
            while True:
                try:
                    forward(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._forward = forward

    @property
    def forwarding(self) -> bool:
        return self._forward is not None

    def stop(self) -> None:
        self._stopped = True
        self._queue.put(lambda: None)  # wake the loop

    def run(self, tick: Callable[[], None], every: float) -> None:
        """Run queued calls and `tick` every `every` seconds, until `stop` or `forward_to`."""
        next_tick = time.monotonic() + every
        while not self._stopped and self._forward is None:
            try:
                fn = self._queue.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                next_tick = time.monotonic() + every
                fn = tick
            try:
                fn()
            except Exception:
                log.exception("a main-thread task failed")


@dataclass(frozen=True)
class QtParts:
    """What exists once Qt is up (all created on the main thread)."""

    app: QApplication
    tray_app: TrayApp
    prompter: QtPrompter


class LazyQtTray(RendererListener):
    """The controller's listener until Qt is needed; it then starts Qt and hands over to it."""

    def __init__(self, loop: MainLoop) -> None:
        self.loop = loop
        self.controller: TrayController | None = None
        self.renderer: PystrayTray | None = None
        self._qt: QtParts | None = None
        self._quitting = False
        self._waker: Any = None

    @property
    def qt_loaded(self) -> bool:
        return self._qt is not None

    # ----- Qt, when first needed ----------------------------------------------------------

    def qt(self) -> QtParts:
        """Qt's parts, starting Qt on the main thread first if needed (any thread)."""
        parts = self._qt
        if parts is not None:
            return parts
        if self._quitting:
            raise CancelledError("traycred is quitting.")
        return self.loop.call_and_wait(self._start_qt, QT_START_TIMEOUT)

    def _start_qt(self) -> QtParts:
        if self._qt is not None:
            return self._qt
        if self._quitting:
            raise CancelledError("traycred is quitting.")
        assert self.controller is not None and self.renderer is not None
        from traycred.ui.qt.app import TrayApp, _SignalWaker, application
        from traycred.ui.qt.prompter import QtPrompter
        from traycred.ui.qt.workers import GuiInvoker

        log.info("loading Qt for the first dialog")
        if self.renderer.backend in ("gtk", "appindicator"):
            # GLib's default main context is already run by pystray's GTK loop in its thread;
            # Qt's GLib dispatcher on the main thread would fight it for that context and
            # never dispatch (dialogs stay unmapped), so Qt uses its own Unix dispatcher.
            os.environ["QT_NO_GLIB"] = "1"
        app = application()
        invoker = GuiInvoker()
        prompter = QtPrompter(invoker)
        tray_app = TrayApp(self.controller, invoker, prompter)
        # Qt's loop holds the main thread from now on: signals must wake it (see _SignalWaker).
        self._waker = _SignalWaker(tray_app.quit, app)
        self.loop.forward_to(invoker.call)
        tray_app.attach(self.renderer)
        self.controller.set_listener(tray_app)
        self._qt = QtParts(app, tray_app, prompter)
        return self._qt

    def exec_qt(self) -> int:
        """Run Qt's event loop (main thread, after the queue loop handed over)."""
        assert self._qt is not None
        try:
            return int(self._qt.app.exec())
        finally:
            if self._waker is not None:
                self._waker.restore()

    # ----- TrayListener (any thread), before Qt: the rest is RendererListener's -----------

    def _on_main_thread(self, fn: Callable[[], Any]) -> None:
        self.loop.call(fn)

    def copy_text(self, text: str) -> None:
        # The clipboard is Qt's: pystray has none.
        self.qt().tray_app.copy_text(text)

    def open_url(self, url: str) -> None:
        from traycred.sso.browser import open_url

        try:
            open_url(url)
        except TraycredError as exc:
            self.action_failed(Action.OPEN_CONSOLE, None, str(exc))

    # ----- menu clicks (main thread) ------------------------------------------------------

    def trigger(self, action: Action, arg: str | None) -> None:
        """A menu click (pystray's thread): handled on the main thread."""
        self.loop.call(lambda: self._trigger(action, arg))

    def _trigger(self, action: Action, arg: str | None) -> None:
        if self._qt is not None:
            self._qt.tray_app.trigger(action, arg)
        elif action is Action.QUIT:
            self.quit()
        elif action in _DIALOG_ACTIONS:
            self.qt().tray_app.trigger(action, arg)
        elif self.controller is not None:
            self.controller.perform(action, arg)

    def quit(self) -> None:
        """Quit (main thread): Qt's way once Qt is up, else stop the queue loop."""
        if self._qt is not None:
            self._qt.tray_app.quit()
            return
        self._quitting = True
        if self.renderer is not None:
            self.renderer.close()
        self.loop.stop()


class LazyQtPrompter:
    """The engine's Prompter: Qt's dialogs, Qt being started on the first question."""

    def __init__(self, tray: LazyQtTray) -> None:
        self._tray = tray

    def mfa_code(self, request: MfaRequest) -> str:
        return self._tray.qt().prompter.mfa_code(request)

    def sign_in_started(self, request: SignInRequest) -> None:
        self._tray.qt().prompter.sign_in_started(request)

    def sign_in_cancelled(self) -> bool:
        return self._tray.qt().prompter.sign_in_cancelled()

    def sign_in_finished(self, request: SignInRequest, error: str | None) -> None:
        self._tray.qt().prompter.sign_in_finished(request, error)


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run(*, server: ChannelServer | None = None) -> int:
    """Run the pystray tray until Quit (or SIGTERM/SIGINT); Qt only once a dialog is needed."""
    from traycred.ui.controller import create
    from traycred.ui.pystray_tray import PystrayTray

    loop = MainLoop()
    tray = LazyQtTray(loop)
    # Before the channel answers anyone: a SIGTERM from then on always quits cleanly.
    previous = {s: signal.signal(s, lambda *_: loop.call(tray.quit)) for s in _SIGNALS}
    controller = create(LazyQtPrompter(tray), server=server)
    tray.controller = controller
    try:
        renderer = PystrayTray(tray.trigger)
        tray.renderer = renderer
        if not renderer.has_menu:
            print(renderer.no_menu_message(), file=sys.stderr)
        controller.set_listener(tray)
        renderer.show(controller.view())
        renderer.start()
        controller.start()
        log.info("tray started (pid %d, pystray backend, Qt not loaded)", os.getpid())
        loop.run(controller.publish, REPUBLISH_SECONDS)
        return tray.exec_qt() if loop.forwarding else 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        controller.stop()
