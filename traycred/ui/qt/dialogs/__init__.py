"""traycred's Qt dialogs: they collect input and show state; no AWS, keyring or file I/O inside."""

from __future__ import annotations

from traycred.ui.qt.dialogs.about import AboutDialog
from traycred.ui.qt.dialogs.add_key import AddKeyDialog, NewAccessKey
from traycred.ui.qt.dialogs.mfa import MfaDialog
from traycred.ui.qt.dialogs.sso import SsoSignInDialog

__all__ = ["AboutDialog", "AddKeyDialog", "MfaDialog", "NewAccessKey", "SsoSignInDialog"]
