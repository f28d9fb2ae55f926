from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from chat import polltoken, presence, ratelimit, selectors, services
from chat.decorators import login_required
from chat.forms import CursorError, MemberForm, MessageForm, RoomForm, parse_cursor
from chat.models import Room
from chat.types import HtmxHttpRequest

SLOW_DOWN = _("You are sending too fast. Slow down, then send again in a few seconds.")


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


@require_GET
def landing(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("chat:room_list")
    return render(request, "landing.html")


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@login_required
def room_list(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET" and request.htmx:
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
            return _see_other(room)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "chat/room_list.html",
        {"rooms": selectors.room_list(user=request.user), "form": form},
        status=status,
    )


def _see_other(room: Room) -> HttpResponse:
    response = redirect(room)
    response.status_code = 303
    return response


def _room_context(request: HtmxHttpRequest, room: Room, **extra) -> dict:
    username = request.user.get_username()
    grant = polltoken.issue(
        user_id=request.user.pk,
        room_id=room.pk,
        slug=room.slug,
        username=username,
        # A template tag may render with a bare request (no session): no grant
        # is then ever alive, and polls simply take the full path.
        session_key=getattr(getattr(request, "session", None), "session_key", None),
        reuse=request.GET.get("t") if request.method == "GET" else None,
    )
    activity = presence.seen(
        room_id=room.pk, user_id=request.user.pk, username=username
    )
    return _viewer_context(
        room,
        viewer_id=request.user.pk,
        viewer_name=username,
        poll_token=grant,
        activity=activity,
        **extra,
    )


def _viewer_context(
    room: Room,
    *,
    viewer_id: int,
    viewer_name: str,
    poll_token: str,
    activity: presence.Activity,
    **extra,
) -> dict:
    """What every room partial is given (docs/designing.md), on the full path
    and on a grant alike."""
    return {
        "room": room,
        "viewer_id": viewer_id,
        "viewer_name": viewer_name,
        "poll_token": poll_token,
        "activity": activity,
        **extra,
    }


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


@require_POST
@login_required
def room_member_add(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    room = selectors.room_get(slug=slug, user=request.user)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            member = services.room_member_add(
                room=room, added_by=request.user, username=form.cleaned_data["username"]
            )
        except ValidationError as error:
            form.add_error("username", error)
        else:
            flash.success(
                request,
                _("%(name)s can now join this room.") % {"name": member.get_username()},
            )
            return _see_other(room)
    return _render_room(
        request, room, before=None, form=MessageForm(), member_form=form, status=400
    )


@require_GET
@login_required
def direct_message(request: HtmxHttpRequest, username: str) -> HttpResponse:
    User = get_user_model()
    if "\x00" in username:  # PostgreSQL cannot even compare NUL: no such user
        raise Http404("No such user.")
    other = get_object_or_404(User, username=username)
    try:
        room = services.dm_room_get_or_create(user=request.user, other=other)
    except ValidationError as error:
        return _bad_request(error.messages[0])
    return redirect(room)


@require_GET
@login_required
def room_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    room = selectors.room_get(slug=slug, user=request.user)
    try:
        before = parse_cursor(request.GET, "before")
    except CursorError as error:
        return _bad_request(str(error))
    if before is None:
        services.room_join(room=room, user=request.user)
    return _render_room(request, room, before=before, form=MessageForm())


@require_POST
@login_required
def room_leave(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    room = selectors.room_get(slug=slug, user=request.user)
    services.room_leave(room=room, user=request.user)
    flash.success(request, _("You left %(room)s.") % {"room": room.name})
    response = redirect("chat:room_list")
    response.status_code = 303
    return response


def room_panel_context(request: HtmxHttpRequest, obj, **extra) -> dict:
    """Context for an object's live room panel (see chat_room_for)."""
    if not request.user.is_authenticated:
        return {"request": request, "room": None}
    room = services.room_for_object(obj=obj, created_by=request.user)
    room = selectors.room_get(slug=room.slug, user=request.user)
    page = selectors.messages_latest(room=room)
    return {
        "request": request,
        **_room_context(
            request,
            room,
            page=page,
            message_list=page.messages,
            after=page.last_id or 0,
            form=MessageForm(),
            **extra,
        ),
    }


def _render_room(
    request: HtmxHttpRequest,
    room: Room,
    *,
    before: int | None,
    form: MessageForm,
    member_form: MemberForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if before is None:
        page = selectors.messages_latest(room=room)
        if page.last_id:
            services.room_mark_read(
                room=room, user_id=request.user.pk, message_id=page.last_id
            )
    else:
        # History mode (links without JavaScript): no poller, a way back.
        page = selectors.messages_before(room=room, before=before)
    context = _room_context(
        request,
        room,
        page=page,
        message_list=page.messages,
        after=page.last_id or 0,
        history=before is not None,
        form=form,
        members=selectors.room_members(room=room) if room.is_private else None,
        member_form=member_form or MemberForm(),
    )
    return render(request, "chat/room.html", context, status=status)


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def room_messages(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """GET polls (`after`) or pages back (`before`); POST sends.

    A poll carrying the poller's signed grant (`t`) is met by
    chat.middleware.FastPollMiddleware before the session or user is read:
    with nothing new it never gets here; with something new it arrives with
    the checked grant, and is delivered without them (chat.polltoken).
    """
    granted = getattr(request, "poll_grant", None)
    if granted is not None and (response := _granted_poll(request, granted)):
        return response
    return _room_messages(request, slug)


@login_required
def _room_messages(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    room = selectors.room_get(slug=slug, user=request.user)
    params = request.POST if request.method == "POST" else request.GET
    try:
        after = parse_cursor(params, "after")
        before = parse_cursor(request.GET, "before")
    except CursorError as error:
        return _bad_request(str(error))
    if request.method == "POST":
        return _message_send(request, room, after=after)
    if after is not None and before is not None:
        return _bad_request(_("Give either 'after' or 'before', not both."))
    if not request.htmx:
        # Fragments are for htmx; a plain browser gets the page they belong to.
        url = room.get_absolute_url()
        return redirect(f"{url}?before={before}" if before is not None else url)
    if before is not None:
        page = selectors.messages_before(room=room, before=before)
        return render(
            request,
            "chat/partials/history.html",
            _room_context(request, room, page=page, message_list=page.messages),
        )
    if after is None:
        return _bad_request(_("Give 'after' (poll) or 'before' (history)."))
    return _poll(request, room, after=after)


def _poll(request: HtmxHttpRequest, room: Room, *, after: int) -> HttpResponse:
    rate = settings.CHAT_POLL_RATE
    if not ratelimit.allow(scope="poll", key=request.user.pk, rate=rate):
        # The body is the same poller: htmx swaps it in and polling goes on.
        response = render(
            request,
            "chat/partials/poller.html",
            _room_context(request, room, after=after),
            status=429,
        )
        response["Retry-After"] = str(ratelimit.retry_after(rate))
        return response
    batch = selectors.messages_after(room=room, after=after)
    if batch:
        return _render_batch(request, room, batch)
    if "t" in request.GET:
        # Our own poller, with an aging grant or changed room activity: a new
        # poller and the activity, out of band.
        return render(
            request,
            "chat/partials/poller_renewal.html",
            _room_context(request, room, after=after),
        )
    return HttpResponse(status=204)


def _granted_poll(
    request: HtmxHttpRequest, granted: polltoken.GrantedPoll
) -> HttpResponse | None:
    """A poll its grant authorises, with new messages or changed activity;
    None, for the full path, when the room's access rule no longer holds for
    the grant's user."""
    grant = granted.grant
    batch = selectors.granted_batch(
        room_id=grant.room_id, user_id=grant.user_id, after=granted.after
    )
    if batch is None:
        return None
    if batch.messages:
        services.room_mark_read(
            room=batch.room, user_id=grant.user_id, message_id=batch.messages[-1].id
        )
        template = "chat/partials/messages.html"
        # The page shows who is here and typing as it is: not sent again.
        extra = _batch_context(batch.messages, activity=granted.activity_changed)
    else:
        # Only who is here or typing changed: the poller, and that, out of band.
        template = "chat/partials/poller_renewal.html"
        extra = {"after": granted.after}
    context = _viewer_context(
        batch.room,
        viewer_id=grant.user_id,
        viewer_name=grant.username,
        # Handed back as it came: only the full path, which reads the session
        # and the user, issues a new one.
        poll_token=granted.token,
        activity=granted.activity,
        **extra,
    )
    response = render(request, template, context)
    # What it holds depends on the session cookie, as on the full path.
    patch_vary_headers(response, ["Cookie"])
    return response


def _batch_context(batch: list, *, activity: bool = True) -> dict:
    return {
        "message_list": batch,
        "after": batch[-1].id,
        # A full batch means more may be waiting: the new poller fires at once.
        "more": len(batch) >= settings.CHAT_POLL_LIMIT,
        # Who is here and typing, out of band.
        "fragment": activity,
    }


def _render_batch(
    request: HtmxHttpRequest, room: Room, batch: list, **extra
) -> HttpResponse:
    # What the page now shows counts as read (not on empty polls: no writes).
    services.room_mark_read(room=room, user_id=request.user.pk, message_id=batch[-1].id)
    context = _room_context(request, room, **_batch_context(batch), **extra)
    return render(request, "chat/partials/messages.html", context)


def _message_send(
    request: HtmxHttpRequest, room: Room, *, after: int | None
) -> HttpResponse:
    form = MessageForm(request.POST)
    status = 400
    if form.is_valid() and not ratelimit.allow(
        scope="send", key=request.user.pk, rate=settings.CHAT_SEND_RATE
    ):
        form.add_error(None, SLOW_DOWN)
        status = 429
    if not form.is_valid():
        if request.htmx:
            response = render(
                request,
                "chat/partials/send_form.html",
                _room_context(request, room, form=form),
                status=status,
            )
            return reswap(retarget(response, "#send-form"), "outerHTML")
        return _render_room(request, room, before=None, form=form, status=status)
    message = services.message_create(
        room=room, author=request.user, content=form.cleaned_data["content"]
    )
    if not request.htmx:
        return _see_other(room)
    # The sender's message plus whatever arrived since their last poll, so the
    # log stays gapless; without a cursor, just the new message.
    cursor = message.id - 1 if after is None else min(after, message.id - 1)
    batch = selectors.messages_after(room=room, after=cursor)
    return _render_batch(request, room, batch, form=MessageForm(), send_form_oob=True)
