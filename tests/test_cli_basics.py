"""The command line itself: version, help listing every command, usage errors."""

from __future__ import annotations

import subprocess
import sys

from traycred import __version__
from traycred.cli.dispatch import COMMANDS


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traycred", *args], capture_output=True, text=True, timeout=60
    )


def test_version_prints_the_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"traycred {__version__}"


def test_help_lists_every_command_of_the_spec() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
    for command in ("credential-process", "doctor", "keys", "refresh", "use", "env", "demo"):
        assert command in result.stdout


def test_unknown_command_is_a_usage_error_with_one_line() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "invalid choice" in result.stderr
