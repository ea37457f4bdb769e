"""`traycred refresh [PROFILE ...] [--mfa-code CODE] [--output NAME]`: fetch and write now."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from traycred.credentials import format_iso, utcnow


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
    from traycred.engine import Engine
    from traycred.prompt.terminal import prompter_for_cli

    engine = Engine(prompter_for_cli(args))
    report = engine.refresh(args.profiles or None, output=args.output)
    if not report.outcomes:
        print(
            "traycred: no managed profiles to refresh; name one, e.g. `traycred refresh PROFILE`.",
            file=sys.stderr,
        )
        return 0
    for outcome in report.outcomes:
        if outcome.error is not None:
            print(f"traycred: {outcome.profile}: {outcome.error}", file=sys.stderr)
            continue
        sections = ", ".join(f"[{s}]" for s in outcome.sections)
        print(f"{outcome.profile}: {sections} {describe_expiry(outcome.expiration)}")
        for note in outcome.notes:
            print(f"traycred: {note}", file=sys.stderr)
    return report.exit_code
