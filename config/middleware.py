"""Requests are read as UTF-8 or refused."""

import codecs
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

# What browsers send; ASCII is a subset. Neither decodes to a lone surrogate.
_UTF8 = frozenset({"utf-8", "ascii"})


class Utf8OnlyMiddleware:
    """400 for a request whose Content-Type names a charset other than UTF-8.

    Django decodes the query string and a multipart body with the charset a
    request names, even on a GET, and some charsets (UTF-7, unicode_escape)
    spell lone surrogates, which no database or page can encode: a 500 in
    whichever view, ours or Django's login, meets one first. Django refuses
    form-encoded bodies in other charsets already; this refuses the rest.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Set only from a charset Python knows (an unknown one is ignored).
        charset = request.encoding
        if charset and codecs.lookup(charset).name not in _UTF8:
            return HttpResponseBadRequest(
                _("Send the request in UTF-8: other character sets are refused."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
