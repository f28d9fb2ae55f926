"""The message log's one URL: GET polls (`after`) or pages back (`before`),
POST sends.

A poll that carries its poller's grant (chat/live/) is met by
FastPollMiddleware before the session or the user is read: with nothing new
it never gets here; with something new it arrives as request.poll_grant and
is delivered on the grant's word, its revocation checked by the same
request's query, the batch shared with every poll at the same cursor. Every
other request takes the full path. Both deliver through the same service and
render the same partials.
"""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from chat import presence, ratelimit, selectors, services
from chat.context import live_room_context, room_context, viewer_room_context
from chat.decorators import login_required
from chat.forms import CursorError, MessageForm, parse_cursor
from chat.live import batches
from chat.live.grants import GrantedPoll
from chat.models import Message, Room
from chat.types import HtmxHttpRequest
from chat.views.responses import bad_request, see_other
from chat.views.rooms import render_room


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def room_messages(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    granted: GrantedPoll | None = getattr(request, "poll_grant", None)
    if granted is not None:
        # The middleware's query has just found the grant still good (its
        # session, its user active, its membership there): the rule it was
        # issued under holds. The room and the messages are shared by every
        # poll of this room at this cursor (chat.live.batches).
        room, batch = batches.shared(
            room_id=granted.grant.room_id,
            after=granted.after,
            newest=granted.newest,
        )
        if room is not None:  # not deleted meanwhile
            return _granted_poll(request, room, granted, batch)
    return _room_messages(request, slug)


@login_required
def _room_messages(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    room = selectors.room_get(slug=slug, user=request.user)
    params = request.POST if request.method == "POST" else request.GET
    try:
        after = parse_cursor(params, "after")
        before = parse_cursor(request.GET, "before")
    except CursorError as error:
        return bad_request(str(error))
    if request.method == "POST":
        return _message_send(request, room, after=after)
    if after is not None and before is not None:
        return bad_request(_("Give either 'after' or 'before', not both."))
    if not request.htmx:
        # Fragments are for htmx; a plain browser gets the page they belong to.
        url = room.get_absolute_url()
        return redirect(f"{url}?before={before}" if before is not None else url)
    if before is not None:
        page = selectors.messages_before(room=room, before=before)
        context = viewer_room_context(
            request, room, page=page, message_list=page.messages
        )
        return render(request, "chat/partials/history.html", context)
    if after is None:
        return bad_request(_("Give 'after' (poll) or 'before' (history)."))
    return _poll(request, room, after=after)


def _poll(request: HtmxHttpRequest, room: Room, *, after: int) -> HttpResponse:
    rate = settings.CHAT_POLL_RATE
    if not ratelimit.allow(scope="poll", key=request.user.pk, rate=rate):
        # The body is the same poller: htmx swaps it in and polling goes on.
        activity = presence.current(room_id=room.pk, user_id=request.user.pk)
        context = live_room_context(request, room, activity=activity, after=after)
        response = render(request, "chat/partials/poller.html", context, status=429)
        response["Retry-After"] = str(ratelimit.retry_after(rate))
        return response
    activity = presence.seen_by(room_id=room.pk, user=request.user)
    batch = services.messages_deliver(room=room, user_id=request.user.pk, after=after)
    if not batch and "t" not in request.GET:
        return HttpResponse(status=204)
    # New messages; or our own poller with an aging grant or changed room
    # activity: a new poller and the activity, out of band.
    context = live_room_context(
        request, room, activity=activity, **_batch_context(batch, after=after)
    )
    return render(request, _batch_template(batch), context)


def _granted_poll(
    request: HtmxHttpRequest, room: Room, granted: GrantedPoll, batch: list[Message]
) -> HttpResponse:
    """A poll its grant authorises, with new messages or changed activity."""
    grant = granted.grant
    batch = services.messages_deliver(
        room=room, user_id=grant.user_id, after=granted.after, batch=batch
    )
    context = room_context(
        room,
        viewer_id=grant.user_id,
        viewer_name=grant.username,
        # Handed back as it came: only the full path, which reads the session
        # and the user, issues a new one.
        poll_token=granted.token,
        activity=granted.activity,
        # The page shows who is here and typing as it is: not sent again.
        **_batch_context(
            batch, after=granted.after, activity_oob=granted.activity_changed
        ),
    )
    response = render(request, _batch_template(batch), context)
    # What it holds depends on the session cookie, as on the full path.
    patch_vary_headers(response, ["Cookie"])
    return response


def _batch_template(batch: list[Message]) -> str:
    # Nothing new but the activity or the grant: the poller, and the activity.
    return (
        "chat/partials/messages.html" if batch else "chat/partials/poller_renewal.html"
    )


def _batch_context(
    batch: list[Message], *, after: int, activity_oob: bool = True
) -> dict:
    return {
        "message_list": batch,
        "after": batch[-1].id if batch else after,
        # A full batch means more may be waiting: the new poller fires at once.
        "more": len(batch) >= settings.CHAT_POLL_LIMIT,
        # Who is here and typing, swapped in out of band.
        "activity_oob": activity_oob,
    }


def _message_send(
    request: HtmxHttpRequest, room: Room, *, after: int | None
) -> HttpResponse:
    form = MessageForm(request.POST)
    status = 400
    if form.is_valid() and not ratelimit.allow(
        scope="send", key=request.user.pk, rate=settings.CHAT_SEND_RATE
    ):
        form.add_error(None, ratelimit.SLOW_DOWN)
        status = 429
    if not form.is_valid():
        if not request.htmx:
            return render_room(request, room, form=form, status=status)
        context = viewer_room_context(request, room, form=form)
        response = render(
            request, "chat/partials/send_form.html", context, status=status
        )
        return reswap(retarget(response, "#send-form"), "outerHTML")
    message = services.message_create(
        room=room, author=request.user, content=form.cleaned_data["content"]
    )
    if not request.htmx:
        return see_other(room)
    # The sender's message plus whatever arrived since their last poll, so the
    # log stays gapless; without a cursor, just the new message.
    cursor = message.id - 1 if after is None else min(after, message.id - 1)
    batch = services.messages_deliver(room=room, user_id=request.user.pk, after=cursor)
    activity = presence.seen_by(room_id=room.pk, user=request.user)
    context = live_room_context(
        request,
        room,
        activity=activity,
        form=MessageForm(),
        send_form_oob=True,
        **_batch_context(batch, after=cursor),
    )
    return render(request, "chat/partials/messages.html", context)
