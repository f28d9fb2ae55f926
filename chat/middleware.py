"""The empty poll's hot path, ahead of the middleware it does not need.

Nearly every request a chat serves is a tab asking "anything new?" and being
told no. Measured under gunicorn (docs/benchmarks.md), Django's middleware
stack and the ORM cost several times what answering takes, so a poll that
carries its poller's signed grant (chat.polltoken) is answered here, first in
the stack: one HMAC check, a shared-cache read for the session mark (and, at
most once a second per room and process, for the room's activity), one indexed
existence query, and a 204 with the headers the rest of the stack would add.
Anything else (new messages, changed activity, an old, foreign or missing
grant) goes down the whole stack to chat.views.room_messages unchanged.
"""

import re
from collections.abc import Callable
from urllib.parse import parse_qs

from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.security import SecurityMiddleware
from django.urls import reverse

from chat import polltoken, presence, ratelimit, selectors
from chat.forms import CursorError, cursor_value


class FastPollMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._path: re.Pattern | None = None
        self._headers: dict[bool, dict[str, str]] = {}
        self._redirect_to_https = False

    def _setup(self) -> None:
        # Worked out once per process: the poll URL as the URLconf spells it,
        # and the headers the stack below would add to a 204 (security,
        # policy, framing, cache keys), over plain HTTP and over HTTPS.
        sample = reverse("chat:messages", kwargs={"slug": "slug-sample"})
        before, after = sample.split("slug-sample")
        self._path = re.compile(
            f"^{re.escape(before)}(?P<slug>[-a-zA-Z0-9_]+){re.escape(after)}$"
        )
        security = SecurityMiddleware(lambda request: HttpResponse())
        for secure in (False, True):
            probe = HttpRequest()
            probe.is_secure = lambda secure=secure: secure
            response = HttpResponse(
                status=204,
                headers={
                    "Content-Security-Policy": build_policy(),
                    "X-Frame-Options": "DENY",
                    "Vary": "HX-Request",
                },
            )
            security.process_response(probe, response)
            self._headers[secure] = dict(response.headers.items())
        self._redirect_to_https = settings.SECURE_SSL_REDIRECT

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._path is None:
            self._setup()
        if request.method == "GET" and (match := self._path.match(request.path_info)):
            secure = request.is_secure()
            # SecurityMiddleware, below, redirects plain HTTP when asked to.
            if secure or not self._redirect_to_https:
                response = self.empty_poll(request, match["slug"], secure=secure)
                if response is not None:
                    return response
        return self.get_response(request)

    def empty_poll(
        self, request: HttpRequest, slug: str, *, secure: bool
    ) -> HttpResponse | None:
        """204 when the grant is fresh, its session alive, the room's activity
        what the page shows and nothing new; None for the full path."""
        if request.META.get("HTTP_HX_REQUEST") != "true":
            return None
        # The query string as a plain dict: a QueryDict costs more than the
        # rest of the check. Anything unusual is left to the full path.
        query = parse_qs(request.META.get("QUERY_STRING", ""))
        token = query.get("t")
        if not token or len(token) != 1:
            return None
        grant = polltoken.verify(token[0], slug=slug)
        if grant is None or not polltoken.session_alive(grant):
            return None
        # Beyond CHAT_POLL_RATE in this process, the full path counts the
        # poll across processes and answers 429 once the user is over it.
        if not ratelimit.allow_here(
            scope="poll", key=grant.user_id, rate=settings.CHAT_POLL_RATE
        ):
            return None
        try:
            after = cursor_value(query.get("after", []), "after")
        except CursorError:
            return None
        if after is None:
            return None
        activity = presence.seen(
            room_id=grant.room_id, user_id=grant.user_id, username=grant.username
        )
        if [activity.version] != query.get("v"):
            return None
        if selectors.room_has_messages_after(room_id=grant.room_id, after=after):
            return None
        return HttpResponse(status=204, headers=self._headers[secure])
