"""Every partial and page renders in the pattern library with its sample data."""

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
PARTIALS = sorted(
    p.relative_to(TEMPLATES).as_posix()
    for folder in ("chat/partials", "accounts/partials")
    for p in (TEMPLATES / folder).rglob("*.html")
)
STATES = sorted(
    p.relative_to(TEMPLATES).as_posix()
    for p in (TEMPLATES / "patterns" / "states").glob("*.html")
)
PAGES = sorted(
    p.relative_to(TEMPLATES).as_posix()
    for p in (TEMPLATES / "patterns" / "pages").glob("*.html")
)


def render(client, name: str) -> BeautifulSoup:
    response = client.get(f"/pattern-library/render-pattern/{name}")
    assert response.status_code == 200, name
    return BeautifulSoup(response.content.decode(), "html.parser")


@pytest.mark.parametrize("name", PARTIALS + STATES + PAGES)
def test_pattern_renders_with_its_yaml(client, name):
    assert (TEMPLATES / name).with_suffix(".yaml").exists(), (
        f"no sample data for {name}"
    )
    page = render(client, name)
    assert page.get_text(strip=True) or page.select("[id]"), name


def test_the_designers_states_are_all_there():
    assert {Path(s).stem for s in STATES} >= {
        "own_message",
        "others_message",
        "long_message_with_link",
        "me_action",
        "join_notice",
        "empty_room",
        "send_form_error",
        "load_older_control",
        "edited_message",
        "deleted_message",
        "message_removed_by_moderator",
        "message_with_reactions",
        "reply_message",
        "reply_to_deleted_message",
        "others_message_as_moderator",
        "read_receipts",
        "read_receipts_many",
        "read_receipts_direct",
        "editor_open_error",
        "send_form_reply",
        "avatar_initials_rose",
        "avatar_initials_emerald",
        "avatar_initials_amber",
        "avatar_image",
        "conversation",
        "conversation_dark",
        "sidebar_dark",
        "search_some",
        "search_no_match",
        "search_error",
        "message_with_image",
        "message_with_file",
        "send_form_upload_error",
    }


def text(element) -> str:
    return " ".join(element.get_text().split())


def test_states_show_what_they_say(client):
    own = render(client, "patterns/states/own_message.html").select_one("article")
    assert "message-own" in own["class"] and own["id"] == "message-101"
    assert own["data-id"] == "101" and own["data-seq"] == "501"
    # One's own message: react, reply, edit (into its #editor-<id>), delete.
    assert own.select_one(".message-actions .message-edit")["hx-target"] == (
        "#editor-101"
    )
    assert own.select_one(".message-actions .message-delete") is not None
    assert own.select_one("#editor-101") is not None
    other = render(client, "patterns/states/others_message.html").select_one("article")
    assert "message-own" not in other["class"]
    assert other.select_one(".message-actions .message-reply") is not None
    assert other.select(".message-edit, .message-delete, [id^=editor-]") == []
    long = render(client, "patterns/states/long_message_with_link.html")
    assert long.select_one(".message-content a")["href"].startswith(
        "https://example.com"
    )
    assert long.select_one(".mention").get_text() == "@alice"
    action = render(client, "patterns/states/me_action.html")
    assert "* bob waves" in " ".join(action.get_text().split())
    join = render(client, "patterns/states/join_notice.html").select_one("article")
    assert join["data-kind"] == "join"
    empty = render(client, "patterns/states/empty_room.html")
    assert empty.select_one("#empty-room") is not None
    error = render(client, "patterns/states/send_form_error.html")
    assert error.select_one("#send-form #send-error").get_text(strip=True)
    older = render(client, "patterns/states/load_older_control.html")
    assert older.select_one("#load-older a")
    assert older.select_one("#load-older input[name=start]")["value"] == "101"


def test_the_conversation_state_shows_groups_days_and_new_messages(client):
    page = render(client, "patterns/states/conversation.html")
    order = [el.get("id") for el in page.select(".conversation > *") if el.get("id")]
    assert order == [
        "day-201",
        "message-201",
        "day-202",  # a new day: bob's next message starts a group again
        "message-202",
        "message-203",
        "message-204",
        "unread-divider",
        "message-205",
        "message-206",
    ]
    grouped = [a["data-id"] for a in page.select("article.message-grouped")]
    assert grouped == ["203", "206"]
    bob = page.select_one("#message-202 .message-avatar .avatar-initials")
    assert bob.get_text() == "B"
    carol = page.select_one("#message-205 .message-avatar img.avatar")
    assert carol["src"] == "/static/favicon.svg"
    author = page.select_one("#message-205 .message-author")
    assert author.get_text(strip=True) == "Carol Shaw"
    assert page.select_one("#message-204 .avatar") is None  # alice's own


def test_states_of_messages_that_live_show_what_they_say(client):
    edited = render(client, "patterns/states/edited_message.html")
    when = edited.select_one("article .message-edited time[datetime]")
    assert when["datetime"] == "2026-11-23T09:18:00+00:00"

    deleted = render(client, "patterns/states/deleted_message.html")
    tombstone = deleted.select_one("article[data-kind=deleted]")
    assert tombstone["id"] == "message-121" and "message-deleted" in tombstone["class"]
    assert text(tombstone.select_one(".message-content")).startswith("Message deleted")
    # Nothing left to do with it: no text, no reactions, no controls.
    assert tombstone.select(".reactions, .message-actions, [id^=editor-]") == []
    removed = render(client, "patterns/states/message_removed_by_moderator.html")
    assert "removed by a moderator" in text(
        removed.select_one("article[data-kind=deleted] .message-content")
    )

    reactions = render(client, "patterns/states/message_with_reactions.html")
    pressed = reactions.select(".reactions .reaction[aria-pressed=true][data-count]")
    assert [(r["data-emoji"], r["data-count"]) for r in pressed] == [
        ("👍", "3"),
        ("🎉", "1"),
    ]
    others = reactions.select(".reactions .reaction[aria-pressed=false]")
    assert [(r["data-emoji"], r["data-count"]) for r in others] == [
        ("❤️", "1"),
        ("😮", "1"),
    ]

    reply = render(client, "patterns/states/reply_message.html")
    quote = reply.select_one("article .reply-quote[data-reply-to]")
    assert quote["data-reply-to"] == "101" and quote["href"].endswith("#message-101")
    assert "alice" in text(quote) and "Morning all!" in text(quote)
    gone = render(client, "patterns/states/reply_to_deleted_message.html")
    quote = gone.select_one("article .reply-quote[data-reply-to]")
    assert quote["data-reply-to"] == "121" and "deleted message" in text(quote)

    moderated = render(client, "patterns/states/others_message_as_moderator.html")
    assert moderated.select_one(".message-actions .message-delete") is not None
    assert moderated.select_one(".message-edit") is None

    receipts = render(client, "patterns/states/read_receipts.html")
    assert text(receipts.select_one("#receipts")) == "Seen by carol, dave, erin"
    many = render(client, "patterns/states/read_receipts_many.html")
    assert text(many.select_one("#receipts")) == (
        "Seen by bob, carol, dave, erin, frank and 4 others"
    )

    editor = render(client, "patterns/states/editor_open_error.html")
    content = editor.select_one("dialog[open] form textarea[name=content]")
    assert content["aria-invalid"] == "true"
    assert text(editor.select_one(f"#{content['aria-describedby']}")) == (
        "Type a message before sending."
    )
    assert editor.select_one("article#message-126 #editor-126") is not None

    reply_mode = render(client, "patterns/states/send_form_reply.html")
    replying = reply_mode.select_one("#send-form #replying-to")
    assert replying.select_one("input[type=hidden][name=reply_to]")["value"] == "102"
    assert "bob" in text(replying) and "Cancel reply" in text(replying)


def test_avatar_states_show_what_they_say(client):
    initials = render(client, "patterns/states/avatar_initials_emerald.html")
    drawn = initials.select_one(".avatar-initials[aria-hidden=true]")
    assert drawn.get_text() == "山太"
    assert {"bg-emerald-100", "text-emerald-900", "h-12"} <= set(drawn["class"])
    image = render(client, "patterns/states/avatar_image.html").select_one("img")
    assert image["alt"] == "" and image["width"] == image["height"] == "48"


def test_direct_read_receipts_say_seen(client):
    direct = render(client, "patterns/states/read_receipts_direct.html")
    assert text(direct.select_one("#receipts")) == "Seen"


@pytest.mark.parametrize("name", PAGES)
def test_pages_in_the_pattern_library_carry_no_script(client, name):
    page = render(client, name)
    assert page.html is not None and page.select_one("body #main") is not None
    assert page.select("script") == []


def test_pages_show_what_they_say(client):
    assert len(PAGES) == 12
    room = render(client, "patterns/pages/room.html")
    assert room.select_one("#messages #poller") is not None
    assert [i["name"] for i in room.select("#poller input[type=hidden]")] == [
        "after",
        "seq",
    ]
    assert text(room.select_one("#receipts")) == "Seen by bob, carol"
    edit = render(client, "patterns/pages/message_edit.html")
    assert edit.select_one("#message-140") is not None
    assert edit.select_one("#edit-form textarea[name=content]").get_text() == (
        "Morning all! Coffee is on."
    )
    delete = render(client, "patterns/pages/message_delete.html")
    assert delete.select_one("#delete-form button[type=submit]") is not None
    react = render(client, "patterns/pages/message_react.html")
    assert len(react.select("#reaction-forms button[data-emoji]")) == 6
    settings_page = render(client, "patterns/pages/settings.html")
    assert settings_page.select_one(
        "#settings-form input[type=checkbox][name=read_receipts][checked]"
    )
    assert settings_page.select_one("#avatar-preview .avatar-initials").get_text() == (
        "AL"
    )
    assert settings_page.select_one("#id_display_name")["value"] == "Ada Lovelace"
    assert settings_page.select_one("#id_language option[selected]")["value"] == "es"
    assert settings_page.select_one("#avatar-remove-form") is not None
    error = settings_page.select_one("#password-form #id_new_password2")
    assert error["aria-invalid"] == "true"


@pytest.mark.parametrize("name", PARTIALS + STATES + PAGES)
def test_patterns_render_with_an_edit_window(client, settings, name):
    # CHAT_EDIT_WINDOW compares a message's created_at with now: sample
    # times must be timezone-aware (2026-11-23 09:15:00+00:00).
    settings.CHAT_EDIT_WINDOW = 15 * 60
    render(client, name)


def test_people_states_show_what_they_say(client):
    some = render(client, "patterns/states/people_some.html")
    rows = some.select("#people li[id^=person-]")
    assert [row["data-username"] for row in rows] == ["bob", "carol", "דנה"]
    # bob's conversation exists: a link; the others': a button that starts it.
    assert rows[0].select_one("a.person-message")["href"] == "/rooms/a1b2c3d4/"
    form = rows[1].select_one("form.person-message[method=post]")
    assert form["action"] == "/dm/carol/"
    assert form.select_one("button")["aria-label"] == "Message carol"
    assert some.select_one(".people-pages") is None

    none = render(client, "patterns/states/people_no_match.html")
    assert none.select("#people li") == []
    assert "zelda" in text(none.select_one("#people .empty-note"))

    second = render(client, "patterns/states/people_second_page.html")
    assert second.select_one(".people-previous")["href"] == "?q=a&page=1"
    assert second.select_one(".people-next")["hx-get"] == "?q=a&page=3"
    assert "Page 2 of 3" in text(second.select_one(".people-pages"))

    page = render(client, "patterns/pages/people.html")
    assert page.select_one("form[role=search] #people-search[name=q]") is not None
    assert page.select_one("#people .people-next")["href"] == "?page=2"


def test_search_states_show_what_they_say(client):
    some = render(client, "patterns/states/search_some.html")
    rows = some.select("#search-results li.search-result")
    assert [row["id"] for row in rows] == ["result-412", "result-398", "result-377"]
    assert rows[0].select_one(".result-link")["href"] == (
        "/rooms/general/messages/412/"
    )
    assert [m.get_text() for m in rows[0].select("mark")] == [
        "release notes",
        "deploy",
    ]
    # A long message: around its match, cut with ellipses.
    long = text(rows[1].select_one(".result-link"))
    assert long.startswith("…") and long.endswith("…") and "release notes" in long
    # Markup in a message is text.
    assert rows[2].select("img") == []
    assert "<img src=x onerror=" in rows[2].select_one(".result-link").get_text()
    assert some.select_one(".search-older")["href"] == (
        "/search/?q=%22release%20notes%22%20deplo%2A&room=general&before=377"
    )
    assert some.select_one(".search-newest") is not None

    none = render(client, "patterns/states/search_no_match.html")
    assert none.select("li.search-result") == []
    assert "zeppelin" in text(none.select_one("#search-results .empty-note"))

    error = render(client, "patterns/states/search_error.html")
    assert "quote is not closed" in text(error.select_one("#search-error[role=alert]"))

    page = render(client, "patterns/pages/search.html")
    assert page.select_one("#search-page-form #search-page-q")["value"] == "deploy"
    assert page.select_one("#search-room[checked]")["value"] == "general"
    assert page.select_one("#result-311 mark").get_text() == "deploy"


def test_the_attachment_states_show_what_they_say(client):
    image = render(client, "patterns/states/message_with_image.html")
    thumb = image.select_one("article .attachments a.attachment-image img")
    assert "attachment-thumb" in thumb["class"] and thumb["alt"] == "whiteboard.jpg"
    assert (thumb["width"], thumb["height"]) == ("240", "160")
    files = render(client, "patterns/states/message_with_file.html")
    names = [n.get_text() for n in files.select(".attachment-file .attachment-name")]
    assert names[0] == "Release notes 48.pdf" and len(names) == 2
    assert files.select_one(".attachment-type").get_text() == "PDF document"
    error = render(client, "patterns/states/send_form_upload_error.html")
    assert "cannot be sent" in error.select_one("#send-error").get_text()
    assert error.select_one("#send-files")["aria-invalid"] == "true"


def test_display_names_come_with_their_handle(client):
    """Where two people could be taken for each other, the sample data shows
    the handle beside a display name, and nothing beside a username."""
    title = render(client, "chat/partials/room_title.html").select_one("h1")
    assert text(title).startswith("Bob Ross @bob")
    sidebar = render(client, "chat/partials/sidebar.html")
    bob = sidebar.select_one("#sidebar-direct [data-username=bob]")
    assert bob.select_one(".partner-username").get_text() == "@bob"
    assert sidebar.select_one("[data-username=carol] .partner-username") is None
    search = render(client, "chat/partials/search_results.html")
    handles = [el.get_text() for el in search.select(".author-username")]
    assert handles == ["@carol"]  # bob has no display name there
