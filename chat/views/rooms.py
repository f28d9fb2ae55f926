from dataclasses import replace

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)
from django.views.decorators.vary import vary_on_headers

from chat import presence, selectors, services
from chat.context import live_room_context, page_context
from chat.decorators import login_required
from chat.forms import CursorError, MemberForm, MessageForm, RoomForm, parse_cursor
from chat.models import Message, Room
from chat.types import HtmxHttpRequest
from chat.views.responses import bad_request, see_other


@require_safe
def landing(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("chat:room_list")
    return render(request, "landing.html")


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def room_list(request: HtmxHttpRequest) -> HttpResponse:
    # Boosted (a sidebar link): the whole page, of which htmx takes #shell-main.
    if request.method != "POST" and request.htmx and not request.htmx.boosted:
        # The list refreshes itself every few seconds (unread counts).
        return render(
            request,
            "chat/partials/room_items.html",
            {"rooms": selectors.room_list(user=request.user)},
        )
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(
                name=form.cleaned_data["name"],
                created_by=request.user,
                is_private=form.cleaned_data["private"],
            )
        except ValidationError as error:
            form.add_error("name", error)
        else:
            return see_other(room)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "chat/room_list.html",
        {
            "rooms": selectors.room_list(user=request.user),
            "form": form,
            # On phones the sidebar is here, above the list (else beside it).
            "sidebar_everywhere": True,
        },
        status=status,
    )


@require_safe
@login_required
def room_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The room page. It reads, and moves only the reader's own read mark;
    joining is a POST of its own (room_join)."""
    room = selectors.room_get(slug=slug, user=request.user)
    try:
        before = parse_cursor(request.GET, "before")
        around = parse_cursor(request.GET, "around")
        newer = parse_cursor(request.GET, "newer")
        reply_to = parse_cursor(request.GET, "reply_to")
    except CursorError as error:
        return bad_request(str(error))
    if sum(cursor is not None for cursor in (before, around, newer)) > 1:
        return bad_request(_("Give one of 'before', 'around' and 'newer'."))
    if around is not None:
        # A permalink names a message of this room: 404 for any other id.
        selectors.message_get(room=room, message_id=around)
    # The send form answering a message (Reply, without script).
    replying_to = reply_to and selectors.message_find(room=room, message_id=reply_to)
    return render_room(
        request,
        room,
        before=before,
        around=around,
        newer=newer,
        replying_to=replying_to,
    )


def render_room(
    request: HtmxHttpRequest,
    room: Room,
    *,
    before: int | None = None,
    around: int | None = None,
    newer: int | None = None,
    form: MessageForm | None = None,
    member_form: MemberForm | None = None,
    replying_to: Message | None = None,
    status: int = 200,
) -> HttpResponse:
    """The room page: live (the newest messages, the poller) or, with a
    `before` cursor, a page of history without script. Opened `around` a
    message (a permalink) or at the messages `newer` than one, it is live
    once it reaches the newest message, and shows "Load newer" until then."""
    page = None
    if before is not None:
        page = selectors.messages_before(room=room, before=before)
        # What follows it: "Load newer" (where a send from this page goes).
        page = replace(
            page, next_id=selectors.message_next_id(room=room, after=page.last_id)
        )
    elif around is not None or newer is not None:
        page = services.room_open_at(
            room=room, user_id=request.user.pk, around=around, after=newer
        )
        if not page.messages:  # nothing after `newer`: the newest page
            page = None
    if page is None:
        page = services.room_open(room=room, user_id=request.user.pk)
    history = before is not None or page.next_id is not None
    if history:
        activity = presence.current(room_id=room.pk, user_id=request.user.pk)
    else:
        activity = presence.seen_by(room_id=room.pk, user=request.user)
    refusal = selectors.member_add_refusal(room=room, user=request.user)
    # Read after the page counted as read: the viewer is among the readers.
    receipts = selectors.room_receipts(room=room) if before is None else None
    context = live_room_context(
        request,
        room,
        activity=activity,
        **page_context(page, seq=room.seq),
        history=history,
        form=form or MessageForm(),
        replying_to=replying_to,
        receipts=receipts,
        readers=receipts.shown_to(request.user.pk) if receipts else None,
        members=selectors.room_members(room=room) if room.is_private else None,
        partner=selectors.direct_partner(room=room, user=request.user),
        can_add_members=refusal is None,
        member_form=member_form or MemberForm(),
    )
    return render(request, "chat/room.html", context, status=status)


@require_POST
@login_required
def room_join(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    room = selectors.room_get(slug=slug, user=request.user)
    services.room_join(room=room, user=request.user)
    return see_other(room)


@require_POST
@login_required
def room_leave(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    room = selectors.room_get(slug=slug, user=request.user)
    services.room_leave(room=room, user=request.user)
    flash.success(request, _("You left %(room)s.") % {"room": room.name})
    return see_other("chat:room_list")


@require_POST
@login_required
def room_typing(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The send input reports typing (htmx, throttled here); 204 always."""
    room = selectors.room_get(slug=slug, user=request.user)
    presence.typing(
        room_id=room.pk,
        user_id=request.user.pk,
        username=request.user.get_username(),
        active=bool(request.POST.get("content", "").strip()),
    )
    return HttpResponse(status=204)
