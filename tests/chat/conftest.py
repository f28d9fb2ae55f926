import pytest

from chat import services


@pytest.fixture
def bob(other_user, room):
    """bob (other_user), a member of `room`. Some modules name their own
    `bob` (a client logged in as him); theirs wins there."""
    services.room_join(room=room, user=other_user)
    return other_user
