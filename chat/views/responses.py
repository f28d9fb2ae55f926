"""The few response shapes every view shares."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import resolve_url
from django_htmx.http import reswap

from chat import ratelimit


def see_other(to, *args, **kwargs) -> HttpResponseRedirect:
    """303 after a plain POST: the browser then GETs the page (no resubmit)."""
    response = HttpResponseRedirect(resolve_url(to, *args, **kwargs))
    response.status_code = 303
    return response


def bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def too_fast(request) -> HttpResponse | None:
    """429 when the user writes faster than CHAT_SEND_RATE allows, shared
    with sending: every edit, delete and reaction takes a change number and
    wakes every page polling the room. None when the write may go on."""
    rate = settings.CHAT_SEND_RATE
    if ratelimit.allow(scope="send", key=request.user.pk, rate=rate):
        return None
    response = HttpResponse(
        ratelimit.SLOW_DOWN, status=429, content_type="text/plain; charset=utf-8"
    )
    response["Retry-After"] = str(ratelimit.retry_after(rate))
    # htmx swaps a 429 into the target: the message would become this text.
    return reswap(response, "none") if request.htmx else response
