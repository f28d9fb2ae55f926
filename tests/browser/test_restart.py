"""The server goes away for 5 s and comes back: the open page carries on."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import Tab, send

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def real_server(tmp_path):
    """A runserver of our own on a scratch SQLite file, with demo users,
    that the test can stop and start again on the same port."""
    port = free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
        },
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_CACHE_DIR": str(tmp_path / "cache"),
        "CHAT_POLL_RATE": "0",
        "CHAT_SEND_RATE": "0",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run(
            manage + command, cwd=ROOT, env=env, check=True, capture_output=True
        )

    class Server:
        url = f"http://127.0.0.1:{port}"
        process = None

        def start(self) -> None:
            self.process = subprocess.Popen(
                [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    return
                except OSError:
                    time.sleep(0.1)
            raise RuntimeError("the server did not start")

        def stop(self) -> None:
            self.process.terminate()
            self.process.wait(timeout=10)

    server = Server()
    server.start()
    yield server
    server.stop()


def log_in(chromium, url: str, username: str):
    context = chromium.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{url}/accounts/login/?next=/rooms/general/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo-pass-123")
    page.locator("#login-form button").click()
    expect(page.locator("#messages")).to_be_visible()
    return page


def test_polling_resumes_after_the_server_was_down_for_five_seconds(
    chromium, real_server
):
    alice = log_in(chromium, real_server.url, "alice")
    alice.evaluate("window.sameDocument = true")  # a reload would lose it
    real_server.stop()
    time.sleep(5)
    real_server.start()
    bob = log_in(chromium, real_server.url, "bob")
    send(Tab(bob), "back online")
    expect(
        alice.locator("#messages .message-content", has_text="back online")
    ).to_be_visible(timeout=6_000)
    assert alice.evaluate("window.sameDocument === true")
    alice.context.close()
    bob.context.close()
