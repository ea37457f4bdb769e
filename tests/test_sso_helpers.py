"""Shared pieces of the SSO tests: the config, prompters that act like a user, a BROWSER script.

(No tests here; the name only keeps the module in the SSO tests' file pattern.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from traycred import paths
from traycred.config import SsoSessionConfig
from traycred.emulator import Emulator, Scenario
from traycred.emulator.scenario import DEMO_START_URL
from traycred.prompt.base import MfaRequest, SignInRequest

CONFIG = f"""\
# my AWS config
[default]
region = eu-west-1

[sso-session demo]
sso_start_url = {DEMO_START_URL}
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile prod-ro]
sso_session = demo
sso_account_id = 333333333333
sso_role_name = ReadOnly
region = us-east-1

[profile dev-admin]
sso_session = demo
sso_account_id = 111111111111
sso_role_name = AdministratorAccess

[profile legacy-dev]
sso_start_url = {DEMO_START_URL}
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = ReadOnly
"""

SESSION = SsoSessionConfig(
    name="demo",
    start_url=DEMO_START_URL,
    region="us-east-1",
    registration_scopes=("sso:account:access",),
)
LEGACY = SsoSessionConfig(
    name=DEMO_START_URL, start_url=DEMO_START_URL, region="us-east-1", legacy=True
)


def cache_file(session: SsoSessionConfig = SESSION) -> Path:
    """Where the AWS CLI keeps `session`'s token: sha1 of its name (or start URL) in the cache."""
    return paths.sso_cache_dir() / f"{session.cache_key}.json"


def write_config(text: str = CONFIG) -> Path:
    path = Path(os.environ["AWS_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def fast_scenario(**sso: object) -> Scenario:
    """The demo scenario, polled as fast as the client likes, approved by a visit to the page."""
    return Scenario.demo().replace(auto_approve_on_visit=True).replace_sso(poll_interval=0, **sso)


def visit(url: str) -> None:
    """What a browser does with the verification URL: GET it."""
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - the emulator's URL
        answer.read()


@dataclass
class UserPrompter:
    """A Prompter that acts like the user at the browser: visit, approve, deny or walk away."""

    emulator: Emulator
    action: str = "visit"  # visit | approve | deny | none
    cancel_after: int | None = None  # sign_in_cancelled() polls before the user cancels
    started: list[SignInRequest] = field(default_factory=list)
    finished: list[str | None] = field(default_factory=list)
    cancel_polls: int = 0

    def mfa_code(self, request: MfaRequest) -> str:
        raise AssertionError("no MFA in SSO tests")

    def sign_in_started(self, request: SignInRequest) -> None:
        self.started.append(request)
        if self.action == "visit":
            visit(request.verification_uri_complete)
        elif self.action == "approve":
            self.emulator.approve(request.user_code)
        elif self.action == "deny":
            self.emulator.deny(request.user_code)

    def sign_in_cancelled(self) -> bool:
        self.cancel_polls += 1
        return self.cancel_after is not None and self.cancel_polls > self.cancel_after

    def sign_in_finished(self, request: SignInRequest, error: str | None) -> None:
        self.finished.append(error)


def browser_script(folder: Path, record: Path, *, delay: float = 0.0) -> Path:
    """An executable for BROWSER: appends the URL it is given to `record`, then fetches it
    (after `delay` seconds, like a user who takes a moment to click)."""
    script = folder / "fake-browser"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import sys, time, urllib.request
            with open({str(record)!r}, "a") as out:
                out.write(sys.argv[1] + "\\n")
            time.sleep({delay!r})
            urllib.request.urlopen(sys.argv[1], timeout=10).read()
            """
        ),
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `traycred ARGS` in a child process with this test's environment (plus `env`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "traycred", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    process = cli(*args, env=env)
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)
