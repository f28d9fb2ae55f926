"""Failed logins lock a (username, address) pair; many failures from one
address throttle that address; the address is REMOTE_ADDR unless a proxy
header is configured. The addresses are documentation ones (RFC 5737)."""

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.20"


def attempt(client, username, password, ip=HOME, **headers):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **headers,
    )


def test_failures_lock_the_username_at_that_address_only(user, other_user):
    client = Client()
    for _ in range(4):
        assert attempt(client, "alice", "wrong").status_code == 200
    # The fifth failure locks alice at this address, right password or not.
    assert attempt(client, "alice", "wrong").status_code == 429
    response = attempt(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert Client().get("/rooms/").status_code == 302
    # A stranger's failures do not lock alice out elsewhere, nor lock the
    # address for others.
    assert attempt(Client(), "alice", PASSWORD, ip=ELSEWHERE).status_code == 302
    assert attempt(Client(), "bob", PASSWORD).status_code == 302


def test_failures_across_usernames_throttle_the_address(make_user, settings):
    settings.ACCOUNTS_LOGIN_ADDRESS_RATE = "6/15m"
    make_user("victim")
    client = Client()
    for i in range(6):
        assert attempt(client, f"guess{i}", "wrong").status_code == 200
    # One failure more than the rate allows is answered 429, and so is the
    # address's next login, even with the right password.
    assert attempt(client, "guess6", "wrong").status_code == 429
    response = attempt(Client(), "victim", PASSWORD)
    assert response.status_code == 429
    assert b"Logins from your address are paused" in response.content
    assert int(response["Retry-After"]) > 0
    # Another address can still log in as that user.
    assert attempt(Client(), "victim", PASSWORD, ip=ELSEWHERE).status_code == 302


def test_successful_logins_do_not_count_toward_the_address_limit(user, settings):
    """An office behind one address is not throttled by its colleagues."""
    settings.ACCOUNTS_LOGIN_ADDRESS_RATE = "2/15m"
    for _ in range(5):
        assert attempt(Client(), "alice", PASSWORD).status_code == 302


def test_success_before_the_limit_resets_the_count(user):
    client = Client()
    for _ in range(4):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_a_forged_forwarded_for_does_not_change_the_address_by_default(user):
    client = Client()
    for i in range(5):
        forged = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{i}"}
        attempt(client, "alice", "wrong", **forged)
    # All five counted against REMOTE_ADDR, whatever the header said.
    forged = {"HTTP_X_FORWARDED_FOR": ELSEWHERE}
    assert attempt(Client(), "alice", PASSWORD, **forged).status_code == 429


def test_the_proxy_header_gives_the_address_when_configured(user, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.CLIENT_IP_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    # The proxy appends the address it saw; what the client sent stays left.
    seen_home = {"HTTP_X_FORWARDED_FOR": f"192.0.2.1, {HOME}"}
    client = Client()
    for _ in range(5):
        attempt(client, "alice", "wrong", ip=proxy, **seen_home)
    assert attempt(client, "alice", PASSWORD, ip=proxy, **seen_home).status_code == 429
    # Another client behind the same proxy is another address.
    seen_elsewhere = {"HTTP_X_FORWARDED_FOR": ELSEWHERE}
    response = attempt(Client(), "alice", PASSWORD, ip=proxy, **seen_elsewhere)
    assert response.status_code == 302
