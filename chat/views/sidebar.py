from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from chat import selectors
from chat.decorators import login_required
from chat.types import HtmxHttpRequest


@vary_on_headers("HX-Request")
@require_GET
@login_required
def sidebar(request: HtmxHttpRequest) -> HttpResponse:
    """The sidebar refreshing itself: 204 while its version (in the URL it
    polls) is still the one the selectors give, else the sidebar drawn
    again. Without htmx, the room list, which is the sidebar's own page."""
    if not request.htmx or request.htmx.boosted:
        return redirect("chat:room_list")
    if request.GET.get("v") == selectors.sidebar_version(user=request.user):
        return HttpResponse(status=204)
    context = {
        "sidebar": selectors.sidebar(user=request.user),
        "current_slug": request.GET.get("room", "")[:100],
    }
    return render(request, "chat/partials/sidebar.html", context)
