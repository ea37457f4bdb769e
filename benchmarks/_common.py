"""What the bench_* scripts share: a throw-away HOME that traycred, boto3 and the AWS files live in.

Imported as `_common` (each benchmark runs as a script, so this folder is first on sys.path);
benchmarks stand alone and never import the tests package.
"""

from __future__ import annotations

import os
from pathlib import Path

# The shell's AWS identity would outrank the throw-away files.
_SHELL_IDENTITY = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def throwaway_home(home: Path) -> dict[str, str]:
    """Variables pointing HOME, the AWS files, the XDG folders and traycred's runtime into `home`.

    Creates `home/.aws` and `home/run` (0700) and drops the shell's AWS identity variables from
    this process's environment. The AWS files themselves are left to the caller.
    """
    aws = home / ".aws"
    aws.mkdir(mode=0o700, parents=True)
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    for name in _SHELL_IDENTITY:
        os.environ.pop(name, None)
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TRAYCRED_RUNTIME_DIR": str(runtime),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
