"""The few response shapes every view shares."""

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import resolve_url


def see_other(to, *args, **kwargs) -> HttpResponseRedirect:
    """303 after a plain POST: the browser then GETs the page (no resubmit)."""
    response = HttpResponseRedirect(resolve_url(to, *args, **kwargs))
    response.status_code = 303
    return response


def bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
