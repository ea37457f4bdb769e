"""`traycred credential-process PROFILE`: the JSON botocore's `credential_process` reads.

SDKs run it without a human at hand: it never reads stdin (that belongs to the SDK's caller)
and, with no terminal to ask on, exits 3 with a message instead of waiting for an MFA code.
"""

from __future__ import annotations

import argparse
import json
import sys

NO_TERMINAL_HINT = (
    "Run `traycred refresh PROFILE` in a terminal (one code serves the whole MFA session), "
    "or keep the traycred tray running to be asked there."
)


def run(args: argparse.Namespace) -> int:
    from traycred.channel import client

    # The running tray or daemon answers fastest (and its dialogs can ask for MFA/sign-in).
    answered = client.credential_process(args.profile)
    if answered is not None:
        return answered

    from traycred.engine import Engine
    from traycred.prompt.terminal import prompter_for_cli

    prompter = prompter_for_cli(
        args, allow_stdin=False, hint=NO_TERMINAL_HINT.replace("PROFILE", args.profile)
    )
    credentials = Engine(prompter).credentials_for(args.profile)
    sys.stdout.write(json.dumps(credentials.process_output()) + "\n")
    sys.stdout.flush()
    return 0
