from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from chat import selectors
from chat.context import sidebar_context, sidebar_grant, title_from_param
from chat.decorators import login_required
from chat.live import grants
from chat.transient import reads_survive_locks
from chat.types import HtmxHttpRequest


@vary_on_headers("HX-Request")
@require_safe
@reads_survive_locks
@login_required
def sidebar(request: HtmxHttpRequest) -> HttpResponse:
    """The sidebar refreshing itself: 204 while its version (`v`, in the URL
    it polls) is still the one the selectors give, else the sidebar drawn
    again, with the tab's new title beside it (a top-level <title>, which
    htmx puts in the tab) when it carries the page's own (`title`). Without
    htmx, the room list, which is the sidebar's own page.

    A refresh whose grant (`t`, from #sidebar-grant) counts and whose
    version is unchanged never gets here: chat.live answers it. Here come
    the changed ones, and those whose grant has aged or is not this
    session's: unchanged, they get a new grant in the old one's place,
    not the sidebar drawn again."""
    if not request.htmx or request.htmx.boosted:
        return redirect("chat:room_list")
    if request.GET.get("v") == selectors.sidebar_version(user=request.user):
        token = request.GET.get("t")
        if token is None or grants.holds(
            token,
            slug=grants.SIDEBAR,
            user_id=request.user.pk,
            session_key=request.session.session_key,
        ):
            return HttpResponse(status=204)
        response = render(
            request,
            "chat/partials/sidebar_grant.html",
            {"sidebar_grant": sidebar_grant(request)},
        )
        return reswap(retarget(response, "#sidebar-grant"), "outerHTML")
    context = sidebar_context(
        request,
        current_slug=request.GET.get("room", "")[:100],
        title=title_from_param(request.GET.get("title")),
        refresh=True,
    )
    return render(request, "chat/partials/sidebar.html", context)
