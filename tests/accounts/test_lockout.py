import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_username_is_locked_after_five_failures_even_with_the_right_password(
    user, settings
):
    client = Client()
    for i in range(4):
        assert attempt(client, "alice", "wrong", ip=f"10.0.0.{i}").status_code == 200
    # The fifth failure locks the username, whatever the address.
    assert attempt(client, "alice", "wrong", ip="10.0.0.9").status_code == 429
    response = attempt(client, "alice", PASSWORD, ip="10.0.1.1")
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert Client().get("/rooms/").status_code == 302


def test_address_is_locked_after_five_failures_across_usernames(make_user):
    make_user("victim")
    client = Client()
    for i in range(5):
        attempt(client, f"guess{i}", "wrong", ip="10.9.9.9")
    assert attempt(client, "victim", PASSWORD, ip="10.9.9.9").status_code == 429
    # Another address can still log in as that user.
    assert attempt(Client(), "victim", PASSWORD, ip="10.8.8.8").status_code == 302


def test_success_before_the_limit_resets_the_count(user):
    client = Client()
    for _ in range(4):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", PASSWORD).status_code == 302
