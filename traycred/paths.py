"""Where files live: the AWS files (honouring AWS_* variables) and traycred's own folders."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "traycred"


def aws_config_file() -> Path:
    """The AWS config file: `AWS_CONFIG_FILE` or `~/.aws/config`, as botocore resolves it."""
    return Path(os.path.expanduser(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"))


def aws_credentials_file() -> Path:
    """The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`."""
    env = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(os.path.expanduser(env or "~/.aws/credentials"))


def sso_cache_dir() -> Path:
    """The SSO token cache shared with the AWS CLI and every SDK."""
    return Path(os.path.expanduser("~/.aws/sso/cache"))


def settings_dir() -> Path:
    """traycred's own config folder (settings.toml)."""
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def settings_file() -> Path:
    return settings_dir() / "settings.toml"


def state_dir() -> Path:
    """Where traycred keeps non-secret state (never credentials)."""
    from platformdirs import user_state_path

    return user_state_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    from platformdirs import user_log_path

    return user_log_path(APP_NAME, appauthor=False)


def runtime_dir() -> Path:
    """Per-user runtime folder for the local socket (XDG_RUNTIME_DIR on Linux).

    `TRAYCRED_RUNTIME_DIR` overrides it (tests, and users who run several isolated instances).
    """
    override = os.environ.get("TRAYCRED_RUNTIME_DIR")
    if override:
        return Path(override)
    from platformdirs import user_runtime_path

    return user_runtime_path(APP_NAME, appauthor=False)
