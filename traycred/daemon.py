"""`traycred daemon`: the refresh timer and the local channel, without a GUI.

For servers, WSL and remote desktops. Nobody can be asked anything here: a refresh or a
`credential-process` request that needs an MFA code or a sign-in is answered "needs you" (exit 3
in the CLI) and the profile waits in NEEDS_MFA / NEEDS_SIGN_IN until `traycred refresh
--mfa-code` or `traycred login` solves it. Logs go to the platformdirs log folder (rotating,
secrets redacted). SIGTERM/SIGINT stop it cleanly: a refresh in progress finishes its atomic
write, the socket is removed.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING

from traycred.channel.server import ChannelServer, UnsupportedOperation
from traycred.credentials import Credentials
from traycred.errors import TraycredError
from traycred.state import AppState

if TYPE_CHECKING:
    from traycred.engine import Engine
    from traycred.scheduler import Scheduler

log = logging.getLogger(__name__)

KIND = "daemon"
REFRESH_TIMEOUT = 600.0


class DaemonService:
    """The daemon's channel answers: the engine for credentials, the scheduler for the rest."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.scheduler: Scheduler | None = None

    def _parts(self) -> tuple[Engine, Scheduler]:
        if self.engine is None or self.scheduler is None:
            raise TraycredError("The traycred daemon is still starting.", hint="Try again.")
        return self.engine, self.scheduler

    def credentials(self, profile: str) -> Credentials:
        engine, _ = self._parts()
        log.info("credentials for %s requested over the channel", profile)
        with engine.prompting(None):  # nobody to ask: needs-user errors go back to the CLI
            return engine.credentials_for(profile)

    def status(self) -> AppState:
        _, scheduler = self._parts()
        return scheduler.snapshot()

    def refresh(
        self, profiles: Sequence[str], mfa_code: str | None
    ) -> Mapping[str, datetime | Exception]:
        engine, scheduler = self._parts()
        log.info(
            "refresh of %s requested over the channel%s",
            ", ".join(profiles) or "every kept-fresh profile",
            " with an MFA code" if mfa_code else "",
        )
        future = scheduler.refresh_now(list(profiles) or None, mfa_code=mfa_code)
        outcomes = future.result(REFRESH_TIMEOUT)
        succeeded = [p for p in profiles if isinstance(outcomes.get(p), datetime)]
        if succeeded:
            # Like `traycred refresh PROFILE` run directly: named profiles are kept fresh.
            engine.remember(succeeded)
            scheduler.reload()
        return outcomes

    def use(self, profile: str) -> datetime | None:
        return self.use_with_code(profile, None)

    def use_with_code(self, profile: str, mfa_code: str | None) -> datetime | None:
        """`use`, with the MFA code the CLI was given (`traycred use P --mfa-code C`)."""
        engine, scheduler = self._parts()
        log.info("use %s requested over the channel", profile)
        prompter = None
        if mfa_code is not None:
            from traycred.prompt.noninteractive import NonInteractivePrompter

            prompter = NonInteractivePrompter(mfa_code, stdin_pipe=False)
        with engine.prompting(prompter):
            outcome = engine.use(profile)
        scheduler.reload()
        return outcome.expiration

    def resume(self, names: Sequence[str]) -> list[str]:
        """The user acted outside this instance (signed in, gave a code to a direct run, changed
        the default): re-read the settings and retry the profiles or groups `names` now.

        Returns the kept-fresh profiles that will be retried.
        """
        engine, scheduler = self._parts()
        log.info("resume of %s requested over the channel", ", ".join(names) or "nothing")
        engine.config(reload=True)
        scheduler.reload()
        for name in names:
            scheduler.resume(name)
        wanted = set(names)
        # The snapshot may predate the reload; a profile just added is retried all the same.
        return [
            p.name
            for p in scheduler.snapshot().profiles
            if p.name in wanted or (p.group is not None and p.group in wanted)
        ]

    def show_menu(self) -> None:
        raise UnsupportedOperation(
            "The traycred daemon is running, and it has no menu.",
            hint="Stop it (SIGTERM) to start the tray instead, or use `traycred status`.",
        )


def run(*, debug: bool = False, stop: threading.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or `stop` is set). Raises AlreadyRunningError if one runs."""
    from traycred import logs

    stop = stop or threading.Event()
    service = DaemonService()
    server = ChannelServer(service, kind=KIND)
    server.bind()  # first, so a second daemon refuses before loading anything heavy
    try:
        log_path = logs.setup_file_logging(KIND, debug=debug)
        _quiet_console(debug)
        return _serve(service, server, stop, log_path=str(log_path))
    finally:
        server.close()


def _serve(
    service: DaemonService, server: ChannelServer, stop: threading.Event, *, log_path: str
) -> int:
    from traycred.engine import Engine, SchedulerEngine
    from traycred.scheduler import Scheduler

    engine = Engine(None)
    engine.settings()  # a malformed settings file stops the start with its message
    scheduler = Scheduler(SchedulerEngine(engine), engine.settings)
    service.engine, service.scheduler = engine, scheduler
    previous = _install_signal_handlers(stop)
    try:
        server.start()
        scheduler.start()
        where = server.endpoint_path if server.transport == "tcp" else server.socket_path
        log.info("daemon started (pid %d), channel %s", os.getpid(), where)
        print(
            f"traycred daemon running (pid {os.getpid()}); log: {log_path}",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(3600):  # woken by the signal handler; the hour is just a backstop
            pass
        log.info("stopping")
    finally:
        scheduler.stop()
        server.close()
        _restore_signal_handlers(previous)
    log.info("daemon stopped")
    return 0


def _install_signal_handlers(stop: threading.Event) -> dict[int, object]:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    previous: dict[int, object] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handle)
    return previous


def _restore_signal_handlers(previous: dict[int, object]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)  # type: ignore[arg-type]


def _quiet_console(debug: bool) -> None:
    """Console gets warnings only (the log file has the rest); scrubbed like the file."""
    from traycred.logs import RedactingFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
        if not debug:
            handler.setLevel(logging.WARNING)
