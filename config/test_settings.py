"""Test-only tweaks on top of the real settings."""

from config.settings import *  # noqa: F403

# whitenoise's manifest storage needs collectstatic; tests serve files as-is.
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Hashing passwords is deliberately slow; tests need no such protection.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the apps' folders, no collectstatic needed.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# One process: a memory cache unless Redis is given; tests/conftest.py clears
# it between tests.
if not REDIS_URL:  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered messages: the alias production uses, whatever DEBUG was on import.
CACHES["template_fragments"] = FRAGMENT_CACHE  # noqa: F405

# Rate limits off, as load and race tests need; tests/chat/test_ratelimit.py
# turns them on with the defaults.
CHAT_SEND_RATE = "0"
CHAT_POLL_RATE = "0"

# A throwaway model for the {% chat_room_for obj %} tests.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405

# The pattern library is rendered by tests/patterns (a broken partial fails CI).
PATTERN_LIBRARY_ENABLED = True

# Read per request: the browser race test turns it on (tests/latency.py).
MIDDLEWARE = [*MIDDLEWARE, "tests.latency.LatencyMiddleware"]  # noqa: F405
CHAT_TEST_LATENCY_MS = 0
