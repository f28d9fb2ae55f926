"""The people page (/people/): everyone one could message, and the Message
action wherever a person appears (the people list, authors in the log, a
private room's members)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import selectors, services
from chat.models import Membership, Room

pytestmark = pytest.mark.django_db


def usernames(page) -> list[str]:
    return [row["data-username"] for row in page.select("#people li[id^=person-]")]


def row(page, user):
    return page.select_one(f"#people #person-{user.pk}")


@pytest.fixture
def people(make_user, user):
    """alice (the viewer), bob, carol, and dave, whose account is disabled."""
    dave = make_user("dave")
    dave.is_active = False
    dave.save()
    return {"bob": make_user("bob"), "carol": make_user("carol"), "dave": dave}


@pytest.fixture
def alice_page(client_for, user):
    """A client of alice's without htmx."""
    return client_for(user, htmx=False)


def test_lists_everyone_else_who_is_active_by_username(alice_page, people, soup):
    page = soup(alice_page.get("/people/"))
    assert usernames(page) == ["bob", "carol"]  # not alice, not the disabled dave
    assert page.select_one("#people-search[name=q]") is not None


def test_search_is_by_username_in_any_case(alice_page, people, make_user, soup):
    make_user("Marc")
    page = soup(alice_page.get("/people/", {"q": "AR"}))
    assert usernames(page) == ["carol", "Marc"]
    assert page.select_one("#people-search")["value"] == "AR"
    assert usernames(soup(alice_page.get("/people/", {"q": " bo "}))) == ["bob"]


@pytest.mark.parametrize(
    "query", ["%", "_o_", "zelda", "a" * 151, "a" * 10_000, "bob\x00", "\u202ebob"]
)
def test_odd_searches_find_no_one_and_never_fail(alice_page, people, soup, query):
    response = alice_page.get("/people/", {"q": query})
    assert response.status_code == 200
    page = soup(response)
    assert usernames(page) == []
    assert page.select_one("#people .empty-note") is not None


def test_a_search_that_finds_no_one_says_so(alice_page, people, soup):
    note = soup(alice_page.get("/people/", {"q": "zelda"})).select_one(
        "#people .empty-note"
    )
    assert "zelda" in note.get_text()
    assert note.select_one("bdi").get_text() == "zelda"


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr("chat.views.people.PEOPLE_PER_PAGE", 2)


def test_pages(alice_page, people, make_user, soup, small_pages):
    make_user("erin")  # bob, carol, erin: two pages of two
    first = soup(alice_page.get("/people/"))
    assert usernames(first) == ["bob", "carol"]
    assert first.select_one(".people-previous") is None
    assert first.select_one(".people-next")["href"] == "?page=2"
    second = soup(alice_page.get("/people/", {"page": "2"}))
    assert usernames(second) == ["erin"]
    assert second.select_one(".people-next") is None
    assert second.select_one(".people-previous")["href"] == "?page=1"


@pytest.mark.parametrize(
    ("number", "shown"),
    [("99", ["erin"]), ("-1", ["erin"]), ("0", ["erin"]), ("abc", ["bob", "carol"])],
)
def test_a_page_out_of_range_is_the_last_and_a_bad_one_the_first(
    alice_page, people, make_user, soup, small_pages, number, shown
):
    make_user("erin")
    response = alice_page.get("/people/", {"page": number})
    assert response.status_code == 200
    assert usernames(soup(response)) == shown


def test_page_links_keep_the_search(alice_page, make_user, soup, small_pages):
    for name in ("ann", "barb", "cara", "zed"):
        make_user(name)
    page = soup(alice_page.get("/people/", {"q": "a b", "page": "1"}))
    assert usernames(page) == []  # nobody's name has a space
    page = soup(alice_page.get("/people/", {"q": "a"}))
    assert usernames(page) == ["ann", "barb"]
    link = page.select_one(".people-next")
    assert link["href"] == link["hx-get"] == "?q=a&page=2"
    assert link["hx-target"] == "#people"
    assert link["hx-push-url"] == "true"
    assert usernames(soup(alice_page.get("/people/" + link["href"]))) == ["cara"]


def test_htmx_gets_the_list_alone_and_a_page_load_the_page(
    client_for, user, people, soup
):
    fragment = client_for(user).get("/people/", {"q": "b"})
    assert "HX-Request" in fragment["Vary"]
    part = soup(fragment)
    assert part.html is None and part.select_one("#people-search") is None
    assert usernames(part) == ["bob"]
    whole = client_for(user, htmx=False).get("/people/", {"q": "b"})
    assert "HX-Request" in whole["Vary"]
    page = soup(whole)
    assert page.html is not None and usernames(page) == ["bob"]
    search = page.select_one("#people-search")
    assert search["hx-get"] == "/people/"
    assert search["hx-trigger"] == "input changed delay:300ms, search"
    form = search.find_parent("form")
    assert form["method"] == "get" and form["action"] == "/people/"
    assert form["hx-target"] == "#people" and form["hx-push-url"] == "true"
    assert form.select_one("button[type=submit]") is not None


@pytest.mark.parametrize(
    "header", ["HX-Boosted", "HX-History-Restore-Request"], ids=["boosted", "restore"]
)
def test_a_boosted_link_or_a_history_restore_gets_the_whole_page(
    client_for, user, people, soup, header
):
    page = soup(client_for(user).get("/people/", headers={header: "true"}))
    assert page.html is not None and page.select_one("#people-search") is not None


def test_the_message_action_starts_or_opens_the_conversation(
    alice_page, user, people, soup
):
    bob, carol = people["bob"], people["carol"]
    existing = services.direct_room_get_or_create(user=carol, other=user)
    page = soup(alice_page.get("/people/"))
    # No conversation with bob yet: a POST (a GET never starts one).
    start = row(page, bob).select_one(".person-message")
    assert start.name == "form" and start["method"] == "post"
    assert start["action"] == "/dm/bob/"
    assert start.select_one("input[name=csrfmiddlewaretoken]") is not None
    assert start.select_one("button")["aria-label"] == "Message bob"
    assert row(page, bob).select_one("a") is None
    # With carol there is one: a link to it.
    opened = row(page, carol).select_one(".person-message")
    assert opened.name == "a" and opened["href"] == existing.get_absolute_url()
    assert opened["aria-label"] == "Message carol"
    assert row(page, carol).select_one("form") is None


def test_posting_the_message_form_starts_one_conversation(
    alice_page, user, people, soup
):
    bob = people["bob"]
    action = row(soup(alice_page.get("/people/")), bob).select_one("form")["action"]
    response = alice_page.post(action)
    assert response.status_code == 303
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    assert response["Location"] == room.get_absolute_url()
    assert set(room.members.all()) == {user, bob}
    # Again: the same conversation, now a link on the page.
    assert alice_page.post(action)["Location"] == room.get_absolute_url()
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 1
    link = row(soup(alice_page.get("/people/")), bob).select_one("a.person-message")
    assert link["href"] == room.get_absolute_url()


def test_the_page_creates_nothing(client_for, user, people, small_pages):
    rooms, memberships = Room.objects.count(), Membership.objects.count()
    for htmx in (False, True):
        client = client_for(user, htmx=htmx)
        for query in ({}, {"q": "b"}, {"page": "2"}):
            assert client.get("/people/", query).status_code == 200
    assert (Room.objects.count(), Membership.objects.count()) == (rooms, memberships)


def test_only_get(alice_page, people):
    assert alice_page.post("/people/").status_code == 405


def test_sign_in_first(client, anon_htmx_client, people):
    response = client.get("/people/?q=b")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert anon_htmx_client.get("/people/").has_header("HX-Redirect")


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/people/").status_code == 200
    return len(queries)


def test_the_same_queries_for_three_people_or_thirty(alice_page, user, make_user):
    others = [make_user(f"user{i:02}") for i in range(3)]
    services.direct_room_get_or_create(user=user, other=others[0])
    few = _queries(alice_page)
    others += [make_user(f"user{i:02}") for i in range(3, 30)]
    for other in others[1:10]:
        services.direct_room_get_or_create(user=other, other=user)
    assert _queries(alice_page) == few


def test_people_find_marks_only_the_viewers_own_conversations(user, people):
    bob, carol = people["bob"], people["carol"]
    between_others = services.direct_room_get_or_create(user=bob, other=carol)
    mine = services.direct_room_get_or_create(user=user, other=carol)
    found = {
        person.username: person.direct_slug
        for person in selectors.people_find(viewer=user, query="")
    }
    assert found == {"bob": None, "carol": mine.slug}
    seen_by_bob = {
        person.username: person.direct_slug
        for person in selectors.people_find(viewer=bob, query="")
    }
    assert seen_by_bob == {"alice": None, "carol": between_others.slug}


def test_people_find_matches_each_pair_key_exactly(user, make_user):
    # Ids 1 and 12, 11 and 2: keys that a careless concatenation would mix.
    others = [make_user(f"user{i:02}") for i in range(12)]
    target = others[-1]
    room = services.direct_room_get_or_create(user=user, other=target)
    marked = [
        person.username
        for person in selectors.people_find(viewer=user, query="")
        if person.direct_slug
    ]
    assert marked == [target.username]
    assert room.dm_key == f"{user.pk}:{target.pk}"


# --- The Message action wherever a person appears ---


def test_authors_in_the_log_link_to_a_conversation_with_them(
    alice_page, user, room, other_user, soup
):
    services.room_join(room=room, user=other_user)
    theirs = services.message_create(room=room, author=other_user, content="hi")
    waves = services.message_create(room=room, author=other_user, content="/me waves")
    mine = services.message_create(room=room, author=user, content="hello")
    page = soup(alice_page.get(room.get_absolute_url()))
    link = page.select_one(f"#message-{theirs.pk} .message-author a")
    assert link["href"] == "/dm/bob/"
    assert link["aria-label"] == "Message bob"
    assert link.select_one("bdi").get_text() == "bob"
    action = page.select_one(f"#message-{waves.pk} .message-content a")
    assert action["href"] == "/dm/bob/"
    assert " ".join(action.parent.get_text().split()).startswith("* bob waves")
    # One's own name is no link (a conversation needs someone else).
    own = page.select_one(f"#message-{mine.pk} .message-author")
    assert own.select_one("a") is None and own.get_text(strip=True) == "alice"
    # bob sees the same messages the other way round (each look its own
    # cached rendering).
    bobs = soup(_client_of(other_user).get(room.get_absolute_url()))
    assert bobs.select_one(f"#message-{theirs.pk} .message-author a") is None
    mine_for_bob = bobs.select_one(f"#message-{mine.pk} .message-author a")
    assert mine_for_bob["href"] == "/dm/alice/"


def _client_of(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_author_link_opens_the_conversation_or_offers_it(
    alice_page, user, room, other_user, soup
):
    services.room_join(room=room, user=other_user)
    said = services.message_create(room=room, author=other_user, content="hi")
    page = soup(alice_page.get(room.get_absolute_url()))
    href = page.select_one(f"#message-{said.pk} .message-author a")["href"]
    offer = soup(alice_page.get(href))
    assert offer.select_one("#direct-start form[method=post]")["action"] == href
    direct = services.direct_room_get_or_create(user=user, other=other_user)
    response = alice_page.get(href)
    assert response.status_code == 302
    assert response["Location"] == direct.get_absolute_url()


def test_no_author_link_inside_a_direct_conversation(
    alice_page, user, other_user, soup
):
    direct = services.direct_room_get_or_create(user=user, other=other_user)
    said = services.message_create(room=direct, author=other_user, content="hi")
    page = soup(alice_page.get(direct.get_absolute_url()))
    author = page.select_one(f"#message-{said.pk} .message-author")
    assert author.get_text(strip=True) == "bob" and author.select_one("a") is None
    assert page.select("#members a") == []


def test_members_link_to_a_conversation_with_each_other_member(
    alice_page, inner_room, make_user, soup
):
    carol = make_user("carol")
    inner_room.room.members.add(carol)
    page = soup(alice_page.get(inner_room.room.get_absolute_url()))
    members = {m["data-username"]: m for m in page.select("#members .member")}
    assert set(members) == {"alice", "bob", "carol"}
    assert members["alice"].select_one("a") is None
    for name in ("bob", "carol"):
        link = members[name].select_one("a.member-message")
        assert link["href"] == f"/dm/{name}/"
        assert link["aria-label"] == f"Message {name}"


# --- A direct conversation's partner ---


def test_annotate_direct_partner_names_the_other_person(
    user, people, make_room, django_assert_num_queries
):
    bob, carol = people["bob"], people["carol"]
    with_bob = services.direct_room_get_or_create(user=user, other=bob)
    with_carol = services.direct_room_get_or_create(user=carol, other=user)
    bob_carol = services.direct_room_get_or_create(user=bob, other=carol)
    public = make_room("Lobby")
    private = services.room_create(name="Inner", created_by=user, is_private=True)
    private.members.add(bob)
    rooms = Room.objects.filter(
        pk__in=[with_bob.pk, with_carol.pk, bob_carol.pk, public.pk, private.pk]
    )
    with django_assert_num_queries(1):
        for_alice = {
            room.pk: room.partner
            for room in selectors.annotate_direct_partner(rooms, viewer_id=user.pk)
        }
    assert for_alice == {
        with_bob.pk: "bob",
        with_carol.pk: "carol",
        bob_carol.pk: "bob",  # not alice's: the first other member, by name
        public.pk: None,
        private.pk: None,
    }
    for_bob = selectors.annotate_direct_partner(rooms, viewer_id=bob.pk)
    assert {room.pk: room.partner for room in for_bob if room.is_direct} == {
        with_bob.pk: "alice",
        with_carol.pk: "alice",  # bob is no member: the first by name
        bob_carol.pk: "carol",
    }


def test_annotate_direct_partner_works_on_the_visible_rooms(user, people):
    bob = people["bob"]
    services.direct_room_get_or_create(user=user, other=bob)
    rooms = selectors.annotate_direct_partner(
        selectors.room_list(user=user), viewer_id=user.pk
    )
    assert [(room.kind, room.partner) for room in rooms] == [("direct", "bob")]


def test_a_partner_who_is_gone_leaves_no_name(user, people):
    bob = people["bob"]
    direct = services.direct_room_get_or_create(user=user, other=bob)
    get_user_model().objects.filter(pk=bob.pk).delete()
    room = selectors.annotate_direct_partner(
        Room.objects.filter(pk=direct.pk), viewer_id=user.pk
    ).get()
    assert room.partner is None


def test_people_find_links_only_conversations_the_viewer_is_in(user, people):
    # As GET /dm/<name>/ does (selectors.direct_room_find): a conversation
    # one is somehow no longer a member of is not offered as a link.
    bob = people["bob"]
    direct = services.direct_room_get_or_create(user=user, other=bob)
    Membership.objects.filter(room=direct, user=user).delete()
    found = selectors.people_find(viewer=user, query="bob").get()
    assert found.direct_slug is None
    assert selectors.direct_room_find(user=user, other=bob) is None


@pytest.mark.parametrize("query", ["a" * 151, "bob\x00"])
def test_a_search_no_username_could_match_asks_nothing(
    user, people, query, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert list(selectors.people_find(viewer=user, query=query)) == []


def test_odd_names_stay_text_in_every_message_action(
    alice_page, user, room, inner_room, soup
):
    odd = get_user_model().objects.create_user(username='x"<b>y', password="x")
    services.room_join(room=room, user=odd)
    said = services.message_create(room=room, author=odd, content="hi")
    inner_room.room.members.add(odd)
    for path, selector in [
        ("/people/?q=x", f"#person-{odd.pk} .person-message"),
        (room.get_absolute_url(), f"#message-{said.pk} .message-author"),
        (inner_room.room.get_absolute_url(), f"#members [data-username='{odd}']"),
    ]:
        found = soup(alice_page.get(path)).select_one(selector)
        assert found.select("b") == [], path
        assert found.select_one("[aria-label]")["aria-label"] == 'Message x"<b>y'
