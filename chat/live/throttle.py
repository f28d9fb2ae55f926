"""The hot path's flood guard: counted in this process only, no shared write.

chat.ratelimit counts in the shared cache, which would be a write on every
empty poll. Here each process counts for itself, and a poll over the rate is
handed to the full path, where ratelimit.allow() counts it across processes
and answers 429 once the user is over it. Counts race between threads; a
limit off by one or two is fine for a guard.
"""

import time

from chat.ratelimit import parse_rate

# {(scope, key): (window, count)}
_counts: dict[tuple[str, object], tuple[int, int]] = {}


def allow_here(*, scope: str, key: object, rate: str) -> bool:
    parsed = parse_rate(rate)
    if parsed is None:
        return True
    window = int(time.time() // parsed.period)
    seen_window, count = _counts.get((scope, key), (window, 0))
    count = count + 1 if seen_window == window else 1
    if len(_counts) > 100_000:  # old windows of users long gone
        _counts.clear()
    _counts[(scope, key)] = (window, count)
    return count <= parsed.limit


def forget() -> None:
    """Drop every count (tests call it between tests)."""
    _counts.clear()
