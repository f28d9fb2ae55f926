"""Context builders: what the room's partials are given (docs/designing.md
lists it). No side effects: nothing here writes, records presence or
creates anything; views do that, explicitly, before they render."""

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import models

from chat import presence, selectors
from chat.forms import MessageForm
from chat.live import grants
from chat.models import Room
from chat.types import HtmxHttpRequest


def room_context(
    room: Room,
    *,
    viewer_id: int,
    viewer_name: str,
    viewer_moderates: bool = False,
    poll_token: str = "",
    activity: presence.Activity | None = None,
    **extra,
) -> dict:
    """What every room partial is given, on the full path and on a grant
    alike. viewer_moderates: the viewer may delete anyone's message here."""
    return {
        "room": room,
        "viewer_id": viewer_id,
        "viewer_name": viewer_name,
        "viewer_moderates": viewer_moderates,
        "poll_token": poll_token,
        "activity": activity,
        **extra,
    }


def viewer_room_context(request: HtmxHttpRequest, room: Room, **extra) -> dict:
    """room_context for the session's user, for what carries no poller."""
    return room_context(
        room,
        viewer_id=request.user.pk,
        viewer_name=request.user.get_username(),
        viewer_moderates=selectors.may_moderate(room=room, user=request.user),
        **extra,
    )


def page_context(page: selectors.Page, *, seq: int) -> dict:
    """A page of messages, and the poller's cursors after it: its newest id
    and `seq`, the room's change number as read before the page was."""
    return {
        "page": page,
        "message_list": page.messages,
        "after": page.last_id or 0,
        "seq": seq,
        "first_unread": page.first_unread,
    }


def live_room_context(
    request: HtmxHttpRequest, room: Room, *, activity: presence.Activity, **extra
) -> dict:
    """room_context for what carries the poller, for the session's user, with
    a grant for the poller's next polls (chat.live.grants: signing only)."""
    user: AbstractBaseUser = request.user
    token = grants.issue(
        user_id=user.pk,
        room_id=room.pk,
        slug=room.slug,
        username=user.get_username(),
        membership_id=getattr(room, "membership_id", None),
        # A template tag may render with a bare request (no session): no grant
        # is then ever alive, and polls simply take the full path.
        session_key=getattr(getattr(request, "session", None), "session_key", None),
        staff=user.is_staff,
        reuse=request.GET.get("t") if request.method in ("GET", "HEAD") else None,
    )
    return room_context(
        room,
        viewer_id=user.pk,
        viewer_name=user.get_username(),
        viewer_moderates=selectors.may_moderate(room=room, user=user),
        poll_token=token,
        activity=activity,
        **extra,
    )


def sidebar_grant(request: HtmxHttpRequest) -> str:
    """A grant for the sidebar's unchanged refreshes (chat.live: they skip
    the session and the user while it counts): signing only."""
    user: AbstractBaseUser = request.user
    return grants.issue(
        user_id=user.pk,
        room_id=0,
        slug=grants.SIDEBAR,
        username=user.get_username(),
        membership_id=None,
        session_key=getattr(getattr(request, "session", None), "session_key", None),
    )


def sidebar_context(
    request: HtmxHttpRequest, *, current_slug: str, everywhere: bool = False
) -> dict:
    """What sidebar.html is given: the session's user's sidebar, the page's
    room (highlighted), whether phones show it too, and its grant."""
    return {
        "sidebar": selectors.sidebar(user=request.user),
        "current_slug": current_slug,
        "sidebar_everywhere": everywhere,
        "sidebar_grant": sidebar_grant(request),
    }


OBJECT_SALT = "chat.object-room"


def object_reference(obj: models.Model) -> str:
    """A signed (content type, id) for the form that starts an object's room:
    only a page that showed the object can ask for its room."""
    content_type = ContentType.objects.get_for_model(obj)
    return signing.dumps([content_type.pk, str(obj.pk)], salt=OBJECT_SALT)


def object_panel_context(request: HtmxHttpRequest, obj, **extra) -> dict:
    """Context for an object's live room panel (the chat_room_for tag). The
    room is shown if it exists; otherwise a form starts it (a POST)."""
    context = {"request": request, "room": None, **extra}
    if not request.user.is_authenticated:
        return context
    room = selectors.room_for_object(obj=obj, user=request.user)
    if room is None:
        return {**context, "start": object_reference(obj), "object": obj}
    page = selectors.messages_latest(room=room)
    activity = presence.current(room_id=room.pk, user_id=request.user.pk)
    receipts = selectors.room_receipts(room=room)
    return {
        **context,
        **live_room_context(
            request,
            room,
            activity=activity,
            form=MessageForm(),
            receipts=receipts,
            readers=receipts.shown_to(request.user.pk),
            **page_context(page, seq=room.seq),
        ),
    }
