"""Fixed-window rate limits kept in the shared cache (Redis across nodes)."""

import re
import time
from dataclasses import dataclass
from functools import lru_cache

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

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


def allow(*, scope: str, key: object, rate: str) -> bool:
    """Count one hit for (scope, key); False once the window's limit is passed."""
    parsed = parse_rate(rate)
    if parsed is None:
        return True
    window = int(time.time() // parsed.period)
    cache_key = f"ratelimit:{scope}:{key}:{window}"
    # add() is a no-op when the key exists; incr() is atomic on Redis.
    cache.add(cache_key, 0, timeout=parsed.period + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=parsed.period + 1)
        count = 1
    return count <= parsed.limit


# Per-process counts for the empty poll's hot path, which must not write to
# the shared cache on every poll: {(scope, key): (window, count)}.
_local: dict[tuple[str, object], tuple[int, int]] = {}


def allow_here(*, scope: str, key: object, rate: str) -> bool:
    """Like allow(), but counted in this process only: no shared write. The
    hot path uses it to send a flood down the full path, where allow() counts
    it across processes and answers 429. Counts race between threads; a
    limit off by one or two is fine for a guard."""
    parsed = parse_rate(rate)
    if parsed is None:
        return True
    window = int(time.time() // parsed.period)
    seen_window, count = _local.get((scope, key), (window, 0))
    count = count + 1 if seen_window == window else 1
    if len(_local) > 100_000:  # old windows of users long gone
        _local.clear()
    _local[(scope, key)] = (window, count)
    return count <= parsed.limit


def retry_after(rate: str) -> int:
    parsed = parse_rate(rate)
    return parsed.period if parsed else 0
