"""The engine's Prompter for the tray: dialogs on the GUI thread, callers wait on worker threads.

The engine calls `mfa_code` and the `sign_in_*` methods from worker threads (the controller's
pool, the scheduler, channel requests). Each call hands the dialog to the GUI thread through the
invoker and waits on a threading.Event, so the GUI keeps running. At most one MFA dialog per
device is open: a request for a device whose dialog is open joins it (the dialog is re-shown
naming every waiting profile) and gets its own code once the first is answered, since AWS takes
each code once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog

from traycred.errors import CancelledError, MfaCodeNeededError
from traycred.prompt.base import MfaRequest, SignInRequest
from traycred.sso.browser import is_safe_url

# The dialog modules are imported when a dialog is first shown: an idle tray never needs them.
if TYPE_CHECKING:
    from traycred.ui.qt.dialogs.mfa import MfaDialog
    from traycred.ui.qt.dialogs.sso import SsoSignInDialog
    from traycred.ui.qt.workers import GuiInvoker

log = logging.getLogger(__name__)


class MfaDismissedError(MfaCodeNeededError, CancelledError):
    """The user closed the MFA dialog: the profiles wait for them (the timer parks them as
    needing a code instead of retrying) and nothing is reported as a failure."""


@dataclass
class _MfaWaiter:
    request: MfaRequest
    done: threading.Event = field(default_factory=threading.Event)
    code: str | None = None


@dataclass
class _SignIn:
    request: SignInRequest
    cancelled: threading.Event = field(default_factory=threading.Event)
    dialog: SsoSignInDialog | None = None


def open_in_browser(url: str) -> bool:
    """Open a sign-in page with Qt, only when it is https or http to this computer."""
    if not is_safe_url(url):
        log.warning("refusing to open %s: only https or loopback http pages are opened", url)
        return False
    return bool(QDesktopServices.openUrl(QUrl(url)))


class QtPrompter:
    """Prompter (traycred.prompt.base) showing MfaDialog / SsoSignInDialog from any thread."""

    def __init__(
        self,
        invoker: GuiInvoker,
        *,
        open_url: Callable[[str], bool] = open_in_browser,
        open_browser_on_start: bool = True,
    ) -> None:
        self._invoker = invoker
        self._open_url = open_url
        self._open_on_start = open_browser_on_start
        self._lock = threading.Lock()
        self._mfa_queues: dict[str, list[_MfaWaiter]] = {}
        self._mfa_dialogs: dict[str, MfaDialog] = {}  # GUI thread only
        self._sign_ins: dict[int, _SignIn] = {}  # by thread id of the engine call
        self._closed = False

    # ----- MFA ----------------------------------------------------------------------------

    def mfa_code(self, request: MfaRequest) -> str:
        if self._invoker.on_gui_thread():
            return self._mfa_modal(request)
        waiter = _MfaWaiter(request)
        with self._lock:
            if self._closed:
                raise MfaDismissedError("traycred is quitting; no MFA code was asked.")
            self._mfa_queues.setdefault(request.mfa_serial, []).append(waiter)
        self._invoker.call(lambda: self._show_mfa(request.mfa_serial))
        waiter.done.wait()
        if waiter.code is None:
            raise MfaDismissedError(
                f"No MFA code was entered for {request.mfa_serial} "
                f"(profile {', '.join(request.profiles)}).",
                hint="Choose “Enter MFA code…” in the traycred menu when you are ready.",
            )
        return waiter.code

    def _mfa_modal(self, request: MfaRequest) -> str:
        # Only reached if a caller ran engine work on the GUI thread; still answer it.
        from traycred.ui.qt.dialogs.mfa import MfaDialog

        dialog = MfaDialog.from_request(request)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            raise MfaDismissedError(f"No MFA code was entered for {request.mfa_serial}.")
        return dialog.code()

    def waiting_profiles(self, serial: str) -> tuple[str, ...]:
        with self._lock:
            waiters = list(self._mfa_queues.get(serial, ()))
        names: dict[str, None] = {}
        for waiter in waiters:
            names.update(dict.fromkeys(waiter.request.profiles))
        return tuple(names)

    def open_mfa_dialogs(self) -> list[MfaDialog]:
        """The MFA dialogs on screen (GUI thread)."""
        return [d for d in self._mfa_dialogs.values() if d.isVisible()]

    def _show_mfa(self, serial: str) -> None:
        """GUI thread: show (or update) the one dialog of `serial` for its waiting profiles."""
        with self._lock:
            queue = self._mfa_queues.get(serial) or []
            head = queue[0] if queue else None
        if head is None:
            return
        profiles = self.waiting_profiles(serial)
        current = self._mfa_dialogs.get(serial)
        if current is not None:
            if current.profiles == profiles:
                return
            # Someone joined: the same dialog again, naming everyone, keeping what was typed.
            typed = current.code_field.text()
            geometry = current.geometry()
            current.finished.disconnect()
            current.close()
            current.deleteLater()
        else:
            typed, geometry = "", None
        from traycred.ui.qt.dialogs.mfa import MfaDialog

        dialog = MfaDialog(profiles, serial, head.request.previous_error)
        dialog.setObjectName("mfa_dialog")
        if typed:
            dialog.code_field.setText(typed)
        if geometry is not None:
            dialog.setGeometry(geometry)
        dialog.finished.connect(lambda result, d=dialog: self._mfa_answered(serial, d, result))
        self._mfa_dialogs[serial] = dialog
        dialog.present()

    def _mfa_answered(self, serial: str, dialog: MfaDialog, result: int) -> None:
        if self._mfa_dialogs.get(serial) is dialog:
            del self._mfa_dialogs[serial]
        dialog.deleteLater()
        accepted = result == QDialog.DialogCode.Accepted.value
        with self._lock:
            queue = self._mfa_queues.get(serial, [])
            if accepted:
                answered = queue[:1]
                del queue[:1]
            else:
                # Cancel answers everyone it named: the user said "not now".
                answered = list(queue)
                queue.clear()
            if not queue:
                self._mfa_queues.pop(serial, None)
        for waiter in answered:
            waiter.code = dialog.code() if accepted else None
            waiter.done.set()
        if accepted and self._mfa_queues.get(serial):
            self._show_mfa(serial)

    # ----- SSO sign-in --------------------------------------------------------------------

    def sign_in_started(self, request: SignInRequest) -> None:
        entry = _SignIn(request)
        with self._lock:
            if self._closed:
                entry.cancelled.set()
            self._sign_ins[threading.get_ident()] = entry
        if self._open_on_start:
            url = request.verification_uri_complete
            self._invoker.call(lambda: self._open_url(url))
        self._invoker.call(lambda: self._show_sign_in(entry))

    def sign_in_cancelled(self) -> bool:
        with self._lock:
            entry = self._sign_ins.get(threading.get_ident())
        return entry is not None and entry.cancelled.is_set()

    def sign_in_finished(self, request: SignInRequest, error: str | None) -> None:
        with self._lock:
            entry = self._sign_ins.pop(threading.get_ident(), None)
        if entry is None:
            return
        cancelled = entry.cancelled.is_set()

        def finish() -> None:
            if entry.dialog is not None and not cancelled:
                entry.dialog.finish(error)

        self._invoker.call(finish)

    def sign_in_dialogs(self) -> list[SsoSignInDialog]:
        """The sign-in dialogs on screen (GUI thread)."""
        with self._lock:
            entries = list(self._sign_ins.values())
        return [e.dialog for e in entries if e.dialog is not None and e.dialog.isVisible()]

    def _show_sign_in(self, entry: _SignIn) -> None:
        if entry.cancelled.is_set():
            return
        from traycred.ui.qt.dialogs.sso import SsoSignInDialog

        dialog = SsoSignInDialog.from_request(entry.request)
        dialog.setObjectName("sso_dialog")
        url = entry.request.verification_uri_complete
        dialog.open_browser_requested.connect(lambda: self._open_url(url))
        dialog.cancelled.connect(entry.cancelled.set)
        dialog.finished.connect(lambda _result: dialog.deleteLater())
        entry.dialog = dialog
        dialog.present()

    # ----- quitting -----------------------------------------------------------------------

    def close(self) -> None:
        """Release every waiting caller (as cancelled) and close the dialogs; GUI thread."""
        with self._lock:
            self._closed = True
            waiters = [w for queue in self._mfa_queues.values() for w in queue]
            self._mfa_queues.clear()
            sign_ins = list(self._sign_ins.values())
        for waiter in waiters:
            waiter.done.set()
        for entry in sign_ins:
            entry.cancelled.set()
        for dialog in list(self._mfa_dialogs.values()):
            dialog.finished.disconnect()
            dialog.close()
        self._mfa_dialogs.clear()
        for entry in sign_ins:
            if entry.dialog is not None:
                entry.dialog.close()
