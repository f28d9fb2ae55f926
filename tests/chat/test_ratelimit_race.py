"""Rate limits count every hit exactly once, however many processes and
threads hit the same key at once: on the one-machine file cache
(chat.cache.FileCache) and on Redis, the two caches gunicorn's workers
share. tests/concurrency/test_limits.py shows the same through a real
multi-worker gunicorn."""

import multiprocessing
import os
import secrets
import threading

import pytest
from django.core.cache.backends.redis import RedisCache

from chat import ratelimit
from chat.cache import FileCache

LIMIT = 100
RATE = f"{LIMIT}/h"
PROCESSES = 6
THREADS = 4
ATTEMPTS = 25  # per thread: 600 hits in all, six times the limit


def _hits(make_cache, key: str, start, results) -> None:
    """One worker process: THREADS threads, each counting ATTEMPTS hits of
    `key` once every process is ready; how many were allowed."""
    # Made here, not inherited: a Redis client's connections are its own.
    ratelimit.cache = make_cache()
    allowed = []

    def thread() -> None:
        start.wait()
        allowed.append(
            sum(
                ratelimit.allow(scope="race", key=key, rate=RATE)
                for _ in range(ATTEMPTS)
            )
        )

    threads = [threading.Thread(target=thread) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put(sum(allowed))


def allowed_in_a_race(make_cache, monkeypatch) -> int:
    """PROCESSES processes of THREADS threads each, hitting one key from the
    start of its window, all let go together; the hits allowed."""
    # Inherited by the forked workers: every hit falls in one window.
    monkeypatch.setattr("chat.ratelimit.time.time", lambda: 1_800_000_000.0)
    context = multiprocessing.get_context("fork")
    start = context.Barrier(PROCESSES * THREADS)
    results = context.Queue()
    key = secrets.token_hex(8)
    workers = [
        context.Process(target=_hits, args=(make_cache, key, start, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    allowed = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return sum(allowed)


def test_the_file_cache_counts_every_hit_once(tmp_path, monkeypatch):
    directory = str(tmp_path / "cache")
    assert allowed_in_a_race(lambda: FileCache(directory, {}), monkeypatch) == LIMIT


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="Redis is tested when REDIS_URL is set"
)
def test_redis_counts_every_hit_once(monkeypatch):
    prefix = f"race-{secrets.token_hex(4)}"
    url = os.environ["REDIS_URL"]

    def redis() -> RedisCache:
        return RedisCache(url, {"KEY_PREFIX": prefix})

    try:
        assert allowed_in_a_race(redis, monkeypatch) == LIMIT
    finally:
        client = redis()._cache.get_client(write=True)
        for name in client.scan_iter(f"{prefix}:*"):
            client.delete(name)
