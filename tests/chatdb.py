"""Set up and read a real server's database from outside it.

Run in the server's environment (same DATABASE_URL, cache and secret key):

    python -m tests.chatdb seed --room race --users alice bob   # JSON sessions
    python -m tests.chatdb ids --room race                      # JSON message ids

A browser that logged in earlier has nothing but a session and a cookie, so
sessions are written directly: no password hashing per simulated client.
"""

import argparse
import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.db import transaction  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from chat.models import Membership, Message, Room  # noqa: E402

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def make_sessions(users: list, count: int) -> list[dict]:
    """`count` logged-in sessions, users taken in turn, as a login makes them."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    out = []
    for i in range(count):
        user = users[i % len(users)]
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = MODEL_BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        out.append({"session": session.session_key, "user": user.get_username()})
    return out


def seed(room_slug: str, usernames: list[str]) -> dict:
    User = get_user_model()
    with transaction.atomic():
        users = [User.objects.get_or_create(username=name)[0] for name in usernames]
        room, _ = Room.objects.get_or_create(
            slug=room_slug, defaults={"name": room_slug, "created_by": users[0]}
        )
        # Everyone has been here before: no join notices during the run.
        for user in users:
            Membership.objects.get_or_create(room=room, user=user)
    return {
        "room": room.slug,
        "sessions": make_sessions(users, len(users)),
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }


def message_ids(room_slug: str) -> list[int]:
    return list(
        Message.objects.filter(room__slug=room_slug)
        .order_by("id")
        .values_list("id", flat=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    seed_parser = sub.add_parser("seed")
    seed_parser.add_argument("--room", required=True)
    seed_parser.add_argument("--users", nargs="+", required=True)
    ids_parser = sub.add_parser("ids")
    ids_parser.add_argument("--room", required=True)
    args = parser.parse_args()
    if args.command == "seed":
        print(json.dumps(seed(args.room, args.users)))
    else:
        print(json.dumps(message_ids(args.room)))


if __name__ == "__main__":
    main()
