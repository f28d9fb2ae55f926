"""A message's attachments: the file, and an image's thumbnail.

Only for those who may read the room (selectors.room_get: 404 to anyone
else, the URL known or not), never as plain files from MEDIA_URL. Served so
that nothing in a file can run: an image inline as the image it was checked
to be, everything else as a download; the type never sniffed, a policy
allowing no script in a document the file would open as, private caching.
"""

from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_safe

from chat import attachments, selectors
from chat.decorators import login_required
from chat.models import Attachment
from chat.types import HtmxHttpRequest

# The file's own response wins over the site's (django-csp adds its header
# only where a view set none): no script, no plugin, no form, nothing but the
# image itself; sandboxed as an opaque origin, in case a browser draws it.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
# Attachments never change (a deleted message's 404 from then on); a private
# cache keeps what the viewer has already seen.
FILE_CACHE = "private, max-age=86400, immutable"


def _served(field, *, name: str, content_type: str, inline: bool) -> FileResponse:
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError:
        raise Http404("No such file.") from None
    response = FileResponse(
        handle, as_attachment=not inline, filename=name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    # Not to be embedded by other sites (an <img> elsewhere sends no cookie
    # today; this says so whatever the cookie's SameSite).
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = FILE_CACHE
    return response


def _attachment(request: HtmxHttpRequest, slug: str, attachment_id: int) -> Attachment:
    room = selectors.room_get(slug=slug, user=request.user)
    return selectors.attachment_get(room=room, attachment_id=attachment_id)


@require_safe
@login_required
def attachment(
    request: HtmxHttpRequest, slug: str, attachment_id: int, name: str
) -> HttpResponse:
    """The file as stored: an image (its clean copy, chat.attachments)
    inline, anything else a download (text as text/plain; an HTML or SVG
    file is text, never drawn)."""
    found = _attachment(request, slug, attachment_id)
    if name != found.name:
        raise Http404("No such file.")
    content_type = found.content_type
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    return _served(
        found.file, name=found.name, content_type=content_type, inline=found.is_image
    )


@require_safe
@login_required
def thumbnail(
    request: HtmxHttpRequest, slug: str, attachment_id: int, name: str
) -> HttpResponse:
    """An image's thumbnail (WebP), as the message shows it."""
    found = _attachment(request, slug, attachment_id)
    if not found.is_image or name != found.thumb_name:
        raise Http404("No such file.")
    return _served(
        found.thumbnail,
        name=found.thumb_name,
        content_type=attachments.THUMBNAIL_TYPE,
        inline=True,
    )
