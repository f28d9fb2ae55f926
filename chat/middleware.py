"""The empty poll's hot path, ahead of the middleware it does not need.

Nearly every request a chat serves is a tab asking "anything new?" and being
told no. Measured under gunicorn (docs/benchmarks.md), Django's middleware
stack and the ORM cost several times what answering takes, so a poll that
carries its poller's signed grant (chat.polltoken) is answered here, first in
the stack: one HMAC check, one query (the session's row is alive and the room
has nothing new), a shared-cache read for the room's activity at most once a
second per room and process, and a 204 with the headers the rest of the stack
would add. A poll with something new (messages, or a change in who is here
or typing) goes down the stack with the checked grant as `request.poll_grant`,
and the view answers on its word, without reading the session or the user.
Anything else (an old, foreign or missing grant, another session's cookie or a
dead one, anything unusual in the query) goes down the whole stack to
chat.views.room_messages unchanged.
"""

import re
from collections.abc import Callable

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
        self._headers: dict[bool, dict] = {}
        self._redirect_to_https = False
        self._enabled = False

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
            # Checked and stored once; each 204 copies them (see _no_content).
            self._headers[secure] = dict(response.headers._store)
        self._redirect_to_https = settings.SECURE_SSL_REDIRECT
        # A session ends for the hot path when its database row goes.
        self._enabled = selectors.poll_query_available()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._path is None:
            self._setup()
        if (
            self._enabled
            and request.method == "GET"
            and (match := self._path.match(request.path_info))
        ):
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
        what the page shows and nothing new; None for the rest of the stack,
        with the checked grant on the request when there is something new."""
        if request.META.get("HTTP_HX_REQUEST") != "true":
            return None
        query = _plain_query(request.META.get("QUERY_STRING", ""))
        if query is None or "t" not in query:
            return None
        grant = polltoken.verify(query["t"], slug=slug)
        if grant is None:
            return None
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not session_key or polltoken.session_hash(session_key) != grant.session:
            return None
        # Beyond CHAT_POLL_RATE in this process, the full path counts the
        # poll across processes and answers 429 once the user is over it.
        if not ratelimit.allow_here(
            scope="poll", key=grant.user_id, rate=settings.CHAT_POLL_RATE
        ):
            return None
        try:
            after = cursor_value([query["after"]], "after")
        except (KeyError, CursorError):
            return None
        activity = presence.seen(
            room_id=grant.room_id, user_id=grant.user_id, username=grant.username
        )
        check = selectors.poll_check(
            room_id=grant.room_id, after=after, session_key=session_key
        )
        if not check.session_alive:
            return None
        changed = activity.version != query.get("v")
        if check.has_new or changed:
            # The view answers on the grant's word, without reading the
            # session or the user (chat.views.room_messages).
            request.poll_grant = polltoken.GrantedPoll(
                grant=grant,
                token=query["t"],
                after=after,
                activity=activity,
                activity_changed=changed,
            )
            return None
        return self._no_content(secure)

    def _no_content(self, secure: bool) -> HttpResponse:
        response = HttpResponse(status=204)
        # The headers were validated when _setup() built them; copying them
        # in costs far less than setting each one again.
        response.headers._store.update(self._headers[secure])
        return response


def _plain_query(query: str) -> dict[str, str] | None:
    """The query string as the poller writes it: each name once, nothing
    escaped (the grant, the cursor and the version are all URL-safe). None
    for anything else, which the full path parses properly: a QueryDict
    costs more than the rest of the hot path."""
    fields = {}
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name in fields or "%" in pair or "+" in pair:
            return None
        fields[name] = value
    return fields
