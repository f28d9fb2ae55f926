"""Context builders: what the room's partials are given (docs/designing.md
lists it). No side effects: nothing here writes, records presence or
creates anything; views do that, explicitly, before they render."""

import base64
import binascii
import unicodedata

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


# The tab's title: the page's own, after "(N) " while N messages wait in
# one's rooms but the page's, "(N @) " while one of them mentions the reader.
# The sidebar's refresh carries the page's own title (`title`) to answer with
# the new one: at most TITLE_MAX characters, as URL-safe base64 of its UTF-8
# (no "%" or "+": chat.live's fast path takes only a plain query string).
TITLE_MAX = 300
_TITLE_PARAM_MAX = len(base64.urlsafe_b64encode(b"x" * 4 * TITLE_MAX))


def title_prefix(sidebar: selectors.Sidebar, *, current_slug: str) -> str:
    """What goes before the page's title: "(3) ", "(3 @) " or nothing, for
    what waits outside the page's room."""
    unread, mentions = sidebar.waiting(outside=current_slug)
    if not (unread or mentions):
        return ""
    return f"({unread} @) " if mentions else f"({unread}) "


def title_text(title: str) -> str:
    """A title as the tab shows it: plain text on one line, control
    characters dropped, at most TITLE_MAX characters."""
    kept = "".join(c for c in title if unicodedata.category(c) != "Cc" or c.isspace())
    return " ".join(kept.split())[:TITLE_MAX]


def title_param(title: str) -> str:
    """The page's title as the sidebar's refresh carries it."""
    encoded = base64.urlsafe_b64encode(title_text(title).encode())
    return encoded.decode("ascii").rstrip("=")


def title_from_param(value: str | None) -> str:
    """The page's title a refresh carries (title_param's); "" for anything
    else, which gets no title."""
    if not value or len(value) > _TITLE_PARAM_MAX:
        return ""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return title_text(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError):
        return ""


def sidebar_context(
    request: HtmxHttpRequest,
    *,
    current_slug: str,
    everywhere: bool = False,
    title: str = "",
    sidebar: selectors.Sidebar | None = None,
    refresh: bool = False,
) -> dict:
    """What sidebar.html is given: the session's user's sidebar (`sidebar`
    when the page has read it already, for its title), the page's room
    (highlighted), whether phones show it too, its grant, and the page's
    own `title` for its refresh to carry. A `refresh` with a title draws the
    tab's new title beside it (`tab_title`)."""
    if sidebar is None:
        sidebar = selectors.sidebar(user=request.user)
    context = {
        "sidebar": sidebar,
        "current_slug": current_slug,
        "sidebar_everywhere": everywhere,
        "sidebar_grant": sidebar_grant(request),
        "sidebar_title": title_param(title) if title else "",
    }
    if refresh and title:
        prefix = title_prefix(sidebar, current_slug=current_slug)
        context["tab_title"] = prefix + title_text(title)
    return context


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
