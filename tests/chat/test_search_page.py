"""The search page (/search/, chat.views.search): the whole page without
htmx, the results alone (#search-results) with it; refused queries answered
400 with the reason in place; the search boxes of the header and the room
page."""

import pytest

from chat import services
from tests.chat.helpers import say

pytestmark = pytest.mark.django_db

URL = "/search/"


def result_ids(page) -> list[int]:
    return [
        int(li["id"].removeprefix("result-"))
        for li in page.select("#search-results li.search-result")
    ]


def test_the_page_lists_results_newest_first_each_linking_to_its_permalink(
    auth_client, soup, room, user
):
    first = say(room, user, "deploy at nine")
    say(room, user, "lunch")
    second = say(room, user, "deployed!")
    page = soup(auth_client.get(URL, {"q": "deploy"}))
    assert page.select_one("html") is not None
    assert result_ids(page) == [second.pk, first.pk]
    row = page.select_one(f"#result-{first.pk}")
    link = row.select_one(".result-link")
    assert link["href"] == f"/rooms/{room.slug}/messages/{first.pk}/"
    assert [mark.get_text() for mark in link.select("mark")] == ["deploy"]
    assert "alice" in row.get_text() and "General" in row.get_text()
    time = row.select_one("time")
    assert time["datetime"].startswith(str(first.created_at.year))
    assert time["title"]
    # The query stays in the boxes.
    assert page.select_one("#search-q")["value"] == "deploy"
    assert page.select_one("#search-page-q")["value"] == "deploy"


def test_each_result_gives_the_author_s_handle_beside_a_display_name(
    auth_client, soup, room, user, other_user
):
    """A display name may look like someone else's: "@bob" tells them apart."""
    from accounts import services as profiles

    profiles.profile_update(user=other_user, display_name="Bobby Tables")
    services.room_join(room=room, user=other_user)
    by_bob = say(room, other_user, "deploy notes")
    by_alice = say(room, user, "deploy now")
    page = soup(auth_client.get(URL, {"q": "deploy"}))
    assert page.select_one(f"#result-{by_bob.pk} .author-username").get_text() == (
        "@bob"
    )
    assert page.select_one(f"#result-{by_alice.pk} .author-username") is None


def test_htmx_gets_the_results_alone(htmx_client, soup, room, user):
    message = say(room, user, "deploy")
    response = htmx_client.get(URL, {"q": "deploy"})
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    page = soup(response)
    assert page.select_one("html") is None
    assert page.find().get("id") == "search-results"
    assert result_ids(page) == [message.pk]


def test_the_headers_boosted_form_gets_the_whole_page(client_for, soup, user, room):
    say(room, user, "deploy")
    client = client_for(user)
    response = client.get(URL, {"q": "deploy"}, headers={"HX-Boosted": "true"})
    page = soup(response)
    assert page.select_one("#shell-main #search-results") is not None


def test_html_in_messages_stays_text_in_results(auth_client, soup, room, user):
    say(room, user, "deploy <script>alert(1)</script> <img src=x onerror=alert(2)>")
    response = auth_client.get(URL, {"q": "deploy"})
    results = soup(response).select_one("#search-results")
    assert results.select("script, img, [onerror]") == []
    assert "<script>alert(1)</script>" in results.get_text()
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


def test_nothing_matches(auth_client, soup, room, user):
    say(room, user, "deploy")
    page = soup(auth_client.get(URL, {"q": "zeppelin"}))
    note = page.select_one("#search-results .empty-note")
    assert "No messages match" in note.get_text() and "zeppelin" in note.get_text()
    assert page.select(".search-older") == []


def test_without_a_query_the_page_offers_the_form(auth_client, soup):
    response = auth_client.get(URL)
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("#search-page-form")["action"] == URL
    assert page.select_one("#search-results").get_text(strip=True) == ""


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('"deploy notes', "quote is not closed"),
        ("***", "Type a word"),
        ("x" * 201, "at most 200"),
        ("d*", "before a *"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_refused_query_is_a_400_with_the_reason_in_place(
    client_for, soup, user, room, query, reason, htmx
):
    response = client_for(user, htmx=htmx).get(URL, {"q": query})
    assert response.status_code == 400
    page = soup(response)
    assert reason in page.select_one("#search-results #search-error").get_text()
    assert (page.select_one("html") is None) == htmx
    if not htmx:
        assert page.select_one("#search-page-q")["value"] == query


@pytest.mark.parametrize("before", ["x", "-1", "1.5", str(2**63)])
def test_a_malformed_cursor_is_a_400(auth_client, soup, room, before):
    response = auth_client.get(URL, {"q": "deploy", "before": before})
    assert response.status_code == 400
    assert soup(response).select_one("#search-error").get_text(strip=True)


def test_older_results_page_by_the_last_id(client_for, soup, user, room, make_messages):
    messages = make_messages(room, 23, prefix="paged")
    newest = [m.pk for m in reversed(messages)]
    for htmx in (False, True):
        client = client_for(user, htmx=htmx)
        page = soup(client.get(URL, {"q": "paged"}))
        assert result_ids(page) == newest[:20]
        older = page.select_one("a.search-older")
        assert older["href"] == older["hx-get"]
        assert older["href"] == f"{URL}?q=paged&before={newest[19]}"
        assert older["hx-target"] == "#search-results"
        following = soup(client.get(older["href"]))
        assert result_ids(following) == newest[20:]
        assert following.select(".search-older") == []
        assert following.select_one("a.search-newest")["href"] == f"{URL}?q=paged"


def test_a_rooms_search_keeps_to_the_room(auth_client, soup, user, room, make_room):
    other = make_room("Other")
    here = say(room, user, "standup here")
    there = say(other, user, "standup there")
    assert result_ids(soup(auth_client.get(URL, {"q": "standup"}))) == [
        there.pk,
        here.pk,
    ]
    page = soup(auth_client.get(URL, {"q": "standup", "room": room.slug}))
    assert result_ids(page) == [here.pk]
    scope = page.select_one("#search-room")
    assert scope.has_attr("checked") and scope["value"] == room.slug
    assert "General" in scope.parent.get_text()


def test_a_room_one_cannot_see_is_404(client_for, soup, make_user, inner_room):
    say(inner_room.room, inner_room.member, "the secret plover")
    outsider = client_for(make_user("carol"), htmx=False)
    response = outsider.get(URL, {"q": "secret", "room": inner_room.room.slug})
    assert response.status_code == 404
    response = outsider.get(URL, {"q": "secret"})
    assert b"plover" not in response.content
    page = soup(response)
    assert result_ids(page) == []
    assert page.select_one(".empty-note")


def test_a_direct_message_says_so_and_not_the_pairs_names(
    auth_client, soup, user, other_user
):
    dm = services.direct_room_get_or_create(user=user, other=other_user)
    message = say(dm, other_user, "just us")
    row = soup(auth_client.get(URL, {"q": "just"})).select_one(f"#result-{message.pk}")
    assert "in a direct message" in row.get_text()
    assert dm.name not in row.get_text()


def test_a_result_opens_the_room_around_the_message_highlighted(
    auth_client, soup, user, room, make_messages
):
    make_messages(room, 40, prefix="filler")
    target = say(room, user, "the needle")
    make_messages(room, 40, prefix="more")
    link = soup(auth_client.get(URL, {"q": "needle"})).select_one(".result-link")
    response = auth_client.get(link["href"], follow=True)
    page = soup(response)
    highlighted = page.select_one(f"#message-{target.pk}")
    assert highlighted.has_attr("data-highlight")
    assert response.redirect_chain[-1][0].endswith(f"#message-{target.pk}")


def test_visitors_are_sent_to_log_in(client):
    response = client.get(URL, {"q": "deploy"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_only_get(auth_client):
    assert auth_client.post(URL, {"q": "deploy"}).status_code == 405


def test_every_signed_in_page_has_the_search_box(auth_client, soup, room):
    for url in ("/rooms/", room.get_absolute_url(), "/people/", "/mentions/"):
        form = soup(auth_client.get(url)).select_one("form#search-form")
        assert form["action"] == URL and form["method"] == "get"
        assert form["role"] == "search"
        assert form["hx-boost"] == "true" and form["hx-target"] == "#shell-main"
        box = form.select_one("input#search-q")
        assert box["name"] == "q" and box["type"] == "search"
        assert form.select_one("label[for=search-q]").get_text(strip=True)


def test_the_room_page_searches_its_room(auth_client, soup, room):
    form = soup(auth_client.get(room.get_absolute_url())).select_one("#room-search")
    assert form["action"] == URL and form["method"] == "get"
    assert form.select_one("input[type=hidden][name=room]")["value"] == room.slug
    assert form.select_one("input#room-search-q")["name"] == "q"
    assert "Search this room" in form.select_one("label").get_text()


def test_a_visitor_sees_no_search_box(client, soup):
    assert soup(client.get("/accounts/login/")).select("#search-form") == []


@pytest.mark.parametrize("htmx", [False, True])
def test_searching_faster_than_the_read_limit_is_429_with_the_reason_in_place(
    client_for, soup, user, room, settings, one_window, htmx
):
    settings.CHAT_POLL_RATE = "2/s"
    say(room, user, "deploy")
    client = client_for(user, htmx=htmx)
    for _ in range(3):  # no search was run: not counted
        assert client.get(URL).status_code == 200
        assert client.get(URL, {"q": "***"}).status_code == 400
    assert [client.get(URL, {"q": "deploy"}).status_code for _ in range(2)] == [200] * 2
    response = client.get(URL, {"q": "deploy"})
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    page = soup(response)
    error = page.select_one("#search-results #search-error").get_text()
    assert "searching too fast" in error
    assert result_ids(page) == []
    assert (page.select_one("html") is None) == htmx
    if not htmx:
        assert page.select_one("#search-page-q")["value"] == "deploy"


def test_the_page_and_the_api_count_against_one_read_limit(
    auth_client, user, room, settings, one_window
):
    settings.CHAT_POLL_RATE = "2/s"
    say(room, user, "deploy")
    api = "/api/search/"
    assert auth_client.get(api, {"q": "deploy"}).status_code == 200
    assert auth_client.get(URL, {"q": "deploy"}).status_code == 200
    assert auth_client.get(URL, {"q": "deploy"}).status_code == 429
    assert auth_client.get(api, {"q": "deploy"}).status_code == 429
