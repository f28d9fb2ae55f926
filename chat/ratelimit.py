"""Fixed-window rate limits kept in the shared cache (Redis across nodes)."""

import re
import time
from dataclasses import dataclass
from functools import lru_cache

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

SLOW_DOWN = _("You are sending too fast. Slow down, then send again in a few seconds.")

_UNITS = {"s": 1, "m": 60, "h": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


@lru_cache(maxsize=32)
def parse_rate(value: str) -> Rate | None:
    """'10/10s' -> Rate(10, 10); '5/s' -> Rate(5, 1); '0' or '' -> no limit."""
    if value.strip() in {"", "0"}:
        return None
    match = _RATE.match(value)
    if not match:
        raise ImproperlyConfigured(
            f"Bad rate {value!r}: write it like '10/10s', '5/s' or '100/m' "
            "('0' turns the limit off)."
        )
    count, amount, unit = match.groups()
    return Rate(limit=int(count), period=int(amount or 1) * _UNITS[unit])


@dataclass(frozen=True)
class Window:
    """The fixed window of a rate that holds now."""

    rate: Rate
    number: int


def current_window(rate: str) -> Window | None:
    """The window of `rate` now; None when the rate sets no limit."""
    parsed = parse_rate(rate)
    if parsed is None:
        return None
    return Window(rate=parsed, number=int(time.time() // parsed.period))


def allow(*, scope: str, key: object, rate: str) -> bool:
    """Count one hit for (scope, key); False once the window's limit is passed.

    add() and incr() are each atomic, on Redis and on the file cache
    (chat.cache.FileCache), so every hit is counted once, whatever the
    processes and threads counting at the same moment."""
    if (window := current_window(rate)) is None:
        return True
    cache_key = f"ratelimit:{scope}:{key}:{window.number}"
    timeout = window.rate.period + 1
    for _attempt in range(3):
        # The window's first hit makes the count, at 1.
        if cache.add(cache_key, 1, timeout=timeout):
            count = 1
            return count <= window.rate.limit
        try:
            count = cache.incr(cache_key)
        except ValueError:
            # It expired between the two: start again. Never set() it: that
            # would wipe what other processes have counted since.
            continue
        if count == 1:
            # Redis's INCR made the key again, with no expiry: give it one.
            cache.touch(cache_key, timeout=timeout)
        return count <= window.rate.limit
    # The key came and went three times in a row: a cache in trouble, which
    # should not lock everyone out.
    return True


def retry_after(rate: str) -> int:
    parsed = parse_rate(rate)
    return parsed.period if parsed else 0
