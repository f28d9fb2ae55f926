"""A message is rendered once per look (own, other, mentions me) and language,
then served from the cache to every viewer with that look."""

import shutil
from pathlib import Path

import pytest

from chat import services
from chat.models import Message
from chat.templatetags.chat_tags import forget_partials_version

pytestmark = pytest.mark.django_db


def article(client, room, msg, soup, **headers):
    response = client.get(f"/rooms/{room.slug}/messages/?after={msg.id - 1}", **headers)
    return soup(response).select_one(f"#message-{msg.id}")


def test_viewers_with_the_same_look_share_one_rendering(
    room, client_for, user, make_user, soup
):
    bob, dave = make_user("bob"), make_user("dave")
    msg = services.message_create(room=room, author=user, content="original @carol")
    first = article(client_for(bob), room, msg, soup)
    assert first.select_one(".message-content").get_text() == "original @carol"
    # Change the stored text behind the cache's back: another "other" viewer
    # is served the cached rendering, so the page was not drawn again.
    Message.objects.filter(pk=msg.pk).update(content="changed")
    again = article(client_for(dave), room, msg, soup)
    assert again.select_one(".message-content").get_text() == "original @carol"


def test_each_look_is_rendered_for_itself(room, client_for, user, make_user, soup):
    carol, bob = make_user("carol"), make_user("bob")
    msg = services.message_create(room=room, author=user, content="hi @carol")
    other = article(client_for(bob), room, msg, soup)
    own = article(client_for(user), room, msg, soup)
    mention = article(client_for(carol), room, msg, soup)
    assert "message-own" in own["class"]
    assert "message-own" not in other["class"]
    assert "message-mentions-me" not in other["class"]
    assert "message-mentions-me" in mention["class"]


def test_each_language_is_rendered_for_itself(room, client_for, user, make_user, soup):
    msg = services.message_create(room=room, author=user, content="/me waves")
    bob = client_for(make_user("bob"))
    english = article(bob, room, msg, soup)
    spanish = article(bob, room, msg, soup, HTTP_ACCEPT_LANGUAGE="es")
    # "* alice waves" in both; its controls (React, Reply) in each language.
    words = [a.select_one(".message-content").get_text() for a in (english, spanish)]
    assert words[0] == words[1]
    assert "Reply" in english.get_text() and "Responder" in spanish.get_text()
    join = services.room_join(room=room, user=make_user("erin"))
    assert join
    notice = Message.objects.get(kind="join")
    en = article(bob, room, notice, soup).get_text()
    es = article(bob, room, notice, soup, HTTP_ACCEPT_LANGUAGE="es").get_text()
    assert "joined the room" in en and "entró en la sala" in es


def test_an_edited_partial_is_drawn_afresh(
    room, client_for, user, make_user, soup, settings, tmp_path
):
    """A designer edits a partial; the next request must show the edit even
    though the old rendering is still in the cache (a deploy is the same
    case: the key carries the partials' version)."""
    bob = client_for(make_user("bob"))
    msg = services.message_create(room=room, author=user, content="hello")
    assert article(bob, room, msg, soup).select_one(".designer-mark") is None
    partials = Path(settings.BASE_DIR) / "templates" / "chat" / "partials"
    copy = tmp_path / "chat" / "partials"
    shutil.copytree(partials, copy)
    kind = copy / "kinds" / "message.html"
    kind.write_text(
        kind.read_text().replace('class="message-content', 'class="designer-mark ')
    )
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]
    forget_partials_version()
    try:
        assert article(bob, room, msg, soup).select_one(".designer-mark")
    finally:
        forget_partials_version()


def test_tests_use_the_fragment_cache_production_uses():
    from django.conf import settings
    from django.core.cache import caches

    assert settings.CACHES["template_fragments"] == settings.FRAGMENT_CACHE
    assert type(caches["template_fragments"]).__name__ == "LocMemCache"
