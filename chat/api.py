"""The JSON API beside the HTML: same access rules, limits and ordering."""

import json

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chat import ratelimit, selectors, services
from chat.forms import CursorError, MessageForm, parse_cursor
from chat.models import Message
from chat.types import HtmxHttpRequest


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": str(message)}, status=status)


def message_json(message: Message) -> dict:
    local = timezone.localtime(message.created_at)
    return {
        "id": message.id,
        "kind": message.kind,
        "content": message.content,
        "username": message.user.get_username() if message.user else None,
        "date": local.strftime("%H:%M:%S"),
        "created_at": local.isoformat(),
    }


@require_http_methods(["GET", "POST"])
def room_messages(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    # JSON clients get 401, not a redirect to an HTML login page.
    if not request.user.is_authenticated:
        return _error(_("Log in first (session cookie)."), 401)
    try:
        room = selectors.room_get(slug=slug, user=request.user)
    except Http404:
        return _error(_("No such room."), 404)
    if request.method == "POST":
        return _create(request, room)
    try:
        after = parse_cursor(request.GET, "after")
    except CursorError as error:
        return _error(str(error), 400)
    if not ratelimit.allow(
        scope="poll", key=request.user.pk, rate=settings.CHAT_POLL_RATE
    ):
        return _error(ratelimit.SLOW_DOWN, 429)
    if after is None:
        batch = selectors.messages_latest(room=room).messages
    else:
        batch = selectors.messages_after(room=room, after=after)
    return JsonResponse({"messages": [message_json(m) for m in batch]})


def _create(request: HtmxHttpRequest, room) -> JsonResponse:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        # RecursionError: nested deeper than the parser goes ([[[[…]]]]).
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _error(_("The body is not valid JSON."), 400)
        if not isinstance(body, dict) or not isinstance(body.get("content", ""), str):
            return _error(_('Send an object like {"content": "hello"}.'), 400)
        data = {"content": body.get("content", "")}
    else:
        data = request.POST
    form = MessageForm(data)
    if not form.is_valid():
        return _error(" ".join(form.errors["content"]), 400)
    if not ratelimit.allow(
        scope="send", key=request.user.pk, rate=settings.CHAT_SEND_RATE
    ):
        return _error(ratelimit.SLOW_DOWN, 429)
    message = services.message_create(
        room=room, author=request.user, content=form.cleaned_data["content"]
    )
    return JsonResponse(message_json(message), status=201)
