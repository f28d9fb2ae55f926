import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


def test_landing_offers_login_and_signup(client, soup):
    page = soup(client.get("/"))
    hrefs = {a["href"] for a in page.select("a")}
    assert {"/accounts/login/", "/accounts/signup/"} <= hrefs


def test_landing_redirects_logged_in_users_to_rooms(auth_client):
    assert auth_client.get("/")["Location"] == "/rooms/"


def test_signup_logs_the_new_user_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "carol",
            "password1": "x-Very-long-pw-9",
            "password2": "x-Very-long-pw-9",
        },
    )
    assert response.status_code == 303
    assert response["Location"] == "/rooms/"
    assert get_user_model().objects.filter(username="carol").exists()
    assert client.get("/rooms/").status_code == 200


def test_signup_with_mismatched_passwords_shows_errors(client, soup):
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "password1": "x-Very-long-pw-9", "password2": "nope"},
    )
    assert response.status_code == 400
    assert soup(response).select("[aria-invalid=true]")
    assert not get_user_model().objects.exists()


def test_login_and_logout(client, user):
    from tests.conftest import PASSWORD

    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/rooms/"
    assert client.get("/rooms/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/rooms/").status_code == 302


def test_pages_include_only_the_vendored_htmx_script(htmx_client, room, soup):
    anon, member = Client(), Client()
    member.force_login(room.created_by)
    pages = [
        (anon, "/"),
        (anon, "/accounts/login/"),
        (anon, "/accounts/signup/"),
        (member, "/rooms/"),
        (member, f"/rooms/{room.slug}/"),
    ]
    for c, url in pages:
        response = c.get(url)
        assert response.status_code == 200, url
        page = soup(response)
        scripts = page.select("script")
        assert [s.get("src") for s in scripts] == ["/static/django_htmx/htmx-2.min.js"]
        assert page.select("[hx-on]") == []
        body = page.select_one("body")
        assert "X-CSRFToken" in body["hx-headers"]
