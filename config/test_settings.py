"""Test-only tweaks on top of the real settings."""

import os
import tempfile

from config.settings import *  # noqa: F403

# SQLite tests run on what production runs: a file in WAL mode, one
# connection per thread (config/settings.py sets the mode and busy timeout).
# Django's default test database, a shared-cache in-memory one, locks whole
# tables between connections and answers SQLITE_LOCKED at once, busy timeout
# or not: live_server's request threads each open their own connection to it
# (pytest-django hands them the test thread's only when the database is
# already in-memory as the server starts), so two tabs polling beside a write
# met "database table is locked". One file per process: runs side by side
# (several checkouts, CI) never share it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"chat-test-{os.getpid()}.db")
    }

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
