from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from chat import selectors
from chat.decorators import login_required
from chat.types import HtmxHttpRequest

MENTIONS_PER_PAGE = 50


@vary_on_headers("HX-Request")
@require_safe
@login_required
def mentions(request: HtmxHttpRequest) -> HttpResponse:
    """Messages that mention me, across the rooms I may see, newest first,
    a page at a time (`page`, as on the people page); the unread ones
    marked. Each links to its permalink: the room around the message."""
    found = selectors.mentions_of(user=request.user)
    page = Paginator(found, MENTIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "mention_list": page.object_list}
    # The page links swap only the list; a boosted link or a history
    # restore wants the whole page.
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render(request, "chat/partials/mention_list.html", context)
    return render(request, "chat/mentions.html", context)
