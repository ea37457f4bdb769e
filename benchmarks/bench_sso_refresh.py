"""SPEC §6: 200 SSO profiles of one session refreshed through the real engine, against the local
emulator with 20 ms added to every answer, side by side with the same done one profile at a time;
and SPEC §6's network-call figures, counted from the emulator's record of calls.

Set-up (a throw-away HOME): one `sso-session` with 200 profiles (40 accounts x 5 roles), all
managed; one sign-in through the device flow (a "browser" that visits the page, approved by the
emulator), so the token cache holds one token. Then

  traycred:  Engine.refresh()            every managed profile: one token, bounded parallel
                                         GetRoleCredentials, one locked write of the file
  reference: Engine.refresh([name])      for each profile in turn: the same work, serially,
                                         one write per profile

Target: traycred under 3 s. Network figures: one GetSessionToken per source per MFA session (3
roles on one MFA user, refreshed twice); one token per SSO session (200 profiles, no new token);
no call when nothing is near expiry (the refresh scheduler left running on fresh credentials).

    python benchmarks/bench_sso_refresh.py [--profiles 200] [--latency-ms 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import throwaway_home

TARGET_SECONDS = 3.0
ROLES = ("ReadOnly", "PowerUser", "Billing", "Developer", "Admin")
SESSION = "bench"
IDLE_SECONDS = 3.0


def isolate(home: Path) -> None:
    """Point HOME, the AWS files and traycred's folders into `home`; no keyring is touched."""
    os.environ.update(throwaway_home(home))
    # The engine would cache MFA sessions in the keyring; a benchmark must not touch the user's.
    # The null backend stores nothing (the engine carries on without it).
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    # The engine logs "keyring not available" once per engine; not news here.
    logging.getLogger("traycred").setLevel(logging.ERROR)


def scenario(profiles: int) -> Any:
    from traycred.emulator import Scenario, SsoAccount

    accounts = tuple(
        SsoAccount(f"{500000000000 + i:012d}", f"acct-{i}", f"acct-{i}@example.com", ROLES)
        for i in range((profiles + len(ROLES) - 1) // len(ROLES))
    )
    base = Scenario.demo().replace(auto_approve_on_visit=True)
    return base.replace_sso(accounts=accounts, poll_interval=0)


def sso_config(profiles: int, start_url: str) -> tuple[str, list[str]]:
    lines = [
        "[default]",
        "region = us-east-1",
        "",
        f"[sso-session {SESSION}]",
        f"sso_start_url = {start_url}",
        "sso_region = us-east-1",
        "sso_registration_scopes = sso:account:access",
        "",
    ]
    names = []
    for n in range(profiles):
        account, role = divmod(n, len(ROLES))
        name = f"p{n:03d}"
        names.append(name)
        lines += [
            f"[profile {name}]",
            f"sso_session = {SESSION}",
            f"sso_account_id = {500000000000 + account:012d}",
            f"sso_role_name = {ROLES[role]}",
            "",
        ]
    return "\n".join(lines), names


class VisitingPrompter:
    """The user at the browser: opens the verification URL (the emulator approves on visit)."""

    def mfa_code(self, request: Any) -> str:
        raise RuntimeError("no MFA in the SSO benchmark")

    def sign_in_started(self, request: Any) -> None:
        url = request.verification_uri_complete
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - emulator URL
            answer.read()

    def sign_in_cancelled(self) -> bool:
        return False

    def sign_in_finished(self, request: Any, error: str | None) -> None:
        pass


def counting_store(path: Path) -> Any:
    """The real credentials store, counting its writes (each is one locked atomic rewrite)."""
    from traycred.credfile import CredentialsStore

    class CountingStore(CredentialsStore):
        writes = 0

        def write(self, *args: Any, **kwargs: Any) -> Any:
            type(self).writes += 1
            return super().write(*args, **kwargs)

    return CountingStore(path)


@contextmanager
def emulator_running(scenario_: Any, latency: float) -> Iterator[Any]:
    from traycred import aws
    from traycred.emulator import Emulator

    emulator = Emulator(scenario_).start()
    emulator.latency = latency
    os.environ.update(emulator.env())
    aws.reset_sessions()
    try:
        yield emulator
    finally:
        emulator.stop()


def bench_sso(profiles: int, latency: float) -> dict[str, Any]:
    from traycred.config import load
    from traycred.emulator.scenario import DEMO_START_URL
    from traycred.engine import Engine
    from traycred.sso.tokens import SsoTokenService

    home = Path(os.environ["HOME"])
    text, names = sso_config(profiles, DEMO_START_URL)
    Path(os.environ["AWS_CONFIG_FILE"]).write_text(text)
    settings = home / ".config" / "traycred" / "settings.toml"
    settings.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.write_text("".join(f"[profiles.{n}]\nmanaged = true\n\n" for n in names))
    credentials = Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"])

    with emulator_running(scenario(profiles), latency) as emulator:
        session = load().profiles[names[0]].sso_session
        assert session is not None
        SsoTokenService().sign_in(session, VisitingPrompter(), profiles=names)
        tokens_at_sign_in = emulator.count("CreateToken", status=200)

        emulator.reset_calls()
        store = counting_store(credentials)
        engine = Engine(None, credentials_store=store)
        started = time.perf_counter()
        report = engine.refresh()
        ours = time.perf_counter() - started
        if not report.ok:
            failed = [o for o in report.outcomes if not o.ok]
            raise SystemExit(f"{len(failed)} profiles failed, e.g. {failed[0].error}")
        ours_calls = emulator.count("GetRoleCredentials", status=200)
        ours_tokens = emulator.count("CreateToken")
        ours_writes = type(store).writes
        written = sum(1 for o in report.outcomes if o.sections)

        credentials.unlink()
        emulator.reset_calls()
        store = counting_store(credentials)
        type(store).writes = 0
        engine = Engine(None, credentials_store=store)
        started = time.perf_counter()
        for name in names:
            one = engine.refresh([name], mark_managed=False)
            if not one.ok:
                raise SystemExit(f"reference refresh of {name} failed: {one.outcomes[0].error}")
        reference = time.perf_counter() - started
        reference_calls = emulator.count("GetRoleCredentials", status=200)
        reference_writes = type(store).writes

    return {
        "profiles": profiles,
        "latency_ms": round(latency * 1000),
        "traycred_s": round(ours, 3),
        "reference_s": round(reference, 3),
        "speedup": round(reference / ours, 1),
        "traycred_get_role_credentials": ours_calls,
        "traycred_new_tokens": ours_tokens,
        "traycred_file_writes": ours_writes,
        "traycred_profiles_written": written,
        "tokens_issued_for_the_session": tokens_at_sign_in,
        "reference_get_role_credentials": reference_calls,
        "reference_file_writes": reference_writes,
        "target_s": TARGET_SECONDS,
        "met": ours < TARGET_SECONDS
        and ours_calls == profiles
        and ours_tokens == 0
        and ours_writes == 1,
    }


MFA_CONFIG = """\
[default]
region = us-east-1

[profile alice]
mfa_serial = {serial}

[profile admin]
role_arn = {admin}
source_profile = alice

[profile deploy]
role_arn = {deploy}
source_profile = alice

[profile readonly]
role_arn = {readonly}
source_profile = alice
"""


def bench_network_calls() -> dict[str, Any]:
    """GetSessionToken per source per MFA session, and calls made while nothing is near expiry."""
    from traycred.credentials import utcnow
    from traycred.emulator import Scenario
    from traycred.emulator.scenario import (
        ADMIN_ROLE_ARN,
        ALICE_ACCESS_KEY_ID,
        ALICE_MFA_SERIAL,
        ALICE_SECRET_ACCESS_KEY,
        DEPLOY_ROLE_ARN,
        READONLY_ROLE_ARN,
    )
    from traycred.engine import Engine, SchedulerEngine
    from traycred.prompt.noninteractive import NonInteractivePrompter
    from traycred.scheduler import Scheduler

    Path(os.environ["AWS_CONFIG_FILE"]).write_text(
        MFA_CONFIG.format(
            serial=ALICE_MFA_SERIAL,
            admin=ADMIN_ROLE_ARN,
            deploy=DEPLOY_ROLE_ARN,
            readonly=READONLY_ROLE_ARN,
        )
    )
    # Long-term key in the credentials file: this benchmark leaves the user's keyring alone.
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        f"[alice]\naws_access_key_id = {ALICE_ACCESS_KEY_ID}\n"
        f"aws_secret_access_key = {ALICE_SECRET_ACCESS_KEY}\n"
    )
    settings = Path(os.environ["XDG_CONFIG_HOME"]) / "traycred" / "settings.toml"
    settings.unlink(missing_ok=True)
    roles = ["admin", "deploy", "readonly"]
    with emulator_running(Scenario.demo(), 0.0) as emulator:
        # One engine, as the tray or the daemon keeps one: the day's first refresh asks for a
        # code, the second (every role again) must not call GetSessionToken again.
        engine = Engine(NonInteractivePrompter("123456", stdin_pipe=False))
        first = engine.refresh(roles)
        second = engine.refresh(roles)
        if not (first.ok and second.ok):
            raise SystemExit(f"MFA refresh failed: {first.outcomes} {second.outcomes}")
        get_session_token = emulator.count("GetSessionToken")
        assume_role = emulator.count("AssumeRole", status=200)

        # Nothing near expiry (1 h roles, 10 min margin): the scheduler must stay silent.
        emulator.reset_calls()
        scheduler = Scheduler(SchedulerEngine(engine), engine.settings)
        scheduler.start()
        started = utcnow()
        time.sleep(IDLE_SECONDS)
        scheduler.stop()
        idle_calls = len(emulator.calls)
        idle_seconds = (utcnow() - started).total_seconds()
    return {
        "mfa_refreshes_of_3_roles": 2,
        "get_session_token_calls": get_session_token,
        "assume_role_calls": assume_role,
        "idle_scheduler_seconds": round(idle_seconds, 1),
        "idle_calls": idle_calls,
        "met": get_session_token == 1 and idle_calls == 0,
    }


def figures(sso: dict[str, Any], calls: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for benchmarks/run.py's table: figure, measured, reference, target, met."""
    n = sso["profiles"]
    return [
        {
            "figure": f"{n} SSO profiles refreshed ({sso['latency_ms']} ms latency)",
            "measured": f"{sso['traycred_s']:.2f} s",
            "reference": f"{sso['reference_s']:.2f} s one at a time",
            "target": f"< {TARGET_SECONDS:.0f} s",
            "met": sso["traycred_s"] < TARGET_SECONDS,
        },
        {
            "figure": f"  ... calls and writes for {n} profiles",
            "measured": f"{sso['traycred_get_role_credentials']} GetRoleCredentials, "
            f"{sso['traycred_new_tokens']} new tokens, {sso['traycred_file_writes']} write",
            "reference": f"{sso['reference_file_writes']} writes",
            "target": f"{n} calls, 0 new tokens, 1 write",
            "met": sso["met"],
        },
        {
            "figure": "tokens per SSO session",
            "measured": str(sso["tokens_issued_for_the_session"]),
            "reference": "-",
            "target": "1",
            "met": sso["tokens_issued_for_the_session"] == 1 and sso["traycred_new_tokens"] == 0,
        },
        {
            "figure": "GetSessionToken per source per MFA session",
            "measured": f"{calls['get_session_token_calls']} for 2 refreshes of 3 roles",
            "reference": f"{calls['assume_role_calls']} AssumeRole",
            "target": "1",
            "met": calls["get_session_token_calls"] == 1,
        },
        {
            "figure": "calls while nothing is near expiry",
            "measured": f"{calls['idle_calls']} in {calls['idle_scheduler_seconds']} s",
            "reference": "-",
            "target": "0",
            "met": calls["idle_calls"] == 0,
        },
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="traycred-bench-sso-"))
    try:
        isolate(home)
        sso = bench_sso(args.profiles, args.latency_ms / 1000.0)
        calls = bench_network_calls()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    rows = figures(sso, calls)
    result = {
        "benchmark": "SSO refresh and network calls",
        "sso": sso,
        "network_calls": calls,
        "figures": rows,
        "meets_targets": all(row["met"] for row in rows),
        "python": sys.version.split()[0],
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    print(
        f"{sso['profiles']} SSO profiles of one session, emulator latency {sso['latency_ms']} ms:"
    )
    print(
        f"  traycred (parallel, one write): {sso['traycred_s']:6.2f} s   "
        f"{sso['traycred_get_role_credentials']} GetRoleCredentials, "
        f"{sso['traycred_new_tokens']} new tokens, {sso['traycred_file_writes']} file write"
    )
    print(
        f"  reference (one at a time):      {sso['reference_s']:6.2f} s   "
        f"{sso['reference_get_role_credentials']} GetRoleCredentials, "
        f"{sso['reference_file_writes']} file writes"
    )
    print(
        f"  speed-up {sso['speedup']}x; target < {TARGET_SECONDS:.0f} s -> "
        f"{'met' if rows[0]['met'] else 'NOT met'}"
    )
    print("network calls:")
    for row in rows[2:]:
        print(
            f"  {row['figure']}: {row['measured']} (target {row['target']}) -> "
            f"{'met' if row['met'] else 'NOT met'}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
