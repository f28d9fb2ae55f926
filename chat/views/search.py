"""Searching the messages one may see (chat.search): the page, and the
results alone for htmx (the search form, "Older results")."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from chat import search as engine
from chat import selectors
from chat.decorators import login_required
from chat.forms import CursorError, parse_cursor
from chat.types import HtmxHttpRequest

RESULTS_PER_PAGE = 20


@vary_on_headers("HX-Request")
@require_GET
@login_required
def search(request: HtmxHttpRequest) -> HttpResponse:
    """`q`: what to find; `room`: a room's slug, to search it alone (404
    for a room one cannot see, as everywhere); `before`: the message id the
    results continue below ("Older results"). No `q`: the empty form. A
    malformed query or cursor: 400 with the reason, in place of the results."""
    query = request.GET.get("q", "").strip()
    slug = request.GET.get("room", "")
    scope = selectors.room_get(slug=slug, user=request.user) if slug else None
    found, before, error, status = None, None, None, 200
    try:
        before = parse_cursor(request.GET, "before")
        if query:
            found = engine.message_search(
                user=request.user,
                query=query,
                room=scope,
                before=before,
                limit=RESULTS_PER_PAGE,
            )
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
        return render(
            request, "chat/partials/search_results.html", context, status=status
        )
    return render(request, "chat/search.html", context, status=status)
