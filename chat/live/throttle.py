"""The hot path's flood guard: counted in this process only, no shared write.

chat.ratelimit counts in the shared cache, which would be a write on every
empty poll. Here each process counts for itself, and a poll over the rate is
handed to the full path, where ratelimit.allow() counts it across processes
and answers 429 once the user is over it. Counts race between threads; a
limit off by one or two is fine for a guard.
"""

from chat.ratelimit import current_window

# {(scope, key): (window, count)}
_counts: dict[tuple[str, object], tuple[int, int]] = {}


def allow_here(*, scope: str, key: object, rate: str) -> bool:
    if (window := current_window(rate)) is None:
        return True
    seen_window, count = _counts.get((scope, key), (window.number, 0))
    count = count + 1 if seen_window == window.number else 1
    if len(_counts) > 100_000:  # old windows of users long gone
        _counts.clear()
    _counts[(scope, key)] = (window.number, count)
    return count <= window.rate.limit


def forget() -> None:
    """Drop every count (tests call it between tests)."""
    _counts.clear()
