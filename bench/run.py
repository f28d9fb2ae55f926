"""make bench: the poll hot path against the framework's floor, delivery under
load, cost against history size, search over it, memory. Writes
bench/results.json and regenerates docs/benchmarks.md and docs/benchmarks.png.

The chat runs as `make serve` runs it (gunicorn with the committed
gunicorn.conf.py, DEBUG off, whitenoise) on a scratch database: SQLite, or a
new PostgreSQL database when DATABASE_URL names a server (with REDIS_URL, the
cache and sessions go to Redis as in a multi-node deployment). Limits are off
(CHAT_*_RATE=0): the load is the point.

    python bench/run.py [--quick] [--clients 1000] [--big 1000000]
                        [--parts a,b,c,search,workers]
"""

import argparse
import html
import http.cookiejar
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import delivery  # noqa: E402
from tests.concurrency.harness import message_ids, next_poll_url  # noqa: E402
from tests.servers import (  # noqa: E402
    Gunicorn,
    collectstatic,
    is_postgres,
    migrate,
    production_env,
    run,
)
from tests.servers import scratch_database as scratch  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
SEARCH_POSTGRESQL = ROOT / "bench" / "search-postgresql.json"
PARTS = ("a", "b", "c", "search", "workers")
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- wrk ---


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * UNITS[unit]


def wrk(url: str, *, headers=(), connections=16, seconds=10, threads=2) -> dict:
    """Throughput and latency percentiles of GET url, from wrk."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run(
        [*args, url], capture_output=True, text=True, check=True
    ).stdout
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)$", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": round(_ms(latency["50"]), 3),
        "p99_ms": round(_ms(latency["99"]), 3),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, socket.groups())) if socket else 0,
    }


# --- HTTP helpers (the standard library suffices outside the load test) ---


def login(base: str, username: str, password: str) -> str:
    """Log in through the real form; the Cookie header of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(base + "/accounts/login/", form).read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"could not log in as {username}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def get(base: str, path: str, cookie: str, *, htmx: bool = False):
    headers = {"Cookie": cookie, **({"HX-Request": "true"} if htmx else {})}
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request) as response:
        return response.status, response.read().decode()


def poll_url(base: str, cookie: str, room: str) -> str:
    """The poller URL a fresh room page carries (grant included), checked to
    answer 204: an empty poll."""
    _, page = get(base, f"/rooms/{room}/", cookie)
    url = next_poll_url(page)
    # The first poll records presence and may renew the poller; follow it
    # until the page is quiet, as a real tab would be.
    for _ in range(5):
        status, body = get(base, url, cookie, htmx=True)
        if status == 204:
            return url
        url = next_poll_url(body) or url
    raise RuntimeError(f"the poll of {room} never went quiet")


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    return round(total / 1024, 1)


# --- the parts ---


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _median_run(runs: list[dict]) -> dict:
    """The run with the median throughput (its latencies come with it)."""
    return sorted(runs, key=lambda r: r["rps"])[(len(runs) - 1) // 2]


def _paired(ratios: list[float]) -> tuple[float, list[float]]:
    """The median of the pairs' ratios, and the ratios, rounded for the report."""
    return round(_median(ratios), 3), [round(r, 3) for r in ratios]


def part_a(chat, bare, cookie, room, *, seconds, levels, rounds) -> dict:
    """Empty polls: the chat's fast path beside the bare floor, in pairs run
    back to back (alternating which goes first), so each pair sees the same
    machine; the ratio is the median of the pairs' ratios, which a noisy
    neighbour slowing one run cannot move much. The full (session) path is
    measured once for reference."""
    headers = [f"Cookie: {cookie}", "HX-Request: true"]
    rows = []
    for connections in levels:
        runs: dict[str, list[dict]] = {"bare": [], "chat": []}
        for n in range(rounds):
            order = ("bare", "chat") if n % 2 == 0 else ("chat", "bare")
            for which in order:
                if which == "bare":
                    url, extra = bare.url + "/poll", []
                else:
                    url = chat.url + poll_url(chat.url, cookie, room)  # fresh grant
                    extra = headers
                runs[which].append(
                    wrk(url, headers=extra, connections=connections, seconds=seconds)
                )
        ratios = [
            c["rps"] / b["rps"] for b, c in zip(runs["bare"], runs["chat"], strict=True)
        ]
        ratio, pair_ratios = _paired(ratios)
        row = {
            "connections": connections,
            "bare": _median_run(runs["bare"]),
            "chat": _median_run(runs["chat"]),
            "ratio": ratio,
            "pair_ratios": pair_ratios,
            "rounds": {k: [r["rps"] for r in v] for k, v in runs.items()},
        }
        log(
            f"(a) c={connections}: bare {row['bare']['rps']:.0f} req/s, chat "
            f"{row['chat']['rps']:.0f} req/s (medians), ratio {row['ratio']:.2f} "
            f"(median of {row['pair_ratios']})"
        )
        rows.append(row)
    # The same empty poll without the grant: session, user, room, query.
    full = wrk(
        chat.url + f"/rooms/{room}/messages/?after=999999999",
        headers=headers,
        connections=levels[0],
        seconds=seconds,
    )
    log(f"(a) full path, no grant: {full['rps']:.0f} req/s")
    return {
        "levels": rows,
        "full_path": full,
        "rounds": rounds,
        "seconds": seconds,
        "in_process": in_process(chat, bare, cookie, room, rounds=3),
        "sidebar_in_process": sidebar_in_process(chat, cookie, room, rounds=3),
    }


def _in_process_pairs(first, second, *, rounds, status) -> tuple[dict, dict]:
    """Two requests through the WSGI application alone (bench/inprocess.py),
    in alternating pairs. `first` and `second` are (name, how) with how() the
    environment and arguments of one run. Their µs per request (medians), and
    first / second as the median of the pairs' ratios."""
    runs: dict[str, list[float]] = {first[0]: [], second[0]: []}
    for n in range(rounds):
        for name, how in (first, second) if n % 2 == 0 else (second, first):
            env, args = how()
            out = json.loads(run(env, sys.executable, "bench/inprocess.py", *args))
            if out["status"] != status:
                raise RuntimeError(f"in-process {name} answered {out['status']}")
            runs[name].append(out["us_per_request"])
    ratio, pair_ratios = _paired(
        [a / b for a, b in zip(runs[first[0]], runs[second[0]], strict=True)]
    )
    medians = {f"{name}_us": round(_median(v), 1) for name, v in runs.items()}
    return medians, {"ratio": ratio, "pair_ratios": pair_ratios}


def _chat_request(chat, cookie, path: str) -> tuple[dict, list[str]]:
    return chat.env, ["config.wsgi:application", path, "--cookie", cookie, "--htmx"]


def in_process(chat, bare, cookie, room, *, rounds) -> dict:
    """The same two requests through the WSGI application alone (see
    bench/inprocess.py), in alternating pairs: the per-request cost inside
    Django, without gunicorn and sockets."""
    medians, ratio = _in_process_pairs(
        ("bare", lambda: (bare.env, [bare.env["GUNICORN_WSGI_APP"], "/poll"])),
        ("chat", lambda: _chat_request(chat, cookie, poll_url(chat.url, cookie, room))),
        rounds=rounds,
        status="204 No Content",
    )
    result = medians | ratio
    log(
        f"(a) in process: bare {result['bare_us']} µs, chat {result['chat_us']} µs "
        f"per request, ratio {result['ratio']} (median of {result['pair_ratios']})"
    )
    return result


def sidebar_in_process(chat, cookie, room, *, rounds) -> dict:
    """The sidebar's refresh when nothing changed (a 204 on its grant: one
    query, chat.live) beside the empty poll of the room (on its grant),
    through the WSGI application alone, in alternating pairs: what a tab's
    second timer costs beside its first."""

    def sidebar() -> str:
        # A fresh page for each run: a grant past its life takes the full path.
        _, page = get(chat.url, f"/rooms/{room}/", cookie)
        nav = re.search(r'<nav id="sidebar"[^>]*? hx-get="([^"]+)"', page)
        url = html.unescape(nav[1])
        # As htmx sends it: with its grant (hx-include="#sidebar-grant").
        grant = re.search(r'id="sidebar-grant" name="t" value="([^"]*)"', page)
        return url + (f"&t={html.unescape(grant[1])}" if grant else "")

    medians, ratio = _in_process_pairs(
        ("sidebar", lambda: _chat_request(chat, cookie, sidebar())),
        ("poll", lambda: _chat_request(chat, cookie, poll_url(chat.url, cookie, room))),
        rounds=rounds,
        status="204 No Content",
    )
    result = medians | ratio
    log(
        f"(a) the sidebar's refresh, nothing changed: {result['sidebar_us']} µs, "
        f"the empty poll {result['poll_us']} µs (ratio {result['ratio']})"
    )
    return result


def delivering_in_process(chat, cookie, room, *, rounds) -> dict:
    """A poll that delivers two messages, through the WSGI application alone:
    on its grant (chat.views.messages, the batch shared by chat.live.batches)
    and without it (the full path:
    session, user, room, messages, render), in alternating pairs. Every poll
    in part (b) is one of these."""
    _, page = get(chat.url, f"/rooms/{room}/", cookie)
    ids = sorted(message_ids(page))
    # The page as it was before the last two: its newest id and the room's
    # change number then (each message's version is on its article).
    seq = int(re.search(rf'id="message-{ids[-3]}"[^>]* data-seq="(\d+)"', page)[1])

    def delivering(*, grant: bool) -> tuple[dict, list[str]]:
        # A fresh grant for each run: one past its life takes the full path.
        url = poll_url(chat.url, cookie, room)
        url = re.sub(r"after=\d+", f"after={ids[-3]}", url)
        url = re.sub(r"seq=\d+", f"seq={seq}", url)
        if not grant:
            url = re.sub(r"&(t|v)=[^&]*", "", url)
        return _chat_request(chat, cookie, url)

    medians, ratio = _in_process_pairs(
        ("granted", lambda: delivering(grant=True)),
        ("full", lambda: delivering(grant=False)),
        rounds=rounds,
        status="200 OK",
    )
    result = medians | ratio
    log(
        f"(b) a delivering poll in process: on its grant {result['granted_us']} µs, "
        f"full path {result['full_us']} µs (ratio {result['ratio']})"
    )
    return result


def _seqs(page: str) -> dict[int, int]:
    """Each message's version (data-seq), by id, as a page shows them."""
    return {
        int(i): int(seq)
        for i, seq in re.findall(r'id="message-(\d+)"[^>]* data-seq="(\d+)"', page)
    }


def change_in_process(chat, cookie, poll_room, react_room, *, rounds) -> dict:
    """What one viewer's poll costs in a busy room, on its grant, through the
    WSGI application alone: one that brings a reaction to a message the page
    holds (out of band) beside one that brings one new message. Every poll
    after the first reads and draws nothing (chat/live/batches.py shares both
    for the room), so this is the cost of each of a thousand viewers."""

    def poll_at(room: str, back: int) -> tuple[dict, list[str]]:
        _, page = get(chat.url, f"/rooms/{room}/", cookie)
        seqs = _seqs(page)
        ids = sorted(seqs)
        url = poll_url(chat.url, cookie, room)
        if back:  # the page before the newest message: it comes new
            after, seq = ids[-1 - back], seqs[ids[-1 - back]]
        else:  # the page before the last change (the reaction)
            after, seq = ids[-1], max(seqs.values()) - 1
        url = re.sub(r"after=\d+", f"after={after}", url)
        url = re.sub(r"seq=\d+", f"seq={seq}", url)
        return _chat_request(chat, cookie, url)

    medians, ratio = _in_process_pairs(
        ("reaction", lambda: poll_at(react_room, 0)),
        ("message", lambda: poll_at(poll_room, 1)),
        rounds=rounds,
        status="200 OK",
    )
    result = medians | ratio
    log(
        f"(b) one viewer's poll in a busy room: a reaction {result['reaction_us']} "
        f"µs, a new message {result['message_us']} µs (ratio {result['ratio']})"
    )
    return result


def statements(chat, room: str, username: str) -> dict:
    """The hand-written read mark against the ORM's UPDATE (bench/statements.py),
    in the server's environment and database."""
    out = json.loads(
        run(chat.env, sys.executable, "bench/statements.py", room, username)
    )
    log(
        f"(b) the read mark: ORM {out['mark_read_orm_us']} µs, written out "
        f"{out['mark_read_sql_us']} µs (ratio {out['ratio']})"
    )
    return out


def part_c(chat, cookie, rooms, *, seconds, rounds) -> dict:
    """Empty poll and room page, small history beside a huge one, in pairs
    run back to back (alternating which goes first); the ratio is the median
    of the pairs' p50 ratios."""
    headers = [f"Cookie: {cookie}", "HX-Request: true"]
    out = {}
    for what in ("poll", "page"):
        runs: dict[str, list[dict]] = {"small": [], "big": []}
        for n in range(rounds):
            for size in ("small", "big") if n % 2 == 0 else ("big", "small"):
                slug = rooms[size]["slug"]
                if what == "poll":
                    url = chat.url + poll_url(chat.url, cookie, slug)
                    extra = headers
                else:
                    url, extra = chat.url + f"/rooms/{slug}/", [f"Cookie: {cookie}"]
                # One connection: latency is service time, not queueing.
                runs[size].append(
                    wrk(url, headers=extra, connections=1, threads=1, seconds=seconds)
                )
        ratios = [
            big["p50_ms"] / small["p50_ms"]
            for small, big in zip(runs["small"], runs["big"], strict=True)
        ]
        ratio, pair_ratios = _paired(ratios)
        out[what] = {
            "small": _median_run(runs["small"]),
            "big": _median_run(runs["big"]),
            "ratio_p50": ratio,
            "pair_ratios": pair_ratios,
        }
        log(
            f"(c) {what}: p50 {out[what]['small']['p50_ms']} ms with "
            f"{rooms['small']['messages']:,} messages, "
            f"{out[what]['big']['p50_ms']} ms with {rooms['big']['messages']:,}: "
            f"ratio {out[what]['ratio_p50']} (median of {out[what]['pair_ratios']})"
        )
    return out


def part_search(env, seed, *, runs) -> dict:
    """Search over the seeded history through chat.search's selector, in
    one process (bench/search.py): latency per query, and the same page read
    by an unindexed scan beside it."""
    rooms = seed["history_rooms"]
    args = [
        "bench/search.py", seed["bench_user"], rooms["big"]["slug"],
        rooms["small"]["slug"], str(rooms["big"]["messages"]), "--runs", str(runs),
    ]  # fmt: skip
    out = json.loads(run(env, sys.executable, *args))
    for row in out["queries"]:
        log(
            f"(search) {row['name']} {row['query']!r}: p50 {row['p50_ms']} ms, "
            f"p99 {row['p99_ms']} ms ({row['results']} results); unindexed scan "
            f"p50 {row['scan_p50_ms']} ms, {row['ratio']}x"
        )
    return out


def part_workers(env, logs, cookie, room, *, seconds, rounds=3) -> list[dict]:
    """gunicorn worker classes and counts, measured on the empty poll: all
    configurations up at once and measured in turn, round after round, the
    median run of each kept."""
    cores = str(os.cpu_count() or 2)
    configs = [
        {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_WORKERS": str(2 * int(cores) + 1)},
        {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_WORKERS": "4",
         "GUNICORN_THREADS": "4"},
        {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_WORKERS": cores,
         "GUNICORN_THREADS": "8"},
    ]  # fmt: skip
    headers = [f"Cookie: {cookie}", "HX-Request: true"]
    with ExitStack() as stack:
        servers = [
            stack.enter_context(Gunicorn(env, logs / f"workers-{i}.log", **conf))
            for i, conf in enumerate(configs)
        ]
        runs: list[list[dict]] = [[] for _ in configs]
        for _ in range(rounds):
            for server, out in zip(servers, runs, strict=True):
                url = server.url + poll_url(server.url, cookie, room)
                out.append(wrk(url, headers=headers, connections=64, seconds=seconds))
        rows = []
        for conf, server, out in zip(configs, servers, runs, strict=True):
            row = {"config": conf, **_median_run(out), "rss_mb": rss_mb(server.pids())}
            row["rounds"] = [r["rps"] for r in out]
            rows.append(row)
            log(f"(workers) {conf}: {row['rps']:.0f} req/s, p99 {row['p99_ms']} ms")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, for a try")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=60, help="part (b) length")
    parser.add_argument("--no-docs", action="store_true", help="JSON only")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="a subset, to iterate (implies --no-docs)",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if parts != set(PARTS) and parts != {"search"}:
        args.no_docs = True  # only a whole run, or search on PostgreSQL
    if shutil.which("wrk") is None:
        sys.exit("make bench needs wrk: apt-get install wrk")
    if args.quick:
        args.clients, args.big, args.seconds = min(args.clients, 200), 100_000, 15
    wrk_seconds = 2 if args.quick else 4

    started = datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    database = os.environ.get("DATABASE_URL")
    result: dict = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "database": "postgresql" if is_postgres(database) else "sqlite",
        "cache": "redis" if os.environ.get("REDIS_URL") else "file",
        "quick": args.quick,
    }
    try:
        with scratch(work, database) as url:
            static = work / "static"
            collectstatic(static)
            env = production_env(url, work / "cache", DJANGO_STATIC_ROOT=str(static))
            log(f"scratch {result['database']} database; migrating and seeding")
            migrate(env)
            run(
                env, sys.executable, "bench/seed.py", "--out", str(work / "seed.json"),
                "--clients", str(args.clients), "--big", str(args.big),
            )  # fmt: skip
            seed = json.loads((work / "seed.json").read_text())
            result["seed"] = seed["seconds"] | {"messages": seed["messages_total"]}
            bare_env = {**env, "GUNICORN_WSGI_APP": "bench.bare_wsgi:application"}
            with (
                Gunicorn(env, work / "chat.log") as chat,
                Gunicorn(bare_env, work / "bare.log") as bare,
            ):
                cookie = login(chat.url, seed["bench_user"], seed["bench_password"])
                result["config"] = gunicorn_config(chat.env)
                result["history_rooms"] = seed["history_rooms"]
                result["a"] = "a" in parts and part_a(
                    chat, bare, cookie, seed["poll_room"], seconds=wrk_seconds,
                    levels=[16, 64], rounds=2 if args.quick else 6,
                )  # fmt: skip
                result["c"] = "c" in parts and part_c(
                    chat,
                    cookie,
                    seed["history_rooms"],
                    seconds=wrk_seconds,
                    rounds=2 if args.quick else 6,
                )
                bare.stop()
                log(f"(b) {len(seed['clients'])} browsers, {args.seconds} s of sends")
                rss_before = rss_mb(chat.pids())
                result["b"] = "b" in parts and delivery(
                    chat.url, seed["clients"], seed["senders"], seconds=args.seconds
                )
                if result["b"]:
                    result["b"]["in_process"] = delivering_in_process(
                        chat, cookie, seed["poll_room"], rounds=2 if args.quick else 4
                    )
                    result["b"]["change_in_process"] = change_in_process(
                        chat,
                        cookie,
                        seed["poll_room"],
                        seed["react_room"],
                        rounds=2 if args.quick else 4,
                    )
                    result["b"]["statements"] = statements(
                        chat, seed["poll_room"], seed["bench_user"]
                    )
                result["d"] = {
                    "rss_mb_start": rss_before,
                    "rss_mb_end_of_b": rss_mb(chat.pids()),
                    "processes": len(chat.pids()),
                }
                b = result["b"]
                b and log(
                    f"(b) p50 {b['latency_p50_s']} s, p99 {b['latency_p99_s']} s, "
                    f"lost {b['lost']}, duplicated {b['duplicated']}, "
                    f"errors {b['http_errors']}; answers: polls p99 "
                    f"{b['poll_p99_ms']} ms, sends p99 {b['send_p99_ms']} ms; "
                    f"(d) RSS {result['d']}"
                )
            result["workers"] = "workers" in parts and part_workers(
                env, work, cookie, seed["poll_room"], seconds=wrk_seconds
            )
            # In process, once the servers are gone: nothing else on the
            # machine.
            result["search"] = "search" in parts and part_search(
                env, seed, runs=50 if args.quick else 200
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    whole = parts == set(PARTS)
    # Search alone on PostgreSQL (DATABASE_URL): the report's second search
    # table, kept beside the whole run (bench/search-postgresql.json).
    postgres_search = parts == {"search"} and result["database"] == "postgresql"
    result["targets"] = targets(result) if whole else {}
    # A run of some parts must not overwrite the whole run the report is made
    # from: it goes beside it (not committed).
    if whole:
        out = RESULTS
    elif postgres_search:
        out = SEARCH_POSTGRESQL
    else:
        out = RESULTS.with_name("partial.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {out.relative_to(ROOT)}")
    if not args.no_docs and (whole or postgres_search):
        from bench.report import write_report

        write_report(json.loads(RESULTS.read_text()))
        log("regenerated docs/benchmarks.md and docs/benchmarks.png")
    for name, target in result["targets"].items():
        log(
            f"target {name}: {'met' if target['met'] else 'MISSED'} ({target['value']})"
        )


def targets(result: dict) -> dict:
    ratios = [row["ratio"] for row in result["a"]["levels"]]
    b, c = result["b"], result["c"]
    p50 = max(row["p50_ms"] for row in result["search"]["queries"])
    p99 = max(row["p99_ms"] for row in result["search"]["queries"])
    clean = b["lost"] == 0 and b["duplicated"] == 0 and b["http_errors"] == 0
    return {
        "a: empty poll >= 0.60 of the floor": {
            "value": min(ratios),
            "met": min(ratios) >= 0.60,
        },
        "b: p99 delivery <= 2.5 s, nothing lost, duplicated or failed": {
            "value": b["latency_p99_s"],
            "met": clean and (b["latency_p99_s"] or 99) <= 2.5,
        },
        "c: 1M-message room costs <= 1.2x a small one": {
            "value": max(c["poll"]["ratio_p50"], c["page"]["ratio_p50"]),
            "met": max(c["poll"]["ratio_p50"], c["page"]["ratio_p50"]) <= 1.2,
        },
        "search: every query p50 <= 50 ms, p99 <= 200 ms over 1M messages": {
            "value": f"p50 {p50} ms, p99 {p99} ms",
            "met": p50 <= 50 and p99 <= 200,
        },
    }


def gunicorn_config(env: dict) -> dict:
    """What gunicorn.conf.py resolves to under `env` (bind aside)."""
    import runpy

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    names = ("worker_class", "workers", "threads", "keepalive", "wsgi_app")
    return {name: conf[name] for name in names}


def machine() -> dict:
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1) if found else ""
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


if __name__ == "__main__":
    main()
