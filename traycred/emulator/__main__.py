"""`python -m traycred.emulator [--port N] [--scenario FILE]`: serve the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence

from traycred.emulator.scenario import Scenario
from traycred.emulator.server import Emulator


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m traycred.emulator",
        description="A local AWS (STS, SSO OIDC, SSO portal) for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--scenario", help="a .toml or .json scenario (default: the demo one)")
    args = parser.parse_args(argv)
    try:
        scenario = Scenario.from_file(args.scenario) if args.scenario else Scenario.demo()
    except (OSError, ValueError, TypeError) as exc:
        print(f"cannot read scenario {args.scenario}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Emulator(scenario, host=args.host, port=args.port) as emulator:
        print(emulator.url, flush=True)
        for name, value in emulator.env().items():
            print(f"export {name}={value}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
