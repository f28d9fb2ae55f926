"""No control may ever break the poller (issue 26). The page's `start` has
one home, #load-older: every request that sends it sends it once, whatever
controls are open in the page (the inline editor once carried a second, and
every poll was refused); a 400 to any htmx request of the message log swaps
nothing, so the poller polls on; and no cursor a real page holds is one the
log refuses."""

from urllib.parse import parse_qsl, urlencode

import pytest
from bs4 import BeautifulSoup, Tag

from chat import services
from tests.chat.helpers import say
from tests.chat.test_poll_bounds import BIG, with_cursor

pytestmark = pytest.mark.django_db

FIELDS = ("input", "textarea", "select")


def _closest_attr(element: Tag, name: str) -> str | None:
    """An htmx attribute as htmx reads it: the element's, else inherited."""
    for node in (element, *element.parents):
        if isinstance(node, Tag) and node.has_attr(name):
            return node[name]
    return None


def _fields(node: Tag) -> list[Tag]:
    inside = node.select(", ".join(f"{kind}[name]" for kind in FIELDS))
    return ([node] if node.name in FIELDS and node.has_attr("name") else []) + inside


def sent(page: BeautifulSoup, element: Tag) -> list[tuple[str, str]]:
    """The fields htmx 2 sends with `element`'s request, gathered as it
    gathers them: the element's closest form for a POST, the element itself
    when it is a form, then what hx-include names (a comma list of CSS
    selectors and `closest <selector>`; one that matches nothing would be a
    console error at every request), each field once, then hx-params."""
    gathered: list[Tag] = []
    post = element.has_attr("hx-post")
    form = element if element.name == "form" else element.find_parent("form")
    if form is not None and (post or element is form):
        gathered += _fields(form)
    include = _closest_attr(element, "hx-include")
    if include:
        matched = []
        for part in (p.strip() for p in include.split(",")):
            if part.startswith("closest "):
                found = element.css.closest(part.removeprefix("closest "))
                matched += [found] if found is not None else []
            else:
                matched += page.select(part)
        assert matched, f"hx-include={include!r} matches nothing"
        for node in matched:
            gathered += _fields(node)
    fields, seen = [], set()
    for field in gathered:
        if id(field) not in seen:
            seen.add(id(field))
            fields.append((field["name"], field.get("value", field.get_text())))
    params = (_closest_attr(element, "hx-params") or "*").strip()
    if params == "*":
        return fields
    if params == "none":
        return []
    if params.startswith("not "):
        dropped = {n.strip() for n in params.removeprefix("not ").split(",")}
        return [(n, v) for n, v in fields if n not in dropped]
    kept = {n.strip() for n in params.split(",")}
    return [(n, v) for n, v in fields if n in kept]


def graft(target: Tag, fragment: BeautifulSoup) -> None:
    """Put a fragment inside `target`, as htmx's innerHTML swap does."""
    for node in list(fragment.contents):
        target.append(node.extract())


def starts(page: BeautifulSoup, element: Tag) -> list[str]:
    return [value for name, value in sent(page, element) if name == "start"]


@pytest.fixture
def long_room(room, user, bob, settings):
    """Pages of 5: alice's `middle` message and her `newest`, each with bob's
    reaction (so its reaction is a control too), among bob's messages."""
    settings.CHAT_PAGE_SIZE = 5
    for i in range(6):
        say(room, bob, f"early {i}")
    middle = say(room, user, "middle")
    for i in range(6):
        say(room, bob, f"later {i}")
    newest = say(room, user, "newest")
    for message in (middle, newest):
        services.reaction_toggle(message=message, user=bob, emoji="👍")
    return {"newest page": newest, "permalink": middle}


# Every element whose request sends the page's `start`, and which of them
# each page has (the permalink's page is short of the newest: no poller).
SENDERS = {
    "newest page": ["#poller"],
    "permalink": ["#load-newer a"],
}
CONTROLS = [
    "#send-form",
    ".message-edit-form",
    "a.message-delete",
    ".reaction-picker a[data-emoji]",
    ".reactions a.reaction",
]


@pytest.mark.parametrize("where", ["newest page", "permalink"])
def test_with_the_editor_open_every_request_sends_the_pages_start_once(
    room, user, client_for, soup, long_room, where
):
    mine = long_room[where]
    path = room.get_absolute_url()
    if where == "permalink":
        path += f"?around={mine.pk}"
    page = soup(client_for(user, htmx=False).get(path))
    start = page.select_one("#load-older input[name=start]")["value"]
    assert [field["value"] for field in page.select("[name=start]")] == [start]
    # Alice opens the editor on her message, as the Edit link asks for it.
    edit = page.select_one(f"#message-{mine.pk} a.message-edit")
    answer = client_for(user).get(edit["hx-get"], dict(sent(page, edit)))
    assert answer.status_code == 200
    graft(page.select_one(edit["hx-target"]), soup(answer))
    assert page.select_one(f"#message-{mine.pk} .message-edit-form") is not None

    checked = 0
    for selector in SENDERS[where] + CONTROLS:
        elements = page.select(selector)
        assert elements, selector
        for element in elements:
            assert starts(page, element) == [start], (selector, element)
            checked += 1
    assert checked >= 9


def test_without_load_older_nothing_sends_start_and_every_include_matches(
    room, user, bob, client_for, soup
):
    """A page that holds the room from its first message has no #load-older:
    no `start` at all, and no hx-include left matching nothing (a console
    error at every poll)."""
    mine = say(room, user, "hello")
    say(room, bob, "hi")
    services.reaction_toggle(message=mine, user=bob, emoji="👍")
    page = soup(client_for(user, htmx=False).get(room.get_absolute_url()))
    assert page.select_one("#load-older") is None
    edit = page.select_one(f"#message-{mine.pk} a.message-edit")
    editor = client_for(user).get(edit["hx-get"], dict(sent(page, edit)))
    graft(page.select_one(edit["hx-target"]), soup(editor))
    for selector in ["#poller", *CONTROLS]:
        for element in page.select(selector):
            assert starts(page, element) == [], selector


# A 400 is swapped nowhere ---------------------------------------------------


def _poller(client, room) -> str:
    page = BeautifulSoup(
        client.get(room.get_absolute_url(), headers={"HX-Request": ""}).content,
        "html.parser",
    )
    return page.select_one("#poller")["hx-get"]


def _without_grant(url: str) -> str:
    path, _, query = url.partition("?")
    return f"{path}?{urlencode([(k, v) for k, v in parse_qsl(query) if k != 't'])}"


def _refused_requests(room, client, first_id: int) -> dict:
    url = _poller(client, room)
    log = f"/rooms/{room.slug}/messages/"
    return {
        # What the poller sent with the editor open: its start, and the
        # editor's.
        "poll, start twice": ("get", f"{url}&start={first_id}&start={first_id}"),
        "poll on its grant, forged": ("get", with_cursor(url, after=BIG)),
        "poll on the full path, forged": (
            "get",
            with_cursor(_without_grant(url), after=BIG),
        ),
        "poll, malformed": ("get", with_cursor(url, seq="x")),
        "load newer, forged": ("get", f"{log}?newer={BIG}&seq=0"),
        "load older, malformed": ("get", f"{log}?before=x"),
        "send, malformed cursor": ("post", log, {"content": "hi", "after": "x"}),
    }


REFUSED = [
    "poll, start twice",
    "poll on its grant, forged",
    "poll on the full path, forged",
    "poll, malformed",
    "load newer, forged",
    "load older, malformed",
    "send, malformed cursor",
]


@pytest.mark.parametrize("case", REFUSED)
def test_a_400_to_htmx_swaps_nothing_and_stays_a_400(
    room, user, bob, client_for, make_messages, case
):
    first = make_messages(room, 3, author=bob)[0]
    client = client_for(user)
    method, url, *data = _refused_requests(room, client, first.pk)[case]
    # Something new, so that the hot path hands a poll on to the view.
    say(room, bob, "new")
    response = getattr(client, method)(url, *data)
    assert response.status_code == 400
    assert response.content  # the reason, for whoever reads it
    assert response["Content-Type"].startswith("text/plain")
    assert response["HX-Reswap"] == "none"
    assert "HX-Retarget" not in response
    assert not room.messages.filter(content="hi").exists()


def test_a_400_without_htmx_is_the_same_without_the_swap_header(room, user, client_for):
    response = client_for(user, htmx=False).get(
        f"/rooms/{room.slug}/messages/", {"after": 0, "start": [1, 1]}
    )
    assert response.status_code == 400
    assert "once" in response.content.decode()
    assert "HX-Reswap" not in response


def test_the_send_forms_own_refusal_still_shows_in_its_place(
    room, user, client_for, soup
):
    response = client_for(user).post(f"/rooms/{room.slug}/messages/", {"content": ""})
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#send-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert soup(response).select_one("#send-error") is not None


# No real page holds a cursor the log refuses ---------------------------------


def _page_cursor(page: BeautifulSoup) -> str:
    """The poller's URL with the page's `start`, as the poller sends it."""
    url = page.select_one("#poller")["hx-get"]
    start = starts(page, page.select_one("#poller"))
    return url + "".join(f"&start={value}" for value in start)


@pytest.mark.parametrize("newest_by", ["the viewer", "the other"])
def test_a_page_whose_newest_message_is_deleted_polls_and_sends_on(
    room, user, bob, client_for, soup, settings, newest_by
):
    """Deleted messages stay, as tombstones: the page's `after` is still in
    the room, on the poll (its grant or not) and on the send."""
    settings.CHAT_PAGE_SIZE = 5
    for i in range(8):
        say(room, bob, f"m{i}")
    newest = say(room, user if newest_by == "the viewer" else bob, "newest")
    alices = client_for(user)
    page = soup(client_for(user, htmx=False).get(room.get_absolute_url()))
    services.message_delete(message=newest, deleter=newest.user)
    for url in (_page_cursor(page), _without_grant(_page_cursor(page))):
        answer = alices.get(url)
        assert answer.status_code == 200, answer.content
        assert soup(answer).select_one(f"#message-{newest.pk}[data-kind=deleted]")
    form = page.select_one("#send-form")
    sent_fields = dict(sent(page, form)) | {"content": "still here"}
    assert alices.post(form["hx-post"], sent_fields).status_code == 200


def test_an_empty_rooms_page_polls_and_sends(room, user, client_for, soup):
    page = soup(client_for(user, htmx=False).get(room.get_absolute_url()))
    assert page.select_one("#empty-room") is not None
    alices = client_for(user)
    for url in (_page_cursor(page), _without_grant(_page_cursor(page))):
        answer = alices.get(url)
        # Nothing new (200: the poller again, with who is here).
        assert answer.status_code in (200, 204), answer.content
        assert soup(answer).select("article") == []
    form = page.select_one("#send-form")
    sent_fields = dict(sent(page, form)) | {"content": "first"}
    answer = alices.post(form["hx-post"], sent_fields)
    assert answer.status_code == 200
    assert [
        a.get_text(strip=True) for a in soup(answer).select(".message-content")
    ] == ["first"]
