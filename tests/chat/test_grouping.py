"""Messages that read well: consecutive messages of one author within five
minutes share one header (and avatar), a separator starts each day, the
room page marks the first unread message; alike on the page, in each poll's
batch, after "Load older" and in changes swapped out of band
(services._neighbours, chat_tags.message_place)."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts import services as profiles
from accounts.models import Profile
from chat import services
from tests.accounts.images import png_upload
from tests.chat.helpers import say

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """clock(when): timezone.now() answers `when` everywhere (created_at,
    the services, "Today")."""

    def set_to(when: datetime) -> None:
        monkeypatch.setattr("django.utils.timezone.now", lambda: when)

    set_to(NOON)
    return set_to


def article(page, message):
    return page.select_one(f"#message-{message.pk}")


def header(page, message):
    return article(page, message).select_one("header")


def grouped(page, message) -> bool:
    """Drawn as continuing the group above: its header only for screen
    readers, no avatar; and marked so."""
    el = article(page, message)
    hidden = "sr-only" in header(page, message)["class"]
    assert hidden == ("message-grouped" in el["class"])
    # One's own messages never have an avatar; others' have one unless grouped.
    own = "message-own" in el["class"]
    assert own or hidden == (el.select_one(".avatar") is None)
    return hidden


# --- what the services store -------------------------------------------------


def test_a_message_continues_its_authors_message_within_five_minutes(
    room, user, bob, clock
):
    first = say(room, user, "one")
    clock(NOON + timedelta(minutes=5))
    second = say(room, user, "two")
    clock(NOON + timedelta(minutes=10, seconds=1))
    third = say(room, user, "three")
    assert first.previous_at is not None and not first.continues  # bob's join
    assert second.continues and second.previous_at == first.created_at
    assert not third.continues and third.previous_at == second.created_at


@pytest.mark.parametrize("between", ["another author", "an action", "a deletion"])
def test_a_group_ends_at_another_author_an_action_or_a_deleted_message(
    room, user, bob, clock, between
):
    first = say(room, user, "one")
    if between == "another author":
        say(room, bob, "hi")
        after = say(room, user, "two")
    elif between == "an action":
        after = say(room, user, "/me waves")
    else:
        services.message_delete(message=first, deleter=user)
        after = say(room, user, "two")
    assert not after.continues


def test_deleting_a_groups_head_gives_the_next_message_its_header(
    room, user, bob, client_for, soup, poller_url
):
    head = say(room, user, "head")
    second = say(room, user, "second")
    third = say(room, user, "third")
    bobs = client_for(bob)
    url = poller_url(bobs, room)
    page = soup(bobs.get(room.get_absolute_url()))
    assert not grouped(page, head) and grouped(page, second)

    services.message_delete(message=head, deleter=user)
    second.refresh_from_db()
    third.refresh_from_db()
    assert not second.continues and third.continues
    # A change like any other: the poll brings it, out of band.
    batch = soup(bobs.get(url))
    swapped = {int(el["data-id"]) for el in batch.select("[hx-swap-oob=true]")}
    assert swapped == {head.pk, second.pk}
    assert not grouped(batch, second)
    assert "Message deleted" in article(batch, head).get_text()


# --- across the page and poll batches ----------------------------------------


def test_a_poll_whose_first_message_continues_the_group_draws_no_header(
    room, user, bob, client_for, soup, poller_url
):
    say(room, user, "on the page")
    bobs = client_for(bob)
    url = poller_url(bobs, room)
    continued = say(room, user, "in the next batch")
    answer = soup(bobs.get(url))
    assert [int(a["data-id"]) for a in answer.select("article")] == [continued.pk]
    assert grouped(answer, continued)
    assert header(answer, continued).select_one(".message-author").get_text() == (
        "alice"
    )

    alices = client_for(user)
    url = poller_url(alices, room)
    other = say(room, bob, "someone else")
    answer = soup(alices.get(url))
    assert not grouped(answer, other)
    assert article(answer, other).select_one(".message-avatar .avatar") is not None


def test_the_pages_first_message_always_has_its_header_and_day(
    room, user, bob, client_for, soup, settings
):
    settings.CHAT_PAGE_SIZE = 3
    said = [say(room, user, f"m{i}") for i in range(5)]
    assert all(m.continues for m in said[1:])
    page = soup(client_for(bob).get(room.get_absolute_url()))
    shown = [int(a["data-id"]) for a in page.select("#messages article")]
    assert shown == [m.pk for m in said[2:]]
    assert not grouped(page, said[2])  # its group's head is not on the page
    assert grouped(page, said[3]) and grouped(page, said[4])
    assert [d["id"] for d in page.select(".day-separator")] == [f"day-{said[2].pk}"]


def test_a_change_to_the_pages_first_message_keeps_its_header(
    room, user, bob, client_for, soup, settings
):
    settings.CHAT_PAGE_SIZE = 2
    said = [say(room, user, f"m{i}") for i in range(4)]
    bobs = client_for(bob)
    page = soup(bobs.get(room.get_absolute_url()))
    start = page.select_one("#load-older input[name=start]")["value"]
    assert start == str(said[2].pk)
    url = page.select_one("#poller")["hx-get"] + f"&start={start}"
    services.reaction_toggle(message=said[2], user=bob, emoji="👍")
    services.reaction_toggle(message=said[3], user=bob, emoji="👍")
    batch = soup(bobs.get(url))
    assert not grouped(batch, said[2])  # still the page's first
    assert grouped(batch, said[3])


def test_a_control_used_on_the_pages_first_message_keeps_its_header(
    room, user, client_for, soup, settings
):
    # alice's own messages (she may edit and delete them): the page of two
    # starts inside her group of four.
    settings.CHAT_PAGE_SIZE = 2
    said = [say(room, user, f"m{i}") for i in range(4)]
    alices = client_for(user)
    page = soup(alices.get(room.get_absolute_url()))
    first = article(page, said[2])
    start = page.select_one("#load-older input[name=start]")["value"]
    assert start == str(said[2].pk) and not grouped(page, said[2])
    # Each control sends the page's start (from #load-older, its one home).
    react = first.select_one(".reaction-picker a[data-emoji]")
    delete = first.select_one("a.message-delete")
    for control, params in ((react, "start,emoji"), (delete, "start")):
        assert control["hx-include"] == "#load-older, closest article"
        assert control["hx-params"] == params
    base = f"/rooms/{room.slug}/messages/{said[2].pk}"
    answer = alices.post(f"{base}/reactions/", {"emoji": "👍", "start": start})
    assert not grouped(soup(answer), said[2])
    # Without it the answer cannot know, and draws the stored continuation.
    answer = alices.post(f"{base}/reactions/", {"emoji": "👍"})
    assert grouped(soup(answer), said[2])
    # The editor's Save takes it from #load-older too: it holds none itself.
    editor = soup(alices.get(f"{base}/edit/"))
    form = editor.select_one(".message-edit-form")
    assert form["hx-include"] == "#load-older, closest form"
    assert form.select("[name=start]") == []
    answer = alices.post(f"{base}/edit/", {"content": "m2, fixed", "start": start})
    assert not grouped(soup(answer), said[2])
    # A malformed start is only a missing hint.
    answer = alices.post(f"{base}/edit/", {"content": "m2 again", "start": "x"})
    assert answer.status_code == 200 and grouped(soup(answer), said[2])


def test_load_older_joins_the_former_first_message_to_its_group_and_day(
    room, user, bob, client_for, soup, settings
):
    settings.CHAT_PAGE_SIZE = 2
    said = [say(room, user, f"m{i}") for i in range(4)]
    bobs = client_for(bob)
    older = soup(bobs.get(f"/rooms/{room.slug}/messages/?before={said[2].pk}"))
    appended = [a for a in older.select("article") if not a.get("hx-swap-oob")]
    assert [int(a["data-id"]) for a in appended] == [said[0].pk, said[1].pk]
    again = older.select_one(f"#message-{said[2].pk}[hx-swap-oob=true]")
    assert again is not None and "message-grouped" in again["class"]
    # Same day: its separator goes, out of band; the new first has one.
    assert older.select_one(f"#day-{said[2].pk}")["hx-swap-oob"] == "delete"
    assert older.select_one(f"#day-{said[0].pk}.day-separator") is not None


def test_load_older_keeps_the_separator_of_a_new_day(
    room, user, bob, client_for, soup, settings, clock
):
    settings.CHAT_PAGE_SIZE = 1
    yesterday = say(room, user, "yesterday")
    clock(NOON + timedelta(days=1))
    today = say(room, user, "today")
    older = soup(client_for(bob).get(f"/rooms/{room.slug}/messages/?before={today.pk}"))
    assert older.select_one(f"#day-{today.pk}") is None  # nothing to delete
    again = older.select_one(f"#message-{today.pk}[hx-swap-oob=true]")
    assert "message-grouped" not in again["class"]
    assert older.select_one(f"#day-{yesterday.pk}").get_text(strip=True) == (
        "Yesterday"
    )


def test_a_day_separator_comes_with_the_first_message_of_a_day_in_a_poll(
    room, user, bob, client_for, soup, poller_url, clock
):
    clock(NOON - timedelta(days=3))  # within the session's age
    say(room, user, "days ago")
    bobs = client_for(bob)
    url = poller_url(bobs, room)
    clock(NOON)
    first_today = say(room, user, "good morning")
    same_day = say(room, bob, "morning")
    batch = soup(bobs.get(url))
    separators = batch.select(".day-separator")
    assert [s["id"] for s in separators] == [f"day-{first_today.pk}"]
    assert separators[0].get_text(strip=True) == "Today"
    assert separators[0].select_one("time")["datetime"] == "2026-11-23"
    # Before its message, in the log's order.
    assert separators[0].find_next("article")["id"] == f"message-{first_today.pk}"
    assert batch.select_one(f"#day-{same_day.pk}") is None


def test_days_and_times_are_the_viewers(room, user, bob, client_for, soup, clock):
    clock(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    late = say(room, user, "late in London")
    Profile.objects.create(user=bob, time_zone="Asia/Tokyo")
    bobs = client_for(bob)
    bobs.get("/rooms/")  # the zone is taken from the profile at sign-in
    page = soup(bobs.get(room.get_absolute_url()))
    time = header(page, late).select_one("time")
    assert time.get_text() == "08:30"  # Tokyo is UTC+9
    assert "Nov. 24, 2026" in time["title"] and "8:30" in time["title"]
    assert page.select_one(f"#day-{late.pk} time")["datetime"] == "2026-11-24"


def test_a_separator_says_yesterday_or_the_date(
    room, user, bob, client_for, soup, clock
):
    clock(datetime(2025, 3, 4, 10, 0, tzinfo=UTC))
    last_year = say(room, user, "last year")
    clock(NOON - timedelta(days=3))
    this_year = say(room, user, "this year")
    clock(NOON - timedelta(days=1))
    yesterday = say(room, user, "yesterday")
    clock(NOON)
    page = soup(client_for(bob).get(room.get_absolute_url()))

    def label(m):
        return page.select_one(f"#day-{m.pk}").get_text(strip=True)

    assert label(last_year) == "Tuesday, March 4, 2025"
    assert label(this_year) == "Friday, November 20"
    assert label(yesterday) == "Yesterday"


# --- avatars and names ---------------------------------------------------------


def test_others_messages_show_their_avatar_and_display_name(
    room, user, bob, client_for, soup
):
    Profile.objects.create(user=user, display_name="Alice Liddell")
    mine = say(room, bob, "mine")
    theirs = say(room, user, "theirs")
    page = soup(client_for(bob).get(room.get_absolute_url()))
    assert article(page, mine).select_one(".avatar") is None  # own: no avatar
    avatar = article(page, theirs).select_one(".message-avatar .avatar-initials")
    assert avatar.get_text() == "AL"
    author = article(page, theirs).select_one(".message-author a")
    assert author.get_text() == "Alice Liddell" and author["title"] == "@alice"
    assert author["href"] == "/dm/alice/"


def test_a_new_display_name_is_drawn_afresh(
    room, user, bob, client_for, soup, settings
):
    settings.FRAGMENT_CACHE = "default"  # the production alias, cached
    theirs = say(room, user, "theirs")
    bobs = client_for(bob)

    def drawn():
        return article(soup(bobs.get(room.get_absolute_url())), theirs)

    def author():
        return drawn().select_one(".message-author").get_text()

    assert author() == "alice"
    Profile.objects.create(user=user, display_name="Al")
    assert author() == "Al"
    profiles.profile_update(user=user, display_name="Alice Liddell")
    assert author() == "Alice Liddell"
    assert drawn().select_one(".message-avatar img.avatar") is None
    profiles.avatar_set(user=user, upload=png_upload())
    assert drawn().select_one(".message-avatar img.avatar") is not None


# --- the "New messages" divider ---------------------------------------------


def test_the_room_page_marks_the_first_unread_message(
    room, user, bob, client_for, soup
):
    bobs = client_for(bob)
    read = say(room, user, "read")
    bobs.get(room.get_absolute_url())
    unread = [say(room, user, "new one"), say(room, user, "new two")]
    page = soup(bobs.get(room.get_absolute_url()))
    divider = page.select("#unread-divider")
    assert len(divider) == 1 and "New messages" in divider[0]["aria-label"]
    assert divider[0].find_next("article")["id"] == f"message-{unread[0].pk}"
    assert article(page, read) is not None
    # Opened again, all of it is read: no divider.
    assert soup(bobs.get(room.get_absolute_url())).select("#unread-divider") == []


def test_ones_own_messages_are_never_new(room, user, bob, client_for, soup):
    bobs = client_for(bob)
    bobs.get(room.get_absolute_url())
    say(room, bob, "sent from another tab")
    theirs = say(room, user, "answer")
    page = soup(bobs.get(room.get_absolute_url()))
    assert page.select_one("#unread-divider").find_next("article")["id"] == (
        f"message-{theirs.pk}"
    )


def test_no_divider_for_outsiders_or_polls(
    room, user, make_user, client_for, soup, poller_url
):
    carol = make_user("carol")  # not a member of the public room
    caro = client_for(carol)
    say(room, user, "hello")
    assert soup(caro.get(room.get_absolute_url())).select("#unread-divider") == []
    url = poller_url(client_for(user), room)
    say(room, make_user("dave"), "late")
    assert soup(client_for(user).get(url)).select("#unread-divider") == []
