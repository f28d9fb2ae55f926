"""config.settings plus the unguarded write paths (see this package)."""

import os

from config.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.concurrency.unguarded"]  # noqa: F405
CHAT_TEST_GUARDS = os.environ.get("CHAT_TEST_GUARDS", "1") == "1"
CHAT_TEST_SEND_DELAY_MS = float(os.environ.get("CHAT_TEST_SEND_DELAY_MS", "3"))
if not CHAT_TEST_GUARDS and DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # SQLite's guard is its configuration: one writer at a time, taken up front.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "DEFERRED"  # noqa: F405
