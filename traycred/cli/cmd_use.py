"""`traycred use PROFILE`: make PROFILE the default ([default] gets its credentials).

With a tray or daemon running, it makes the switch (so its timer keeps the new default fresh at
once); the code given with --mfa-code travels over the channel. When the instance needs the user
and this process has a terminal, the switch is made here and the instance told to re-read it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime


def run(args: argparse.Namespace) -> int:
    from traycred.channel import client
    from traycred.cli.cmd_refresh import INSTANCE_TIMEOUT, done_here
    from traycred.credentials import parse_iso
    from traycred.engine import Engine
    from traycred.prompt.terminal import prompter_for_cli
    from traycred.settings import DEFAULT_SECTION

    prompter = prompter_for_cli(args)  # checks --mfa-code before anything else
    instance = client.ping()
    if instance is not None:
        request = {"profile": args.profile}
        if args.mfa_code is not None:
            request["mfa_code"] = args.mfa_code.strip()
        try:
            result = client.call("use", request, timeout=INSTANCE_TIMEOUT)
        except client.Unavailable:
            pass
        except client.InstanceError as exc:
            if not done_here(exc):
                print(f"traycred: {exc.message}", file=sys.stderr)
                return exc.exit_code
        else:
            raw = result.get("expiration") if isinstance(result, dict) else None
            expiration = parse_iso(raw) if isinstance(raw, str) else None
            _print(args.profile, expiration)
            for note in Engine(None).shadow_notes({args.profile: (DEFAULT_SECTION,)}):
                print(f"traycred: {note}", file=sys.stderr)
            return 0

    outcome = Engine(prompter).use(args.profile)
    _print(outcome.profile, outcome.expiration)
    for note in outcome.notes:
        print(f"traycred: {note}", file=sys.stderr)
    if instance is not None:
        client.resume([args.profile])
    return 0


def _print(profile: str, expiration: datetime | None) -> None:
    from traycred.cli.cmd_refresh import describe_expiry

    print(f"{profile} is the default: [default] {describe_expiry(expiration)}")
