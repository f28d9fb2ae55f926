import pytest
from django.db import IntegrityError
from django.template import RequestContext, Template
from django.test import RequestFactory

from chat import services
from chat.models import Room
from tests.conftest import ids
from tests.testapp.models import Article

pytestmark = pytest.mark.django_db

PAGE = Template(
    "{% load chat_tags %}<main><h1>{{ article }}</h1>{% chat_room_for article %}</main>"
)


def render(user, article, soup_html):
    request = RequestFactory().get(f"/articles/{article.pk}/")
    request.user = user
    request.htmx = False
    html = PAGE.render(RequestContext(request, {"article": article}))
    return soup_html(html)


@pytest.fixture
def soup_html():
    from bs4 import BeautifulSoup

    return lambda html: BeautifulSoup(html, "html.parser")


def test_any_object_gets_one_room_of_its_own(user):
    article = Article.objects.create(title="Release notes")
    room = services.room_for_object(obj=article, created_by=user)
    assert services.room_for_object(obj=article) == room
    assert room.content_object == article
    assert room.name == "Release notes"
    other = services.room_for_object(obj=Article.objects.create(title="Other"))
    assert other != room


def test_content_type_and_object_id_are_unique_together(user):
    article = Article.objects.create(title="A")
    room = services.room_for_object(obj=article)
    with pytest.raises(IntegrityError):
        Room.objects.create(
            name="dup",
            slug="dup",
            content_type=room.content_type,
            object_id=room.object_id,
        )


def test_tag_renders_the_live_panel_with_the_hooks(user, make_messages, soup_html):
    article = Article.objects.create(title="Launch plan")
    room = services.room_for_object(obj=article, created_by=user)
    msgs = make_messages(room, 3)
    page = render(user, article, soup_html)
    panel = page.select_one("section.chat-panel")
    assert ids(panel.select_one("#messages")) == [m.id for m in msgs]
    poller = panel.select_one("#messages #poller")
    assert poller["hx-get"].startswith(
        f"/rooms/{room.slug}/messages/?after={msgs[-1].id}"
    )
    form = panel.select_one("#send-form")
    assert form["hx-post"] == f"/rooms/{room.slug}/messages/"
    assert form.select_one("input[name=csrfmiddlewaretoken]") is not None


def test_tag_asks_anonymous_visitors_to_log_in(soup_html, db):
    from django.contrib.auth.models import AnonymousUser

    article = Article.objects.create(title="Public page")
    page = render(AnonymousUser(), article, soup_html)
    assert page.select("#messages") == []
    assert page.select_one("section.chat-panel a")["href"].startswith(
        "/accounts/login/"
    )
    assert not Room.objects.exists()


def test_object_room_works_through_the_normal_endpoints(user, htmx_client, soup_html):
    article = Article.objects.create(title="Q&A")
    room = services.room_for_object(obj=article, created_by=user)
    response = htmx_client.post(f"/rooms/{room.slug}/messages/", {"content": "hi"})
    assert response.status_code == 200
    assert (
        render(user, article, soup_html).select_one(".message-content").get_text()
        == "hi"
    )


def test_rendering_the_tag_creates_nothing_and_offers_a_start_form(user, soup_html):
    article = Article.objects.create(title="Roadmap")
    page = render(user, article, soup_html)
    assert not Room.objects.exists()
    form = page.select_one("#object-room-form")
    assert form["method"] == "post" and form["action"] == "/rooms/for-object/"
    assert form.select_one("input[name=next]")["value"] == f"/articles/{article.pk}/"


def test_the_start_form_starts_the_room_once_and_goes_back(
    user, auth_client, soup_html
):
    article = Article.objects.create(title="Roadmap")
    form = render(user, article, soup_html).select_one("#object-room-form")
    data = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    response = auth_client.post("/rooms/for-object/", data)
    assert response.status_code == 303
    assert response["Location"] == f"/articles/{article.pk}/"
    auth_client.post("/rooms/for-object/", data)
    room = Room.objects.get()
    assert room.content_object == article and list(room.members.all()) == [user]
    assert render(user, article, soup_html).select_one("#messages") is not None


@pytest.mark.parametrize(
    "data",
    [
        {"object": "forged"},
        {"object": ""},
        {},
    ],
)
def test_a_forged_object_reference_is_404(auth_client, data):
    assert auth_client.post("/rooms/for-object/", data).status_code == 404
    assert not Room.objects.exists()


def test_the_start_form_never_sends_anyone_off_site(user, auth_client, soup_html):
    article = Article.objects.create(title="Roadmap")
    form = render(user, article, soup_html).select_one("#object-room-form")
    data = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    data["next"] = "https://elsewhere.example/"
    assert auth_client.post("/rooms/for-object/", data)["Location"] == "/"
