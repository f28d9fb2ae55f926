from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from chat import services
from chat.models import Room

DEMO_PASSWORD = "demo-pass-123"
CONVERSATION = {
    "general": [
        ("alice", "Morning all! Coffee is on."),
        ("bob", "Thanks, Alice. Anyone tried the new room list?"),
        ("alice", "Yes, it shows when each room was last active."),
    ],
    "random": [
        ("bob", "Fun fact: this page has no custom JavaScript at all."),
        ("alice", "Just htmx polling every two seconds."),
    ],
    "help": [],
}


class Command(BaseCommand):
    help = (
        "Create demo users (alice, bob; password demo-pass-123) and rooms "
        "with a short conversation. Safe to run again: it adds nothing twice."
    )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        User = get_user_model()
        users = {}
        for username in ("alice", "bob"):
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            users[username] = user
        for name, lines in CONVERSATION.items():
            if Room.objects.filter(slug=name).exists():
                continue
            room = services.room_create(name=name, created_by=users["alice"])
            for username, content in lines:
                services.message_create(
                    room=room, author=users[username], content=content
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: log in as alice or bob, password {DEMO_PASSWORD}"
            )
        )
