"""Editing one's own message: in place with htmx, on a page without script."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from chat import services
from chat.models import Message, Room
from tests.conftest import appended_ids, swapped_ids

pytestmark = pytest.mark.django_db


def edit_url(message: Message) -> str:
    return reverse("chat:message_edit", args=[message.room.slug, message.pk])


def fresh(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def said(room, user) -> Message:
    return services.message_create(room=room, author=user, content="first words")


def test_htmx_get_opens_the_editor_filled_with_the_text(htmx_client, said, soup):
    response = htmx_client.get(edit_url(said))
    assert response.status_code == 200
    page = soup(response)
    dialog = page.select_one("dialog")
    assert dialog.has_attr("open") and dialog["closedby"] == "any"
    form = dialog.select_one("form.message-edit-form")
    assert form["hx-post"] == edit_url(said)
    assert form["hx-target"] == f"#message-{said.pk}"
    assert form.select_one("textarea[name=content]").get_text() == "first words"
    assert page.find("html") is None  # a fragment
    assert fresh(said).seq == said.seq  # a GET changes nothing


def test_htmx_post_returns_the_message_edited_with_when(htmx_client, said, soup):
    response = htmx_client.post(edit_url(said), {"content": "better words"})
    assert response.status_code == 200
    article = soup(response).select_one(f"article#message-{said.pk}")
    assert article["data-kind"] == "message"
    assert article.select_one(".message-content").get_text() == "better words"
    edited = article.select_one(".message-edited")
    assert "edited" in edited.get_text()
    stored = fresh(said)
    assert stored.content == "better words" and stored.edited_at is not None
    assert edited.select_one("time")["datetime"] == stored.edited_at.isoformat()
    assert article["data-seq"] == str(stored.seq)


def test_plain_get_is_a_page_with_the_form(auth_client, said, soup):
    response = auth_client.get(edit_url(said))
    assert response.status_code == 200
    page = soup(response)
    assert page.find("html") is not None
    form = page.select_one("form#edit-form")
    assert form["method"] == "post" and form["action"] == edit_url(said)
    assert form.select_one("textarea[name=content]").get_text() == "first words"
    assert page.select_one(f"#message-{said.pk}") is not None


def test_plain_post_saves_and_303s_to_the_message(auth_client, said, room):
    response = auth_client.post(edit_url(said), {"content": "no script"})
    assert response.status_code == 303
    permalink = reverse("chat:message", args=[room.slug, said.pk])
    assert response["Location"] == f"{permalink}#message-{said.pk}"
    assert fresh(said).content == "no script"


BAD = [
    ("", "cannot be empty"),
    ("   \n ", "cannot be empty"),
    ("x" * 4001, "limited to 4000"),
    ("bell \x07", "control characters"),
]


@pytest.mark.parametrize(("content", "error"), BAD)
def test_bad_htmx_edit_is_400_with_the_error_in_the_editor(
    htmx_client, said, soup, content, error
):
    response = htmx_client.post(edit_url(said), {"content": content})
    assert response.status_code == 400
    assert response["HX-Retarget"] == f"#editor-{said.pk}"
    assert response["HX-Reswap"] == "innerHTML"
    page = soup(response)
    shown = page.select_one(f"dialog #edit-error-{said.pk}")
    assert error in shown.get_text()
    textarea = page.select_one("textarea[name=content]")
    assert textarea["aria-invalid"] == "true"
    stored = fresh(said)
    assert (stored.content, stored.seq, stored.edited_at) == (
        "first words",
        said.seq,
        None,
    )


@pytest.mark.parametrize(("content", "error"), BAD)
def test_bad_plain_edit_is_400_with_the_error_on_the_page(
    auth_client, said, soup, content, error
):
    response = auth_client.post(edit_url(said), {"content": content})
    assert response.status_code == 400
    assert error in soup(response).select_one("form#edit-form #edit-error").get_text()
    assert fresh(said).content == "first words"


def test_a_post_without_content_is_400_with_the_error(htmx_client, said, soup):
    response = htmx_client.post(edit_url(said), {})
    assert response.status_code == 400
    assert soup(response).select_one(f"#edit-error-{said.pk}").get_text(strip=True)
    assert fresh(said).content == "first words"


def test_mentions_are_found_again(htmx_client, room, user, other_user, make_user):
    make_user("carol")
    said = services.message_create(room=room, author=user, content="hi @carol")
    assert said.mentions == ["carol"]
    htmx_client.post(edit_url(said), {"content": "hi @bob, not carol"})
    assert fresh(said).mentions == ["bob"]


def test_the_mentioned_user_sees_the_new_mention(
    htmx_client, client_for, room, user, other_user, soup
):
    said = services.message_create(room=room, author=user, content="hi all")
    htmx_client.post(edit_url(said), {"content": "hi @bob"})
    bob = client_for(other_user)
    article = soup(bob.get(reverse("chat:message", args=[room.slug, said.pk])))
    assert "message-mentions-me" in article.select_one("article")["class"]


def test_someone_elses_message_is_refused_and_offers_no_edit(
    client_for, room, said, other_user, soup
):
    bob = client_for(other_user)
    for response in (
        bob.get(edit_url(said)),
        bob.post(edit_url(said), {"content": "hijacked"}),
        client_for(other_user, htmx=False).post(edit_url(said), {"content": "x"}),
    ):
        assert response.status_code == 403
    refusal = soup(client_for(other_user, htmx=False).get(edit_url(said)))
    assert "your own messages" in refusal.select_one("#refusal").get_text()
    assert fresh(said).content == "first words"
    page = soup(client_for(other_user, htmx=False).get(room.get_absolute_url()))
    article = page.select_one(f"#message-{said.pk}")
    assert article.select(".message-edit") == []
    assert article.select(f"#editor-{said.pk}") == []
    # The author has both.
    mine = soup(client_for(said.user, htmx=False).get(room.get_absolute_url()))
    assert mine.select_one(f"#message-{said.pk} .message-edit")["href"] == (
        edit_url(said)
    )


def test_a_room_one_cannot_see_is_404(inner_room, client_for, make_user):
    said = services.message_create(
        room=inner_room.room, author=inner_room.member, content="secret"
    )
    outsider = client_for(make_user("carol"))
    assert outsider.get(edit_url(said)).status_code == 404
    assert outsider.post(edit_url(said), {"content": "x"}).status_code == 404
    assert fresh(said).content == "secret"


def test_a_message_of_another_room_is_404(htmx_client, said, make_room):
    other = make_room("Elsewhere")
    url = reverse("chat:message_edit", args=[other.slug, said.pk])
    assert htmx_client.post(url, {"content": "x"}).status_code == 404


def test_ones_own_notice_cannot_be_edited(client_for, room, other_user):
    services.room_join(room=room, user=other_user)
    notice = Message.objects.get(kind=Message.Kind.JOIN, user=other_user)
    response = client_for(other_user).post(edit_url(notice), {"content": "x"})
    assert response.status_code == 403
    assert fresh(notice).content == ""


def test_a_deleted_message_cannot_be_edited(htmx_client, said, user, soup):
    services.message_delete(message=said, deleter=user)
    response = htmx_client.post(edit_url(said), {"content": "back again"})
    assert response.status_code == 403
    assert fresh(said).content == ""


def test_an_action_stays_an_action(htmx_client, room, user):
    said = services.message_create(room=room, author=user, content="/me waves")
    htmx_client.post(edit_url(said), {"content": "waves twice"})
    stored = fresh(said)
    assert (stored.kind, stored.content) == (Message.Kind.ACTION, "waves twice")


@pytest.fixture
def frozen(monkeypatch):
    """frozen(when): timezone.now() answers `when` (as the selectors see it)."""

    def freeze(when):
        monkeypatch.setattr("chat.selectors.timezone.now", lambda: when)

    return freeze


def test_edit_window_allows_edits_within_it(htmx_client, said, settings, frozen):
    settings.CHAT_EDIT_WINDOW = 300
    frozen(said.created_at + timedelta(seconds=299))
    response = htmx_client.post(edit_url(said), {"content": "in time"})
    assert response.status_code == 200
    assert fresh(said).content == "in time"


def test_edit_window_refuses_edits_after_it_and_hides_edit(
    htmx_client, client_for, room, said, settings, frozen, soup
):
    settings.CHAT_EDIT_WINDOW = 300
    frozen(said.created_at + timedelta(seconds=301))
    response = htmx_client.post(edit_url(said), {"content": "too late"})
    assert response.status_code == 403
    assert fresh(said).content == "first words"
    page = soup(client_for(said.user, htmx=False).get(room.get_absolute_url()))
    article = page.select_one(f"#message-{said.pk}")
    assert article.select(".message-edit") == []
    assert article.select_one(".message-delete") is not None  # deleting still is
    refusal = soup(client_for(said.user, htmx=False).get(edit_url(said)))
    assert "5 minutes" in refusal.select_one("#refusal").get_text()


def test_no_edit_window_means_no_limit(htmx_client, said, settings, frozen):
    settings.CHAT_EDIT_WINDOW = None
    frozen(timezone.now() + timedelta(days=365))
    assert htmx_client.post(edit_url(said), {"content": "later"}).status_code == 200


def test_unchanged_text_changes_nothing(htmx_client, said, room):
    seq = Room.objects.get(pk=room.pk).seq
    response = htmx_client.post(edit_url(said), {"content": "  first words  "})
    assert response.status_code == 200
    stored = fresh(said)
    assert (stored.seq, stored.edited_at) == (said.seq, None)
    assert Room.objects.get(pk=room.pk).seq == seq


def test_each_edit_takes_the_rooms_next_change_number(htmx_client, said, room):
    seqs = []
    for text in ("one", "two", "three"):
        htmx_client.post(edit_url(said), {"content": text})
        room.refresh_from_db()
        seqs.append(fresh(said).seq)
        assert seqs[-1] == room.seq
    assert seqs == sorted(set(seqs)) and seqs[0] > said.seq


def test_a_poll_brings_the_edited_message_out_of_band_once(
    client_for, room, user, other_user, make_messages, poller_url, soup
):
    msgs = make_messages(room, 3)
    bob = client_for(other_user)
    url = poller_url(bob, room)
    client_for(user).post(edit_url(msgs[1]), {"content": "edited @bob"})
    response = bob.get(url)
    assert response.status_code == 200
    page = soup(response)
    assert swapped_ids(page) == [msgs[1].id]
    assert appended_ids(page) == []
    article = page.select_one(f"#message-{msgs[1].id}")
    assert "edited" in article.get_text() and "message-mentions-me" in article["class"]
    # The page's change number moves on: the next poll has nothing.
    assert bob.get(page.select_one("#poller")["hx-get"]).status_code == 204


def test_an_edit_racing_a_delete_does_not_bring_the_text_back(said, user):
    # The edit read the message (and its refusal) before the delete
    # committed: the change itself must still find it deleted.
    read_before = fresh(said)
    services.message_delete(message=said, deleter=user)
    tombstone = fresh(said)
    with pytest.raises(PermissionDenied):
        services.message_edit(message=read_before, editor=user, content="back")
    stored = fresh(said)
    assert (stored.content, stored.seq, stored.edited_at) == ("", tombstone.seq, None)
