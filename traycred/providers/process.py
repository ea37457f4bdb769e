"""`credential_process`: run the command like botocore does and read its JSON (Version 1)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import PurePath
from typing import Any

from traycred.credentials import Credentials, parse_iso
from traycred.errors import ConfigError, TraycredError

PROCESS_TIMEOUT_SECONDS = 120.0
# Guards against `credential_process = traycred credential-process X` resolving X through
# itself: each nested traycred run raises the depth, and a deep nest is a loop.
DEPTH_VARIABLE = "TRAYCRED_PROCESS_DEPTH"
MAX_DEPTH = 4


def split_command(command: str) -> list[str]:
    """Split like botocore's compat_shell_split: POSIX rules, Windows rules on Windows."""
    return shlex.split(command, posix=os.name != "nt")


class ProcessProvider:
    """Runs `command` and parses its output. Messages name the program, never its arguments
    (which may hold secrets)."""

    def __init__(
        self, profile: str, command: str, timeout: float = PROCESS_TIMEOUT_SECONDS
    ) -> None:
        self.profile = profile
        self.command = command
        self.timeout = timeout

    def retrieve(self) -> Credentials:
        try:
            argv = split_command(self.command)
        except ValueError:
            raise ConfigError(
                f"The credential_process of profile {self.profile} cannot be parsed "
                "(unbalanced quotes?).",
                hint="Fix it in your AWS config file.",
            ) from None
        if not argv:
            raise ConfigError(f"The credential_process of profile {self.profile} is empty.")
        program = PurePath(argv[0]).name
        where = f"credential_process of profile {self.profile} ({program})"
        depth = int(os.environ.get(DEPTH_VARIABLE, "0") or 0)
        if depth >= MAX_DEPTH:
            raise ConfigError(
                f"The {where} calls traycred, which calls it again: a loop.",
                hint="Point credential_process at a profile that does not use it.",
            )
        env = {**os.environ, DEPTH_VARIABLE: str(depth + 1)}
        try:
            result = subprocess.run(
                argv, capture_output=True, timeout=self.timeout, env=env, check=False
            )
        except FileNotFoundError:
            raise ConfigError(
                f"The {where} cannot run: {program} not found.",
                hint="Check the command in your AWS config file.",
            ) from None
        except PermissionError:
            raise ConfigError(f"The {where} cannot run: permission denied.") from None
        except subprocess.TimeoutExpired:
            raise TraycredError(
                f"The {where} did not finish within {self.timeout:.0f} s."
            ) from None
        if result.returncode != 0:
            detail = _last_line(result.stderr)
            raise TraycredError(
                f"The {where} failed with exit code {result.returncode}"
                + (f": {detail}" if detail else ".")
            )
        return parse_process_output(result.stdout, where)


def _last_line(stream: bytes) -> str:
    lines = [line.strip() for line in stream.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else ""


def parse_process_output(stdout: bytes, where: str) -> Credentials:
    """Version 1 JSON: AccessKeyId, SecretAccessKey; optional SessionToken and Expiration."""
    try:
        data: Any = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise TraycredError(f"The {where} did not print valid JSON.") from None
    if not isinstance(data, dict):
        raise TraycredError(f"The {where} did not print a JSON object.")
    if data.get("Version") != 1:
        raise TraycredError(
            f"The {where} printed Version {data.get('Version')!r}; only Version 1 is supported."
        )
    key_id, secret = data.get("AccessKeyId"), data.get("SecretAccessKey")
    if not isinstance(key_id, str) or not key_id or not isinstance(secret, str) or not secret:
        raise TraycredError(f"The {where} did not print AccessKeyId and SecretAccessKey.")
    token = data.get("SessionToken")
    expiration = None
    raw_expiry = data.get("Expiration")
    if raw_expiry:
        try:
            expiration = parse_iso(str(raw_expiry))
        except ValueError:
            raise TraycredError(
                f"The {where} printed an Expiration that is not an ISO-8601 time."
            ) from None
    return Credentials(key_id, secret, str(token) if token else None, expiration)
