"""Give memory back to the system after bursts of work, so an idle tray or daemon stays small.

Loading botocore's service models, parsing config files and talking to the keyring leave
megabytes of freed-but-kept heap behind; glibc keeps it unless asked (`malloc_trim`). Called on
worker threads after a piece of work, never on the GUI thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_free_memory() -> None:
    """Collect garbage and return free heap pages to the OS where the C library allows it."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
