import pytest

from chat import services
from chat.models import Message

pytestmark = pytest.mark.django_db


def render(htmx_client, room, soup, msg):
    page = soup(htmx_client.get(f"/rooms/{room.slug}/messages/?after={msg.id - 1}"))
    return page.select_one(f"#message-{msg.id}")


def test_urls_become_safe_links(htmx_client, room, user, soup):
    msg = services.message_create(
        room=room, author=user, content="see https://example.com/a?b=1 now"
    )
    link = render(htmx_client, room, soup, msg).select_one(".message-content a")
    assert link["href"] == "https://example.com/a?b=1"
    assert set(link["rel"]) == {"nofollow", "noopener"}
    assert link["target"] == "_blank"


def test_javascript_urls_are_not_linked(htmx_client, room, user, soup):
    msg = services.message_create(room=room, author=user, content="javascript:alert(1)")
    assert render(htmx_client, room, soup, msg).select(".message-content a") == []


def test_mentions_of_existing_users_are_highlighted(
    htmx_client, room, user, other_user, soup
):
    msg = services.message_create(
        room=room, author=user, content="hi @bob and @nobody, mail x@bob.com."
    )
    assert msg.mentions == ["bob"]
    el = render(htmx_client, room, soup, msg)
    assert [m.get_text() for m in el.select(".mention")] == ["@bob"]
    assert "@nobody" in el.get_text()


def test_mentioned_user_sees_the_message_emphasised(
    room, client_for, user, other_user, soup
):

    msg = services.message_create(room=room, author=user, content="@bob look")
    plain = services.message_create(room=room, author=user, content="no mention")
    bob = client_for(other_user)
    page = soup(bob.get(f"/rooms/{room.slug}/messages/?after=0"))
    assert "message-mentions-me" in page.select_one(f"#message-{msg.id}")["class"]
    assert "message-mentions-me" not in page.select_one(f"#message-{plain.id}")["class"]
    alice = client_for(user)
    page = soup(alice.get(f"/rooms/{room.slug}/messages/?after=0"))
    assert "message-mentions-me" not in page.select_one(f"#message-{msg.id}")["class"]


def test_line_breaks_are_kept_and_nothing_else_interpreted(
    htmx_client, room, user, soup
):
    msg = services.message_create(
        room=room, author=user, content="*bold*\n<b>x</b>\n# title"
    )
    content = render(htmx_client, room, soup, msg).select_one(".message-content")
    assert len(content.select("br")) == 2
    assert content.select("b") == [] and content.select("strong") == []
    assert content.get_text() == "*bold*<b>x</b># title"


def test_mention_inside_a_link_is_left_alone(htmx_client, room, user, other_user, soup):
    msg = services.message_create(
        room=room, author=user, content="https://example.com/@bob @bob"
    )
    el = render(htmx_client, room, soup, msg)
    assert el.select_one("a")["href"] == "https://example.com/@bob"
    assert len(el.select(".mention")) == 1
    assert Message.objects.count() == 1
