"""Many senders and pollers against a real server, and the check of what each
poller saw. Used by the concurrency tests and the benchmark's delivery run."""

import copy
import html
import http.client
import random
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MESSAGE_ID = re.compile(r'id="message-(\d+)"')
POLLER_URL = re.compile(r'<div id="poller" hx-get="([^"]+)"')


class Browser:
    """One logged-in tab: its cookies and one keep-alive connection, speaking
    to the server the way htmx does (HX-Request, the CSRF header)."""

    def __init__(self, base_url: str, session: dict, cookies: dict[str, str]):
        self.netloc = urlsplit(base_url).netloc
        self.csrf = secrets.token_hex(16)  # any well-formed secret will do
        self.headers = {
            "HX-Request": "true",
            "X-CSRFToken": self.csrf,
            "Cookie": f"{cookies['session']}={session['session']}; "
            f"{cookies['csrf']}={self.csrf}",
        }
        self.user = session["user"]
        self.conn: http.client.HTTPConnection | None = None

    def on(self, base_url: str) -> "Browser":
        """The same tab's cookies, sent to another node."""
        other = copy.copy(self)
        other.netloc, other.conn = urlsplit(base_url).netloc, None
        return other

    def request(self, method: str, path: str, body: str | None = None):
        """(status, text). A keep-alive connection the server closed while
        idle is reopened, for GETs only: a POST is never sent twice."""
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.netloc, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read().decode()
            except (http.client.RemoteDisconnected, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if method != "GET" or attempt == 2:
                    raise
        raise AssertionError("unreachable")


def message_ids(body: str) -> list[int]:
    return [int(i) for i in MESSAGE_ID.findall(body)]


def next_poll_url(body: str) -> str | None:
    """The URL of the poller a response brought: what htmx polls next."""
    match = POLLER_URL.search(body)
    return html.unescape(match.group(1)) if match else None


@dataclass
class PollerLog:
    user: str
    ids: list[int] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


@dataclass
class SenderLog:
    user: str
    acked: dict[str, int] = field(default_factory=dict)  # text -> id
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    ack_seconds: list[float] = field(default_factory=list)


def poll_until(
    browser: Browser,
    room: str,
    log: PollerLog,
    *,
    done: threading.Event,
    target: list[int],
    deadline: float,
    pause: tuple[float, float] = (0.0, 0.03),
) -> None:
    """Follow the poller from the start of the room, as a page does, until
    `done` is set and the newest id in `target[0]` has been seen."""
    url = f"/rooms/{room}/messages/?after=0"
    while time.monotonic() < deadline:
        try:
            status, body = browser.request("GET", url)
        except OSError as error:
            log.errors.append(repr(error))
            time.sleep(0.1)
            continue
        log.statuses[status] += 1
        if status == 200:
            log.ids += message_ids(body)
            url = next_poll_url(body) or url
        elif status != 204:
            log.errors.append(f"{status}: {body[:300]}")
        if done.is_set() and target and log.ids and log.ids[-1] >= target[0]:
            return
        time.sleep(random.uniform(*pause))
    log.errors.append("deadline passed before the poller caught up")


def send_messages(
    browser: Browser, room: str, log: SenderLog, *, count: int, tag: str
) -> None:
    """Post `count` messages as fast as the server answers, each carrying the
    cursor of what this tab has seen (as the send form does)."""
    after = 0
    for n in range(count):
        text = f"{tag}-{n}"
        started = time.monotonic()
        try:
            status, body = browser.request(
                "POST", f"/rooms/{room}/messages/", f"content={text}&after={after}"
            )
        except OSError as error:
            log.errors.append(f"{text}: {error!r}")
            continue
        log.statuses[status] += 1
        if status != 200:
            log.errors.append(f"{text}: {status}: {body[:300]}")
            continue
        # A tab far behind gets the next CHAT_POLL_LIMIT messages and a
        # poller that loads at once (hx-trigger="load"): follow it, as htmx
        # does, until the own message is there.
        own = own_message_id(body, text)
        ids = message_ids(body)
        after = max([after, *ids])
        for _ in range(50):
            if own is not None or not ids or not (url := next_poll_url(body)):
                break
            status, body = browser.request("GET", url)
            log.statuses[status] += 1
            ids = message_ids(body) if status == 200 else []
            own = own_message_id(body, text)
            after = max([after, *ids])
        if own is None:
            log.errors.append(f"{text}: never shown to its sender (after={after})")
        else:
            log.acked[text] = own
            log.ack_seconds.append(time.monotonic() - started)


def own_message_id(body: str, text: str) -> int | None:
    found = re.search(
        rf'id="message-(\d+)"(?:(?!</article>).)*>{re.escape(text)}<', body, re.S
    )
    return int(found.group(1)) if found else None


def delivery_problems(
    truth: list[int], pollers: list[PollerLog], senders: list[SenderLog]
) -> list[str]:
    """Everything that went wrong, in words; empty when all was delivered.

    `truth` is the room's ids as stored. Each poller must have seen each of
    them exactly once, in id order; every acknowledged send must be stored;
    no request may have failed."""
    problems = []
    stored = set(truth)
    for log in pollers:
        counts = Counter(log.ids)
        duplicated = sorted(i for i, n in counts.items() if n > 1)
        missing = sorted(stored - counts.keys())
        unknown = sorted(counts.keys() - stored)
        if missing:
            problems.append(
                f"poller {log.user} never saw {len(missing)}: {missing[:20]}"
            )
        if duplicated:
            problems.append(f"poller {log.user} saw twice: {duplicated[:20]}")
        if unknown:
            problems.append(f"poller {log.user} saw unstored ids: {unknown[:20]}")
        if log.ids != sorted(log.ids):
            problems.append(f"poller {log.user} saw ids out of order")
    for log in [*pollers, *senders]:
        bad = {s: n for s, n in log.statuses.items() if not 200 <= s < 300}
        if bad:
            problems.append(f"{log.user}: HTTP statuses {bad}")
        problems += [f"{log.user}: {e}" for e in log.errors[:5]]
    for log in senders:
        lost = sorted(t for t, i in log.acked.items() if i not in stored)
        if lost:
            problems.append(f"{log.user}: acknowledged but not stored: {lost[:10]}")
    return problems
