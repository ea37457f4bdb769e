"""`traycred autostart enable|disable|status`: the platform's login item for the tray."""

from __future__ import annotations

import argparse
import shlex

from traycred import autostart


def run(args: argparse.Namespace) -> int:
    if args.action == "enable":
        result = autostart.enable()
        print(f"traycred will start at login ({result.location}).")
    elif args.action == "disable":
        result = autostart.disable()
        print(f"traycred will not start at login ({result.location} removed).")
    else:
        result = autostart.status()
        if result.enabled and result.command:
            command = " ".join(shlex.quote(p) for p in result.command)
            print(f"enabled: {result.location} runs `{command}`")
        else:
            print(f"disabled (no {result.location})")
    return 0
