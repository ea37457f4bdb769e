"""`traycred daemon`: the refresh timer and the local channel without a GUI, until SIGTERM."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from traycred import daemon

    return daemon.run(debug=bool(args.debug))
