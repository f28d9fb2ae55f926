"""The JSON API beside the HTML: same access rules, limits and ordering.

Every rule of who may do what is the services' and selectors'; this module
only reads requests and writes JSON. docs/api.md is the client's manual.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from chat import ratelimit, selectors, services
from chat.forms import CursorError, MessageForm, parse_cursor
from chat.models import Attachment, Message, Room
from chat.search import message_search, parse_query
from chat.types import HtmxHttpRequest


class ApiError(Exception):
    """Answered as {"error": message} with `status`."""

    def __init__(self, message: str, status: int):
        super().__init__(str(message))
        self.status = status


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": str(message)}, status=status)


def _api(view: Callable) -> Callable:
    """401 for a visitor (JSON clients get no redirect to an HTML login page),
    the room as `room` (404 unless the viewer may see it), and any ApiError
    answered as JSON."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, slug: str, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return _error(_("Log in first (session cookie)."), 401)
        try:
            room = selectors.room_get(slug=slug, user=request.user)
        except Http404:
            return _error(_("No such room."), 404)
        try:
            return view(request, room, **kwargs)
        except ApiError as error:
            return _error(str(error), error.status)

    return wrapper


def _message(room: Room, message_id: int) -> Message:
    try:
        return selectors.message_get(room=room, message_id=message_id)
    except Http404:
        raise ApiError(_("No such message."), 404) from None


def _refuse(refusal: str | None) -> None:
    if refusal:
        raise ApiError(refusal, 403)


def _allow_write(request: HtmxHttpRequest) -> None:
    # Every write (send, edit, delete, reaction) takes the room's next change
    # number and wakes every poller: all count against the one send limit.
    if not ratelimit.allow(
        scope="send", key=request.user.pk, rate=settings.CHAT_SEND_RATE
    ):
        raise ApiError(ratelimit.SLOW_DOWN, 429)


def _reactions_json(message: Message) -> list[dict]:
    """[{"emoji", "count", "users"}] in the offered order (as the page shows
    them), each one's users oldest first."""
    return [
        {"emoji": emoji, "count": len(who), "users": [name for _id, name in who]}
        for emoji, _label, who in selectors.reactions_by_emoji(message.reactions_seen)
    ]


def _iso(moment) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def _attachment_json(room_slug: str, attachment: Attachment) -> dict:
    """What a client needs to show an attachment: its URLs (relative to the
    site, with the session cookie, as the page's), and for an image its size
    and its thumbnail's."""
    image = attachment.is_image
    args = [room_slug, attachment.pk]
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": reverse("chat:attachment", args=[*args, attachment.name]),
        "thumb_url": (
            reverse("chat:attachment_thumb", args=[*args, attachment.thumb_name])
            if image
            else None
        ),
        "width": attachment.width if image else None,
        "height": attachment.height if image else None,
        "thumb_width": attachment.thumb_width if image else None,
        "thumb_height": attachment.thumb_height if image else None,
    }


def message_json(message: Message) -> dict:
    local = timezone.localtime(message.created_at)
    deleted = message.deleted_at is not None
    return {
        "id": message.id,
        "kind": message.kind,
        # The service wipes a tombstone's text; said again so no stale
        # in-memory copy can leak it.
        "content": "" if deleted else message.content,
        "username": message.user.get_username() if message.user else None,
        "date": local.strftime("%H:%M:%S"),
        "created_at": local.isoformat(),
        "seq": message.seq,
        "edited_at": _iso(message.edited_at),
        "deleted": deleted,
        "reply_to": message.reply_to_id,
        "reactions": [] if deleted else _reactions_json(message),
        "mentions": [] if deleted else list(message.mentions or ()),
        # Fetched with the message (selectors.with_attachments) where it
        # has any: no query for one without.
        "attachments": (
            [
                _attachment_json(message.room.slug, attachment)
                for attachment in message.attachments.all()
            ]
            if message.attachment_count and not deleted
            else []
        ),
    }


def _body(request: HtmxHttpRequest, example: str) -> dict | QueryDict:
    """The request's fields: a JSON object, or a form. `example` shows the
    expected shape in the error."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        # RecursionError: nested deeper than the parser goes ([[[[…]]]]).
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ApiError(_("The body is not valid JSON."), 400) from None
        if not isinstance(body, dict):
            raise ApiError(
                _("Send an object like %(example)s.") % {"example": example}, 400
            )
        return body
    if request.method == "POST":
        return request.POST
    if request.content_type == "application/x-www-form-urlencoded":
        # Django parses form bodies of POSTs only; PATCH is read the same way.
        return QueryDict(request.body, encoding=request.encoding)
    raise ApiError(
        _(
            "Send the body as JSON (Content-Type: application/json) "
            "or as a form (application/x-www-form-urlencoded)."
        ),
        400,
    )


def _text(body: dict | QueryDict, name: str, example: str) -> str:
    """A text field: a string in JSON (absent reads as blank); a form's last
    value."""
    value = body.get(name, "")
    if not isinstance(value, str):
        raise ApiError(
            _("'%(name)s' must be a string, as in %(example)s.")
            % {"name": name, "example": example},
            400,
        )
    return value


def _form_error(form: MessageForm) -> ApiError:
    return ApiError(" ".join(m for ms in form.errors.values() for m in ms), 400)


# --- The log: GET reads (latest, `after`, `since`), POST sends -------------


@require_http_methods(["GET", "HEAD", "POST"])
@_api
def room_messages(request: HtmxHttpRequest, room: Room) -> HttpResponse:
    if request.method == "POST":
        return _create(request, room)
    try:
        after = parse_cursor(request.GET, "after")
        since = _parse_since(request.GET)
    except CursorError as error:
        return _error(str(error), 400)
    if after is not None and since is not None:
        return _error(_("Give either 'after' or 'since', not both."), 400)
    # Read before any message (room_get just did): every change numbered up
    # to it has committed, so the reads below see it (services._take_seq).
    newest = room.seq
    if since is not None and since > newest:
        return _error(
            _(
                "'since' is beyond this room's change number (%(seq)s): "
                "catch up again from since=0."
            )
            % {"seq": newest},
            400,
        )
    if not ratelimit.allow(
        scope="poll", key=request.user.pk, rate=settings.CHAT_POLL_RATE
    ):
        return _error(ratelimit.SLOW_DOWN, 429)
    if since is not None:
        return _changes(room, since=since, newest=newest)
    if after is None:
        batch = selectors.messages_latest(room=room).messages
        return JsonResponse(
            {"messages": [message_json(m) for m in batch], "seq": newest}
        )
    return _after(room, after=after, newest=newest)


def _parse_since(params: QueryDict) -> int | None:
    try:
        return parse_cursor(params, "since")
    except CursorError:
        if len(params.getlist("since")) > 1:
            raise
        raise CursorError(
            _("'since' must be a change number: 0, or the \"seq\" of an answer.")
        ) from None


def _after(room: Room, *, after: int, newest: int) -> JsonResponse:
    """Messages after id `after`, as ever; and `seq`, a change number to
    switch to `since` from without losing the messages this batch left out:
    every one of them is numbered after it."""
    batch = selectors.messages_after(room=room, after=after)
    more = len(batch) >= settings.CHAT_POLL_LIMIT
    seq = newest
    if more:
        seq = selectors.seq_below_waiting(room=room, after=batch[-1].id, seq=seq)
    return JsonResponse(
        {"messages": [message_json(m) for m in batch], "seq": seq, "more": more}
    )


def _changes(room: Room, *, since: int, newest: int) -> JsonResponse:
    """Every message whose latest change is numbered after `since` and up to
    `newest`, each once, as it is now, in change-number order.

    A message carries the number of its latest change only, and numbers are
    unique in a room: so the first CHAT_POLL_LIMIT by number are exactly the
    changes up to the last one's number, and that number is the next cursor.
    A message changing again meanwhile takes a number above every cursor
    given out, so the next call brings it: nothing is lost."""
    limit = settings.CHAT_POLL_LIMIT
    rows = selectors.with_attachments(
        list(
            room.messages.select_related("user")
            .filter(seq__gt=since, seq__lte=newest)
            .order_by("seq")[: limit + 1]
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    seq = rows[-1].seq if more else newest
    return JsonResponse(
        {"messages": [message_json(m) for m in rows], "seq": seq, "more": more}
    )


CREATE_EXAMPLE = '{"content": "hello", "reply_to": null}'


def _create(request: HtmxHttpRequest, room: Room) -> JsonResponse:
    body = _body(request, CREATE_EXAMPLE)
    data: dict | QueryDict = body
    if not isinstance(body, QueryDict):  # JSON (a QueryDict is a dict too)
        reply_to = body.get("reply_to")
        # bool is an int to Python, not to a client.
        if reply_to is not None and (
            not isinstance(reply_to, int) or isinstance(reply_to, bool)
        ):
            raise ApiError(_("'reply_to' is a message id (a number) or null."), 400)
        data = {
            "content": _text(body, "content", CREATE_EXAMPLE),
            "reply_to": "" if reply_to is None else str(reply_to),
        }
    # Files come with a multipart body only (`files`, any number).
    form = MessageForm(data, request.FILES)
    if not form.is_valid():
        raise _form_error(form)
    reply_to = None
    if form.cleaned_data["reply_to"]:
        reply_to = selectors.message_find(
            room=room, message_id=form.cleaned_data["reply_to"]
        )
        if reply_to is None:
            raise ApiError(_("Reply to a message of this room."), 400)
    _allow_write(request)
    try:
        message = services.message_create(
            room=room,
            author=request.user,
            content=form.cleaned_data["content"],
            reply_to=reply_to,
            files=form.cleaned_data["files"],
        )
    except ValidationError as error:
        raise ApiError(" ".join(error.messages), 400) from None
    return JsonResponse(message_json(message), status=201)


# --- One message: read, edit, delete, react ---------------------------------

EDIT_EXAMPLE = '{"content": "fixed"}'


@require_http_methods(["GET", "HEAD", "PATCH", "POST", "DELETE"])
@_api
def message_detail(
    request: HtmxHttpRequest, room: Room, message_id: int
) -> HttpResponse:
    """GET: the message. PATCH (or POST, for clients that only post): edit
    it. DELETE: delete it."""
    message = _message(room, message_id)
    if request.method in ("GET", "HEAD"):
        return JsonResponse(message_json(message))
    if request.method == "DELETE":
        return _delete(request, message)
    _refuse(selectors.message_edit_refusal(message=message, user=request.user))
    body = _body(request, EDIT_EXAMPLE)
    form = MessageForm({"content": _text(body, "content", EDIT_EXAMPLE)})
    if not form.is_valid():
        raise _form_error(form)
    _allow_write(request)
    try:
        message = services.message_edit(
            message=message, editor=request.user, content=form.cleaned_data["content"]
        )
    except PermissionDenied as error:
        raise ApiError(str(error), 403) from None
    return JsonResponse(message_json(message))


@require_http_methods(["POST"])
@_api
def message_delete(
    request: HtmxHttpRequest, room: Room, message_id: int
) -> HttpResponse:
    """POST …/delete/: DELETE for clients that only post."""
    return _delete(request, _message(room, message_id))


def _delete(request: HtmxHttpRequest, message: Message) -> JsonResponse:
    _refuse(selectors.message_delete_refusal(message=message, user=request.user))
    _allow_write(request)
    try:
        message = services.message_delete(message=message, deleter=request.user)
    except PermissionDenied as error:
        raise ApiError(str(error), 403) from None
    return JsonResponse(message_json(message))


REACT_EXAMPLE = '{"emoji": "👍"}'


@require_http_methods(["POST"])
@_api
def message_reactions(
    request: HtmxHttpRequest, room: Room, message_id: int
) -> HttpResponse:
    """POST {"emoji"}: add the viewer's reaction, or take it back."""
    message = _message(room, message_id)
    _refuse(selectors.reaction_refusal(message=message))
    emoji = _text(_body(request, REACT_EXAMPLE), "emoji", REACT_EXAMPLE)
    choices = [value for value, _label in selectors.REACTION_CHOICES]
    if emoji not in choices:
        raise ApiError(
            _("Pick one of the offered reactions: %(choices)s")
            % {"choices": " ".join(choices)},
            400,
        )
    _allow_write(request)
    try:
        added = services.reaction_toggle(
            message=message, user=request.user, emoji=emoji
        )
    except ValidationError as error:
        raise ApiError(" ".join(error.messages), 400) from None
    except PermissionDenied as error:
        raise ApiError(str(error), 403) from None
    return JsonResponse({"added": added, "message": message_json(message)})


SEARCH_PAGE = 20


@require_safe
def search(request: HtmxHttpRequest) -> HttpResponse:
    """Messages matching `q` in the rooms one may see (or in `room`, a slug),
    newest first, 20 a page, older than the message `before`; each with its
    room's slug and `highlight`, the text as HTML with the matches in
    <mark> (everything else escaped). `older`: the next page's `before`."""
    if not request.user.is_authenticated:
        return _error(_("Log in first (session cookie)."), 401)
    room = None
    if slug := request.GET.get("room"):
        try:
            room = selectors.room_get(slug=slug, user=request.user)
        except Http404:
            return _error(_("No such room."), 404)
    query = request.GET.get("q", "")
    try:
        before = parse_cursor(request.GET, "before")
        parse_query(query)  # what was sent (400) before how fast (429)
    except CursorError as error:
        return _error(str(error), 400)
    except ValidationError as error:
        return _error(" ".join(error.messages), 400)
    # A search is a read: it counts against the poll limit.
    if not ratelimit.allow(
        scope="poll", key=request.user.pk, rate=settings.CHAT_POLL_RATE
    ):
        return _error(ratelimit.SLOW_DOWN, 429)
    page = message_search(
        user=request.user, query=query, room=room, before=before, limit=SEARCH_PAGE
    )
    return JsonResponse(
        {
            "results": [
                message_json(result.message)
                | {"room": result.room.slug, "highlight": str(result.html)}
                for result in page.results
            ],
            "older": page.older,
        }
    )
