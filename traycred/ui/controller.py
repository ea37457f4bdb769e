"""The tray's brain, independent of any GUI toolkit: engine, refresh timer and channel server.

Every action runs on a worker thread (AWS, keyring and file work never touch the GUI thread);
outcomes and state changes go to a `TrayListener`, called on whatever thread produced them. A
backend's listener hands them to its GUI thread (Qt: a queued signal) and renders `TrayView`s.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from traycred.daemon import DaemonService
from traycred.errors import CancelledError, NeedsUserError, SignInNeededError, TraycredError
from traycred.memory import release_free_memory
from traycred.state import AppState, ProfileStatus
from traycred.ui.model import (
    Action,
    ProfileInfo,
    TrayView,
    build_view,
    join_names,
    profile_infos,
)
from traycred.ui.notices import Notice, NoticeTracker

if TYPE_CHECKING:
    from traycred.channel.server import ChannelServer
    from traycred.config import AwsConfig, SsoSessionConfig
    from traycred.credentials import Credentials
    from traycred.engine import Engine
    from traycred.scheduler import Scheduler
    from traycred.settings import Settings

log = logging.getLogger(__name__)

KIND = "tray"
WORKERS = 4
# An interactive refresh may wait for the user's MFA code or browser approval.
REFRESH_TIMEOUT = 900.0

_T = TypeVar("_T")


class TrayListener(Protocol):
    """What the controller tells its front end; every method may be called from any thread."""

    def view_changed(self, view: TrayView) -> None: ...

    def notify(self, notice: Notice) -> None: ...

    def action_done(self, action: Action, arg: str | None, message: str | None) -> None:
        """An action succeeded; `message` is worth showing (None: the new state says it)."""
        ...

    def action_failed(self, action: Action, arg: str | None, message: str) -> None: ...

    def copy_text(self, text: str) -> None: ...

    def open_url(self, url: str) -> None: ...

    def show_menu(self) -> None: ...


class TrayService(DaemonService):
    """The channel answers of the tray: like the daemon's, but the user can be asked.

    `credentials` and `use` go through the engine's own prompter (the tray's dialogs), so a
    `credential-process` run in a terminal or an SDK waits while the MFA dialog is answered.
    """

    def __init__(self) -> None:
        super().__init__()
        self.controller: TrayController | None = None

    def credentials(self, profile: str) -> Credentials:
        engine, _ = self._parts()
        log.info("credentials for %s requested over the channel", profile)
        return engine.credentials_for(profile)

    def use(self, profile: str) -> datetime | None:
        engine, scheduler = self._parts()
        outcome = engine.use(profile)
        scheduler.reload()
        if self.controller is not None:
            self.controller.reload()
        return outcome.expiration

    def use_with_code(self, profile: str, mfa_code: str | None) -> datetime | None:
        """`traycred use P --mfa-code C` while the tray runs: the code, not a dialog."""
        if mfa_code is None:
            return self.use(profile)
        expiration = super().use_with_code(profile, mfa_code)
        if self.controller is not None:
            self.controller.reload()
        return expiration

    def resume(self, names: Sequence[str]) -> list[str]:
        """The user acted elsewhere (`traycred login`, a direct refresh): retry, re-read."""
        resumed = super().resume(names)
        if self.controller is not None:
            self.controller.reload()
        return resumed

    def show_menu(self) -> None:
        if self.controller is None:
            raise TraycredError("The traycred tray is still starting.", hint="Try again.")
        self.controller.request_menu()


class TrayController:
    """Owns the engine, the scheduler and (optionally) the channel server of the tray."""

    def __init__(
        self,
        engine: Engine,
        scheduler: Scheduler,
        *,
        server: ChannelServer | None = None,
        service: TrayService | None = None,
        workers: int = WORKERS,
    ) -> None:
        self.engine = engine
        self.scheduler = scheduler
        self.server = server
        self.service = service
        if service is not None:
            service.engine, service.scheduler, service.controller = engine, scheduler, self
        self._listener: TrayListener | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="traycred-ui")
        self._lock = threading.RLock()
        self._state = AppState()
        self._profiles: tuple[ProfileInfo, ...] = ()
        self._settings: Settings | None = None
        self._notices = NoticeTracker()
        self._unsubscribe: Callable[[], None] | None = None
        self._stopped = False

    # ----- life cycle ---------------------------------------------------------------------

    def set_listener(self, listener: TrayListener) -> None:
        self._listener = listener

    def start(self) -> None:
        """Start the channel, the timer and the first load of the profiles (all off this thread)."""
        self._unsubscribe = self.scheduler.subscribe(self._on_state)
        if self.server is not None:
            self.server.start()
        self.scheduler.start()
        self.reload()

    def stop(self) -> None:
        """Stop serving and refreshing; a refresh in progress finishes its write first."""
        if self._stopped:
            return
        self._stopped = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.server is not None:
            self.server.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.scheduler.stop(timeout=10.0)

    # ----- what the front end shows -------------------------------------------------------

    @property
    def profiles(self) -> tuple[ProfileInfo, ...]:
        with self._lock:
            return self._profiles

    @property
    def settings(self) -> Settings:
        from traycred.settings import Settings

        with self._lock:
            return self._settings or Settings()

    @property
    def state(self) -> AppState:
        with self._lock:
            return self._state

    def view(self, now: datetime | None = None) -> TrayView:
        """The view for this moment (pure: no I/O, fine on the GUI thread)."""
        with self._lock:
            return build_view(self._state, self._profiles, self.settings, now=now)

    def publish(self) -> None:
        """Recompute the view (remaining times move on) and tell the listener; new notices too."""
        # Built and handed over under the lock: views computed on two threads (the timer's and
        # a worker's) must reach the front end in the order they were computed, or an older
        # one could be shown last. The listener only queues them, so this never blocks.
        with self._lock:
            view = self.view()
            notices = self._notices.update(view.state)
            listener = self._listener
            if listener is None:
                return
            listener.view_changed(view)
            if self.settings.notifications:
                for notice in notices:
                    listener.notify(notice)

    def _on_state(self, state: AppState) -> None:
        with self._lock:
            self._state = state
        self.publish()

    def reload(self) -> Future[None]:
        """Re-read the settings and the profiles of the AWS files (on a worker), then publish."""

        def load() -> None:
            settings = self.engine.settings()
            config = self.engine.config(reload=True)
            with self._lock:
                self._settings = settings
                self._profiles = profile_infos(config)
            self.publish()

        return self._submit(load)

    def request_menu(self) -> None:
        """A second `traycred` start asked to see the menu."""
        if self._listener is not None:
            self._listener.show_menu()

    # ----- actions ------------------------------------------------------------------------

    def perform(self, action: Action, arg: str | None = None) -> Future[None]:
        """Carry out a menu action on a worker; the listener hears how it went."""
        work: dict[Action, Callable[[], str | None]] = {
            Action.USE: lambda: self.use(_need(arg)),
            Action.KEEP_FRESH: lambda: self.set_keep_fresh(
                _need(arg), not self.settings.profile(_need(arg)).managed
            ),
            Action.REFRESH: lambda: self.refresh([_need(arg)]),
            Action.REFRESH_ALL: lambda: self.refresh(None),
            Action.SIGN_IN: lambda: self.sign_in(_need(arg)),
            Action.ENTER_MFA: lambda: self.enter_mfa(_need(arg)),
            Action.COPY_EXPORT: lambda: self.copy_export(_need(arg)),
            Action.OPEN_CONSOLE: lambda: self.open_console(_need(arg)),
        }
        job = work.get(action)
        if job is None:
            raise ValueError(f"{action} is the front end's to handle (a dialog)")
        return self.run_action(action, arg, job)

    def run_action(
        self, action: Action, arg: str | None, job: Callable[[], str | None]
    ) -> Future[None]:
        """Run `job` on a worker and report its message or error to the listener."""

        def run() -> None:
            try:
                message = job()
            except CancelledError:
                log.info("%s %s cancelled by the user", action, arg or "")
                return
            except TraycredError as exc:
                log.warning("%s %s failed: %s", action, arg or "", exc)
                if self._listener is not None:
                    self._listener.action_failed(action, arg, str(exc))
                raise
            except Exception as exc:
                log.exception("%s %s failed", action, arg or "")
                if self._listener is not None:
                    self._listener.action_failed(
                        action, arg, f"Unexpected error ({type(exc).__name__}); see the log."
                    )
                raise
            if self._listener is not None:
                self._listener.action_done(action, arg, message)

        return self._submit(run)

    def submit(self, job: Callable[[], _T]) -> Future[_T]:
        """Run `job` on a worker (no reporting): for the front end's own background work."""
        return self._submit(job)

    def _submit(self, job: Callable[[], _T]) -> Future[_T]:
        if self._stopped:
            future: Future[_T] = Future()
            future.cancel()
            return future
        return self._pool.submit(_then_release_memory, job)

    # The work itself (worker threads; each may wait for the user through the prompter).

    def _signing_in_if_needed(self, job: Callable[[], _T]) -> _T:
        """Run a user's action; if it needs an SSO sign-in, show the tray's own sign-in (the
        user asked for this action, so opening the sign-in is expected) and run it once more."""
        try:
            return job()
        except SignInNeededError as exc:
            if exc.session is None or self.engine.prompter is None:
                raise
            self.sign_in(exc.session)
            return job()

    def use(self, name: str) -> str | None:
        outcome = self._signing_in_if_needed(lambda: self.engine.use(name))
        self.scheduler.reload()
        self.reload()
        return None if not outcome.notes else " ".join(outcome.notes)

    def set_keep_fresh(self, name: str, on: bool) -> str | None:
        updated = self.engine.settings_store.update(lambda s: s.with_profile(name, managed=on))
        with self._lock:
            self._settings = updated
        self.publish()
        if on:
            # Written now, asking for a code if needed: the user is right here. The timer's pass
            # re-reads the settings before this request and only then looks for due profiles,
            # so it never first parks the new profile as "needs MFA" on its own.
            self._refresh_now([name])
        else:
            self.scheduler.reload()
        return None

    def apply_settings(self, change: Callable[[Settings], Settings]) -> Settings:
        """Change the settings file (locked read-modify-write), then re-read everything.

        The hook for the Settings dialog: call it on a worker (`submit`).
        """
        updated = self.engine.settings_store.update(change)
        with self._lock:
            self._settings = updated
        self.scheduler.reload()
        self.publish()
        return updated

    def refresh(self, names: Sequence[str] | None) -> str | None:
        self._refresh_now(None if names is None else list(names))
        return None

    def _refresh_now(self, names: list[str] | None) -> None:
        outcomes = self.scheduler.refresh_now(names).result(REFRESH_TIMEOUT)
        failures = [
            (name, outcome) for name, outcome in outcomes.items() if isinstance(outcome, Exception)
        ]
        if not failures:
            return
        if all(isinstance(error, CancelledError) for _, error in failures):
            raise CancelledError("cancelled")
        messages = list(dict.fromkeys(str(error) for _, error in failures))
        who = join_names([name for name, _ in failures])
        error = TraycredError(f"Refreshing {who} failed: {' '.join(messages[:2])}")
        if all(isinstance(e, NeedsUserError) for _, e in failures):
            raise NeedsUserError(error.message)
        raise error

    def enter_mfa(self, name: str) -> str | None:
        """Refresh every kept-fresh profile waiting, like `name`, for the same MFA code."""
        state = self.state
        target = state.profile(name)
        group = target.group if target is not None else None
        names = [
            p.name
            for p in state.profiles
            if p.status is ProfileStatus.NEEDS_MFA and (p.group == group or p.name == name)
        ]
        self._refresh_now(names or [name])
        return None

    def sso_session(self, session: str) -> tuple[SsoSessionConfig, tuple[str, ...]]:
        config: AwsConfig = self.engine.config()
        found = config.sso_sessions.get(session)
        users = tuple(
            sorted(
                p.name
                for p in config.profiles.values()
                if p.sso_session is not None and p.sso_session.name == session
            )
        )
        if found is None:
            legacy = [config.profiles[n].sso_session for n in users]
            found = next((s for s in legacy if s is not None), None)
        if found is None:
            raise TraycredError(
                f"There is no SSO session {session} in {config.config_path}.",
                hint="Check the AWS config file.",
            )
        return found, users

    def sign_in(self, session: str) -> str | None:
        config, users = self.sso_session(session)
        prompter = self.engine.prompter
        if prompter is None:
            raise TraycredError("Nobody can be asked to sign in here.")
        self.engine.sso_tokens.sign_in(config, prompter, profiles=users)
        self.scheduler.resume(f"sso:{session}")
        return None

    def copy_export(self, name: str) -> str | None:
        from traycred.envformat import render

        text = render(self._signing_in_if_needed(lambda: self.engine.credentials_for(name)), "sh")
        if self._listener is not None:
            self._listener.copy_text(text)
        return f"The export lines for {name} are on the clipboard."

    def console_url(self, name: str) -> str:
        """The AWS console sign-in URL for `name`'s current credentials (never logged)."""
        from traycred.console import profile_console_url

        return profile_console_url(self.engine, name)

    def open_console(self, name: str) -> str | None:
        url = self._signing_in_if_needed(lambda: self.console_url(name))
        if self._listener is not None:
            self._listener.open_url(url)
        return None

    # Keys (the Add key / Import dialogs call these on a worker).

    def stored_keys(self) -> dict[str, str]:
        """Profile -> access key id of every key in the keyring (no secrets)."""
        return self.engine.keystore.profiles()

    def store_key(self, profile: str, key: Credentials) -> str:
        keystore = self.engine.keystore
        keystore.set_key(profile, key)
        self.reload()
        return f"The access key of {profile} is stored in {keystore.backend_name()}."

    def plaintext_keys(self) -> dict[str, str]:
        """Profile -> access key id of long-term keys in plaintext in the credentials file."""
        from traycred import keyimport

        candidates, _ = keyimport.choose([], self.engine.credentials_store)
        return {c.profile: c.key.access_key_id for c in candidates}

    def import_keys(self, profiles: Sequence[str]) -> str:
        """Move verified plaintext keys into the keyring, then out of the file (backup kept)."""
        from traycred import keyimport

        candidates, refused = keyimport.choose(list(profiles), self.engine.credentials_store)
        keystore = self.engine.keystore
        moved: list[str] = []
        problems = list(refused)
        for candidate in candidates:
            try:
                keyimport.move(keyimport.verify(candidate), keystore, self.engine.credentials_store)
            except TraycredError as exc:
                problems.append(f"{candidate.profile}: {exc}")
                continue
            moved.append(candidate.profile)
        self.reload()
        if problems and not moved:
            raise TraycredError("Nothing was imported: " + " ".join(problems))
        text = f"Moved the keys of {join_names(moved)} into {keystore.backend_name()}."
        return text + (" Not moved: " + " ".join(problems) if problems else "")

    def about_details(self) -> list[tuple[str, str]]:
        from traycred import paths

        rows = []
        try:
            rows.append(("Keyring", self.engine.keystore.backend_name()))
        except TraycredError as exc:
            rows.append(("Keyring", exc.message))
        rows += [
            ("Credentials file", str(self.engine.credentials_store.path)),
            ("Settings", str(self.engine.settings_store.path)),
            ("Logs", str(paths.log_dir())),
        ]
        return rows


def _then_release_memory(job: Callable[[], _T]) -> _T:
    """Run `job`, then hand the heap it freed back to the system (an idle tray stays small)."""
    try:
        return job()
    finally:
        release_free_memory()


def _need(arg: str | None) -> str:
    if not arg:
        raise TraycredError("This menu entry needs a profile.")
    return arg


def create(prompter: object | None, *, server: ChannelServer | None = None) -> TrayController:
    """The tray's engine, timer and controller, wired like the daemon's (nothing started)."""
    from traycred.engine import Engine, SchedulerEngine
    from traycred.scheduler import Scheduler

    engine = Engine(prompter)  # type: ignore[arg-type]
    scheduler = Scheduler(SchedulerEngine(engine), engine.settings)
    service = server.handler if server is not None else None
    return TrayController(
        engine,
        scheduler,
        server=server,
        service=service if isinstance(service, TrayService) else None,
    )
