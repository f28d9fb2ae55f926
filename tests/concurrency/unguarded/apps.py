import random
import time

from django.apps import AppConfig
from django.conf import settings


class UnguardedConfig(AppConfig):
    name = "tests.concurrency.unguarded"
    label = "unguarded"

    def ready(self) -> None:
        from chat import services
        from chat.models import Message

        guarded = services._message_insert
        delay_ms = settings.CHAT_TEST_SEND_DELAY_MS

        def insert(**fields) -> Message:
            if settings.CHAT_TEST_GUARDS:
                message = guarded(**fields)
            else:
                message = Message.objects.create(**fields)  # no room lock
            # More work in the same transaction after the insert (rendering,
            # other writes), which keeps its id uncommitted for a while.
            time.sleep(random.uniform(0, delay_ms) / 1000)
            return message

        services._message_insert = insert
