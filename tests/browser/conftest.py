"""Headless Chromium (Debian's) driven by Playwright against live_server."""

import os
import shutil
import time
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

# live_server runs in this process while Playwright's sync API drives a loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine has no network but loopback: no background fetches.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if CHROMIUM is None:
                item.add_marker(
                    pytest.mark.skip(
                        reason="no Chromium found: apt-get install chromium"
                    )
                )


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Tab:
    """One user's page, with what its console and the page reported."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.console.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture
def open_tab(chromium, live_server, transactional_db) -> Iterator[Callable[..., Tab]]:
    """open_tab(user=None, path="/", **context_options): a logged-in page."""
    contexts = []

    def open_(user=None, path: str = "/", **options) -> Tab:
        context = chromium.new_context(
            **{"viewport": {"width": 1000, "height": 700}, **options}
        )
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                        "url": live_server.url,
                    }
                ]
            )
        tab = Tab(context.new_page())
        tab.page.set_default_timeout(10_000)
        tab.page.goto(live_server.url + path)
        return tab

    yield open_
    for context in contexts:
        context.close()


def send(tab: Tab, text: str) -> None:
    """Type and press Enter, as a person does, and wait for the form to be
    ready again (enabled and empty)."""
    field = tab.page.locator("#send-content")
    field.fill(text)
    field.press("Enter")
    expect(field).to_have_value("")
    expect(field).to_be_enabled()


def _set_out_after(moment: float, path: str):
    def is_it(response) -> bool:
        request = response.request
        return (
            request.method == "GET"
            and path in response.url
            and request.timing["startTime"] >= moment
        )

    return is_it


def next_poll(page, *, path: str = "/messages/?", timeout: float = 30_000) -> None:
    """Wait until `page` has the answer to a poll (or, with `path`, another
    refresh: "/sidebar/") that set out after now. Whatever changed before
    this call is in that answer: "the other page sees it by its next poll"
    tested as that, not as a number of seconds, which a loaded machine
    stretches (speed is make bench's to judge)."""
    page.wait_for_event(
        "response",
        predicate=_set_out_after(time.time() * 1000, path),
        timeout=timeout,
    )


def live(locator):
    """expect(locator), once its page has polled since what it waits for
    happened: for what another page or the server did (next_poll)."""
    next_poll(locator.page)
    return expect(locator)


def message_ids(tab: Tab) -> list[int]:
    return tab.page.eval_on_selector_all(
        "#messages [data-id]", "els => els.map(e => Number(e.dataset.id))"
    )


@pytest.fixture
def conversation(user, other_user, room) -> list:
    """General with a short talk between alice and bob: a link, a /me, a
    mention, a reply and a reaction from each (made by the services, so no
    tab has to send them)."""
    from chat import services

    def say(author, content, reply_to=None):
        return services.message_create(
            room=room, author=author, content=content, reply_to=reply_to
        )

    release = say(user, "Morning! Did the release go out?")
    notes = say(other_user, "Yes, at 9. Notes are at https://example.com/releases/48")
    cheers = say(user, "/me cheers")
    check = say(other_user, "@alice can you check the dashboard?")
    green = say(user, "On it. Looks green so far.", reply_to=check)
    services.reaction_toggle(message=notes, user=user, emoji="🎉")
    services.reaction_toggle(message=green, user=other_user, emoji="👍")
    return [release, notes, cheers, check, green]
