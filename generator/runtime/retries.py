"""When and how long to wait before retrying a request.

Retried: connection failures, timeouts and the statuses in ``RETRY_STATUSES``, for methods
that are safe to repeat (``IDEMPOTENT_METHODS``) and for any method when the request carries
an idempotency key. The wait is exponential backoff with full jitter, capped at
``max_delay``; a ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date) header wins
when it asks for at most ``max_retry_after`` seconds, and a longer demand stops the retries
at once. Sleeping, the clock and the jitter are injectable, so tests never sleep.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_MAX_RETRIES = 2
IDEMPOTENCY_HEADER = "Idempotency-Key"


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # on first use: importing a client must stay cheap

    await asyncio.sleep(seconds)


def _random() -> float:
    import random

    return random.random()


@dataclass(frozen=True)
class RetryPolicy:
    """The shape of the waits between attempts (how many attempts is ``max_retries``).

    ``initial_delay`` is the backoff cap of the first retry; it doubles per retry up to
    ``max_delay``, and the wait is drawn uniformly below that cap ("full jitter").
    ``max_retry_after`` is the longest server-requested wait honoured: asked for longer,
    the client raises at once with the wait in the error's ``retry_after``. ``sleep``,
    ``async_sleep``, ``clock`` (epoch seconds, to read HTTP-date ``Retry-After``) and
    ``jitter`` (a float in [0, 1)) are injectable.
    """

    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep
    clock: Callable[[], float] = time.time
    jitter: Callable[[], float] = _random

    def __post_init__(self) -> None:
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number of seconds")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0")

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1 for the first) without server advice."""
        cap = min(self.max_delay, self.initial_delay * 2.0 ** (retry - 1))
        return self.jitter() * cap

    def server_wait(self, headers: Mapping[str, str] | None) -> float | None:
        """The wait a response asks for in seconds (``retry-after-ms`` first), if any."""
        if headers is None:
            return None
        return retry_after_seconds(headers, self.clock)


def retry_after_seconds(headers: Mapping[str, str], clock: Callable[[], float]) -> float | None:
    """``retry-after-ms`` (milliseconds) or ``Retry-After`` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    text = headers.get("retry-after")
    if text is None:
        return None
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        return max(when.timestamp() - clock(), 0.0)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def new_idempotency_key() -> str:
    import uuid

    return str(uuid.uuid4())


DEFAULT_POLICY = RetryPolicy()
