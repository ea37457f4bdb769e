"""The engine over SSO profiles: parallel GetRoleCredentials on one token, roles chained on SSO."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from tests.test_sso_helpers import CONFIG, SESSION, UserPrompter, fast_scenario, write_config
from traycred.credentials import utcnow
from traycred.emulator import Emulator, Scenario
from traycred.emulator.scenario import Role
from traycred.engine import Engine
from traycred.errors import SignInNeededError
from traycred.sso.tokens import SsoTokenService

Factory = Callable[[Scenario], Emulator]
TOOLS_ROLE_ARN = "arn:aws:iam::111111111111:role/tools"
ROLE_ON_SSO = f"""
[profile sso-deploy]
role_arn = {TOOLS_ROLE_ARN}
source_profile = dev-admin
duration_seconds = 7200
"""


def test_sso_profiles_refresh_together_on_one_token(
    isolated_home: Path, emulator_factory: Factory
) -> None:
    scenario = fast_scenario()
    # A role any principal of its account may assume, with a long maximum: only the chain caps.
    tools = Role(TOOLS_ROLE_ARN, trusted=("*",), max_session_duration=43200)
    emu = emulator_factory(scenario.replace(roles=(*scenario.roles, tools)))
    write_config(CONFIG + ROLE_ON_SSO)
    SsoTokenService().sign_in(SESSION, UserPrompter(emu))
    emu.reset_calls()

    report = Engine(None).refresh(["prod-ro", "dev-admin", "sso-deploy"])
    assert report.ok, report.outcomes
    assert emu.count("CreateToken") == 0
    assert emu.count("GetRoleCredentials") == 2
    # A role on an SSO role session is role chaining: capped at one hour whatever was asked.
    (assume,) = [c for c in emu.calls if c.operation == "AssumeRole"]
    assert assume.params.get("DurationSeconds") == "3600"
    chained = next(o for o in report.outcomes if o.profile == "sso-deploy")
    assert chained.expiration is not None
    assert chained.expiration - utcnow() <= timedelta(hours=1, minutes=1)
    text = Path(isolated_home / ".aws" / "credentials").read_text()
    assert all(f"[{name}]" in text for name in ("prod-ro", "dev-admin", "sso-deploy"))


def test_sso_without_sign_in_needs_the_user(isolated_home: Path, emulator_factory: Factory) -> None:
    emulator_factory(fast_scenario())
    write_config(CONFIG)
    report = Engine(None).refresh(["prod-ro", "dev-admin"])
    assert report.exit_code == 3
    assert all(isinstance(o.error, SignInNeededError) for o in report.outcomes)
    assert not (isolated_home / ".aws" / "credentials").exists()
