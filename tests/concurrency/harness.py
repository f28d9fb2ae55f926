"""Many senders, editors, deleters and reactors against a real server, pollers
following them, and the check of what each poller saw. Used by the
concurrency tests and the benchmark's delivery run."""

import copy
import html
import http.client
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlsplit

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
    """Every message id in a response, inline and out of band, in order."""
    return [int(i) for i in MESSAGE_ID.findall(body)]


def next_poll_url(body: str) -> str | None:
    """The URL of the poller a response brought: what htmx polls next."""
    match = POLLER_URL.search(body)
    return html.unescape(match.group(1)) if match else None


@dataclass(frozen=True)
class Shown:
    """One message as a page shows it, and as the database says it should:
    its version (change number), text (None: a tombstone) and reaction
    counts per emoji."""

    seq: int
    content: str | None
    reactions: tuple[tuple[str, int], ...] = ()

    @property
    def deleted(self) -> bool:
        return self.content is None


@dataclass(frozen=True)
class Article:
    id: int
    oob: bool  # swapped in place of the page's copy (hx-swap-oob)
    shown: Shown


ARTICLE = re.compile(r'<article id="message-(\d+)"([^>]*)>(.*?)</article>', re.S)
CONTENT = re.compile(r'<p class="message-content[^"]*"[^>]*>(.*?)</p>', re.S)
REACTION = re.compile(r'data-emoji="([^"]+)" data-count="(\d+)"')
TAG = re.compile(r"<[^>]+>")


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\s{name}="([^"]*)"', tag)
    return found.group(1) if found else None


def articles(body: str) -> list[Article]:
    """The messages of a response (a poll's answer or a page), as drawn."""
    out = []
    for id_, tag, inner in ARTICLE.findall(body):
        content = None
        if _attribute(tag, "data-kind") != "deleted":
            text = CONTENT.search(inner)
            content = html.unescape(TAG.sub("", text.group(1))) if text else ""
        reactions = tuple(
            sorted((html.unescape(e), int(n)) for e, n in REACTION.findall(inner))
        )
        seq = int(_attribute(tag, "data-seq") or -1)
        out.append(
            Article(
                id=int(id_),
                oob=_attribute(tag, "hx-swap-oob") == "true",
                shown=Shown(seq=seq, content=content, reactions=reactions),
            )
        )
    return out


def _query_int(url: str, name: str, default: int = 0) -> int:
    values = parse_qs(urlsplit(url).query).get(name)
    return int(values[0]) if values else default


@dataclass
class PollerLog:
    user: str
    ids: list[int] = field(default_factory=list)  # appended, in arrival order
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    # The page as htmx would have built it: id -> what it shows.
    view: dict[int, Shown] = field(default_factory=dict)
    start: int = 0  # the oldest id the page holds (0: from the room's first)
    seq: int = 0  # the change number its poller carries
    replaced: int = 0  # out-of-band swaps applied
    # Answers htmx could not have applied as meant: a swap for a message the
    # page does not hold, a version going back, an append out of order.
    anomalies: list[str] = field(default_factory=list)

    def take(self, body: str) -> int:
        """Apply a poll's answer as htmx does: out-of-band swaps first (each
        replaces the page's copy, so its target must be there already), then
        the new messages appended before the poller. How many it held."""
        found = articles(body)
        for article in found:
            if not article.oob:
                continue
            held = self.view.get(article.id)
            if held is None:
                self.anomalies.append(f"swap for message {article.id}, not held")
                continue
            if article.shown.seq < held.seq:
                self.anomalies.append(
                    f"message {article.id} went back from version {held.seq}"
                    f" to {article.shown.seq}"
                )
            self.view[article.id] = article.shown
            self.replaced += 1
        newest = max(self.view, default=0)
        for article in found:
            if article.oob:
                continue
            if article.id in self.view:
                self.anomalies.append(f"message {article.id} appended twice")
            elif article.id < newest:
                self.anomalies.append(f"message {article.id} appended out of order")
            self.view[article.id] = article.shown
            self.ids.append(article.id)
            newest = max(newest, article.id)
        return len(found)


@dataclass
class SenderLog:
    user: str
    acked: dict[str, int] = field(default_factory=dict)  # text -> id
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    ack_seconds: list[float] = field(default_factory=list)


@dataclass
class WriterLog(SenderLog):
    """A user who sends, edits, deletes or reacts, as `role` says."""

    role: str = "sender"
    actions: Counter = field(default_factory=Counter)
    # Changes refused (403): the message must have been deleted meanwhile.
    refused: list[int] = field(default_factory=list)


def poll_until(
    browser: Browser,
    room: str,
    log: PollerLog,
    *,
    done: threading.Event,
    caught_up: Callable[[PollerLog], bool],
    deadline: Callable[[], float],
    pause: tuple[float, float] = (0.0, 0.03),
    url: str | None = None,
) -> None:
    """Follow the poller, as a page does (from the start of the room unless
    `url` says where a page left it), until a quiet poll sent after `done`
    was set finds `caught_up(log)`, or `deadline()` (a monotonic time,
    which the caller may move) passes."""
    url = url or f"/rooms/{room}/messages/?after=0&seq=0"
    while time.monotonic() < deadline():
        after_done = done.is_set()
        try:
            # htmx adds the page's oldest id (hx-include="#load-older").
            status, body = browser.request("GET", f"{url}&start={log.start}")
        except OSError as error:
            log.errors.append(repr(error))
            time.sleep(0.1)
            continue
        log.statuses[status] += 1
        quiet = status == 204
        if status == 200:
            quiet = log.take(body) == 0
            url = next_poll_url(body) or url
            log.seq = _query_int(url, "seq", log.seq)
        elif status != 204:
            log.errors.append(f"{status}: {body[:300]}")
        if after_done and quiet and caught_up(log):
            return
        time.sleep(random.uniform(*pause))
    log.errors.append("deadline passed before the poller caught up")


def open_page(browser: Browser, room: str, log: PollerLog) -> str | None:
    """Load the room page as a tab opening it does; the URL its poller polls.
    The page holds its newest messages from `start` on."""
    status, body = browser.request("GET", f"/rooms/{room}/")
    log.statuses[status] += 1
    if status != 200:
        log.errors.append(f"page: {status}: {body[:300]}")
        return None
    start = re.search(r'<input type="hidden" name="start" value="(\d+)">', body)
    log.start = int(start.group(1)) if start else 0
    log.take(body)
    url = next_poll_url(body)
    if url is not None:
        log.seq = _query_int(url, "seq")
    return url


def send_messages(
    browser: Browser, room: str, log: SenderLog, *, count: int, tag: str
) -> None:
    """Post `count` messages as fast as the server answers, each carrying the
    cursor of what this tab has seen (as the send form does)."""
    cursor = [0]
    for n in range(count):
        send_one(browser, room, log, f"{tag}-{n}", cursor)


def send_one(
    browser: Browser, room: str, log: SenderLog, text: str, cursor: list[int]
) -> int | None:
    """Post one message with the tab's cursor (`cursor[0]`, moved on); its
    id once the answer shows it."""
    started = time.monotonic()
    try:
        status, body = browser.request(
            "POST", f"/rooms/{room}/messages/", f"content={text}&after={cursor[0]}"
        )
    except OSError as error:
        log.errors.append(f"{text}: {error!r}")
        return None
    log.statuses[status] += 1
    if status != 200:
        log.errors.append(f"{text}: {status}: {body[:300]}")
        return None
    # A tab far behind gets the next CHAT_POLL_LIMIT messages and a poller
    # that loads at once (hx-trigger="load"): follow it, as htmx does, until
    # the own message is there.
    own = own_message_id(body, text)
    ids = message_ids(body)
    cursor[0] = max([cursor[0], *ids])
    for _ in range(50):
        if own is not None or not ids or not (url := next_poll_url(body)):
            break
        status, body = browser.request("GET", url)
        log.statuses[status] += 1
        ids = message_ids(body) if status == 200 else []
        own = own_message_id(body, text)
        cursor[0] = max([cursor[0], *ids])
    if own is None:
        log.errors.append(f"{text}: never shown to its sender (after={cursor[0]})")
        return None
    log.acked[text] = own
    log.ack_seconds.append(time.monotonic() - started)
    return own


EMOJI = ("👍", "❤️", "🎉")  # few, so that toggles of the same reaction collide


def edit(browser: Browser, room: str, log: WriterLog, target: int, text: str) -> int:
    status, body = _change(
        browser,
        log,
        target,
        f"/rooms/{room}/messages/{target}/edit/",
        f"content={text}",
    )
    if status == 200:
        log.actions["edited"] += 1
        # The message as it is now: this text, or whatever another tab of
        # the author's or the moderator made of it since (the final state is
        # what the checker compares).
        if target not in [a.id for a in articles(body)]:
            log.errors.append(f"edit of {target} answered {body[:300]}")
    return status


def delete(browser: Browser, room: str, log: WriterLog, target: int) -> int:
    status, body = _change(
        browser, log, target, f"/rooms/{room}/messages/{target}/delete/", ""
    )
    if status == 200:
        log.actions["deleted"] += 1
        shown = [a.shown for a in articles(body) if a.id == target]
        if not (shown and shown[0].deleted):
            log.errors.append(f"delete of {target} answered {body[:300]}")
    return status


def react(browser: Browser, room: str, log: WriterLog, target: int, emoji: str) -> int:
    status, _body = _change(
        browser,
        log,
        target,
        f"/rooms/{room}/messages/{target}/reactions/",
        f"emoji={quote(emoji)}",
    )
    if status == 200:
        log.actions["toggled"] += 1
    return status


def _change(
    browser: Browser, log: WriterLog, target: int, path: str, body: str
) -> tuple[int, str]:
    """A change to message `target`. Refused (403) is no error here: another
    writer may have deleted the message first. The checker holds each refusal
    against the database (the message must be a tombstone)."""
    try:
        status, text = browser.request("POST", path, body)
    except OSError as error:
        log.errors.append(f"{path}: {error!r}")
        return 0, ""
    if status == 403:
        log.refused.append(target)
        return status, text
    log.statuses[status] += 1
    if status != 200:
        log.errors.append(f"{path}: {status}: {text[:300]}")
    return status, text


def write_changes(
    browser: Browser,
    room: str,
    log: WriterLog,
    *,
    count: int,
    pool: list[int],
    rng: random.Random,
    sent: threading.Event,
) -> None:
    """`count` actions of `log.role`, as fast as the server answers (or
    until nothing is left to change once the writers who send are through,
    `sent`):

    - sender: sends;
    - editor: sends now and then, mostly edits one of its own messages;
    - deleter: sends, and deletes about every other one of its own;
    - reactor: toggles a reaction on any message sent so far (`pool`, which
      every writer fills), deleted ones included;
    - moderator (the room's creator): deletes anyone's messages from `pool`.
    """
    cursor, alive, gone = [0], [], set()
    for n in range(count):
        if log.role in ("reactor", "moderator"):
            # Something to change, sent by others (nothing if all sends fail).
            while not (candidates := [i for i in pool if i not in gone]):
                if sent.is_set():
                    return
                time.sleep(0.01)
            target = rng.choice(candidates)
            if log.role == "reactor":
                react(browser, room, log, target, rng.choice(EMOJI))
            else:
                gone.add(target)
                delete(browser, room, log, target)
            continue
        send = (
            log.role == "sender"
            or not alive
            or rng.random() < (0.3 if log.role == "editor" else 0.5)
        )
        if send:
            own = send_one(browser, room, log, f"{log.user}-{n}", cursor)
            if own is not None:
                alive.append(own)
                pool.append(own)
                log.actions["sent"] += 1
        elif log.role == "editor":
            target = rng.choice(alive)
            if edit(browser, room, log, target, f"{log.user}-{n}-edited") == 403:
                alive.remove(target)  # the moderator deleted it
        else:
            delete(browser, room, log, alive.pop(rng.randrange(len(alive))))


def hammer(
    browser: Browser,
    room: str,
    log: WriterLog,
    *,
    targets: list[int],
    progress: list[int],
    stop: threading.Event,
    rng: random.Random,
) -> None:
    """Edit (role editor, the author) or react to (reactor) the messages
    `targets` that a moderator is about to delete, in order: `progress[0]`
    of them are done. Aimed at the next two, until `stop`."""
    n = 0
    while not stop.is_set():
        ahead = targets[progress[0] : progress[0] + 2] or targets[-1:]
        target = rng.choice(ahead)
        if log.role == "editor":
            edit(browser, room, log, target, f"{log.user}-{n}-edited")
        else:
            react(browser, room, log, target, rng.choice(EMOJI))
        n += 1


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


def stored_view(state: dict) -> dict[int, Shown]:
    """What every page should end up showing, from the database's state
    (tests.concurrency.dbstate): the record of reactions, not the copy kept
    on the message."""
    return {
        int(i): Shown(
            seq=m["seq"],
            content=None if m["deleted"] else m["content"],
            reactions=tuple(sorted((e, n) for e, n in m["reactions"].items())),
        )
        for i, m in state["messages"].items()
    }


def change_problems(
    state: dict, pollers: list[PollerLog], writers: list[WriterLog]
) -> list[str]:
    """Everything that went wrong with changing messages, in words.

    `state` is the room as stored once the writers stopped. Each change
    takes its own number; each poller, once caught up, must show every
    message it holds (from its `start`) exactly as stored: version, text or
    tombstone, reaction counts; and it must have applied every answer
    cleanly (no swap for a message it did not hold, no version going back,
    no append twice or out of order). Statuses, errors and acknowledged
    sends: delivery_problems."""
    problems = []
    stored = stored_view(state)
    owners = Counter(m.seq for m in stored.values())
    shared = sorted(seq for seq, n in owners.items() if n > 1)
    if shared:
        problems.append(f"change numbers on two messages: {shared[:20]}")
    if stored and max(owners) > state["seq"]:
        problems.append(f"a message's version is past the room's {state['seq']}")
    for i, m in sorted(state["messages"].items(), key=lambda kv: int(kv[0])):
        if m["deleted"] and (m["content"] or m["reactions"]):
            problems.append(f"tombstone {i} keeps text or reactions: {m}")
        if m["reactions"] != m["seen"]:
            problems.append(f"message {i} draws reactions {m['seen']}: {m}")
    for log in pollers:
        problems += [f"poller {log.user}: {a}" for a in log.anomalies[:10]]
        held = {i: s for i, s in stored.items() if i >= log.start}
        missing = sorted(held.keys() - log.view.keys())
        unknown = sorted(log.view.keys() - stored.keys())
        wrong = [
            f"{i}: shows {log.view[i]}, stored {s}"
            for i, s in sorted(held.items())
            if i in log.view and log.view[i] != s
        ]
        if missing:
            problems.append(f"poller {log.user} never showed {missing[:20]}")
        if unknown:
            problems.append(f"poller {log.user} shows unstored {unknown[:20]}")
        if wrong:
            problems.append(
                f"poller {log.user} ends with {len(wrong)} messages not as"
                f" stored: {wrong[:5]}"
            )
    for log in writers:
        kept = sorted({i for i in log.refused if i in stored and not stored[i].deleted})
        if kept:
            problems.append(f"{log.user}: refused a change to live {kept[:10]}")
    return problems
