"""Searching the messages one may see (chat.search): the page, and the
results alone for htmx (the search form, "Older results")."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from chat import ratelimit, selectors
from chat import search as engine
from chat.decorators import login_required
from chat.forms import CursorError, parse_cursor
from chat.types import HtmxHttpRequest

RESULTS_PER_PAGE = 20
SEARCHING_TOO_FAST = _("You are searching too fast. Wait a moment, then search again.")


@vary_on_headers("HX-Request")
@require_safe
@login_required
def search(request: HtmxHttpRequest) -> HttpResponse:
    """`q`: what to find; `room`: a room's slug, to search it alone (404
    for a room one cannot see, as everywhere); `before`: the message id the
    results continue below ("Older results"). No `q`: the empty form. A
    malformed query or cursor: 400 with the reason, in place of the results.
    A search is a read: it counts against CHAT_POLL_RATE, as the API's does
    (429 with the reason, in place of the results, past it)."""
    query = request.GET.get("q", "").strip()
    slug = request.GET.get("room", "")
    scope = selectors.room_get(slug=slug, user=request.user) if slug else None
    found, before, error, status = None, None, None, 200
    rate = settings.CHAT_POLL_RATE
    try:
        before = parse_cursor(request.GET, "before")
        if query:
            engine.parse_query(query)  # what was sent (400) before how fast (429)
            if ratelimit.allow(scope="poll", key=request.user.pk, rate=rate):
                found = engine.message_search(
                    user=request.user,
                    query=query,
                    room=scope,
                    before=before,
                    limit=RESULTS_PER_PAGE,
                )
            else:
                error, status = str(SEARCHING_TOO_FAST), 429
    except CursorError as refusal:
        error, status = str(refusal), 400
    except ValidationError as refusal:
        error, status = " ".join(refusal.messages), 400
    context = {
        "search_query": query,
        "scope": scope,
        "found": found,
        "search_error": error,
        "before": before,
    }
    # The form and "Older results" swap the results alone; a boosted form
    # (the header's) or a history restore wants the whole page.
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        template = "chat/partials/search_results.html"
    else:
        template = "chat/search.html"
    response = render(request, template, context, status=status)
    if status == 429:
        response["Retry-After"] = str(ratelimit.retry_after(rate))
    return response
