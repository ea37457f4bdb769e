"""Bringing work back to the GUI thread: `GuiInvoker.call(fn)` from any thread runs fn there.

Worker threads (the controller's pool, the scheduler, the channel) never touch a QObject; they
hand a callable to the invoker, whose queued signal runs it on the thread the invoker lives on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

from traycred.ui.frontend import call_and_wait

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class GuiInvoker(QObject):
    """Create it on the GUI thread; `call` and `call_and_wait` are safe from any thread."""

    _invoke = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._gui_thread = threading.current_thread()
        # Queued even when emitted on the GUI thread, so a call never re-enters its caller.
        self._invoke.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def on_gui_thread(self) -> bool:
        return threading.current_thread() is self._gui_thread

    def call(self, fn: Callable[[], Any]) -> None:
        """Run `fn()` on the GUI thread soon; exceptions are logged, never raised here."""
        self._invoke.emit(fn)

    def call_and_wait(self, fn: Callable[[], _T], timeout: float | None = None) -> _T:
        """Run `fn()` on the GUI thread and return its result (directly when already there)."""
        return fn() if self.on_gui_thread() else call_and_wait(self.call, fn, timeout)

    @Slot(object)
    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:
            log.exception("a GUI-thread task failed")


def deliver(
    future: Future[_T],
    invoker: GuiInvoker,
    on_result: Callable[[_T], None],
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """When `future` is done, call `on_result` (or `on_error`) on the GUI thread."""

    def done(finished: Future[_T]) -> None:
        if finished.cancelled():
            return
        error = finished.exception()
        if error is not None:
            if on_error is not None:
                invoker.call(lambda: on_error(error))
            return
        result = finished.result()
        invoker.call(lambda: on_result(result))

    future.add_done_callback(done)
