"""Test-only middleware: a random delay of up to CHAT_TEST_LATENCY_MS per chat
request, so that sends and polls really overlap in the browser race test."""

import random
import time

from django.conf import settings


class LatencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.CHAT_TEST_LATENCY_MS
        if limit and request.path.startswith("/rooms/"):
            time.sleep(random.uniform(0, limit) / 1000)
        return self.get_response(request)
