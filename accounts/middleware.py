"""PreferencesMiddleware: applies each user's own language and time zone
(accounts.preferences says where they come from without a query per
request). After AuthenticationMiddleware, and so after LocaleMiddleware:
a profile's language overrides Accept-Language, and LocaleMiddleware's
Content-Language then names the one used."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from accounts import preferences
from accounts.preferences import COOKIE_NAME, from_cookie, from_session


class PreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        granted_poll = getattr(request, "poll_grant", None) is not None
        if granted_poll:
            language, time_zone = from_cookie(request)
        else:
            language, time_zone = from_session(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        # Always set or reset: the active zone is per thread, and a thread
        # serves one user after another.
        if time_zone:
            timezone.activate(zoneinfo.ZoneInfo(time_zone))
        else:
            timezone.deactivate()
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        if language or time_zone:
            patch_vary_headers(response, ("Cookie",))
        if not granted_poll:
            # Read again: the view may have saved new settings, logged in
            # or out (the session, if any, is in memory by now: no query).
            self._keep_cookie(request, response, *from_session(request))
        return response

    def _keep_cookie(
        self,
        request: HttpRequest,
        response: HttpResponse,
        language: str,
        time_zone: str,
    ) -> None:
        """The cookie says what the session says (or is not there)."""
        held = request.COOKIES.get(COOKIE_NAME)
        if language or time_zone:
            wanted = preferences.encode(language, time_zone)
            if held != wanted:
                response.set_cookie(
                    COOKIE_NAME,
                    wanted,
                    max_age=preferences.COOKIE_MAX_AGE,
                    secure=preferences.cookie_secure(),
                    httponly=True,
                    samesite="Lax",
                )
        elif held is not None:
            response.delete_cookie(COOKIE_NAME, samesite="Lax")
