"""`traycred refresh [PROFILE ...] [--mfa-code CODE] [--output NAME]`: fetch and write now.

When a tray or daemon is running, it does the refresh (its scheduler then keeps the profiles
fresh, and two processes never race for the same MFA session); the code given with --mfa-code
travels over the channel. What it cannot do without the user (no MFA session, an SSO sign-in)
is asked here when there is a terminal, and the instance is told to pick it up. With no
instance, or with --output, the refresh runs in this process.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from traycred.credentials import format_iso, parse_iso, utcnow

if TYPE_CHECKING:
    from traycred.channel.client import InstanceError
    from traycred.prompt.base import Prompter

# The instance may wait for its own dialog (the tray's MFA prompt) before answering.
INSTANCE_TIMEOUT = 900.0


def describe_expiry(expiration: datetime | None) -> str:
    """`until 2025-01-01T12:00:00Z (in 11 h 59 min)`."""
    if expiration is None:
        return "with no expiry"
    seconds = int((expiration - utcnow()).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes = rest // 60
    left = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"until {format_iso(expiration)} (in {left})"


def run(args: argparse.Namespace) -> int:
    from traycred.prompt.terminal import prompter_for_cli

    prompter = prompter_for_cli(args)  # checks --mfa-code before anything else
    names: list[str] = list(dict.fromkeys(args.profiles or ()))
    instance: dict[str, Any] | None = None
    if args.output is None:
        from traycred.channel import client

        instance = client.ping()
        if instance is not None:
            answered = _via_instance(names, args.mfa_code, prompter)
            if answered is not None:
                return answered
    return _direct(names, args.output, prompter, tell_instance=instance is not None)


def _direct(
    names: list[str], output: str | None, prompter: Prompter, *, tell_instance: bool
) -> int:
    from traycred.engine import Engine

    engine = Engine(prompter)
    report = engine.refresh(names or None, output=output)
    if not report.outcomes:
        _nothing_to_refresh()
        return 0
    failures: dict[str, list[str]] = {}
    for outcome in report.outcomes:
        if outcome.error is not None:
            failures.setdefault(str(outcome.error), []).append(outcome.profile)
            continue
        _print_written(outcome.profile, outcome.sections, outcome.expiration)
    _print_failures(failures)
    for note in report.notes:
        print(f"traycred: {note}", file=sys.stderr)
    if tell_instance:
        # A running instance (asked first, or skipped for --output) re-reads the settings and
        # stops waiting for the user on what this run solved.
        from traycred.channel import client

        client.resume([o.profile for o in report.outcomes if o.ok])
    return report.exit_code


def _via_instance(names: list[str], mfa_code: str | None, prompter: Prompter) -> int | None:
    """Refresh through the running instance; None when this process should do it all."""
    from traycred.channel import client
    from traycred.engine import Engine, refresh_sections
    from traycred.prompt.terminal import has_terminal

    engine = Engine(None)
    settings = engine.settings()
    args: dict[str, Any] = {"profiles": names}
    if mfa_code is not None:
        args["mfa_code"] = mfa_code.strip()
    try:
        result = client.call("refresh", args, timeout=INSTANCE_TIMEOUT)
    except client.Unavailable:
        return None
    except client.InstanceError as exc:
        if done_here(exc):
            return None
        print(f"traycred: {exc.message}", file=sys.stderr)
        return exc.exit_code
    if not isinstance(result, dict) or not result:
        _nothing_to_refresh()
        return 0

    exit_codes: list[int] = []
    written: dict[str, tuple[str, ...]] = {}
    ask_here: list[str] = []
    failures: dict[str, list[str]] = {}
    for name, outcome in result.items():
        if not isinstance(outcome, dict):
            continue
        if outcome.get("ok"):
            # What the instance's refresh (Engine.refresh without marking managed) wrote.
            sections = tuple(refresh_sections(settings, name))
            written[name] = sections
            raw = outcome.get("expiration")
            _print_written(name, sections, parse_iso(raw) if isinstance(raw, str) else None)
            continue
        if outcome.get("needs_user") and has_terminal():
            ask_here.append(name)
            continue
        failures.setdefault(str(outcome.get("message")), []).append(name)
        exit_codes.append(3 if outcome.get("needs_user") else int(outcome.get("exit_code", 1)))
    _print_failures(failures)
    for note in engine.shadow_notes(written):
        print(f"traycred: {note}", file=sys.stderr)
    if ask_here:
        # The instance cannot ask (the daemon) or was not answered: ask on this terminal, then
        # let the instance carry on from what was written.
        exit_codes.append(_direct(ask_here, None, prompter, tell_instance=True))
    return _worst(exit_codes)


def done_here(error: InstanceError) -> bool:
    """Whether this process does what the instance refused: it cannot take the request (an
    older or newer instance), or it needs the user and this process has a terminal to ask on."""
    from traycred.channel import protocol
    from traycred.prompt.terminal import has_terminal

    if error.kind in (protocol.UNSUPPORTED, protocol.BAD_REQUEST, protocol.VERSION):
        return True
    return error.kind == protocol.NEEDS_USER and has_terminal()


def _print_failures(failures: dict[str, list[str]]) -> None:
    """One line per distinct reason: an MFA code refused for a source fails every role on it
    with the same message, and the user should read it once."""
    for message, names in failures.items():
        print(f"traycred: {', '.join(names)}: {message}", file=sys.stderr)


def _print_written(name: str, sections: tuple[str, ...], expiration: datetime | None) -> None:
    listed = ", ".join(f"[{s}]" for s in sections)
    print(f"{name}: {listed} {describe_expiry(expiration)}")


def _nothing_to_refresh() -> None:
    print(
        "traycred: no managed profiles to refresh; name one, e.g. `traycred refresh PROFILE`.",
        file=sys.stderr,
    )


def _worst(exit_codes: list[int]) -> int:
    """0 when all went well; 3 when the user must act on any; else the highest."""
    failed = [c for c in exit_codes if c]
    if not failed:
        return 0
    return 3 if 3 in failed else max(failed)
