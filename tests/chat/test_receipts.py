"""Read receipts: who has read up to the newest message, from the read marks
(selectors.room_receipts), counted by the empty poll's one query the same
way (chat.live.query), and swapped in by the poll when that count moves."""

import pytest
from django.test import Client

from accounts import services as accounts
from chat import selectors, services
from chat.live import query
from chat.models import Membership
from tests.chat.helpers import without_grant
from tests.chat.test_poll_changes import inline

pytestmark = pytest.mark.django_db


def checked(client, room, user) -> int:
    """What the empty poll's query counts for this room."""
    membership = Membership.objects.filter(room=room, user=user).first()
    return query.poll_check(
        session_key=client.session.session_key,
        user_id=user.pk,
        room_id=room.pk,
        membership_id=membership.pk if membership else 0,
        receipts=True,
    ).readers


def receipts_text(page) -> str:
    return " ".join(page.select_one("#receipts").get_text().split())


def test_readers_are_the_members_whose_mark_reached_the_newest_message(
    room, user, other_user, make_user, htmx_client
):
    carol, dave = make_user("carol"), make_user("dave")
    assert selectors.room_receipts(room=room).readers == ()  # no message yet
    # No message: no one's to show them under, as Receipts.shown_to says.
    assert checked(htmx_client, room, user) is None
    assert selectors.room_receipts(room=room).shown_to(user.pk) is None
    for member in (other_user, carol, dave):
        services.room_join(room=room, user=member)
    said = services.message_create(room=room, author=user, content="hi")
    services.room_mark_read(room=room, user_id=other_user.pk, message_id=said.id)
    services.room_mark_read(room=room, user_id=dave.pk, message_id=said.id)
    accounts.profile_update(user=dave, read_receipts=False)
    receipts = selectors.room_receipts(room=room)
    assert receipts.message_id == said.id and receipts.author_id == user.pk
    # bob read it, carol has not, dave keeps his receipts to himself (and
    # alice's mark moves when a page shows her her message, not here).
    assert [name for _id, name in receipts.readers] == ["bob"]
    assert checked(htmx_client, room, user) == receipts.count == 1
    # Counted for the author only: to bob the query says none, as to him
    # the full path shows none.
    bob = Client()
    bob.force_login(other_user)
    assert checked(bob, room, other_user) is None
    assert receipts.shown_to(other_user.pk) is None
    accounts.profile_update(user=dave, read_receipts=True)
    assert checked(htmx_client, room, user) == selectors.room_receipts(room=room).count


def test_the_count_stops_at_its_cap_in_both_places(
    room, user, make_user, htmx_client, settings
):
    said = services.message_create(room=room, author=user, content="hi")
    for i in range(selectors.RECEIPTS_COUNTED + 2):
        reader = make_user(f"reader{i:02}")
        Membership.objects.create(room=room, user=reader, last_read_id=said.id)
    assert selectors.room_receipts(room=room).count == selectors.RECEIPTS_COUNTED
    assert checked(htmx_client, room, user) == selectors.RECEIPTS_COUNTED


def test_a_reader_shows_on_the_senders_page_by_the_next_poll(
    htmx_client, client_for, poller_url, room, user, other_user, soup
):
    services.room_join(room=room, user=other_user)
    bob = client_for(other_user)
    services.message_create(room=room, author=user, content="are you there?")
    url = poller_url(htmx_client, room)
    assert htmx_client.get(url).status_code == 204
    bob.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""})  # bob reads it
    response = htmx_client.get(url)
    assert response.status_code == 200
    page = soup(response)
    assert inline(page) == []
    receipts = page.select_one("#receipts")
    assert receipts["hx-swap-oob"] == "true"
    assert receipts_text(page) == "Seen by bob"
    # The page now shows it: quiet again.
    assert htmx_client.get(page.select_one("#poller")["hx-get"]).status_code == 204


def test_reading_for_oneself_sends_no_second_poll(
    htmx_client, poller_url, room, user, other_user, soup
):
    services.room_join(room=room, user=other_user)
    url = poller_url(htmx_client, room)
    services.message_create(room=room, author=other_user, content="news")
    page = soup(htmx_client.get(url))  # delivers it and reads it
    assert receipts_text(page) == ""  # alice read it; bob wrote it
    assert htmx_client.get(page.select_one("#poller")["hx-get"]).status_code == 204


def test_many_readers_are_named_five_then_counted(
    htmx_client, room, user, make_user, soup
):
    said = services.message_create(room=room, author=user, content="hi all")
    for name in ["fay", "eve", "dan", "cat", "bea", "amy", "gus"]:
        Membership.objects.create(room=room, user=make_user(name), last_read_id=said.id)
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    assert receipts_text(page) == "Seen by amy, bea, cat, dan, eve and 2 others"


def test_a_direct_conversation_says_seen_under_ones_own_message(
    user, other_user, client_for, soup
):
    room = services.direct_room_get_or_create(user=user, other=other_user)
    alice, bob = client_for(user, htmx=False), client_for(other_user, htmx=False)
    services.message_create(room=room, author=user, content="psst")
    assert receipts_text(soup(alice.get(f"/rooms/{room.slug}/"))) == ""
    bob.get(f"/rooms/{room.slug}/")
    assert receipts_text(soup(alice.get(f"/rooms/{room.slug}/"))) == "Seen"
    # Under bob's own message, alice's reading is shown to bob, not to her.
    services.message_create(room=room, author=other_user, content="yes?")
    assert receipts_text(soup(alice.get(f"/rooms/{room.slug}/"))) == ""
    assert receipts_text(soup(bob.get(f"/rooms/{room.slug}/"))) == "Seen"


def test_turning_receipts_off_hides_ones_reading(
    room, user, other_user, client_for, soup
):
    services.room_join(room=room, user=other_user)
    services.message_create(room=room, author=user, content="hi")
    bob = client_for(other_user, htmx=False)
    bob.get(f"/rooms/{room.slug}/")
    alice = client_for(user, htmx=False)
    assert receipts_text(soup(alice.get(f"/rooms/{room.slug}/"))) == "Seen by bob"
    page = soup(bob.get("/accounts/settings/"))
    assert page.select_one("#id_read_receipts").has_attr("checked")
    response = bob.post("/accounts/settings/", {})  # unchecked
    assert response.status_code == 303
    assert (
        not soup(bob.get("/accounts/settings/"))
        .select_one("#id_read_receipts")
        .has_attr("checked")
    )
    assert receipts_text(soup(alice.get(f"/rooms/{room.slug}/"))) == ""
    # bob's own unread counts still use his read mark.
    assert Membership.objects.get(room=room, user=other_user).last_read_id > 0


def test_the_settings_page_needs_a_login(client):
    response = client.get("/accounts/settings/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post("/accounts/settings/", {}).status_code == 302


def test_past_the_count_no_number_is_claimed(htmx_client, room, user, make_user, soup):
    said = services.message_create(room=room, author=user, content="hi all")
    for i in range(selectors.RECEIPTS_COUNTED + 5):
        Membership.objects.create(
            room=room, user=make_user(f"reader{i:02}"), last_read_id=said.id
        )
    page = soup(htmx_client.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    assert receipts_text(page) == (
        "Seen by reader00, reader01, reader02, reader03, reader04 and many others"
    )


def quiet(client, url: str, soup) -> str:
    """Follow a poller until it is answered 204 (who is here settles)."""
    for _ in range(5):
        response = client.get(url)
        if response.status_code == 204:
            return url
        url = soup(response).select_one("#poller")["hx-get"]
    raise AssertionError("the poll never went quiet")


def test_only_the_author_of_the_newest_message_sees_and_counts_them(
    htmx_client, client_for, poller_url, room, user, other_user, soup,
    driver_statements,
):  # fmt: skip
    """Receipts answer "did they see what I sent?": others' pages show none,
    and their empty polls do not count readers at all."""
    services.room_join(room=room, user=other_user)
    services.message_create(room=room, author=user, content="mine")
    bob = client_for(other_user)
    page = soup(bob.get(f"/rooms/{room.slug}/", headers={"HX-Request": ""}))
    assert receipts_text(page) == ""
    assert "&r=" not in page.select_one("#poller")["hx-get"]
    alice_url = poller_url(htmx_client, room)
    assert "&r=2" in alice_url  # bob has read it, and so has she (the count)
    bob_url = quiet(bob, poller_url(bob, room), soup)
    alice_url = quiet(htmx_client, alice_url, soup)
    driver_statements.clear()
    assert bob.get(bob_url).status_code == 204
    [sql] = driver_statements
    assert "last_read_id" not in sql
    driver_statements.clear()
    assert htmx_client.get(alice_url).status_code == 204
    [sql] = driver_statements
    assert "last_read_id" in sql
    # bob answers: alice's page stops showing receipts, bob's starts.
    services.message_create(room=room, author=other_user, content="seen it")
    alice_page = soup(htmx_client.get(alice_url))
    assert receipts_text(alice_page) == ""
    assert "&r=" not in alice_page.select_one("#poller")["hx-get"]
    bob_page = soup(bob.get(bob_url))
    assert "&r=" in bob_page.select_one("#poller")["hx-get"]


def receipts_read(sql: str) -> bool:
    """The receipts' query (selectors.room_receipts): memberships at the
    newest message, without those who turned receipts off."""
    return sql.lstrip().upper().startswith("SELECT") and (
        'FROM "chat_membership"' in sql and "read_receipts" in sql
    )


def test_a_poll_reads_receipts_only_for_the_author_of_the_newest_message(
    htmx_client, client_for, poller_url, room, user, other_user, soup,
    driver_statements,
):  # fmt: skip
    """Nearly every delivering poll brings someone else's message: its
    viewer sees no receipts, and none are read. A page whose viewer's own
    message comes (from another tab) reads them, after its read mark."""
    services.room_join(room=room, user=other_user)
    url = poller_url(htmx_client, room)
    services.message_create(room=room, author=other_user, content="theirs")
    driver_statements.clear()
    page = soup(htmx_client.get(url))
    assert not any(receipts_read(sql) for sql in driver_statements)
    assert (
        receipts_text(page) == "" and "&r=" not in page.select_one("#poller")["hx-get"]
    )
    services.message_create(room=room, author=user, content="mine, from my phone")
    driver_statements.clear()
    page = soup(htmx_client.get(page.select_one("#poller")["hx-get"]))
    assert any(receipts_read(sql) for sql in driver_statements)
    assert "&r=1" in page.select_one("#poller")["hx-get"]  # herself, so far


@pytest.mark.parametrize("joined", [True, False], ids=["member", "never-joined"])
def test_a_poll_answers_alike_whatever_count_a_non_author_claims(
    client_for, poller_url, room, user, other_user, make_user, joined
):
    """`r` is the count a page shows its viewer under their own newest
    message. Anyone else adding it to their poll must learn nothing by it:
    the answer (fast path or full) does not move with the number claimed,
    whether it matches the true count or not."""
    readers = [make_user(f"reader{i}") for i in range(2)]
    if joined:
        services.room_join(room=room, user=other_user)
    said = services.message_create(room=room, author=user, content="mine")
    for reader in readers:
        Membership.objects.create(room=room, user=reader, last_read_id=said.id)
    true_count = len(selectors.room_receipts(room=room, viewer_id=user.pk).readers)
    assert true_count >= 2  # her two readers at least
    bob = client_for(other_user)
    url = poller_url(bob, room)
    assert "&r=" not in url
    for path in (url, without_grant(url)):  # fast, full
        statuses = [
            bob.get(f"{path}&r={claimed}").status_code
            for claimed in range(true_count + 2)
        ]
        assert len(set(statuses)) == 1, statuses
