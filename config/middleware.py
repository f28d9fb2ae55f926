"""Requests are read as UTF-8 or refused."""

import codecs
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.http.multipartparser import MultiPartParser
from django.urls import Resolver404, resolve
from django.utils.datastructures import ImmutableList
from django.utils.translation import gettext_lazy as _

# What browsers send; ASCII is a subset. Neither decodes to a lone surrogate.
_UTF8 = frozenset({"utf-8", "ascii"})

OTHER_CHARSET = _("Send the request in UTF-8: other character sets are refused.")
NOT_UTF8 = _("Send the request in UTF-8: some of its text is not valid UTF-8.")

# Django's multipart parser decodes each text field (and field and file
# name) with errors="replace", always: bytes that are not UTF-8 would
# become U+FFFD, and its caller never learn. Given this codec's name
# instead, it meets a UnicodeDecodeError, whatever errors it asks for.
# Files' contents are not decoded: they stay bytes.
_STRICT_UTF8 = "strict_utf_8_for_forms"


def _strict_utf8_search(name: str) -> codecs.CodecInfo | None:
    if name != _STRICT_UTF8:
        return None
    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        name=_STRICT_UTF8,
        encode=utf8.encode,
        decode=lambda data, errors="strict": codecs.utf_8_decode(data, "strict", True),
    )


codecs.register(_strict_utf8_search)


def _is_utf8(form: bytes) -> bool:
    """Whether a query string or form body (percent-escapes and all) is
    UTF-8 once unescaped. As a whole: the delimiters (&, =) are ASCII,
    which no character of UTF-8 contains, so the whole is UTF-8 exactly
    when every name and value is."""
    if form.isascii() and b"%" not in form:
        return True
    try:
        unquote_to_bytes(form).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _query_bytes(request: HttpRequest) -> bytes:
    # WSGI hands the query string over as its bytes, one character each
    # (PEP 3333); ASGI's is decoded as UTF-8 already.
    query = request.META.get("QUERY_STRING", "")
    return query.encode("latin-1" if hasattr(request, "environ") else "utf-8")


def _refuse(request: HttpRequest, reason: str) -> HttpResponse:
    """400 with the reason: in the API's JSON to its clients, else as text."""
    try:
        api = resolve(request.path_info).func.__module__ == "chat.api"
    except Resolver404:
        api = False
    if api:
        return JsonResponse({"error": str(reason)}, status=400)
    return HttpResponseBadRequest(str(reason), content_type="text/plain; charset=utf-8")


class Utf8OnlyMiddleware:
    """400 for a request whose Content-Type names a charset other than UTF-8,
    and for a query string or form whose text is not UTF-8.

    Django decodes the query string and a multipart body with the charset a
    request names, even on a GET, and some charsets (UTF-7, unicode_escape)
    spell lone surrogates, which no database or page can encode: a 500 in
    whichever view, ours or Django's login, meets one first. Django refuses
    form-encoded bodies in other charsets already; this refuses the rest.

    Bytes that are not UTF-8 (%FF, Latin-1's é as %E9) in a request that
    says UTF-8, or nothing, Django turns into U+FFFD: the message or the
    name would be stored with � in place of what was meant. They are
    refused too, as the API refuses such JSON: in the query string, in a
    form-encoded body, and in a multipart body's text fields (its files'
    contents are bytes, and stay so).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Set only from a charset Python knows (an unknown one is ignored).
        charset = request.encoding
        if charset and codecs.lookup(charset).name not in _UTF8:
            return _refuse(request, OTHER_CHARSET)
        if not _is_utf8(_query_bytes(request)):
            return _refuse(request, NOT_UTF8)
        if request.content_type == "application/x-www-form-urlencoded":
            # Read whole by Django anyway, within DATA_UPLOAD_MAX_MEMORY_SIZE.
            if not _is_utf8(request.body):
                return _refuse(request, NOT_UTF8)
        elif request.method == "POST" and request.content_type == "multipart/form-data":
            # Parsed here, not when the view asks, to answer the refusal here.
            request.parse_file_upload = _strict_parse(request)
            try:
                request.POST  # noqa: B018
            except UnicodeDecodeError:
                return _refuse(request, NOT_UTF8)
        return self.get_response(request)


def _strict_parse(request: HttpRequest) -> Callable:
    """HttpRequest.parse_file_upload as Django writes it, but for the codec."""

    def parse(META, post_data):
        request.upload_handlers = ImmutableList(
            request.upload_handlers,
            warning="You cannot alter upload handlers after the upload has "
            "been processed.",
        )
        parser = MultiPartParser(META, post_data, request.upload_handlers, _STRICT_UTF8)
        return parser.parse()

    return parse
