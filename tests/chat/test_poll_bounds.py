"""A poll's cursor comes from the client: one no page can hold is refused,
and whatever a page claims to hold, an answer brings at most a batch, the
rest following at once (issue 25, finding 1)."""

import gc
import os
from urllib.parse import parse_qsl, urlencode

import pytest

from chat import services
from tests.chat.helpers import without_grant
from tests.chat.test_poll_changes import inline, poller, room_seq, swapped

pytestmark = pytest.mark.django_db

BIG = 2**63 - 1  # the largest cursor that parses: refused as past the room


def with_cursor(url: str, **values) -> str:
    """`url` (a poller's) with its cursor fields set to `values`."""
    path, _, query = url.partition("?")
    fields = dict(parse_qsl(query))
    fields.update({name: str(value) for name, value in values.items()})
    return f"{path}?{urlencode(fields, safe=':')}"


@pytest.fixture
def grant_or_not(request, htmx_client, poller_url, room):
    """The poller's URL with its grant (the hot path) or without (the full
    path)."""
    url = poller_url(htmx_client, room)
    return without_grant(url) if request.param == "full-path" else url


paths = pytest.mark.parametrize(
    "grant_or_not", ["on-grant", "full-path"], indirect=True
)


@paths
@pytest.mark.parametrize(
    "forged",
    [
        {"after": BIG, "seq": 0, "start": 0},
        {"after": BIG, "seq": 0},
        {"seq": BIG},
        {"start": BIG},
    ],
    ids=["after-whole-room", "after", "seq", "start-after-after"],
)
def test_a_cursor_no_page_can_hold_is_refused(
    htmx_client, grant_or_not, room, other_user, make_messages, forged
):
    make_messages(room, 3, author=other_user)
    # Something new, so that the hot path hands the poll on.
    make_messages(room, 1, author=other_user, prefix="new")
    response = htmx_client.get(with_cursor(grant_or_not, **forged))
    assert response.status_code == 400
    assert "load the room again" in response.content.decode()


def test_load_newer_past_the_newest_message_is_refused(
    htmx_client, room, other_user, make_messages
):
    make_messages(room, 3, author=other_user)
    response = htmx_client.get(
        f"/rooms/{room.slug}/messages/", {"newer": BIG, "seq": 0, "start": 0}
    )
    assert response.status_code == 400
    assert "past this room's newest message" in response.content.decode()


def test_a_cursor_of_another_room_is_refused(
    htmx_client, room, make_room, other_user, make_messages
):
    make_messages(room, 2, author=other_user)
    elsewhere = make_room("Elsewhere")
    later = make_messages(elsewhere, 2, author=other_user)
    response = htmx_client.get(
        f"/rooms/{room.slug}/messages/", {"after": later[-1].id, "seq": 0}
    )
    assert response.status_code == 400


@paths
def test_a_page_that_claims_the_whole_room_gets_one_batch_at_a_time(
    htmx_client, grant_or_not, room, other_user, make_messages, soup, settings
):
    """A real page long asleep, or one whose cursor says it holds every
    message as of the room's first change: a batch of the held changes in
    number order, the poller firing again at once; every change once."""
    settings.CHAT_POLL_LIMIT = 5
    held = make_messages(room, 12, author=other_user)
    for message in held:
        services.message_edit(message=message, editor=other_user, content="edited")
    url = with_cursor(grant_or_not, after=held[-1].id, seq=0, start=0)
    seen: list[int] = []
    for _ in range(10):
        response = htmx_client.get(url)
        if response.status_code == 204:
            break
        page = soup(response)
        batch = swapped(page)
        assert len(batch) <= settings.CHAT_POLL_LIMIT and not inline(page)
        held_ids = {m.id for m in held}
        assert all(
            el.select_one(".message-content").get_text() == "edited"
            for message_id, el in batch.items()
            if message_id in held_ids
        )
        seen += batch
        trigger = page.select_one("#poller")["hx-trigger"]
        assert trigger.startswith("load") == (len(seen) < len(held) + 1), trigger
        url = poller(page)
    # The join notice and the twelve, each once, and then nothing.
    assert len(seen) == len(set(seen)) == room.messages.count()
    assert set(seen) >= {m.id for m in held}
    assert response.status_code == 204
    assert f"seq={room_seq(room)}" in url


def _resident() -> int:
    """This process's resident memory, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@paths
def test_forged_polls_leave_the_process_memory_where_it_was(
    htmx_client, grant_or_not, room, other_user, make_messages
):
    """The probe's cursors kept 55 MB each in the worker: 50 distinct ones
    now leave its resident memory within a few MB of where it started."""
    newest = make_messages(room, 300, author=other_user)[-1].id
    make_messages(room, 1, author=other_user, prefix="new")

    def forge(after: int) -> int:
        url = with_cursor(grant_or_not, after=after, seq=0, start=0)
        return htmx_client.get(url).status_code

    for after in range(newest + 1, newest + 6):  # the code paths, warmed
        forge(after)
    gc.collect()
    before = _resident()
    answers = {forge(after) for after in range(newest + 10, newest + 60)}
    gc.collect()
    grown = _resident() - before
    assert grown < 4 * 1024 * 1024, f"{grown / 2**20:.1f} MB"
    assert answers == {400}
