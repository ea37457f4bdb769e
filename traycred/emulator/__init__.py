"""A local AWS (STS, SSO OIDC, SSO portal) over real HTTP, behind the tests and `traycred demo`.

from traycred.emulator import Emulator, Scenario
with Emulator(Scenario.demo()) as emu:
    os.environ.update(emu.env())   # boto3 now talks to the emulator
"""

from traycred.emulator.scenario import (
    Account,
    IamUser,
    Role,
    Scenario,
    Sso,
    SsoAccount,
)
from traycred.emulator.server import Call, Emulator, Faults

__all__ = [
    "Account",
    "Call",
    "Emulator",
    "Faults",
    "IamUser",
    "Role",
    "Scenario",
    "Sso",
    "SsoAccount",
]
