"""The message log's one URL: GET polls (`after`), pages back (`before`) or
forward (`newer`, below a page short of the newest), POST sends.

A poll that carries its poller's grant (chat/live/) is met by
FastPollMiddleware before the session or the user is read: with nothing new
it never gets here; with something new it arrives as request.poll_grant and
is delivered on the grant's word, its revocation checked by the same
request's query, the batch shared with every poll at the same cursor. Every
other request takes the full path. Both deliver through the same service and
render the same partials.
"""

from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from chat import presence, ratelimit, selectors, services
from chat.context import live_room_context, room_context, viewer_room_context
from chat.decorators import login_required
from chat.forms import CursorError, MessageForm, parse_cursor
from chat.live import batches
from chat.live.grants import GrantedPoll
from chat.models import Message, Room
from chat.templatetags.chat_tags import message_look, partials_version
from chat.transient import reads_survive_locks
from chat.types import HtmxHttpRequest
from chat.views.responses import bad_request, see_other
from chat.views.rooms import render_room


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD", "POST"])
@reads_survive_locks
def room_messages(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    response = _room_log(request, slug)
    if (
        request.htmx
        and response.status_code == 400
        and "HX-Retarget" not in response.headers
    ):
        # htmx swaps a 400 (base.html's responseHandling, for the send
        # form's errors, which say where they go: _send_refused). Any other
        # 400 here would put its text in the poller's place (the page would
        # poll no more), or Load older's or newer's, or the send's target,
        # the poller again: nothing is swapped, the poller keeps its timer
        # and polls on. Other clients read the 400 and its reason as ever.
        response = reswap(response, "none")
    return response


def _room_log(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    granted: GrantedPoll | None = getattr(request, "poll_grant", None)
    if granted is not None:
        # The middleware's query has just found the grant still good (its
        # session, its user active, its membership there): the rule it was
        # issued under holds. What the page is missing is shared by every
        # poll of this room in the same state (chat.live.batches).
        room, changes, refusal = batches.shared(
            room_id=granted.grant.room_id,
            after=granted.after,
            since=granted.since,
            start=granted.start,
            newest=granted.newest,
        )
        if refusal:
            return bad_request(refusal)
        if room is not None:  # not deleted meanwhile
            return _granted_poll(request, room, granted, changes)
    return _room_messages(request, slug)


@dataclass(frozen=True)
class Cursor:
    """Where a page stands: its newest message id (`after`), the room's
    change number it has seen (`seq`) and its oldest message id (`start`,
    0 when it holds the room from its first message)."""

    after: int | None
    seq: int | None
    start: int


def _cursor(params: QueryDict) -> Cursor:
    return Cursor(
        after=parse_cursor(params, "after"),
        seq=parse_cursor(params, "seq"),
        start=parse_cursor(params, "start") or 0,
    )


@login_required
def _room_messages(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    room = selectors.room_get(slug=slug, user=request.user)
    params = request.POST if request.method == "POST" else request.GET
    try:
        cursor = _cursor(params)
        before = parse_cursor(request.GET, "before")
        newer = parse_cursor(request.GET, "newer")
    except CursorError as error:
        return bad_request(str(error))
    if request.method == "POST":
        return _message_send(request, room, cursor=cursor)
    if cursor.after is not None and before is not None:
        return bad_request(_("Give either 'after' or 'before', not both."))
    if newer is not None and (cursor.after is not None or before is not None):
        return bad_request(_("Give 'newer' alone, without 'after' or 'before'."))
    if not request.htmx:
        # Fragments are for htmx; a plain browser gets the page they belong to.
        url = room.get_absolute_url()
        if before is not None:
            url = f"{url}?before={before}"
        elif newer is not None:
            url = f"{url}?newer={newer}"
        return redirect(url)
    if newer is not None:
        cursor = Cursor(after=newer, seq=cursor.seq, start=cursor.start)
        return _newer(request, room, cursor=cursor)
    if before is not None:
        page = selectors.messages_before(room=room, before=before)
        context = viewer_room_context(
            request,
            room,
            page=page,
            message_list=page.messages,
            # Drawn as the page's first until now: with older messages above
            # it, it may continue their day and group.
            former_first=page.messages
            and selectors.message_find(room=room, message_id=before),
        )
        return render(request, "chat/partials/history.html", context)
    if cursor.after is None:
        return bad_request(_("Give 'after' (poll) or 'before' (history)."))
    return _poll(request, room, cursor=cursor)


def _poll(request: HtmxHttpRequest, room: Room, *, cursor: Cursor) -> HttpResponse:
    rate = settings.CHAT_POLL_RATE
    if not ratelimit.allow(scope="poll", key=request.user.pk, rate=rate):
        # The body is the same poller: htmx swaps it in and polling goes on.
        activity = presence.current(room_id=room.pk, user_id=request.user.pk)
        context = live_room_context(
            request,
            room,
            activity=activity,
            after=cursor.after,
            seq=room.seq if cursor.seq is None else cursor.seq,
        )
        response = render(request, "chat/partials/poller.html", context, status=429)
        response["Retry-After"] = str(ratelimit.retry_after(rate))
        return response
    # A page from before change numbers: new messages from here on.
    state = _PageState(
        after=cursor.after,
        since=room.seq if cursor.seq is None else cursor.seq,
        start=cursor.start,
        newest=room.seq,
    )
    refusal = selectors.cursor_refusal(room=room, **state._asdict())
    if refusal:
        return bad_request(refusal)
    activity = presence.seen_by(room_id=room.pk, user=request.user)
    if cursor.seq is None:
        changes = selectors.page_changes(room=room, **state._asdict())
    else:  # shared with every poll of the room in the same state
        shared = batches.shared(room_id=room.pk, **state._asdict())
        changes = _nothing(state, shared.changes)
    changes = services.changes_deliver(
        room=room, user_id=request.user.pk, changes=changes
    )
    # A page that shows none gets them with the next new message it is sent.
    tracked = request.GET.get("r")
    receipts = None
    if changes.new or tracked is not None:
        receipts = _receipts(room, request.user.pk, changes)
    receipts_changed = (
        receipts is not None
        and tracked is not None
        and (tracked != str(receipts.shown_to(request.user.pk)))
    )
    if not changes and not receipts_changed and "t" not in request.GET:
        return HttpResponse(status=204)
    # Something new; or our own poller with an aging grant or changed room
    # activity: a new poller and the activity, out of band.
    context = live_room_context(
        request,
        room,
        activity=activity,
        **_changes_context(
            changes, receipts=receipts, viewer_id=request.user.pk, start=state.start
        ),
    )
    if changes:
        context["changes_html"] = _shared_changes(request, room, state, context)
    return render(request, _changes_template(changes), context)


class _PageState(NamedTuple):
    """What a poll's page holds: messages `start`..`after` as of change
    number `since`; `newest`, the room's change number as read."""

    after: int
    since: int
    start: int
    newest: int


def _nothing(state: _PageState, changes: selectors.Changes | None):
    """`changes`, or none (chat.live.batches found nothing to read)."""
    if changes is not None:
        return changes
    return selectors.Changes(
        new=[],
        changed=[],
        after=state.after,
        seq=max(state.since, state.newest),
        more=False,
    )


def _newer(request: HtmxHttpRequest, room: Room, *, cursor: Cursor) -> HttpResponse:
    """The page after the cursor ("Load newer"), with the held messages
    changed since the page's `seq` (out of band), then the next control; or,
    once it reaches the newest, the poller, as a poll answers: the page is
    live, and nothing between is lost or sent twice."""
    after = cursor.after or 0
    newest = room.seq  # read (room_get) before the messages are
    since = newest if cursor.seq is None else cursor.seq
    refusal = selectors.cursor_refusal(
        room=room, after=after, since=since, start=cursor.start, newest=newest
    )
    if refusal:
        return bad_request(refusal)
    page = selectors.messages_newer(room=room, after=after)
    changes = selectors.page_changes(
        room=room,
        after=after,
        since=since,
        start=cursor.start,
        newest=newest,
        new=page.messages,
    )
    # What page_changes left for later (changed since `newest`) comes next.
    rest = page.messages[len(changes.new) :]
    next_id = rest[0].id if rest else page.next_id
    if next_id is None:
        # The newest: counted read, as the poll that delivers it would be.
        changes = services.changes_deliver(
            room=room, user_id=request.user.pk, changes=changes
        )
        activity = presence.seen_by(room_id=room.pk, user=request.user)
        receipts = _receipts(room, request.user.pk, changes)
        context = live_room_context(
            request,
            room,
            activity=activity,
            **_changes_context(
                changes,
                receipts=receipts,
                viewer_id=request.user.pk,
                start=cursor.start,
            ),
        )
        return render(request, "chat/partials/messages.html", context)
    # Short of the newest, nothing is counted read: the page may be a
    # permalink's, deep in history (services.room_open_at).
    context = viewer_room_context(
        request,
        room,
        next_id=next_id,
        **_changes_context(changes, start=cursor.start),
    )
    return render(request, "chat/partials/newer.html", context)


def _granted_poll(
    request: HtmxHttpRequest,
    room: Room,
    granted: GrantedPoll,
    changes: selectors.Changes | None,
) -> HttpResponse:
    """A poll its grant authorises, with changes or changed activity."""
    grant = granted.grant
    state = _PageState(
        after=granted.after,
        since=granted.since,
        start=granted.start,
        newest=granted.newest,
    )
    changes = _nothing(state, changes)
    changes = services.changes_deliver(
        room=room, user_id=grant.user_id, changes=changes
    )
    receipts = None
    if changes.new or granted.receipts_changed:
        receipts = _receipts(room, grant.user_id, changes)
    context = room_context(
        room,
        viewer_id=grant.user_id,
        viewer_name=grant.username,
        viewer_moderates=grant.staff or room.created_by_id == grant.user_id,
        # Handed back as it came: only the full path, which reads the session
        # and the user, issues a new one.
        poll_token=granted.token,
        activity=granted.activity,
        # The page shows who is here and typing as it is: not sent again.
        **_changes_context(
            changes,
            activity_oob=granted.activity_changed,
            receipts=receipts,
            viewer_id=grant.user_id,
            readers=granted.readers,
            start=granted.start,
        ),
    )
    if changes:
        context["changes_html"] = _shared_changes(request, room, state, context)
    response = render(request, _changes_template(changes), context)
    # What it holds depends on the session cookie, as on the full path.
    patch_vary_headers(response, ["Cookie"])
    return response


def _receipts(room: Room, viewer_id: int, changes: selectors.Changes):
    """Read receipts as the viewer's page is to show them once `changes` are
    in it: read only when its newest message is the viewer's (else they see
    none), after the read mark moved (the viewer is among the readers)."""
    newest = changes.new[-1] if changes.new and not changes.more else None
    return selectors.room_receipts(room=room, viewer_id=viewer_id, newest=newest)


def _shared_changes(
    request: HtmxHttpRequest, room: Room, state: _PageState, context: dict
) -> str:
    """The changes drawn once for every poll of the same page state whose
    viewer sees each message alike (the same look: chat_tags.message_look),
    in the same language: a hundred tabs of one room, one drawing."""
    looks = tuple(
        message_look(
            message,
            context["viewer_id"],
            context["viewer_name"],
            context["viewer_moderates"],
        ).key
        for message in (*context["message_list"], *context["changed_list"])
    )
    # The partials' version too, as each message's own cache key has it.
    key = (room.pk, *state, get_language(), partials_version(), looks)
    return batches.drawn(
        key,
        lambda: render_to_string("chat/partials/changes.html", context, request),
    )


def _changes_template(changes: selectors.Changes) -> str:
    # Nothing new but the activity or the grant: the poller, and the activity.
    if changes:
        return "chat/partials/messages.html"
    return "chat/partials/poller_renewal.html"


def _changes_context(
    changes: selectors.Changes,
    *,
    activity_oob: bool = True,
    receipts: selectors.Receipts | None = None,
    viewer_id: int | None = None,
    readers: int | None = None,
    start: int = 0,
) -> dict:
    """What a poll's answer is given. `receipts`: read receipts to send out
    of band (None: the page shows them as they are, `readers` of them, None
    when it shows none). `start`: the page's first message, drawn as the
    start of its day and group when it comes again changed."""
    if receipts is not None:
        readers = receipts.shown_to(viewer_id)
    return {
        "receipts": receipts,
        "receipts_oob": receipts is not None,
        "readers": readers,
        "message_list": changes.new,
        # Messages the page holds, changed: swapped in place, out of band.
        "changed_list": changes.changed,
        "after": changes.after,
        "seq": changes.seq,
        # A full batch means more may be waiting: the new poller fires at once.
        "more": changes.more,
        # Who is here and typing, swapped in out of band.
        "activity_oob": activity_oob,
        "page_start": start,
    }


def _message_send(
    request: HtmxHttpRequest, room: Room, *, cursor: Cursor
) -> HttpResponse:
    # Multipart (files attached) or not: the same form.
    form = MessageForm(request.POST, request.FILES)
    status = 400
    # Every field is cleaned, so the message answered is found even when the
    # text is refused: the form shown again with the error stays a reply.
    form.is_valid()
    reply_to = _reply_to(room, form)
    if form.is_valid() and not ratelimit.allow(
        scope="send", key=request.user.pk, rate=settings.CHAT_SEND_RATE
    ):
        form.add_error(None, ratelimit.SLOW_DOWN)
        status = 429
    message = None
    if form.is_valid():
        try:
            message = services.message_create(
                room=room,
                author=request.user,
                content=form.cleaned_data["content"],
                reply_to=reply_to,
                files=form.cleaned_data["files"],
            )
        except ValidationError as error:
            # A file refused by its content, mostly: said where a blank
            # message is (the form's own checks catch the rest first).
            form.add_error(_SEND_FIELDS.get(error.code, "files"), error)
    if message is None:
        return _send_refused(request, room, form, reply_to, status)
    if not request.htmx:
        return see_other(room)
    # The sender's message plus whatever changed since their last poll, so
    # the log stays gapless; without a cursor, just the new message.
    after = message.id - 1
    if cursor.after is not None:
        after = min(cursor.after, after)
    changes = services.changes_deliver(
        room=room,
        user_id=request.user.pk,
        changes=services.send_changes(
            room=room,
            message=message,
            after=after,
            # A form from before change numbers: new messages only.
            since=message.seq - 1 if cursor.seq is None else cursor.seq,
            start=cursor.start,
        ),
    )
    activity = presence.seen_by(room_id=room.pk, user=request.user)
    context = live_room_context(
        request,
        room,
        activity=activity,
        form=MessageForm(),
        send_form_oob=True,
        **_changes_context(
            changes,
            receipts=_receipts(room, request.user.pk, changes),
            viewer_id=request.user.pk,
            start=cursor.start,
        ),
    )
    return render(request, "chat/partials/messages.html", context)


# The form field a refusal of services.message_create is about.
_SEND_FIELDS = {"blank": "content", "reply": "reply_to"}


def _send_refused(
    request: HtmxHttpRequest,
    room: Room,
    form: MessageForm,
    reply_to: Message | None,
    status: int,
) -> HttpResponse:
    """The send form again with its error: the room page without script,
    the form alone, in place, for htmx."""
    if not request.htmx:
        return render_room(
            request, room, form=form, replying_to=reply_to, status=status
        )
    context = viewer_room_context(request, room, form=form, replying_to=reply_to)
    response = render(request, "chat/partials/send_form.html", context, status=status)
    return reswap(retarget(response, "#send-form"), "outerHTML")


def _reply_to(room: Room, form: MessageForm) -> Message | None:
    """The message the send form answers (its `reply_to`, cleaned), or None;
    an error on the form when it names none of this room's, or a notice."""
    reply_to_id = getattr(form, "cleaned_data", {}).get("reply_to")
    if not reply_to_id:
        return None
    reply_to = selectors.message_find(room=room, message_id=reply_to_id)
    refusal = (
        _("Reply to a message of this room.")
        if reply_to is None
        else selectors.reply_refusal(message=reply_to)
    )
    if refusal:
        form.add_error("reply_to", refusal)
        return None
    return reply_to


@vary_on_headers("HX-Request")
@require_safe
@login_required
def compose(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The send form, empty or (`reply_to`) answering a message: what Reply
    and its Cancel swap in. Without script: the room page with that form."""
    room = selectors.room_get(slug=slug, user=request.user)
    try:
        reply_to_id = parse_cursor(request.GET, "reply_to")
    except CursorError as error:
        return _refused(request, str(error))
    replying_to = None
    if reply_to_id:
        replying_to = selectors.message_get(room=room, message_id=reply_to_id)
        refusal = selectors.reply_refusal(message=replying_to)
        if refusal:
            return _refused(request, refusal)
    if not request.htmx:
        query = f"?reply_to={replying_to.pk}#send-form" if replying_to else ""
        return redirect(room.get_absolute_url() + query)
    context = viewer_room_context(
        request, room, form=MessageForm(), replying_to=replying_to
    )
    return render(request, "chat/partials/send_form.html", context)


def _refused(request: HtmxHttpRequest, reason: str) -> HttpResponse:
    """400 for a Reply that names no message one may answer. htmx would
    swap the text in the send form's place: the form stays instead."""
    response = bad_request(reason)
    return reswap(response, "none") if request.htmx else response
