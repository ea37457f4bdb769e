"""The pystray backend: the same Pillow icon and menu model, for trays Qt's icon does not reach.

pystray runs its own loop in a daemon thread; menu clicks come back on that thread and are handed
to the GUI thread by the caller's `trigger`. Qt still runs the dialogs (on the main thread). The
xorg backend of pystray shows the icon but no menu; `has_menu` tells, so the app can say so.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from traycred.errors import TraycredError
from traycred.ui.model import Action, ItemKind, MenuItem, TrayView
from traycred.ui.notices import Notice

log = logging.getLogger(__name__)

Trigger = Callable[[Action, "str | None"], None]
ICON_SIZE = 64
# How long `close` waits for pystray's loop to stop.
CLOSE_TIMEOUT = 5.0
# How long `close` then gives pystray's loop thread to end.
LOOP_EXIT_GRACE = 0.5


def load_pystray() -> Any:
    """Import pystray; without a usable display its import fails with Xlib's errors, not
    ImportError, so every failure becomes one clear message."""
    _name_gtk_program()
    try:
        import pystray
    except Exception as exc:
        raise TraycredError(
            f"The pystray backend cannot start here ({type(exc).__name__}: {exc}).",
            hint="Check DISPLAY, or use the Qt backend or `traycred daemon`.",
        ) from None
    return pystray


def _name_gtk_program() -> None:
    """Name the program "traycred" for GTK before pystray's gtk/appindicator backend starts GTK:
    else the icon's window class is "__main__.py", which desktops (and xdotool) see."""
    if os.environ.get("PYSTRAY_BACKEND", "") in ("xorg", "dummy"):
        return
    try:
        from gi.repository import GLib
    except Exception:  # no PyGObject: pystray falls back to xorg
        return
    if GLib.get_prgname() in (None, "", "__main__.py"):
        GLib.set_prgname("traycred")


def backend_name(pystray: Any) -> str:
    """xorg, gtk, appindicator, darwin, win32, or dummy (which uses the abstract base icon)."""
    name = str(getattr(pystray.Icon, "__module__", "")).rsplit("._", 1)[-1]
    return "dummy" if name == "base" else name


def to_pystray_menu(pystray: Any, items: Sequence[MenuItem], trigger: Trigger) -> Any:
    """The model as a pystray.Menu (radio and check items, submenus, disabled headers)."""
    entries: list[Any] = []
    for item in items:
        if item.kind is ItemKind.SEPARATOR:
            entries.append(pystray.Menu.SEPARATOR)
            continue
        if item.kind is ItemKind.SUBMENU:
            sub = to_pystray_menu(pystray, item.children, trigger)
            entries.append(pystray.MenuItem(item.label, sub, enabled=item.enabled))
            continue
        if item.kind is ItemKind.HEADER or item.action is None:
            entries.append(pystray.MenuItem(item.label, None, enabled=False))
            continue
        checked = None
        if item.kind in (ItemKind.RADIO, ItemKind.CHECK):
            state = item.checked
            checked = lambda _item, s=state: s  # noqa: E731 - pystray wants a callable
        entries.append(
            pystray.MenuItem(
                item.label,
                # A partial: pystray counts a function's parameters, defaults included.
                functools.partial(_clicked, trigger, item.action, item.arg),
                checked=checked,
                radio=item.kind is ItemKind.RADIO,
                enabled=item.enabled,
            )
        )
    return pystray.Menu(*entries)


def _clicked(trigger: Trigger, action: Action, arg: str | None, *_pystray_args: Any) -> None:
    trigger(action, arg)


class PystrayTray:
    """A pystray icon rendering TrayViews; `show`/`notify`/`close` from the GUI thread.

    Once started, every call into the icon runs on one thread of ours ("traycred-pystray-calls"),
    in order, and the GUI thread never waits for pystray except in `close` (bounded). pystray's
    xorg backend hands each call to its loop and waits on a result queue that all callers share:
    two threads calling at once (its setup thread showing the icon while another stops it) can
    take each other's results and wait for ever, which hung `traycred tray --backend pystray` on
    SIGTERM now and then.
    """

    def __init__(self, trigger: Trigger, *, name: str = "traycred") -> None:
        from traycred.ui.icon import IconState, draw_icon

        self._pystray = load_pystray()
        self._trigger = trigger
        self._view = TrayView()
        self.icon = self._pystray.Icon(
            name, draw_icon(IconState.IDLE, ICON_SIZE).copy(), "traycred", menu=None
        )
        self._thread: threading.Thread | None = None
        self._caller: threading.Thread | None = None
        self._calls: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._icon_state: Any = None
        self._menu_model: tuple[MenuItem, ...] | None = None
        self._closing = False
        self._stopped = False

    @property
    def backend(self) -> str:
        return backend_name(self._pystray)

    @property
    def has_menu(self) -> bool:
        return bool(getattr(self.icon, "HAS_MENU", False))

    def no_menu_message(self) -> str:
        return (
            f"traycred: pystray's {self.backend} backend shows the icon but no menu on this "
            "desktop; install PyGObject (gtk/appindicator backends) for a menu, or use the Qt "
            "backend (`traycred tray`)."
        )

    @property
    def view(self) -> TrayView:
        return self._view

    def start(self) -> None:
        """Run pystray's loop in a daemon thread (run_detached never lets the process exit),
        and the thread that makes every call into the icon from now on."""
        self._thread = threading.Thread(target=self._run, name="traycred-pystray", daemon=True)
        self._caller = threading.Thread(
            target=self._make_calls, name="traycred-pystray-calls", daemon=True
        )
        self._thread.start()
        self._caller.start()

    def _run(self) -> None:
        try:
            # pystray's setup thread only says the loop is up: it must not call into the icon.
            self.icon.run(setup=lambda _icon: self._ready.set())
        except Exception:
            if self._closing:
                # gtk's backend hides its notification on the way out and fails with no
                # notification service (a bare X session): nothing is left to clean up.
                log.debug("pystray's loop ended with an error while closing", exc_info=True)
            else:
                log.exception("the pystray icon stopped")
        else:
            if not self._closing:
                log.error("pystray's loop ended by itself: the tray icon is gone")
        finally:
            self._ready.set()  # a caller waiting for a loop that never came up goes on

    def _make_calls(self) -> None:
        """The one thread that calls into the running icon: shows it, then runs queued calls."""
        self._ready.wait()
        if self._thread is not None and self._thread.is_alive() and not self._closing:
            self._when_loop_named(self._show_icon)
        while (call := self._calls.get()) is not None:
            try:
                call()
            except Exception:
                log.debug("a pystray call failed", exc_info=True)

    def _show_icon(self) -> None:
        self.icon.visible = True

    @staticmethod
    def _when_loop_named(call: Callable[[], None]) -> None:
        """Run `call`, retrying briefly: pystray's xorg backend says it is ready just before
        it records its loop thread, and a call in that gap fails with AttributeError."""
        for _ in range(50):
            try:
                call()
                return
            except AttributeError:
                time.sleep(0.02)
        call()

    def _call(self, call: Callable[[], None]) -> None:
        """Run `call` on the calling thread before `start`, on the icon's call thread after."""
        if self._caller is None:
            call()
        else:
            self._calls.put(call)

    def show(self, view: TrayView) -> None:
        self._call(functools.partial(self._apply, view))
        self._view = view

    def _apply(self, view: TrayView) -> None:
        from traycred.ui.icon import draw_icon

        if view.icon != self._icon_state:
            self.icon.icon = draw_icon(view.icon, ICON_SIZE).copy()
            self._icon_state = view.icon
        if view.tooltip != self.icon.title:
            self.icon.title = view.tooltip
        if self.icon.menu is None or view.menu != self._menu_model:
            menu = to_pystray_menu(self._pystray, view.menu, self._trigger)
            try:
                self.icon.menu = menu  # the setter updates a running icon's menu
            except Exception:  # the dummy backend cannot update a menu at all
                log.debug("pystray menu not updated", exc_info=True)
            self._menu_model = view.menu

    def notify(self, notice: Notice) -> None:
        if getattr(self.icon, "HAS_NOTIFICATION", False):
            self._call(functools.partial(self._notify, notice))
        else:
            log.warning("%s: %s", notice.title, notice.message)

    def _notify(self, notice: Notice) -> None:
        try:
            self.icon.notify(notice.message, notice.title)
        except Exception:
            log.debug("pystray notification failed", exc_info=True)
            log.warning("%s: %s", notice.title, notice.message)

    def popup_menu(self) -> None:
        # pystray cannot open its menu programmatically; a notification points at the icon.
        self.notify(Notice(("menu", ""), "traycred is running", "Click its icon for the menu."))

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Stop the icon (its window goes), waiting at most `timeout` seconds for the queued
        calls and the stop to run; a pystray that does not stop is left to die with the
        process (its threads are daemons)."""
        self._closing = True
        if self._caller is None:
            self._stopped = True
            return
        self._calls.put(self._stop_icon)
        self._calls.put(None)
        self._caller.join(timeout)
        if self._caller.is_alive():
            log.warning("pystray did not stop within %.0f s; leaving it", timeout)
        elif self._thread is not None:
            # Its loop ends at once as a rule, but python-xlib can miss the wake-up when
            # another thread read the socket: a loop thread left waiting holds nothing.
            self._thread.join(LOOP_EXIT_GRACE)

    @property
    def stopped(self) -> bool:
        """True once `close` has stopped the icon: its window is gone."""
        return self._stopped

    def _stop_icon(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._when_loop_named(self.icon.stop)
            self._flush_x_requests()
        self._stopped = True

    def _flush_x_requests(self) -> None:
        """Send what python-xlib still queues for the icon (xorg backend only).

        pystray's xorg stop destroys the window and flushes on its loop thread; when our
        thread's flush of the stop message was still under way, python-xlib can leave that
        DestroyWindow queued (seen under load): the icon stayed on screen and the loop ran on.
        """
        display = getattr(self.icon, "_display", None)
        if display is None:
            return
        try:
            display.flush()
        except Exception:
            log.debug("flushing pystray's X connection failed", exc_info=True)
