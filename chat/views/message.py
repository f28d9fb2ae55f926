"""One message: its permalink, editing it, deleting it.

Each control in the message partial is a link that works without script
(a page with the form, then a 303 back to the message); htmx does the same
in place and swaps the message. Who may do what is the services' rule: 404
for a room one cannot see, 403 with the reason otherwise.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from chat import selectors, services
from chat.context import viewer_room_context
from chat.decorators import login_required
from chat.forms import CursorError, MessageEditForm, parse_cursor
from chat.models import Message, Room
from chat.types import HtmxHttpRequest
from chat.views.responses import see_other, too_fast


def message_url(room: Room, message: Message) -> str:
    """Where a plain POST sends the browser back to: the message in its room."""
    url = reverse("chat:message", args=[room.slug, message.pk])
    return f"{url}#message-{message.pk}"


def render_message(request: HtmxHttpRequest, room: Room, message: Message, **kw):
    """The message partial for the viewer, as it is now, as htmx swaps it in
    place; with its header when it is the page's first (`start`, which the
    controls and the editor's Save send from #load-older), as the page drew
    it."""
    message = selectors.message_get(room=room, message_id=message.pk)
    context = viewer_room_context(
        request, room, message=message, lone=True, page_start=page_start(request)
    )
    return render(request, "chat/partials/message.html", context, **kw)


def page_start(request: HtmxHttpRequest) -> int | None:
    """The first message id of the page a control was used on. Only a hint
    for drawing (the change is made by then), so a malformed one is none."""
    params = request.POST if request.method == "POST" else request.GET
    try:
        return parse_cursor(params, "start")
    except CursorError:
        return None


@vary_on_headers("HX-Request")
@require_safe
@login_required
def message_detail(request: HtmxHttpRequest, slug: str, message_id: int):
    """A message's permalink: the room around it (a fragment of the message
    alone for htmx). A redirect rather than the page itself: one URL renders
    the room, and the Location's #message-<id> scrolls to the message even
    when the link lacked it. Tombstones stay linkable."""
    room = selectors.room_get(slug=slug, user=request.user)
    message = selectors.message_get(room=room, message_id=message_id)
    if request.htmx:
        return render_message(request, room, message)
    url = room.get_absolute_url()
    return redirect(f"{url}?around={message.pk}#message-{message.pk}")


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def message_edit(request: HtmxHttpRequest, slug: str, message_id: int):
    """GET: the edit form (htmx: inline, in the message; otherwise a page).
    POST: save it (htmx: the message; otherwise 303 back to it)."""
    room = selectors.room_get(slug=slug, user=request.user)
    message = selectors.message_get(room=room, message_id=message_id)
    refusal = selectors.message_edit_refusal(message=message, user=request.user)
    if refusal:
        raise PermissionDenied(refusal)
    # Bound on every POST, even an empty one: `request.POST or None` would
    # leave a POST without fields unbound, a 400 with no error to show.
    data = request.POST if request.method == "POST" else None
    form = MessageEditForm(data, initial={"content": message.content})
    status = 200
    if request.method == "POST":
        if (slow := too_fast(request)) is not None:
            return slow
        if form.is_valid():
            try:
                services.message_edit(
                    message=message,
                    editor=request.user,
                    content=form.cleaned_data["content"],
                )
            except ValidationError as error:
                form.add_error("content", error)
            else:
                if request.htmx:
                    return render_message(request, room, message)
                return see_other(message_url(room, message))
        status = 400
    context = viewer_room_context(request, room, message=message, form=form)
    if request.htmx:
        response = render(
            request, "chat/partials/edit_form.html", context, status=status
        )
        # A refused edit shows its error in the open editor, not in the
        # message's place (the save's own target).
        return reswap(retarget(response, f"#editor-{message.pk}"), "innerHTML")
    return render(request, "chat/message_edit.html", context, status=status)


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def message_delete(request: HtmxHttpRequest, slug: str, message_id: int):
    """GET: a page asking to confirm (no script). POST: delete (htmx: the
    tombstone; otherwise 303 back to it)."""
    room = selectors.room_get(slug=slug, user=request.user)
    message = selectors.message_get(room=room, message_id=message_id)
    if request.method == "POST":
        if (slow := too_fast(request)) is not None:
            return slow
        services.message_delete(message=message, deleter=request.user)
        if request.htmx:
            return render_message(request, room, message)
        return see_other(message_url(room, message))
    refusal = selectors.message_delete_refusal(message=message, user=request.user)
    if refusal:
        raise PermissionDenied(refusal)
    context = viewer_room_context(request, room, message=message)
    return render(request, "chat/message_delete.html", context)
