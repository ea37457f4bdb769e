"""`traycred env PROFILE --format ...`: credentials as environment assignments on stdout."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from traycred import envformat
    from traycred.engine import Engine
    from traycred.prompt.terminal import prompter_for_cli

    credentials = Engine(prompter_for_cli(args)).credentials_for(args.profile)
    text = envformat.render(credentials, args.format)
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0
