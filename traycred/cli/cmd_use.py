"""`traycred use PROFILE`: make PROFILE the default ([default] gets its credentials)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from traycred.cli.cmd_refresh import describe_expiry
    from traycred.engine import Engine
    from traycred.prompt.terminal import prompter_for_cli

    outcome = Engine(prompter_for_cli(args)).use(args.profile)
    print(f"{outcome.profile} is the default: [default] {describe_expiry(outcome.expiration)}")
    for note in outcome.notes:
        print(f"traycred: {note}", file=sys.stderr)
    return 0
