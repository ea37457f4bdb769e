"""Credentials as environment assignments for each shell (`traycred env`), quoted for that shell."""

from __future__ import annotations

import json
import re

from traycred.credentials import Credentials, format_iso
from traycred.errors import TraycredError, UsageError

FORMATS = ("sh", "fish", "powershell", "cmd", "dotenv", "json")
_DOTENV_BARE = re.compile(r"^[A-Za-z0-9_./+=:@-]*$")
# PowerShell closes a single-quoted string on any of these (it accepts typographic quotes).
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"
# cmd.exe has no escape inside `set "NAME=value"` for these; AWS values never contain them.
_CMD_UNSAFE = re.compile(r'["%!\r\n\x00-\x1f]')


def variables(credentials: Credentials) -> list[tuple[str, str | None]]:
    """The SPEC §5 variables in order; None means "unset it" (no token, or no expiry)."""
    return [
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key),
        ("AWS_SESSION_TOKEN", credentials.session_token),
        (
            "AWS_CREDENTIAL_EXPIRATION",
            format_iso(credentials.expiration) if credentials.expiration else None,
        ),
    ]


def quote_sh(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def quote_fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_powershell(value: str) -> str:
    for quote in _PS_QUOTES:
        value = value.replace(quote, quote * 2)
    return "'" + value + "'"


def _cmd_value(name: str, value: str) -> str:
    if _CMD_UNSAFE.search(value):
        raise TraycredError(
            f"{name} holds characters cmd.exe cannot take safely; use --format json."
        )
    return value


def _dotenv_value(name: str, value: str) -> str:
    if _DOTENV_BARE.match(value):
        return value
    if "'" in value or "\n" in value or "\r" in value:
        raise TraycredError(f"{name} cannot be written safely as dotenv; use --format json.")
    return "'" + value + "'"


def render(credentials: Credentials, fmt: str) -> str:
    """The assignments as text ending with a newline, ready for `eval` / `source` / a file."""
    pairs = variables(credentials)
    lines: list[str] = []
    if fmt == "json":
        return json.dumps({k: v for k, v in pairs if v is not None}, indent=2) + "\n"
    for name, value in pairs:
        if fmt == "sh":
            lines.append(
                f"export {name}={quote_sh(value)}" if value is not None else f"unset {name}"
            )
        elif fmt == "fish":
            lines.append(
                f"set -gx {name} {quote_fish(value)}" if value is not None else f"set -e {name}"
            )
        elif fmt == "powershell":
            lines.append(
                f"$Env:{name} = {quote_powershell(value)}"
                if value is not None
                else f"Remove-Item Env:{name} -ErrorAction SilentlyContinue"
            )
        elif fmt == "cmd":
            lines.append(f'set "{name}={_cmd_value(name, value) if value is not None else ""}"')
        elif fmt == "dotenv":
            if value is not None:
                lines.append(f"{name}={_dotenv_value(name, value)}")
        else:
            raise UsageError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    return "\n".join(lines) + "\n"
