"""Each user's own language and time zone, as requests carry them (the
middleware that applies them is accounts.middleware).

No query per request: the two values are kept in the session
(SESSION_KEY), read from the profile once at login and written again when
the settings are saved. A session without them (none from before these
settings existed can hold any) has the defaults; a request without a
session cookie reads nothing.

A poll that FastPollMiddleware hands down with a grant (request.poll_grant)
is answered without reading the session at all (chat/live/): for it, the
values come from a cookie (COOKIE_NAME) that every other response keeps
equal to the session's, so that messages arriving live show in the page's
language and time zone. The cookie only ever changes how its holder's own
pages are drawn, and its values are checked like the form's.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import Profile
from accounts.services import time_zone_names

SESSION_KEY = "accounts_preferences"  # [language, time zone], "" for unset
COOKIE_NAME = "chat_prefs"
COOKIE_MAX_AGE = 60 * 60 * 24 * 365


def remember(request: HttpRequest, profile: Profile) -> None:
    """Keep the profile's language and time zone in the session (after a
    save of the settings): the next request uses them."""
    request.session[SESSION_KEY] = [profile.language, profile.time_zone]


def _checked(language: str, time_zone: str) -> tuple[str, str]:
    if language not in {code for code, _name in settings.LANGUAGES}:
        language = ""
    if time_zone not in time_zone_names():
        time_zone = ""
    return language, time_zone


def from_session(request: HttpRequest) -> tuple[str, str]:
    session = getattr(request, "session", None)
    if session is None or session.session_key is None:
        return "", ""  # no session cookie: nothing to read, no query
    try:
        language, time_zone = session.get(SESSION_KEY) or ("", "")
    except (TypeError, ValueError):
        return "", ""
    return _checked(str(language), str(time_zone))


@receiver(user_logged_in)
def remember_at_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """The one read of the profile for a session (login saves the session
    anyway); a session without the key has the defaults."""
    if request is None or not hasattr(request, "session"):
        return
    row = (
        Profile.objects.filter(user_id=user.pk)
        .values_list("language", "time_zone")
        .first()
    )
    request.session[SESSION_KEY] = list(row or ("", ""))


def encode(language: str, time_zone: str) -> str:
    # Only characters a cookie carries unquoted ("/" is not one of them).
    return f"{language}|{time_zone.replace('/', ':')}"


def from_cookie(request: HttpRequest) -> tuple[str, str]:
    language, _sep, time_zone = request.COOKIES.get(COOKIE_NAME, "").partition("|")
    return _checked(language, time_zone.replace(":", "/"))


def cookie_secure() -> bool:
    return settings.SESSION_COOKIE_SECURE
