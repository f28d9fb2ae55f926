"""Real servers, real sessions: what the test client cannot show."""

import os

import pytest

from tests.concurrency.harness import message_ids, next_poll_url
from tests.servers import is_postgres

ON_POSTGRES = is_postgres(os.environ.get("DATABASE_URL"))


def test_logout_ends_the_fast_poll_on_a_real_server(start_node):
    """The hot path sees the session's row go in the same query as the
    messages; checked against a real server, on its own connections."""
    node = start_node()
    [tab] = node.browsers("lobby", ["alice"])
    status, body = tab.request("POST", "/rooms/lobby/messages/", "content=hello")
    assert status == 200, body
    follow = next_poll_url(body)
    assert tab.request("GET", follow)[0] == 204

    status, _ = tab.request("POST", "/accounts/logout/", "")
    assert status == 302
    status, _ = tab.request("GET", follow)
    assert status != 204  # the full path: the login page, not "nothing new"


@pytest.mark.skipif(
    not (ON_POSTGRES and os.environ.get("REDIS_URL")),
    reason="two nodes need a shared PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
)
def test_two_nodes_share_sessions_and_messages(start_node):
    """Node A and node B: two gunicorns on two ports, one PostgreSQL, one
    Redis. A session made through A polls on B; a send through A appears in
    B's next poll; a logout through A ends the session on B."""
    node_a = start_node()
    node_b = start_node(share_with=node_a)
    assert node_a.server.url != node_b.server.url
    [on_a] = node_a.browsers("shared", ["alice"])
    on_b = on_a.on(node_b.server.url)

    status, body = on_b.request("GET", "/rooms/shared/messages/?after=0")
    assert status == 204, body  # logged in on B, nothing posted yet
    status, body = on_a.request("POST", "/rooms/shared/messages/", "content=from+A")
    assert status == 200, body
    [sent] = message_ids(body)

    status, body = on_b.request("GET", "/rooms/shared/messages/?after=0")
    assert status == 200, body
    assert message_ids(body) == [sent]
    assert "from A" in body
    follow = next_poll_url(body)
    status, _ = on_b.request("GET", follow)
    assert status == 204  # B's own poller, grant and all, on the fast path

    status, _ = on_a.request("POST", "/accounts/logout/", "")
    assert status == 302  # logged out, sent on
    status, body = on_b.request("GET", follow)
    # The grant died with the session, on the other node: not "nothing new"
    # but the full path, which sends an anonymous htmx request to log in.
    assert status == 200 and body == ""
