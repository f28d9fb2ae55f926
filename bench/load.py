"""Part (b) of the benchmark: simulated browsers and senders, on asyncio.

Each browser loads its room page, then polls every 2 s following the poller's
URL (grant and all), as htmx does. Each sender posts one message a second into
its room. Every message's first appearance in every browser of its room is
timed against the moment its send was acknowledged.
"""

import asyncio
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from tests.concurrency.harness import message_ids, next_poll_url, own_message_id


class Connection:
    """A minimal HTTP/1.1 keep-alive client: gunicorn answers with
    Content-Length (or no body for 204), which is all this needs."""

    def __init__(self, base_url: str, cookie: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.cookie = cookie
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, *, body: str = "", htmx: bool = True
    ) -> tuple[int, str]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(
                    self.host, self.port
                )
            try:
                return await self._exchange(method, path, body, htmx)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                # An idle keep-alive the server closed: resend GETs only.
                if method != "GET" or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, method, path, body, htmx) -> tuple[int, str]:
        data = body.encode()
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Cookie: {self.cookie}",
            f"Content-Length: {len(data)}",
        ]
        if htmx:
            head.append("HX-Request: true")
        if method == "POST":
            csrf = self.cookie.split("csrftoken=")[1].split(";")[0]
            head += [
                f"X-CSRFToken: {csrf}",
                "Content-Type: application/x-www-form-urlencoded",
            ]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        payload = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, payload.decode()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class LoadResult:
    sent: dict[int, tuple[str, float]] = field(default_factory=dict)  # id: room, ack
    first_seen: dict[tuple[int, int], float] = field(default_factory=dict)
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    polls: int = 0
    poll_seconds: list[float] = field(default_factory=list)  # response times
    send_seconds: list[float] = field(default_factory=list)
    clients_by_room: dict[str, list[int]] = field(default_factory=dict)
    final: dict[str, int] = field(default_factory=dict)  # room: last id sent
    drain_seconds: float = 0.0

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def _browser(n, base, client, result: LoadResult, start, stop, ready):
    conn = Connection(base, f"sessionid={client['session']}")
    room = client["room"]
    seen: set[int] = set()
    await asyncio.sleep(random.uniform(0, 2))  # page loads spread out
    try:
        status, body = await conn.request("GET", f"/rooms/{room}/", htmx=False)
        result.count(status)
        if status != 200:
            result.errors.append(f"page {room}: {status}")
            return
        seen.update(message_ids(body))
        url = next_poll_url(body)
        ready.append(n)
        await start.wait()
        tick = time.monotonic() + random.uniform(0, 2)
        while True:
            await asyncio.sleep(max(0, tick - time.monotonic()))
            now = time.monotonic()
            # Once the sends are over: poll on until the room's last message
            # is here, or give up after the drain (what is missing is lost).
            if now > stop[0] and (result.final.get(room) in seen or now > stop[1]):
                return
            status, body = await conn.request("GET", url)
            result.poll_seconds.append(time.monotonic() - now)
            now = time.monotonic()
            result.polls += 1
            result.count(status)
            if status == 200:
                for mid in message_ids(body):
                    if mid in seen:
                        result.duplicates += 1
                    else:
                        seen.add(mid)
                        result.first_seen[(n, mid)] = now
                url = next_poll_url(body) or url
            elif status != 204:
                result.errors.append(f"poll {room}: {status} {body[:120]}")
            tick += 2.0
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        result.errors.append(f"browser {n}: {error!r}")
    finally:
        conn.close()


async def _sender(base, sender, result: LoadResult, start, seconds):
    conn = Connection(base, f"sessionid={sender['session']}; csrftoken={'c' * 32}")
    room = sender["room"]
    # Like a tab: the page first, whose newest message is the send cursor.
    status, page = await conn.request("GET", f"/rooms/{room}/", htmx=False)
    result.count(status)
    after = max(message_ids(page), default=0)
    await start.wait()
    began = time.monotonic() + random.uniform(0, 1)
    try:
        for i in range(seconds):
            await asyncio.sleep(max(0, began + i - time.monotonic()))
            text = f"{room}-message-{i}"
            form = urlencode({"content": text, "after": after})
            posted = time.monotonic()
            status, body = await conn.request(
                "POST", f"/rooms/{room}/messages/", body=form
            )
            acked = time.monotonic()
            result.send_seconds.append(acked - posted)
            result.count(status)
            mid = own_message_id(body, text) if status == 200 else None
            if mid is None:
                result.errors.append(f"send {room} {i}: {status} {body[:120]}")
                continue
            result.sent[mid] = (room, acked)
            after = max([after, *message_ids(body)])
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        result.errors.append(f"sender {room}: {error!r}")
    finally:
        conn.close()


async def _run(base, clients, senders, seconds, drain) -> LoadResult:
    result = LoadResult()
    for n, client in enumerate(clients):
        result.clients_by_room.setdefault(client["room"], []).append(n)
    start, ready, stop = asyncio.Event(), [], [float("inf"), float("inf")]
    browsers = [
        asyncio.create_task(_browser(n, base, c, result, start, stop, ready))
        for n, c in enumerate(clients)
    ]
    while len(ready) + len(result.errors) < len(clients):
        await asyncio.sleep(0.2)
    start.set()
    await asyncio.gather(*(_sender(base, s, result, start, seconds) for s in senders))
    for mid, (room, _acked) in result.sent.items():
        result.final[room] = max(result.final.get(room, 0), mid)
    ended = time.monotonic()
    stop[:] = [ended, ended + drain]
    await asyncio.gather(*browsers)
    result.drain_seconds = time.monotonic() - ended
    return result


def delivery(base, clients, senders, *, seconds=60, drain=30.0) -> dict:
    """Run the load; latency percentiles, losses, duplicates and errors."""
    result = asyncio.run(_run(base, clients, senders, seconds, drain))
    latencies, lost = [], 0
    for mid, (room, acked) in result.sent.items():
        for n in result.clients_by_room[room]:
            seen = result.first_seen.get((n, mid))
            if seen is None:
                lost += 1
            else:
                # A poll may bring the message before its sender hears back.
                latencies.append(max(0.0, seen - acked))
    latencies.sort()

    def pct(p: float, values: list[float] | None = None) -> float | None:
        values = latencies if values is None else sorted(values)
        if not values:
            return None
        return round(values[min(len(values) - 1, int(p * len(values)))], 3)

    def ms(p: float, values: list[float]) -> float | None:
        seconds = pct(p, values)
        return None if seconds is None else round(seconds * 1000, 1)

    errors = sum(n for s, n in result.statuses.items() if not 200 <= s < 300)
    return {
        "clients": len(clients),
        "rooms": len(result.clients_by_room),
        "seconds": seconds,
        "messages_sent": len(result.sent),
        "deliveries": len(latencies),
        "polls": result.polls,
        "latency_p50_s": pct(0.50),
        "latency_p99_s": pct(0.99),
        "latency_max_s": round(latencies[-1], 3) if latencies else None,
        "drain_s": round(result.drain_seconds, 1),
        # How long the server took to answer, as the browsers and senders saw
        # it: what the server adds to the poll interval.
        "poll_p50_ms": ms(0.50, result.poll_seconds),
        "poll_p99_ms": ms(0.99, result.poll_seconds),
        "send_p50_ms": ms(0.50, result.send_seconds),
        "send_p99_ms": ms(0.99, result.send_seconds),
        "lost": lost,
        "duplicated": result.duplicates,
        "http_errors": errors + len(result.errors),
        "error_samples": result.errors[:5],
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
    }
