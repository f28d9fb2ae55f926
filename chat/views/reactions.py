"""Reactions: a message's emoji, toggled one at a time."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap

from chat import selectors, services
from chat.context import viewer_room_context
from chat.decorators import login_required
from chat.types import HtmxHttpRequest
from chat.views.message import message_url, render_message
from chat.views.responses import bad_request, see_other, too_fast


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def reactions(request: HtmxHttpRequest, slug: str, message_id: int) -> HttpResponse:
    """GET: the message and the reactions to pick from (the page a reaction
    link opens without script). POST `emoji`: add it, or take it back if
    the viewer had (htmx: the message; otherwise 303 back to it)."""
    room = selectors.room_get(slug=slug, user=request.user)
    message = selectors.message_get(room=room, message_id=message_id)
    if request.method != "POST":  # GET or HEAD
        # No page of forms the service would refuse (a tombstone, a notice).
        refusal = selectors.reaction_refusal(message=message)
        if refusal:
            raise PermissionDenied(refusal)
        context = viewer_room_context(request, room, message=message)
        return render(request, "chat/message_react.html", context)
    if (slow := too_fast(request)) is not None:
        return slow
    try:
        services.reaction_toggle(
            message=message, user=request.user, emoji=request.POST.get("emoji", "")
        )
    except ValidationError as error:
        response = bad_request(" ".join(error.messages))
        # htmx swaps a 400 into the target: the message would become this
        # text. The picker offers only good emoji; the message stays.
        return reswap(response, "none") if request.htmx else response
    if request.htmx:
        return render_message(request, room, message)
    return see_other(message_url(room, message))
