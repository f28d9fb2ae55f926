"""Settings for the chat project, grouped by concern.

Every value that differs between a laptop and a deployment comes from the
environment, with a default that is safe for local development.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


# --- Core ---

DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A guessable key would let anyone forge sessions and signed data.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off. "
            'Generate one with: python -c "import secrets; '
            'print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = "django-insecure-local-development-only-key-do-not-deploy"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications and middleware ---

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_htmx",
    "tailwind",
    "theme",
    "pattern_library",
    "accounts",
    "chat",
]

MIDDLEWARE = [
    # First: empty polls with a valid grant end here, with a 204 and the
    # headers the rest would add (chat/live/).
    "chat.live.middleware.FastPollMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's Accept-Language picks English or Spanish.
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the query or the body; after the language, for
    # its message (config/middleware.py).
    "config.middleware.Utf8OnlyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The user's own language and time zone, from the session (or, for a
    # poll answered on its grant, a cookie): no query per request.
    "accounts.middleware.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

TAILWIND_APP_NAME = "theme"

# --- Designer tools (development only) ---

# The pattern library (/pattern-library/) shows every partial and page with
# sample data from the YAML file beside it; served only when this is on.
PATTERN_LIBRARY_ENABLED = env_bool("DJANGO_PATTERN_LIBRARY", DEBUG)
PATTERN_LIBRARY = {
    "SECTIONS": (
        ("partials", ["chat/partials", "accounts/partials"]),
        ("states", ["patterns/states"]),
        ("pages", ["patterns/pages"]),
    ),
    "TEMPLATE_SUFFIX": ".html",
    "PATTERN_BASE_TEMPLATE_NAME": "patterns/base.html",
    # Pages are shown whole, not wrapped (patterns/pages/ extends these).
    "BASE_TEMPLATE_NAMES": [
        "base.html",
        "chat/room.html",
        "chat/room_list.html",
        "accounts/login.html",
        "accounts/signup.html",
        "accounts/locked_out.html",
        "landing.html",
    ],
}
# `make dev` refreshes the open page when a template, class or file changes.
BROWSER_RELOAD = DEBUG and env_bool("DJANGO_BROWSER_RELOAD", False)
if BROWSER_RELOAD:
    INSTALLED_APPS.append("django_browser_reload")
    MIDDLEWARE.append("django_browser_reload.middleware.BrowserReloadMiddleware")

# --- Security ---

# Nothing inline, nothing evaluated: the only script is our static htmx file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

# Behind TLS (DJANGO_SECURE=1): cookies only over HTTPS, HSTS, redirect plain
# HTTP, and trust the proxy's X-Forwarded-Proto. Off for http://127.0.0.1.
SECURE = env_bool("DJANGO_SECURE", False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = (
    int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000")) if SECURE else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
if SECURE:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# --- Templates ---

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # One top-level folder, so designers find every template in one place.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# The send path stays ordered with or without it (see chat.services).
DATABASES["default"]["ATOMIC_REQUESTS"] = env_bool("DJANGO_ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers write to one file: WAL lets readers run beside
    # the writer, IMMEDIATE takes the write lock up front (no lock upgrades
    # that fail with "database is locked"), and the timeout makes writers wait.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;"
        ),
    }

# --- Cache and sessions ---

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Shared by every process and node: sessions, rate limits, presence.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # One machine: gunicorn's workers are separate processes, so the cache
    # that rate limits, presence and poll grants share must be outside them.
    # Files in one directory are that, with no server to run; sessions stay in
    # the database.
    CACHES = {
        "default": {
            "BACKEND": "chat.cache.FileCache",
            "LOCATION": os.environ.get("DJANGO_CACHE_DIR", str(BASE_DIR / ".cache")),
            # Culling lists the directory and drops a third of it at random,
            # live rate-limit counts included: keep it rare.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Rendered messages ({% cache %} in chat/partials/message.html uses this
# alias). Each process keeps its own copies in memory: a poll that delivers
# then reads no file and makes no network round trip per message, and a
# message is drawn once per look and language in each process. The key holds
# what the rendering depends on, the partials' own source included
# (chat_tags.partials_version), so neither an edited message nor a deployed
# template change serves old markup. In DEBUG the cache is off: templates
# change under the running process there (make dev, the pattern library).
FRAGMENT_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "chat-fragments",
    "OPTIONS": {"MAX_ENTRIES": 5_000},
}
CACHES["template_fragments"] = (
    {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    if DEBUG
    else FRAGMENT_CACHE
)

# --- Authentication ---

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses logins for a username at an address
    # locked out after repeated failures.
    "axes.backends.AxesStandaloneBackend",
    # Then an address with too many failures across usernames
    # (accounts/throttle.py).
    "accounts.throttle.AddressThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
# The pair only: locking a username alone would let anyone lock anyone out,
# and locking an address alone would lock out an office behind one address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Failed logins from one address, across usernames, before that address is
# refused for the period (shared cache; "0" turns it off). Successes never
# count.
ACCOUNTS_LOGIN_ADDRESS_RATE = os.environ.get("ACCOUNTS_LOGIN_ADDRESS_RATE", "30/15m")
# The client's address is REMOTE_ADDR. Behind a reverse proxy, name the
# header it sets (e.g. HTTP_X_FORWARDED_FOR) and how many proxies append to
# it; unset, the header is ignored, since any client can send one.
CLIENT_IP_HEADER = os.environ.get("DJANGO_CLIENT_IP_HEADER", "").strip()
CLIENT_IP_PROXY_COUNT = int(os.environ.get("DJANGO_CLIENT_IP_PROXY_COUNT", "1"))
if CLIENT_IP_HEADER and CLIENT_IP_PROXY_COUNT < 1:
    raise ImproperlyConfigured("DJANGO_CLIENT_IP_PROXY_COUNT must be 1 or more.")
# django-axes asks the same function as the throttle (not django-ipware).
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/rooms/"
LOGOUT_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Uploaded files (avatars, attachments) ---

# Served by accounts.views.avatar (logged-in users only) and
# chat.views.files (those who may read the room), never as plain files:
# MEDIA_URL is Django's default and nothing maps it.
MEDIA_ROOT = os.environ.get("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media"))
MEDIA_URL = "media/"
# An avatar upload larger than this many bytes is refused before it is read.
ACCOUNTS_AVATAR_MAX_BYTES = int(
    os.environ.get("ACCOUNTS_AVATAR_MAX_BYTES", str(2 * 1024 * 1024))
)
# An image of more pixels than this is refused before it is decoded (a small
# file can claim to be a huge picture: a decompression bomb).
ACCOUNTS_AVATAR_MAX_PIXELS = int(
    os.environ.get("ACCOUNTS_AVATAR_MAX_PIXELS", str(40_000_000))
)
# An animation of more frames than this is refused, counted before anything
# is decoded (an avatar is its first frame alone).
ACCOUNTS_AVATAR_MAX_FRAMES = int(os.environ.get("ACCOUNTS_AVATAR_MAX_FRAMES", "500"))

# --- Attachments (chat/attachments.py) ---

# Files sent with a message: at most this many bytes each, this many per
# message. Their type is read from their content: images (PNG, JPEG, GIF,
# WebP) are shown inline as thumbnails; PDF, ZIP (office documents too),
# gzip and UTF-8 text are offered as downloads; anything else is refused.
# Served by chat.views.files to those who may read the room, never as plain
# files.
CHAT_UPLOAD_MAX_BYTES = int(
    os.environ.get("CHAT_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024))
)
CHAT_UPLOAD_MAX_FILES = int(os.environ.get("CHAT_UPLOAD_MAX_FILES", "10"))
# An image of more pixels than this is refused before it is decoded (a
# decompression bomb: a small file claiming to be a huge picture).
CHAT_UPLOAD_MAX_PIXELS = int(os.environ.get("CHAT_UPLOAD_MAX_PIXELS", str(40_000_000)))
# An animation of more frames than this is refused before any is decoded
# (a GIF of tiny frames packs 435,000 in 10 MB); all its frames together
# are held to CHAT_UPLOAD_MAX_PIXELS as well.
CHAT_UPLOAD_MAX_FRAMES = int(os.environ.get("CHAT_UPLOAD_MAX_FRAMES", "500"))
# The inline picture: at most this wide and high, the ratio kept.
CHAT_THUMBNAIL_SIZE = (1200, 800)

# --- Chat ---

CHAT_PAGE_SIZE = 25  # messages on the room page and per "Load older"
CHAT_POLL_LIMIT = 100  # messages at most in one poll response
CHAT_MAX_LENGTH = 4000  # characters in one message
# Seconds after sending during which a message may be edited; unset: always.
CHAT_EDIT_WINDOW = (
    int(os.environ["CHAT_EDIT_WINDOW"]) if os.environ.get("CHAT_EDIT_WINDOW") else None
)
# Per user, shared across processes through the cache; "0" turns one off.
CHAT_SEND_RATE = os.environ.get("CHAT_SEND_RATE", "10/10s")
CHAT_POLL_RATE = os.environ.get("CHAT_POLL_RATE", "5/s")
# The poller's signed grant (chat.live.grants) lets polls skip the session and
# user reads. A logout or an expired session ends it at the next poll; each
# grant counts for between a quarter and half of this many seconds, which
# bounds what it does not re-read (see SECURITY.md).
CHAT_POLL_TOKEN_MAX_AGE = int(os.environ.get("CHAT_POLL_TOKEN_MAX_AGE", "60"))
# Test-only: a random delay (ms) per request so that sends and polls overlap
# in the browser tests. Never set in production.
CHAT_TEST_LATENCY_MS = int(os.environ.get("CHAT_TEST_LATENCY_MS", "0"))

# --- Logging ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
    },
}
