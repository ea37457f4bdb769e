"""The refresh timer against a scripted engine and an injected clock: when it refreshes what, and
what the front end sees (the AppState snapshots)."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from traycred.errors import MfaCodeNeededError, NetworkError, SignInNeededError
from traycred.scheduler import Backoff, Outcome, Scheduler, SystemClock
from traycred.settings import ProfileSettings, Settings
from traycred.state import AppState, Overall, ProfileStatus

START = 1_800_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.wall = START
        self.mono = 5_000.0

    def time(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def suspend(self, seconds: float) -> None:
        """The machine sleeps: the wall clock moves on, the monotonic clock does not."""
        self.wall += seconds


def at(clock: FakeClock | SystemClock, offset: float) -> datetime:
    return datetime.fromtimestamp(clock.time() + offset, UTC)


class ScriptedEngine:
    """Stands in for traycred.engine: a dict is the credentials file; outcomes can be scripted."""

    def __init__(
        self, clock: FakeClock | SystemClock, groups: Mapping[str, str], lifetime: float = 3600
    ) -> None:
        self.clock = clock
        self.groups = dict(groups)
        self.lifetime = lifetime
        self.written: dict[str, datetime] = {}
        self.calls: list[tuple[tuple[str, ...], str | None, bool]] = []
        # Each refresh call pops one: None = succeed, an exception = every profile fails with it.
        self.script: deque[Exception | None] = deque()

    def group_of(self, profile: str) -> str:
        return self.groups[profile]

    def expiry(self, profile: str) -> datetime | None:
        return self.written.get(profile)

    def refresh(
        self, profiles: Sequence[str], *, mfa_code: str | None = None, interactive: bool = False
    ) -> Mapping[str, Outcome]:
        self.calls.append((tuple(profiles), mfa_code, interactive))
        failure = self.script.popleft() if self.script else None
        if failure is not None:
            return dict.fromkeys(profiles, failure)
        new = at(self.clock, self.lifetime)
        for name in profiles:
            self.written[name] = new
        return dict.fromkeys(profiles, new)


def settings_for(*managed: str, default: str | None = None, margin: int = 600) -> Settings:
    profiles = MappingProxyType({name: ProfileSettings(managed=True) for name in managed})
    return Settings(default_profile=default, refresh_margin_seconds=margin, profiles=profiles)


def make(
    clock: FakeClock,
    groups: Mapping[str, str],
    *,
    default: str | None = None,
    lifetime: float = 3600,
    seed: int = 1,
) -> tuple[Scheduler, ScriptedEngine, list[Settings]]:
    engine = ScriptedEngine(clock, groups, lifetime)
    holder = [settings_for(*groups, default=default)]
    scheduler = Scheduler(engine, lambda: holder[0], clock=clock, rng=random.Random(seed))
    return scheduler, engine, holder


def status(scheduler: Scheduler, name: str) -> ProfileStatus:
    state = scheduler.snapshot().profile(name)
    assert state is not None
    return state.status


def test_nothing_written_yet_refreshes_at_once_then_sleeps_until_margin_before_expiry() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice"})
    sleep = scheduler.tick()
    assert engine.calls == [(("dev",), None, False)]
    state = scheduler.snapshot().profile("dev")
    assert state is not None and state.status is ProfileStatus.FRESH
    assert state.expiration == at(clock, 3600)
    assert state.next_refresh == at(clock, 3600 - 600)
    assert sleep == 60.0  # one heartbeat: the deadline is further away
    clock.advance(3600 - 600 - 1)
    scheduler.tick()
    assert len(engine.calls) == 1
    clock.advance(1)
    scheduler.tick()
    assert len(engine.calls) == 2


def test_due_time_follows_each_profiles_own_expiry_not_a_fixed_cycle() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"a": "g1", "b": "g2"})
    engine.written = {"a": at(clock, 7200), "b": at(clock, 1800)}
    scheduler.tick()
    assert engine.calls == []
    snap = scheduler.snapshot()
    assert snap.profile("a").next_refresh == at(clock, 7200 - 600)  # type: ignore[union-attr]
    assert snap.profile("b").next_refresh == at(clock, 1800 - 600)  # type: ignore[union-attr]
    clock.advance(1200)
    scheduler.tick()
    assert engine.calls == [(("b",), None, False)]


def test_short_lived_credentials_refresh_at_half_life_instead_of_in_a_loop() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice"}, lifetime=20)
    scheduler.tick()
    assert scheduler.snapshot().profile("dev").next_refresh == at(clock, 10)  # type: ignore[union-attr]
    for _ in range(5):
        scheduler.tick()
    assert len(engine.calls) == 1
    clock.advance(10)
    scheduler.tick()
    assert len(engine.calls) == 2


def test_profiles_sharing_a_source_refresh_together_in_one_call() -> None:
    clock = FakeClock()
    groups = {"admin": "alice", "deploy": "alice", "readonly": "alice", "sso-dev": "sso:corp"}
    scheduler, engine, _ = make(clock, groups)
    scheduler.tick()
    assert sorted(engine.calls) == [
        (("admin", "deploy", "readonly"), None, False),
        (("sso-dev",), None, False),
    ]


def test_a_group_member_due_soon_joins_the_refresh_of_a_due_one() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"a": "alice", "b": "alice", "c": "alice"})
    engine.written = {"a": at(clock, 700), "b": at(clock, 900), "c": at(clock, 5000)}
    scheduler.tick()
    assert engine.calls == []
    clock.advance(100)  # a is due; b is due within the margin; c is hours away
    scheduler.tick()
    assert engine.calls == [(("a", "b"), None, False)]


def test_failures_back_off_exponentially_with_jitter_up_to_the_cap_and_keep_credentials() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice"})
    old = at(clock, 300)
    engine.written = {"dev": old}
    engine.script.extend(NetworkError("Cannot reach sts.amazonaws.com.") for _ in range(10))
    delays = []
    for failure in range(1, 11):
        scheduler.tick()
        assert len(engine.calls) == failure
        state = scheduler.snapshot().profile("dev")
        assert state is not None
        assert state.status is ProfileStatus.ERROR
        assert state.message == "Cannot reach sts.amazonaws.com."
        assert state.expiration == old  # the credentials in place stay
        assert state.failures == failure
        assert state.next_refresh is not None
        delay = state.next_refresh.timestamp() - clock.time()
        ceiling = min(300.0, 5.0 * 2 ** (failure - 1))
        assert ceiling / 2 <= delay <= ceiling
        delays.append(delay)
        clock.advance(delay - 0.5)
        scheduler.tick()
        assert len(engine.calls) == failure  # not before the backoff is over
        clock.advance(0.501)  # (next_refresh is rounded to microseconds)
    assert delays[-1] <= 300.0 and max(delays) > 150.0  # the cap is reached and holds
    assert scheduler.snapshot().overall is Overall.ERROR
    scheduler.tick()  # the script is used up: this one succeeds
    state = scheduler.snapshot().profile("dev")
    assert state is not None and state.status is ProfileStatus.FRESH and state.failures == 0
    assert state.message is None


def test_backoff_delays_stay_within_their_jitter_bounds() -> None:
    backoff = Backoff(base=5, cap=300)
    rng = random.Random(7)
    for failures in range(1, 20):
        ceiling = backoff.ceiling(failures)
        samples = [backoff.delay(failures, rng) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert max(samples) - min(samples) > ceiling / 10  # jittered, not constant
    assert backoff.ceiling(30) == 300


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (MfaCodeNeededError("An MFA code is needed for dev."), ProfileStatus.NEEDS_MFA),
        (SignInNeededError("Sign in to SSO session corp."), ProfileStatus.NEEDS_SIGN_IN),
    ],
)
def test_needing_the_user_parks_the_profile_without_any_retry_loop(
    error: Exception, expected: ProfileStatus
) -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice", "ops": "alice"})
    engine.script.append(error)
    scheduler.tick()
    assert engine.calls == [(("dev", "ops"), None, False)]
    snap = scheduler.snapshot()
    assert snap.profile("dev").status is expected  # type: ignore[union-attr]
    assert snap.profile("dev").message == str(error)  # type: ignore[union-attr]
    assert snap.overall is Overall.NEEDS_USER
    assert [p.name for p in snap.needing_user()] == ["dev", "ops"]
    for _ in range(200):  # hours go by: nobody is asked again
        assert scheduler.tick() == 60.0
        clock.advance(60)
    assert len(engine.calls) == 1
    scheduler.resume("alice")  # the user answered for the whole group
    scheduler.tick()
    assert engine.calls[1] == (("dev", "ops"), None, False)
    assert status(scheduler, "dev") is ProfileStatus.FRESH


def test_refresh_now_is_interactive_passes_the_code_and_resolves_with_outcomes() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice", "ops": "bob"})
    engine.script.append(MfaCodeNeededError("An MFA code is needed for dev."))
    scheduler.tick()  # first group parks (script), second refreshes
    assert status(scheduler, "dev") is ProfileStatus.NEEDS_MFA
    future = scheduler.refresh_now(["dev"], mfa_code="123456")
    scheduler.tick()
    assert engine.calls[-1] == (("dev",), "123456", True)
    assert future.result(0) == {"dev": at(clock, 3600)}
    assert status(scheduler, "dev") is ProfileStatus.FRESH


def test_credentials_renewed_elsewhere_clear_a_parked_profile() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice"})
    engine.script.append(MfaCodeNeededError("An MFA code is needed for dev."))
    scheduler.tick()
    assert status(scheduler, "dev") is ProfileStatus.NEEDS_MFA
    engine.written["dev"] = at(clock, 3600)  # e.g. `traycred refresh --mfa-code` ran directly
    scheduler.tick()
    assert status(scheduler, "dev") is ProfileStatus.FRESH
    assert len(engine.calls) == 1


def test_suspend_longer_than_the_credentials_is_caught_within_one_heartbeat() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice"})
    scheduler.tick()
    sleep = scheduler.tick()
    assert sleep <= 60.0  # the longest the loop ever sleeps at rest
    clock.suspend(5 * 3600)  # the lid closes for five hours; monotonic time stands still
    clock.advance(sleep)
    scheduler.tick()
    assert scheduler.clock_jumps == 1
    assert len(engine.calls) == 2
    assert status(scheduler, "dev") is ProfileStatus.FRESH


def test_a_clock_set_back_retries_failed_profiles_at_once_not_an_hour_later() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice"})
    engine.written = {"dev": at(clock, 100)}
    engine.script.append(NetworkError("Cannot reach STS."))
    scheduler.tick()
    assert status(scheduler, "dev") is ProfileStatus.ERROR
    clock.advance(1)
    scheduler.tick()
    assert len(engine.calls) == 1  # still backing off
    clock.suspend(-3600)  # the clock is set back an hour: the retry time is now far ahead
    clock.advance(1)
    scheduler.tick()
    assert scheduler.clock_jumps == 1
    assert len(engine.calls) == 2
    assert status(scheduler, "dev") is ProfileStatus.FRESH


def test_settings_changes_add_drop_and_mark_the_default() -> None:
    clock = FakeClock()
    scheduler, engine, holder = make(clock, {"dev": "alice", "prod": "alice"})
    holder[0] = settings_for("dev")
    scheduler.tick()
    assert [p.name for p in scheduler.snapshot().profiles] == ["dev"]
    holder[0] = settings_for("dev", default="prod")
    scheduler.reload()
    scheduler.tick()
    snap = scheduler.snapshot()
    assert [p.name for p in snap.profiles] == ["dev", "prod"]
    assert snap.default_profile == "prod" and snap.default is not None
    assert snap.default.is_default and not snap.profile("dev").is_default  # type: ignore[union-attr]
    assert engine.calls[-1] == (("prod",), None, False)
    holder[0] = settings_for()
    scheduler.tick()
    assert scheduler.snapshot().profiles == ()
    assert scheduler.snapshot().overall is Overall.IDLE


def test_an_engine_call_that_raises_fails_every_profile_of_it() -> None:
    clock = FakeClock()
    scheduler, engine, _ = make(clock, {"dev": "alice", "ops": "alice"})

    def broken(profiles: Sequence[str], **_: object) -> Mapping[str, Outcome]:
        raise NetworkError("Cannot reach STS.")

    engine.refresh = broken  # type: ignore[method-assign]
    scheduler.tick()
    assert {p.status for p in scheduler.snapshot().profiles} == {ProfileStatus.ERROR}


def test_subscribers_see_refreshing_then_fresh_and_can_unsubscribe() -> None:
    clock = FakeClock()
    scheduler, _, _ = make(clock, {"dev": "alice"})
    seen: list[AppState] = []
    unsubscribe = scheduler.subscribe(seen.append)
    scheduler.tick()
    assert (
        [s.profile("dev").status for s in seen]
        == [  # type: ignore[union-attr]
            ProfileStatus.IDLE,
            ProfileStatus.REFRESHING,
            ProfileStatus.FRESH,
        ][-len(seen) :]
    )
    assert seen[-1].overall is Overall.FRESH
    count = len(seen)
    scheduler.tick()
    assert len(seen) == count  # nothing changed, nothing sent
    unsubscribe()
    clock.advance(3000)
    scheduler.tick()
    assert len(seen) == count


def test_idle_loop_sleeps_until_the_deadline_without_polling() -> None:
    clock = SystemClock()
    engine = ScriptedEngine(clock, {"dev": "alice"})
    scheduler = Scheduler(engine, lambda: settings_for("dev"), heartbeat=30.0)
    scheduler.start()
    try:
        deadline = time.monotonic() + 5
        while not engine.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert scheduler.wakeups == 0  # nothing due for 50 minutes: not one wake-up
    finally:
        scheduler.stop()
    assert len(engine.calls) == 1


def test_idle_loop_wakes_once_per_heartbeat() -> None:
    clock = SystemClock()
    engine = ScriptedEngine(clock, {"dev": "alice"})
    scheduler = Scheduler(engine, lambda: settings_for("dev"), heartbeat=0.05)
    scheduler.start()
    try:
        time.sleep(0.5)
        wakeups = scheduler.wakeups
    finally:
        scheduler.stop()
    assert 1 <= wakeups <= 0.5 / 0.05 + 2  # a busy loop would count thousands
    assert len(engine.calls) == 1


def test_refresh_now_on_the_running_thread_resolves_its_future() -> None:
    clock = SystemClock()
    engine = ScriptedEngine(clock, {"dev": "alice"})
    scheduler = Scheduler(engine, lambda: settings_for("dev"), heartbeat=30.0)
    states: list[AppState] = []
    got_one = threading.Event()

    def on_state(state: AppState) -> None:
        states.append(state)
        got_one.set()

    scheduler.subscribe(on_state)
    scheduler.start()
    try:
        outcome = scheduler.refresh_now(["dev"], mfa_code="654321").result(5)
    finally:
        scheduler.stop()
    assert set(outcome) == {"dev"}
    assert isinstance(outcome["dev"], datetime)
    assert (("dev",), "654321", True) in engine.calls
    assert got_one.is_set() and states[-1].profile("dev").status is ProfileStatus.FRESH  # type: ignore[union-attr]


def test_stop_cancels_requests_that_never_ran() -> None:
    clock = FakeClock()
    scheduler, _, _ = make(clock, {"dev": "alice"})
    future = scheduler.refresh_now()
    scheduler.stop()
    assert future.cancelled()


def test_expiring_when_within_margin_and_not_refreshed() -> None:
    from traycred.state import status_from_expiry

    now = datetime(2030, 1, 1, tzinfo=UTC)
    margin = timedelta(minutes=10)
    assert status_from_expiry(None, margin, now) is ProfileStatus.IDLE
    assert status_from_expiry(now + timedelta(minutes=11), margin, now) is ProfileStatus.FRESH
    assert status_from_expiry(now + timedelta(minutes=9), margin, now) is ProfileStatus.EXPIRING
    assert status_from_expiry(now - timedelta(minutes=1), margin, now) is ProfileStatus.EXPIRING


def test_an_engine_that_reads_all_expiries_at_once_is_asked_once_per_pass() -> None:
    clock = FakeClock()
    groups = {f"p{i:03d}": "sso:corp" for i in range(200)}
    scheduler, engine, _ = make(clock, groups)
    batches: list[list[str]] = []

    def expiries(names: Sequence[str]) -> Mapping[str, datetime | None]:
        batches.append(list(names))
        return {name: engine.written.get(name) for name in names}

    engine.expiries = expiries  # type: ignore[attr-defined]
    scheduler.tick()
    assert engine.calls == [(tuple(sorted(groups)), None, False)]  # one call, one write
    clock.advance(60)
    scheduler.tick()
    assert len(batches) == 2 and len(batches[0]) == 200
    assert {p.status for p in scheduler.snapshot().profiles} == {ProfileStatus.FRESH}
