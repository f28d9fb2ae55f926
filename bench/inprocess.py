"""Part (a) without the server: the WSGI application called directly, in one
process, with the same request over and over. What it measures is Django's and
the chat's own work per request, with gunicorn, sockets and the other process
left out; beside wrk's figures it shows how much of the gap is ours.

    python bench/inprocess.py WSGI_APP PATH [--cookie C] [--htmx] [--seconds S]

Run once per application (each needs its own settings), with the environment
of the server it stands in for. Prints JSON: microseconds per request, the
median of several batches, and the status the application answered.
"""

import argparse
import io
import json
import sys
import time
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def environ(path: str, *, cookie: str, htmx: bool) -> dict:
    path_info, _, query = path.partition("?")
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if cookie:
        env["HTTP_COOKIE"] = cookie
    if htmx:
        env["HTTP_HX_REQUEST"] = "true"
    return env


def measure(application, base: dict, *, seconds: float) -> dict:
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def one() -> None:
        response = application(dict(base), start_response)
        for _ in response:
            pass
        response.close()  # request_finished: what a server does after each

    for _ in range(200):  # warm: imports, caches, the connection
        one()
    batches = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(batches) < 5:
        count = 500
        started = time.perf_counter()
        for _ in range(count):
            one()
        batches.append((time.perf_counter() - started) / count * 1e6)
    batches.sort()
    return {
        "us_per_request": round(batches[len(batches) // 2], 1),
        "batches": len(batches),
        "status": statuses[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("app", help="module:attribute of the WSGI application")
    parser.add_argument("path")
    parser.add_argument("--cookie", default="")
    parser.add_argument("--htmx", action="store_true")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    module, _, attribute = args.app.partition(":")
    application = getattr(import_module(module), attribute)
    base = environ(args.path, cookie=args.cookie, htmx=args.htmx)
    print(json.dumps(measure(application, base, seconds=args.seconds)))


if __name__ == "__main__":
    main()
