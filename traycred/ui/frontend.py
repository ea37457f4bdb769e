"""What both tray backends share (no GUI toolkit here): notices for finished actions, the
renderer they draw on, and the controller-listener calls they hand to their main thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from traycred.ui.model import Action, TrayView
from traycred.ui.notices import Level, Notice

_T = TypeVar("_T")

FAILURE_TITLES = {
    Action.USE: "Could not change the default profile",
    Action.KEEP_FRESH: "Could not keep the profile fresh",
    Action.REFRESH: "Refresh failed",
    Action.REFRESH_ALL: "Refresh failed",
    Action.SIGN_IN: "SSO sign-in failed",
    Action.ENTER_MFA: "Refresh failed",
    Action.COPY_EXPORT: "Could not copy the export lines",
    Action.OPEN_CONSOLE: "Could not open the AWS console",
    Action.ADD_KEY: "Could not store the access key",
    Action.IMPORT_KEYS: "Could not import the keys",
    Action.SETTINGS: "Could not save the settings",
}


def done_notice(action: Action, message: str) -> Notice:
    return Notice(("done", str(action)), "traycred", message, Level.INFO)


def failure_notice(action: Action, message: str) -> Notice:
    title = FAILURE_TITLES.get(action, "traycred")
    return Notice(("failed", str(action)), title, message, Level.ERROR)


def call_and_wait(
    call: Callable[[Callable[[], Any]], None], fn: Callable[[], _T], timeout: float | None
) -> _T:
    """Hand `fn` to `call` (which runs it on another thread) and return its result or raise."""
    future: Future[_T] = Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    call(run)
    return future.result(timeout)


class Renderer(Protocol):
    """A tray icon that shows views; every method is called on the GUI thread."""

    def show(self, view: TrayView) -> None: ...

    def notify(self, notice: Notice) -> None: ...

    def popup_menu(self) -> None: ...

    def close(self) -> None: ...


class RendererListener:
    """The controller's TrayListener calls both backends handle alike (any thread): each is
    handed to the main thread by `_on_main_thread`, then drawn on `renderer` unless quitting."""

    renderer: Renderer | None
    _quitting: bool

    def _on_main_thread(self, fn: Callable[[], Any]) -> None:
        raise NotImplementedError

    def view_changed(self, view: TrayView) -> None:
        self._on_main_thread(lambda: self._show(view))

    def notify(self, notice: Notice) -> None:
        self._on_main_thread(lambda: self._notify(notice))

    def action_done(self, action: Action, arg: str | None, message: str | None) -> None:
        if message:
            notice = done_notice(action, message)
            self._on_main_thread(lambda: self._notify(notice))

    def action_failed(self, action: Action, arg: str | None, message: str) -> None:
        notice = failure_notice(action, message)
        self._on_main_thread(lambda: self._notify(notice))

    def show_menu(self) -> None:
        self._on_main_thread(lambda: self.renderer.popup_menu() if self.renderer else None)

    def _show(self, view: TrayView) -> None:
        if self.renderer is not None and not self._quitting:
            self.renderer.show(view)

    def _notify(self, notice: Notice) -> None:
        if self.renderer is not None and not self._quitting:
            self.renderer.notify(notice)
