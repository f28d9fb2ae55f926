"""The rate limits against a real multi-worker gunicorn: a burst of requests
from one user at once is allowed the limit exactly, however the workers and
their threads share it out (on the file cache, or on Redis when REDIS_URL is
set). tests/chat/test_ratelimit_race.py races the counter itself."""

import threading
import time

from tests.concurrency.harness import Browser

DAY = 24 * 3600


def burst(tab: Browser, requests: list[tuple[str, str, str | None]]) -> list[int]:
    """Every request on a connection of its own, all let go together; the
    statuses, in the order asked."""
    go = threading.Barrier(len(requests))
    statuses = [0] * len(requests)

    def send(i: int, method: str, path: str, body: str | None) -> None:
        own = tab.on(f"http://{tab.netloc}")
        go.wait()
        statuses[i] = own.request(method, path, body)[0]

    threads = [
        threading.Thread(target=send, args=(i, *request))
        for i, request in enumerate(requests)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_a_burst_gets_the_limit_of_sends_and_of_searches_exactly(start_node):
    # Day-long windows: a burst cannot straddle two (unless it starts in the
    # last minute of the day, which is waited out).
    node = start_node(
        CHAT_SEND_RATE="10/24h", CHAT_POLL_RATE="5/24h", GUNICORN_WORKERS="4"
    )
    [tab] = node.browsers("burst", ["alice"])
    if (left := DAY - time.time() % DAY) < 60:
        time.sleep(left + 1)

    sends = burst(
        tab, [("POST", "/rooms/burst/messages/", f"content=m{i}") for i in range(40)]
    )
    assert sorted(sends) == [200] * 10 + [429] * 30
    assert len(node.state("burst")["messages"]) == 10

    # A search is a read: the API's and the page's count against one limit.
    api, page = ("GET", "/api/search/?q=m1", None), ("GET", "/search/?q=m1", None)
    searches = burst(tab, [api] * 15 + [page] * 15)
    assert sorted(searches) == [200] * 5 + [429] * 25
