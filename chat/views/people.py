from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from chat import selectors
from chat.decorators import login_required
from chat.types import HtmxHttpRequest

PEOPLE_PER_PAGE = 50


@vary_on_headers("HX-Request")
@require_safe
@login_required
def people(request: HtmxHttpRequest) -> HttpResponse:
    """Everyone one could message, searchable by username (`q`), a page at a
    time (`page`: a number past the end shows the last page, anything else
    the first). Each row links to the conversation, or starts it with a
    POST to chat:dm: opening this page creates nothing."""
    query = request.GET.get("q", "").strip()
    found = selectors.people_find(viewer=request.user, query=query)
    page = Paginator(found, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "people": page.object_list, "query": query}
    # The search box and the page links swap only the list; a boosted link or
    # a history restore wants the whole page.
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return render(request, "chat/partials/people_list.html", context)
    return render(request, "chat/people.html", context)
