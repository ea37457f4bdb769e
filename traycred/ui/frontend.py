"""What a front end tells the user about a finished menu action (no GUI toolkit here)."""

from __future__ import annotations

from traycred.ui.model import Action
from traycred.ui.notices import Level, Notice

FAILURE_TITLES = {
    Action.USE: "Could not change the default profile",
    Action.KEEP_FRESH: "Could not keep the profile fresh",
    Action.REFRESH: "Refresh failed",
    Action.REFRESH_ALL: "Refresh failed",
    Action.SIGN_IN: "SSO sign-in failed",
    Action.ENTER_MFA: "Refresh failed",
    Action.COPY_EXPORT: "Could not copy the export lines",
    Action.OPEN_CONSOLE: "Could not open the AWS console",
    Action.ADD_KEY: "Could not store the access key",
    Action.IMPORT_KEYS: "Could not import the keys",
    Action.SETTINGS: "Could not save the settings",
}


def done_notice(action: Action, message: str) -> Notice:
    return Notice(("done", str(action)), "traycred", message, Level.INFO)


def failure_notice(action: Action, message: str) -> Notice:
    title = FAILURE_TITLES.get(action, "traycred")
    return Notice(("failed", str(action)), title, message, Level.ERROR)
