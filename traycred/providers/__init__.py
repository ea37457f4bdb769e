"""One module per way of getting credentials (SPEC §1 kinds), composed by the engine.

`with_backoff` is the throttling retry every STS provider wraps its calls in.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from traycred.errors import AwsError

_T = TypeVar("_T")
log = logging.getLogger(__name__)

# Error codes AWS uses when it sheds load; botocore's standard mode already retries them a few
# times, and these extra, slower attempts ride out a longer burst (e.g. 200 profiles at once).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
BACKOFF_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0


def with_backoff(
    operation: Callable[[], _T],
    *,
    attempts: int = BACKOFF_ATTEMPTS,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> _T:
    """Run `operation`, retrying on throttling with capped exponential backoff and full jitter."""
    for attempt in range(attempts):
        try:
            return operation()
        except AwsError as exc:
            if exc.code not in THROTTLING_CODES or attempt == attempts - 1:
                raise
            delay = random.uniform(0, min(cap, base * 2**attempt))
            log.info("throttled (%s); retrying in %.1f s", exc.code, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
