"""The refresh timer: keeps every managed profile and the default fresh, driven by real expiries.

Each profile is due a margin before its own credentials expire (never more than half their
lifetime, so short-lived credentials do not refresh in a loop). Due profiles of one group (same
source identity or SSO session) refresh together in one engine call, so one locked file write.
Failures retry with capped exponential backoff and jitter while the credentials in place stay;
a refresh that needs the user (MFA code, SSO sign-in) parks the profile in NEEDS_MFA /
NEEDS_SIGN_IN until the front end answers (`resume`, `refresh_now`), never a loop of prompts.

At rest the thread sleeps on an Event until the next deadline, but at most one heartbeat
(60 s): the heartbeat compares the wall clock with the monotonic clock, so after a suspend or a
clock change expired credentials are noticed and renewed within a minute. No Qt import: the tray
re-emits `subscribe` callbacks (called on this thread) as a Qt signal.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from traycred.errors import MfaCodeNeededError, NeedsUserError, SignInNeededError, TraycredError
from traycred.settings import Settings
from traycred.state import AppState, ProfileState, ProfileStatus

log = logging.getLogger(__name__)

# What one refresh gives back per profile: the new credentials' expiry, or why it failed.
Outcome = datetime | Exception

HEARTBEAT_SECONDS = 60.0
# A wall-clock move this much larger (or smaller) than the monotonic one is a jump.
JUMP_TOLERANCE_SECONDS = 5.0
# Never schedule a profile sooner than this after its last successful refresh.
MIN_REFRESH_INTERVAL = 5.0


class RefreshEngine(Protocol):
    """What the scheduler needs from the engine (traycred.engine adapts to this)."""

    def group_of(self, profile: str) -> str:
        """The profile's group: its base source identity or its SSO session."""
        ...

    def expiry(self, profile: str) -> datetime | None:
        """When the credentials written for `profile` expire (None: nothing written yet).

        Cheap (reads the credentials file, no AWS call). An engine may also define
        `expiries(profiles) -> Mapping[str, datetime | None]` to answer for all in one read.
        """
        ...

    def refresh(
        self, profiles: Sequence[str], *, mfa_code: str | None = None, interactive: bool = False
    ) -> Mapping[str, Outcome]:
        """Fetch and write fresh credentials for `profiles` in one locked write.

        `interactive=False` (scheduled refreshes): never prompt; raise or return NeedsUserError.
        """
        ...


class Clock(Protocol):
    def time(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff, jittered: failure n waits in [c/2, c], c = min(cap, base*2^(n-1))."""

    base: float = 5.0
    cap: float = 300.0

    def ceiling(self, failures: int) -> float:
        return min(self.cap, self.base * 2.0 ** max(0, failures - 1))

    def delay(self, failures: int, rng: random.Random) -> float:
        ceiling = self.ceiling(failures)
        return rng.uniform(ceiling / 2.0, ceiling)


@dataclass
class _Entry:
    """The scheduler's mutable bookkeeping for one kept-fresh profile (scheduler thread only)."""

    name: str
    group: str
    expiration: datetime | None = None
    obtained_at: float | None = None  # when this scheduler obtained them (None: elsewhere)
    failures: int = 0
    retry_at: float | None = None  # wall time of the next retry after a failure
    message: str | None = None
    needs: ProfileStatus | None = None  # NEEDS_MFA / NEEDS_SIGN_IN: parked until answered
    refreshing: bool = False
    not_before: float = 0.0

    def natural_due(self, margin: float) -> float:
        """Wall time at which the credentials in place should be replaced."""
        if self.expiration is None:
            return 0.0
        expires = self.expiration.timestamp()
        if self.obtained_at is not None:
            # Credentials shorter-lived than twice the margin renew at half-life, not at once.
            margin = min(margin, max(0.0, expires - self.obtained_at) / 2.0)
        return max(expires - margin, self.not_before)

    def due_at(self, margin: float) -> float | None:
        if self.needs is not None:
            return None
        if self.retry_at is not None:
            return self.retry_at
        return self.natural_due(margin)


def _needs_status(error: BaseException) -> ProfileStatus:
    if isinstance(error, SignInNeededError):
        return ProfileStatus.NEEDS_SIGN_IN
    if isinstance(error, MfaCodeNeededError):
        return ProfileStatus.NEEDS_MFA
    # Any other NeedsUserError: the message says what; MFA is the more common case.
    text = str(error).lower()
    return ProfileStatus.NEEDS_SIGN_IN if "sign in" in text else ProfileStatus.NEEDS_MFA


def _message(error: BaseException) -> str:
    if isinstance(error, TraycredError):
        return str(error)
    return f"Unexpected error: {type(error).__name__}."


@dataclass(frozen=True)
class _RefreshNow:
    profiles: tuple[str, ...] | None
    mfa_code: str | None
    future: Future[dict[str, Outcome]]


class Scheduler:
    """Keeps the managed profiles and the default fresh, on its own thread (`start`/`stop`).

    Tests drive `tick()` directly with a fake clock; `start()` runs it in a loop.
    """

    def __init__(
        self,
        engine: RefreshEngine,
        settings: Callable[[], Settings],
        *,
        clock: Clock | None = None,
        heartbeat: float = HEARTBEAT_SECONDS,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        coalesce_seconds: float | None = None,
    ) -> None:
        self._engine = engine
        self._load_settings = settings
        self._clock = clock or SystemClock()
        self.heartbeat = heartbeat
        self.backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self._coalesce = coalesce_seconds
        self._settings = Settings()
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()  # guards _requests, _subscribers, _published
        self._requests: list[_RefreshNow | tuple[str, str]] = []
        self._subscribers: list[Callable[[AppState], None]] = []
        self._published: AppState | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_clock: tuple[float, float] | None = None
        self.wakeups = 0  # loop iterations after a sleep; tests prove there is no busy polling
        self.clock_jumps = 0

    # ----- the front end's side (any thread) -----

    def subscribe(self, callback: Callable[[AppState], None]) -> Callable[[], None]:
        """Call `callback(state)` on every change (on the scheduler thread); returns unsubscribe."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def snapshot(self) -> AppState:
        with self._lock:
            return self._published if self._published is not None else AppState()

    def refresh_now(
        self, profiles: Sequence[str] | None = None, *, mfa_code: str | None = None
    ) -> Future[dict[str, Outcome]]:
        """Refresh `profiles` (default: every kept-fresh one) now, in one interactive engine call.

        The future resolves to the outcome per profile. Parked profiles are un-parked.
        """
        future: Future[dict[str, Outcome]] = Future()
        request = _RefreshNow(None if profiles is None else tuple(profiles), mfa_code, future)
        with self._lock:
            self._requests.append(request)
        self._wake.set()
        return future

    def resume(self, name: str) -> None:
        """The user acted (gave a code, signed in): retry profile or group `name` now."""
        with self._lock:
            self._requests.append(("resume", name))
        self._wake.set()

    def reload(self) -> None:
        """Settings or files changed (e.g. `use`, keep-fresh toggled): re-read them now."""
        with self._lock:
            self._requests.append(("reload", ""))
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="traycred-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the loop; a refresh in progress finishes first (its write is atomic anyway)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            pending, self._requests = self._requests, []
        for request in pending:
            if isinstance(request, _RefreshNow):
                request.future.cancel()

    # ----- the scheduler thread -----

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                delay = self.tick()
            except Exception:
                log.exception("scheduler pass failed; trying again at the next heartbeat")
                delay = self.heartbeat
            if self._stopping.is_set():
                break
            self._wake.wait(delay)
            self._wake.clear()
            self.wakeups += 1

    def tick(self) -> float:
        """One pass: notice clock jumps, answer requests, refresh what is due, publish.

        Returns how long to sleep: until the next deadline, at most one heartbeat.
        """
        self._check_clock()
        self._sync_settings()
        with self._lock:
            requests, self._requests = self._requests, []
        for request in requests:
            if isinstance(request, _RefreshNow):
                self._do_refresh_now(request)
            elif request[0] == "resume":
                self._do_resume(request[1])
            elif request[0] == "reload":
                self._sync_settings(force=True)
        self._sync_expiries()
        self._refresh_due()
        self._publish()
        return self._sleep_seconds()

    def _margin(self) -> float:
        return float(self._settings.refresh_margin_seconds)

    def _check_clock(self) -> None:
        wall, mono = self._clock.time(), self._clock.monotonic()
        last, self._last_clock = self._last_clock, (wall, mono)
        if last is None:
            return
        drift = (wall - last[0]) - (mono - last[1])
        if abs(drift) <= JUMP_TOLERANCE_SECONDS:
            return
        self.clock_jumps += 1
        log.info(
            "wall clock moved %+.0f s against the monotonic clock (suspend/resume or a "
            "clock change): checking every profile now",
            drift,
        )
        # After a resume the network is usually back: retry failed profiles now, not after
        # a backoff computed before the jump.
        for entry in self._entries.values():
            entry.not_before = 0.0
            if entry.retry_at is not None:
                entry.retry_at = wall

    def _sync_settings(self, *, force: bool = False) -> None:
        try:
            settings = self._load_settings()
        except TraycredError as exc:
            log.warning("settings not reloaded, keeping the previous ones: %s", exc)
            return
        if settings == self._settings and self._entries and not force:
            return
        self._settings = settings
        wanted = list(settings.kept_fresh())
        for name in list(self._entries):
            if name not in wanted:
                del self._entries[name]
        for name in wanted:
            entry = self._entries.get(name)
            if entry is None:
                self._entries[name] = _Entry(name=name, group=self._group_of(name))
            elif force:
                entry.group = self._group_of(name)

    def _group_of(self, name: str) -> str:
        try:
            return self._engine.group_of(name)
        except Exception as exc:
            log.debug("no group for %s (%s); it refreshes on its own", name, type(exc).__name__)
            return f"profile:{name}"

    def _read_expiries(self) -> dict[str, datetime | None]:
        names = list(self._entries)
        # An engine may offer `expiries(names)`: one read of the credentials file for all, which
        # matters with hundreds of profiles (the heartbeat reads them every minute).
        batch = getattr(self._engine, "expiries", None)
        if batch is not None:
            try:
                return dict(batch(names))
            except Exception as exc:
                log.debug("expiries unknown: %s", type(exc).__name__)
                return {}
        found: dict[str, datetime | None] = {}
        for name in names:
            try:
                found[name] = self._engine.expiry(name)
            except Exception as exc:
                log.debug("expiry of %s unknown: %s", name, type(exc).__name__)
        return found

    def _sync_expiries(self) -> None:
        """Pick up credentials written by anyone (this engine, the CLI, another tool)."""
        now = self._clock.time()
        margin = self._margin()
        found = self._read_expiries()
        for entry in self._entries.values():
            if entry.name not in found:
                continue
            expiration = found[entry.name]
            if expiration == entry.expiration or (
                expiration is not None
                and entry.expiration is not None
                and abs((expiration - entry.expiration).total_seconds()) < 2
            ):
                continue  # (the file keeps whole seconds)
            entry.expiration = expiration
            entry.obtained_at = None
            if expiration is not None and expiration.timestamp() - now > margin:
                # Fresh credentials appeared (e.g. `traycred refresh --mfa-code` done directly):
                # whatever was wrong has been solved.
                entry.failures, entry.retry_at, entry.message, entry.needs = 0, None, None, None

    def _do_resume(self, name: str) -> None:
        now = self._clock.time()
        for entry in self._entries.values():
            if name in (entry.name, entry.group):
                entry.needs, entry.message = None, None
                entry.retry_at = now

    def _refresh_due(self) -> None:
        now = self._clock.time()
        margin = self._margin()
        window = margin if self._coalesce is None else self._coalesce
        due_groups: list[str] = []
        for entry in sorted(self._entries.values(), key=lambda e: e.name):
            due = entry.due_at(margin)
            if due is not None and due <= now and entry.group not in due_groups:
                due_groups.append(entry.group)
        for group in due_groups:
            if self._stopping.is_set():
                return
            members = [
                e
                for e in self._entries.values()
                if e.group == group
                and (due := e.due_at(margin)) is not None
                and (due <= now + window or e.expiration is None)
            ]
            self._run_refresh(sorted(e.name for e in members), mfa_code=None, interactive=False)

    def _do_refresh_now(self, request: _RefreshNow) -> None:
        if not request.future.set_running_or_notify_cancel():
            return
        names = (
            sorted(self._entries)
            if request.profiles is None
            else list(dict.fromkeys(request.profiles))
        )
        for name in names:
            entry = self._entries.get(name)
            if entry is not None:
                entry.needs, entry.message = None, None
        try:
            outcomes = self._run_refresh(names, mfa_code=request.mfa_code, interactive=True)
        except BaseException as exc:  # the future must resolve whatever happens
            request.future.set_exception(exc)
            raise
        request.future.set_result(outcomes)

    def _run_refresh(
        self, names: list[str], *, mfa_code: str | None, interactive: bool
    ) -> dict[str, Outcome]:
        if not names:
            return {}
        entries = [self._entries[n] for n in names if n in self._entries]
        for entry in entries:
            entry.refreshing = True
        self._publish()
        log.info("refreshing %s", ", ".join(names))
        try:
            outcomes: dict[str, Outcome] = dict(
                self._engine.refresh(names, mfa_code=mfa_code, interactive=interactive)
            )
        except Exception as exc:
            outcomes = dict.fromkeys(names, exc)
        for name in names:
            outcomes.setdefault(name, TraycredError(f"No credentials came back for {name}."))
        now = self._clock.time()
        for entry in entries:
            entry.refreshing = False
            self._apply(entry, outcomes[entry.name], now)
        self._publish()
        return outcomes

    def _apply(self, entry: _Entry, outcome: Outcome, now: float) -> None:
        if isinstance(outcome, datetime):
            entry.expiration = outcome
            entry.obtained_at = now
            entry.not_before = now + MIN_REFRESH_INTERVAL
            entry.failures, entry.retry_at, entry.message, entry.needs = 0, None, None, None
            log.info("%s refreshed; valid until %s", entry.name, outcome.isoformat())
            return
        entry.message = _message(outcome)
        if isinstance(outcome, NeedsUserError):
            # Parked: no retry until the user answers, so no loop of prompts or browser tabs.
            entry.needs, entry.retry_at = _needs_status(outcome), None
            log.warning("%s needs you: %s", entry.name, entry.message)
            return
        entry.failures += 1
        delay = self.backoff.delay(entry.failures, self._rng)
        entry.retry_at = now + delay
        log.warning(
            "refresh of %s failed (%d in a row), retrying in %.0f s; the credentials in place "
            "stay: %s",
            entry.name,
            entry.failures,
            delay,
            entry.message,
        )
        if not isinstance(outcome, TraycredError):
            log.debug("unexpected error refreshing %s", entry.name, exc_info=outcome)

    def _sleep_seconds(self) -> float:
        now = self._clock.time()
        margin = self._margin()
        deadlines = [d for e in self._entries.values() if (d := e.due_at(margin)) is not None]
        until = min(deadlines, default=math.inf) - now
        return max(0.0, min(until, self.heartbeat))

    def _state(self) -> AppState:
        now_ts = self._clock.time()
        margin = self._margin()
        default = self._settings.default_profile
        profiles: list[ProfileState] = []
        for entry in sorted(self._entries.values(), key=lambda e: e.name):
            if entry.refreshing:
                status = ProfileStatus.REFRESHING
            elif entry.needs is not None:
                status = entry.needs
            elif entry.failures:
                status = ProfileStatus.ERROR
            elif entry.expiration is None:
                status = ProfileStatus.IDLE
            elif now_ts >= entry.natural_due(margin):
                status = ProfileStatus.EXPIRING
            else:
                status = ProfileStatus.FRESH
            due = entry.due_at(margin)
            profiles.append(
                ProfileState(
                    name=entry.name,
                    status=status,
                    expiration=entry.expiration,
                    message=entry.message,
                    group=entry.group,
                    next_refresh=None if not due else datetime.fromtimestamp(due, UTC),
                    failures=entry.failures,
                    is_default=entry.name == default,
                )
            )
        return AppState(profiles=tuple(profiles), default_profile=default)

    def _publish(self) -> None:
        state = self._state()
        with self._lock:
            if state == self._published:
                return
            self._published = state
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(state)
            except Exception:
                log.exception("a state subscriber failed")
