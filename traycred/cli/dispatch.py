"""Parse the command line and dispatch to one module per command; map errors to exit codes.

Free of heavy imports (boto3, botocore, keyring, Qt): each command module imports what it needs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from traycred import __version__
from traycred.errors import TraycredError

ENV_FORMATS = ("sh", "fish", "powershell", "cmd", "dotenv", "json")
# command name -> module under traycred.cli that defines `run(args) -> int`
COMMANDS: dict[str, str] = {
    "tray": "cmd_tray",
    "profiles": "cmd_profiles",
    "status": "cmd_status",
    "keys": "cmd_keys",
    "login": "cmd_login",
    "logout": "cmd_logout",
    "refresh": "cmd_refresh",
    "use": "cmd_use",
    "env": "cmd_env",
    "credential-process": "cmd_credential_process",
    "daemon": "cmd_daemon",
    "doctor": "cmd_doctor",
    "demo": "cmd_demo",
    "sso": "cmd_sso",
    "autostart": "cmd_autostart",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"traycred: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="traycred",
        description="Keeps short-lived AWS credentials fresh in the shared credentials file; "
        "long-term keys stay in the OS keyring. With no command, starts the tray app.",
    )
    parser.add_argument("--version", action="version", version=f"traycred {__version__}")
    parser.add_argument("--debug", action="store_true", help="log details and show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    tray = sub.add_parser("tray", help="the tray app (the default)")
    tray.add_argument("--backend", choices=("qt", "pystray"), default="qt")

    p = sub.add_parser("profiles", help="every profile: kind, source chain, output, expiry")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("status", help="managed profiles, expiry, the default, what needs you")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    keys = sub.add_parser("keys", help="long-term access keys in the OS keyring")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    k = keys_sub.add_parser("add", help="store a long-term key (secret read hidden or from stdin)")
    k.add_argument("profile")
    k.add_argument("--access-key-id", metavar="ID")
    keys_sub.add_parser("list", help="stored keys (ids only)")
    k = keys_sub.add_parser("remove", help="delete a stored key")
    k.add_argument("profile")
    k = keys_sub.add_parser(
        "import", help="move plaintext keys from the credentials file into the keyring"
    )
    k.add_argument("profiles", nargs="*", metavar="PROFILE")
    k.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = sub.add_parser("login", help="SSO sign-in (device authorization in your browser)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("profile", nargs="?")
    who.add_argument("--sso-session", metavar="NAME")
    p.add_argument("--no-browser", action="store_true", help="print the URL, do not open it")

    p = sub.add_parser("logout", help="end SSO sessions and remove what traycred wrote for them")
    who = p.add_mutually_exclusive_group()
    who.add_argument("profile", nargs="?")
    who.add_argument("--sso-session", metavar="NAME")
    who.add_argument("--all", action="store_true")

    p = sub.add_parser("refresh", help="fetch fresh credentials now and write them")
    p.add_argument("profiles", nargs="*", metavar="PROFILE")
    p.add_argument("--mfa-code", metavar="CODE", help="a six-digit MFA code")
    p.add_argument("--output", metavar="NAME", help="write to this section instead")

    p = sub.add_parser("use", help="make PROFILE the default ([default] is kept fresh)")
    p.add_argument("profile")
    p.add_argument("--mfa-code", metavar="CODE", help="a six-digit MFA code")

    p = sub.add_parser("env", help="print credentials as environment assignments")
    p.add_argument("profile")
    p.add_argument("--format", choices=ENV_FORMATS, default="sh")
    p.add_argument("--mfa-code", metavar="CODE", help="a six-digit MFA code")

    p = sub.add_parser("credential-process", help="JSON for `credential_process` in ~/.aws/config")
    p.add_argument("profile")

    sub.add_parser("daemon", help="the refresh timer without a GUI")
    sub.add_parser("doctor", help="check keyring, permissions, shadowed profiles, overrides")
    p = sub.add_parser("demo", help="the tray against a built-in local AWS emulator")
    p.add_argument("--backend", choices=("qt", "pystray"), default="qt")
    p.add_argument("--no-tray", action="store_true", help=argparse.SUPPRESS)

    sso = sub.add_parser("sso", help="SSO discovery: accounts, roles, profiles")
    sso_sub = sso.add_subparsers(dest="sso_command", metavar="ACTION", required=True)
    s = sso_sub.add_parser("accounts", help="list accounts and roles of an SSO session")
    s.add_argument("--sso-session", metavar="NAME", required=True)
    s = sso_sub.add_parser("populate", help="add a profile for every account/role pair")
    s.add_argument("--sso-session", metavar="NAME", required=True)
    s.add_argument("--yes", action="store_true", help="write without asking")

    a = sub.add_parser("autostart", help="start traycred at login")
    a.add_argument("action", choices=("enable", "disable", "status"))
    return parser


def _load(command: str) -> Callable[[argparse.Namespace], int]:
    module = importlib.import_module(f"traycred.cli.{COMMANDS[command]}")
    runner: Callable[[argparse.Namespace], int] = module.run
    return runner


def run_command(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]), run the command, map errors to exit codes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["tray", *(argv or sys.argv[1:])])
    debug = bool(args.debug or os.environ.get("TRAYCRED_DEBUG"))
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="traycred: %(levelname)s: %(message)s",
    )
    runner = _load(args.command)
    try:
        return runner(args)
    except TraycredError as exc:
        if debug:
            raise
        print(f"traycred: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("traycred: cancelled.", file=sys.stderr)
        return 130
