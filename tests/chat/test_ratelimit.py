import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured

from chat import ratelimit
from chat.models import Message
from chat.ratelimit import Rate, parse_rate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_rates(settings):
    settings.CHAT_SEND_RATE = "10/10s"
    settings.CHAT_POLL_RATE = "5/s"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10/10s", Rate(10, 10)),
        ("5/s", Rate(5, 1)),
        ("100/m", Rate(100, 60)),
        ("3/2h", Rate(3, 7200)),
        ("0", None),
        ("", None),
    ],
)
def test_parse_rate(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["ten", "10/", "10/10x", "-1/s"])
def test_bad_rate_is_a_configuration_error(value):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(value)


class ExpiresBeforeIncr(LocMemCache):
    """A cache where, once, a count expires between allow()'s add() and its
    incr(), and other workers then count the window's key up to its limit."""

    raced = False

    def incr(self, key, delta=1, version=None):
        if not self.raced:
            self.raced = True
            self.delete(key, version)
            for _ in range(10):
                assert ratelimit.allow(scope="send", key="alice", rate="10/h")
            raise ValueError(f"Key '{key}' not found")
        return super().incr(key, delta, version)


def test_a_count_made_by_others_is_never_reset(monkeypatch, one_window):
    cache = ExpiresBeforeIncr("expiring", {})
    cache.clear()
    monkeypatch.setattr("chat.ratelimit.cache", cache)
    hits = [ratelimit.allow(scope="send", key="alice", rate="10/h") for _ in range(12)]
    # The first made the count that expired; the second met the race and is
    # counted after the other workers' ten: the window is full.
    assert hits == [True] + [False] * 11


def test_eleventh_send_in_ten_seconds_is_429_slow_down_and_not_stored(
    htmx_client, room, soup, one_window
):
    for i in range(10):
        response = htmx_client.post(
            f"/rooms/{room.slug}/messages/", {"content": f"m{i}", "after": 0}
        )
        assert response.status_code == 200
    response = htmx_client.post(
        f"/rooms/{room.slug}/messages/", {"content": "one too many", "after": 0}
    )
    assert response.status_code == 429
    assert response["HX-Retarget"] == "#send-form"
    form = soup(response).select_one("#send-form")
    assert "Slow down" in form.select_one("#send-error").get_text()
    # The text is kept so the user can send it again.
    assert form.select_one("#send-content")["value"] == "one too many"
    assert Message.objects.count() == 10
    assert not Message.objects.filter(content="one too many").exists()


def test_send_limit_is_per_user(htmx_client, client_for, room, other_user, one_window):

    for i in range(10):
        htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": f"m{i}"})
    bob = client_for(other_user)
    response = bob.post(f"/rooms/{room.slug}/messages/", {"content": "hi"})
    assert response.status_code == 200


def test_plain_send_over_the_limit_is_429_page(
    auth_client, room, settings, soup, one_window
):
    settings.CHAT_SEND_RATE = "1/m"
    assert (
        auth_client.post(f"/rooms/{room.slug}/messages/", {"content": "a"}).status_code
        == 303
    )
    response = auth_client.post(f"/rooms/{room.slug}/messages/", {"content": "b"})
    assert response.status_code == 429
    assert soup(response).select_one("#send-error")
    assert Message.objects.count() == 1


def test_sixth_poll_in_a_second_is_429_with_a_poller_that_keeps_polling(
    htmx_client, room, soup, monkeypatch, make_messages
):
    newest = make_messages(room, 1)[0].id
    monkeypatch.setattr("chat.ratelimit.time.time", lambda: 1_000_000.5)
    url = f"/rooms/{room.slug}/messages/?after={newest}"
    assert [htmx_client.get(url).status_code for _ in range(5)] == [204] * 5
    response = htmx_client.get(url)
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    poller = soup(response).select_one("#poller")
    assert poller["hx-trigger"] == "every 2s"
    assert poller.select_one("input[name=after]")["value"] == str(newest)
    # The next second is a new window.
    monkeypatch.setattr("chat.ratelimit.time.time", lambda: 1_000_001.5)
    assert htmx_client.get(url).status_code == 204


def test_zero_turns_limits_off(htmx_client, room, settings):
    settings.CHAT_SEND_RATE = "0"
    settings.CHAT_POLL_RATE = "0"
    for i in range(15):
        htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": f"m{i}"})
    assert Message.objects.count() == 15
    url = f"/rooms/{room.slug}/messages/?after=0"
    assert all(htmx_client.get(url).status_code == 200 for _ in range(10))


def test_a_flood_of_polls_with_a_grant_ends_in_429_too(htmx_client, room, soup):
    """The hot path does not write the shared counter on each poll; past the
    rate it hands polls to the full path, which counts them and says 429."""
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    url = page.select_one("#poller")["hx-get"]
    statuses = [htmx_client.get(url).status_code for _ in range(20)]
    assert statuses[:5] == [204] * 5  # within the rate, on the hot path
    assert 429 in statuses


@pytest.mark.parametrize("action", ["edit", "delete", "reactions"])
def test_changing_messages_counts_against_the_send_rate(
    action, htmx_client, room, user, make_messages, settings, one_window
):
    """Each edit, delete and reaction wakes every page polling the room."""
    settings.CHAT_SEND_RATE = "2/60s"
    said = make_messages(room, 3)  # made by the service: not counted
    data = {"edit": {"content": "new"}, "reactions": {"emoji": "👍"}}.get(action, {})
    base = f"/rooms/{room.slug}/messages"
    answers = [
        htmx_client.post(f"{base}/{message.id}/{action}/", data).status_code
        for message in said
    ]
    assert answers == [200, 200, 429]
    refused = htmx_client.post(f"{base}/{said[2].id}/{action}/", data)
    assert refused["HX-Reswap"] == "none" and refused["Retry-After"]
    after = Message.objects.get(pk=said[2].pk)  # untouched
    assert (after.content, after.deleted_at, after.reactions_seen) == (
        said[2].content,
        None,
        [],
    )
