"""`traycred credential-process PROFILE`: the JSON botocore's `credential_process` reads.

SDKs run it without a human at hand: it never reads stdin (that belongs to the SDK's caller)
and, with no terminal to ask on, exits 3 with a message instead of waiting for an MFA code.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from traycred.credentials import Credentials, format_iso

NO_TERMINAL_HINT = (
    "Run `traycred refresh PROFILE` in a terminal (one code serves the whole MFA session), "
    "or keep the traycred tray running to be asked there."
)


def process_json(credentials: Credentials) -> str:
    data: dict[str, Any] = {
        "Version": 1,
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
    }
    if credentials.session_token is not None:
        data["SessionToken"] = credentials.session_token
    if credentials.expiration is not None:
        data["Expiration"] = format_iso(credentials.expiration)
    return json.dumps(data)


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
    sys.stdout.write(process_json(credentials) + "\n")
    sys.stdout.flush()
    return 0
