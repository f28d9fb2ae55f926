from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from chat import selectors, services
from chat.decorators import login_required
from chat.types import HtmxHttpRequest
from chat.views.responses import bad_request, see_other


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def direct_message(request: HtmxHttpRequest, username: str) -> HttpResponse:
    """GET reads: the conversation if it exists, else a page with a button
    that starts it. POST starts it (once per pair) and goes there."""
    if "\x00" in username:  # PostgreSQL cannot even compare NUL: no such user
        raise Http404("No such user.")
    other = get_object_or_404(get_user_model(), username=username)
    if request.method == "POST":
        try:
            room = services.direct_room_get_or_create(user=request.user, other=other)
        except ValidationError as error:
            return bad_request(error.messages[0])
        return see_other(room)
    room = selectors.direct_room_find(user=request.user, other=other)
    if room is not None:
        return redirect(room)
    refusal = selectors.direct_refusal(user=request.user, other=other)
    if refusal:
        return bad_request(refusal)
    return render(request, "chat/direct.html", {"other": other})
