"""The `traycred` entry point: a fast path for `credential-process`, else full CLI dispatch.

Imports only `sys` at module level. SPEC §6 wants `credential-process` answered by a running
tray or daemon in tens of milliseconds, so that path must not pay for argparse, logging or any
engine module; everything else goes through traycred.cli.dispatch.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the fast path
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if len(raw) == 2 and raw[0] == "credential-process" and not raw[1].startswith("-"):
        # The client imports only the standard library; it returns None when no instance
        # answered (or the instance needs the user and we have a terminal to ask on), and then
        # the command runs directly as usual.
        from traycred.channel.client import credential_process

        answered = credential_process(raw[1])
        if answered is not None:
            return answered
    from traycred.cli.dispatch import run_command

    return run_command(argv)


if __name__ == "__main__":
    raise SystemExit(main())
