"""Real servers for the tests and the benchmark: the project's gunicorn.conf.py
on loopback, in production mode, on a scratch database.

No Django import here: these helpers only start and stop processes, so the
benchmark can use them as well as the suite.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


@contextmanager
def scratch_database(directory: Path, url: str | None = None) -> Iterator[str]:
    """A DATABASE_URL for a database nobody else uses, dropped afterwards:
    a new PostgreSQL database beside `url` when it names a PostgreSQL server,
    else a SQLite file in `directory`."""
    if not is_postgres(url):
        yield f"sqlite:///{directory / 'scratch.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"chat_scratch_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(database_url: str, cache_dir: Path, **extra: str) -> dict:
    """The environment of `make serve` (DEBUG off), with the limits off: the
    load is the point. REDIS_URL is passed on when the caller's has one."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "GUNICORN_", "CHAT_", "DATABASE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        DJANGO_CACHE_DIR=str(cache_dir),
        CHAT_SEND_RATE="0",
        CHAT_POLL_RATE="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run(env: dict, *args: str, timeout: float = 600) -> str:
    """Run a command in the project with `env`; its stdout, or a clear failure."""
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout


def migrate(env: dict) -> None:
    run(env, sys.executable, "manage.py", "migrate", "--noinput", "-v0")


def collectstatic(static_root: Path) -> None:
    """What a deployment does at build time: DEBUG off needs the manifest."""
    env = production_env("sqlite://:memory:", static_root.parent / "cache")
    env["DJANGO_STATIC_ROOT"] = str(static_root)
    run(env, sys.executable, "manage.py", "collectstatic", "--noinput", "-v0")


class Gunicorn:
    """gunicorn -c gunicorn.conf.py, bound to a free loopback port."""

    def __init__(self, env: dict, log: Path, port: int | None = None, **conf: str):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", **conf}
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, ready_path: str = "/accounts/login/") -> "Gunicorn":
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2) as r:
                    if r.status < 500:
                        return self
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text()[-3000:]}")

    def pids(self) -> list[int]:
        """The arbiter and its workers."""
        assert self.process is not None
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        return [self.process.pid, *map(int, children)]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log_file", None):
            self._log_file.close()

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
