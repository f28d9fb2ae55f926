"""Test-only: the write paths without their ordering guarantee, to show that
the concurrency tests catch its absence (tests/concurrency/test_delivery.py
and test_changes.py).

Never installed by config.settings; only by tests.concurrency.unguarded.settings.
"""

import random
import threading
import time

from django.apps import AppConfig
from django.conf import settings


class UnguardedConfig(AppConfig):
    name = "tests.concurrency.unguarded"
    label = "unguarded"

    def ready(self) -> None:
        from chat import services
        from chat.models import Room

        guarded_take_seq = services._take_seq
        delay_ms = settings.CHAT_TEST_SEND_DELAY_MS
        taken = threading.local()  # (room id, number) this thread's write took

        def take_seq(room_id: int) -> int:
            if settings.CHAT_TEST_GUARDS:
                return guarded_take_seq(room_id)
            # The naive counter: read the room's number, add one, and write
            # it back once the change is made. Nothing is locked in between,
            # so two writers can take the same number, and commit in any order.
            seq = Room.objects.filter(pk=room_id).values_list("seq", flat=True).get()
            taken.pending = (room_id, seq + 1)
            return seq + 1

        def slowed(write):
            def slowed_write(*args, **kwargs):
                result = write(*args, **kwargs)
                # More work in the same transaction after the write (rendering,
                # other writes), which keeps it uncommitted for a while.
                time.sleep(random.uniform(0, delay_ms) / 1000)
                pending, taken.pending = getattr(taken, "pending", None), None
                if pending is not None:
                    room_id, seq = pending
                    Room.objects.filter(pk=room_id).update(seq=seq)
                return result

            return slowed_write

        # Module attributes: the services call each other through them.
        services._take_seq = take_seq
        services._message_insert = slowed(services._message_insert)
        services._message_change = slowed(services._message_change)
        services.reaction_toggle = slowed(services.reaction_toggle)
