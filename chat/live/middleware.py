"""FastPollMiddleware: the empty poll, and the sidebar's unchanged refresh,
answered ahead of the stack they do not need (see chat/live/__init__.py for
the whole path)."""

import re
from collections.abc import Callable

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import reverse

from chat import presence, transient
from chat.forms import CursorError, cursor_value
from chat.live import grants, query, throttle


class FastPollMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._path: re.Pattern | None = None
        self._sidebar = ""
        self._headers: dict[tuple[str, bool], dict[str, str]] = {}
        self._redirect_to_https = False
        self._enabled = False

    def _setup(self) -> None:
        # Worked out once per process: the poll and sidebar URLs as the
        # URLconf spells them, and the headers the stack below would add to
        # a 204 of each, by asking those middlewares themselves, over plain
        # HTTP and over HTTPS.
        sample = reverse("chat:messages", kwargs={"slug": "slug-sample"})
        before, after = sample.split("slug-sample")
        self._path = re.compile(
            f"^{re.escape(before)}(?P<slug>[-a-zA-Z0-9_]+){re.escape(after)}$"
        )
        self._sidebar = reverse("chat:sidebar")
        stack = [
            XFrameOptionsMiddleware(lambda request: HttpResponse()),
            CSPMiddleware(lambda request: HttpResponse()),
            SecurityMiddleware(lambda request: HttpResponse()),
        ]
        for kind, path in (("poll", sample), ("sidebar", self._sidebar)):
            for secure in (False, True):
                probe = HttpRequest()
                probe.is_secure = lambda secure=secure: secure
                probe.path = probe.path_info = path
                response = HttpResponse(status=204, headers={"Vary": "HX-Request"})
                for middleware in stack:
                    response = middleware.process_response(probe, response)
                self._headers[kind, secure] = dict(response.items())
        self._redirect_to_https = settings.SECURE_SSL_REDIRECT
        # A session ends for the hot path when its database row goes.
        self._enabled = query.available()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._path is None:
            self._setup()
        if self._enabled and request.method == "GET":
            path = request.path_info
            sidebar = path == self._sidebar
            match = None if sidebar else self._path.match(path)
            secure = (sidebar or match is not None) and request.is_secure()
            # SecurityMiddleware, below, redirects plain HTTP when asked to.
            if (sidebar or match) and (secure or not self._redirect_to_https):
                if match:
                    response = self.empty_poll(request, match["slug"], secure=secure)
                else:
                    response = self.unchanged_sidebar(request, secure=secure)
                if response is not None:
                    return response
        return self.get_response(request)

    def unchanged_sidebar(
        self, request: HttpRequest, *, secure: bool
    ) -> HttpResponse | None:
        """204 when the sidebar's grant counts and the sidebar's version is
        still the page's (`v`): it would draw the same. None for the full
        path (chat.views.sidebar): a change, or a grant that no longer counts
        (logged out, deactivated: it answers as to anyone)."""
        if (
            request.META.get("HTTP_HX_REQUEST") != "true"
            or "HTTP_HX_BOOSTED" in request.META  # the view sends it elsewhere
        ):
            return None
        params = _plain_query(request.META.get("QUERY_STRING", ""))
        if params is None or "v" not in params:
            return None
        granted = _granted(request, params, slug=grants.SIDEBAR)
        if granted is None:
            return None
        grant, session_key = granted
        try:
            check = transient.retried(
                lambda: query.sidebar_check(
                    session_key=session_key, user_id=grant.user_id
                )
            )
        except OperationalError as error:
            if not transient.is_transient(error):
                raise
            return None  # the full path tries too, then answers busy
        if not check.counts or check.version != params["v"]:
            return None
        return HttpResponse(status=204, headers=self._headers["sidebar", secure])

    def empty_poll(
        self, request: HttpRequest, slug: str, *, secure: bool
    ) -> HttpResponse | None:
        """204 when the grant counts, the room's activity is what the page
        shows and nothing is new; None for the rest of the stack, with the
        checked grant on the request when there is something new."""
        if request.META.get("HTTP_HX_REQUEST") != "true":
            return None
        params = _plain_query(request.META.get("QUERY_STRING", ""))
        if params is None:
            return None
        granted = _granted(request, params, slug=slug)
        if granted is None:
            return None
        grant, session_key = granted
        # Beyond CHAT_POLL_RATE in this process, the full path counts the
        # poll across processes and answers 429 once the user is over it.
        if not throttle.allow_here(
            scope="poll", key=grant.user_id, rate=settings.CHAT_POLL_RATE
        ):
            return None
        try:
            after = cursor_value([params["after"]], "after")
            since = cursor_value([params["seq"]], "seq")
            start = cursor_value([params.get("start", "0")], "start")
        except (KeyError, CursorError):
            return None
        # `r`: the read receipts the page shows its viewer (only under their
        # own newest message; a page without it shows none).
        tracked = params.get("r")
        try:
            check = transient.retried(
                lambda: query.poll_check(
                    session_key=session_key,
                    user_id=grant.user_id,
                    room_id=grant.room_id,
                    membership_id=grant.membership_id,
                    receipts=tracked is not None,
                )
            )
        except OperationalError as error:
            if not transient.is_transient(error):
                raise
            return None  # the full path tries too, then answers busy
        if not check.counts or since > check.newest:
            # The full path answers (a cursor past the room's newest change
            # is refused there), and records nothing for this user.
            return None
        # Only now, with the grant known to count, is the user "here".
        activity = presence.seen(
            room_id=grant.room_id, user_id=grant.user_id, username=grant.username
        )
        changed = activity.version != params.get("v")
        # As the full path compares (selectors.Receipts.shown_to): a page
        # not its newest message's author's tracks none.
        receipts_changed = tracked is not None and tracked != str(check.readers)
        if check.has_new(since) or changed or receipts_changed:
            # chat.views.messages answers on the grant's word, without
            # reading the session or the user.
            request.poll_grant = grants.GrantedPoll(
                grant=grant,
                token=params["t"],
                after=after,
                since=since,
                start=start,
                newest=check.newest,
                activity=activity,
                activity_changed=changed,
                readers=None if tracked is None else check.readers,
                receipts_changed=receipts_changed,
            )
            return None
        return HttpResponse(status=204, headers=self._headers["poll", secure])


def _granted(
    request: HttpRequest, params: dict[str, str], *, slug: str
) -> tuple[grants.Grant, str] | None:
    """The request's grant (`t`) and session key, when the grant is genuine,
    young, for `slug`, and the request carries the cookie of the session it
    was issued to; whether it still counts is the query's to say."""
    if "t" not in params:
        return None
    grant = grants.verify(params["t"], slug=slug)
    if grant is None:
        return None
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key or grants.session_hash(session_key) != grant.session:
        return None
    return grant, session_key


def _plain_query(query_string: str) -> dict[str, str] | None:
    """The query string as the poller writes it: each name once, nothing
    escaped (the grant, the cursor and the version are all URL-safe). None
    for anything else, which the full path parses properly: a QueryDict
    costs more than the rest of the hot path."""
    fields = {}
    for pair in query_string.split("&"):
        name, _, value = pair.partition("=")
        if name in fields or "%" in pair or "+" in pair:
            return None
        fields[name] = value
    return fields
