"""Files sent with a message, checked by their content before anything is
stored (chat.services.message_create stores what this accepts).

The policy, by what the bytes are (never the file's name or the type the
browser claims):

- PNG, JPEG, GIF and WebP that Pillow opens and decodes are images: shown
  inline as a thumbnail made here (turned upright by its EXIF orientation,
  at most CHAT_THUMBNAIL_SIZE, re-encoded as WebP with no metadata), the
  full picture a click away, served inline as what it is.
- PDF, ZIP (which office documents are: docx, xlsx, odt…), gzip and UTF-8
  text are documents: a card with a download link, served only ever as an
  attachment. Text is anything that decodes as UTF-8 with no control
  characters but tabs, line and page breaks: HTML, SVG and scripts
  included, stored and served as text/plain, so never run or drawn.
- Anything else is refused, with the file's name and the reason.

A refused file stops the whole send: nothing is stored."""

import codecs
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's format name -> (content type, stored extension).
IMAGE_FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# Leading bytes -> (content type, stored extension); checked in order.
DOCUMENT_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"PK\x03\x04", "application/zip", "zip"),
    (b"PK\x05\x06", "application/zip", "zip"),  # an empty archive
    (b"\x1f\x8b", "application/gzip", "gz"),
)
TEXT = ("text/plain", "txt")
THUMBNAIL_TYPE = "image/webp"
THUMBNAIL_EXTENSION = "webp"
# Characters a file name may not hold: controls, format characters (bidi
# overrides: "invoice\u202efdp.exe" shows as "invoiceexe.pdf"), separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
NAME_MAX_LENGTH = 255
_CHUNK = 64 * 1024
# Control characters (Unicode's Cc) but tab, line feed, form feed and
# carriage return: one in a file means it is not text.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Checked:
    """An accepted file: what is stored of it, and its thumbnail (images)."""

    upload: UploadedFile
    name: str
    content_type: str
    extension: str
    size: int
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None
    thumb_width: int | None = None
    thumb_height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.thumbnail is not None


def clean_name(name: str) -> str:
    """The name a file was sent with, as shown and served: no directory, no
    invisible or control characters, at most NAME_MAX_LENGTH characters
    (the extension kept), never empty nor only dots (a URL's last segment
    of "." or ".." would name another page)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        c for c in name if unicodedata.category(c) not in _REFUSED_CATEGORIES
    )
    name = " ".join(name.split())
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) < 16:
            name = stem[: NAME_MAX_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:NAME_MAX_LENGTH]
    if not name.strip("."):
        name = _("file")
    return name


def check_count(files: list) -> None:
    limit = settings.CHAT_UPLOAD_MAX_FILES
    if len(files) > limit:
        raise ValidationError(
            _("Send at most %(count)d files with one message.") % {"count": limit},
            code="too_many_files",
        )


def check(upload: UploadedFile) -> Checked:
    """The upload accepted (with its thumbnail, for an image), or
    ValidationError naming the file and saying why not."""
    name = clean_name(upload.name or "")
    max_bytes = settings.CHAT_UPLOAD_MAX_BYTES
    if upload.size is None or upload.size > max_bytes:
        raise ValidationError(
            _("“%(name)s” is too large: files are at most %(size)s.")
            % {"name": name, "size": filesizeformat(max_bytes)},
            code="file_too_large",
        )
    if upload.size == 0:
        raise ValidationError(
            _("“%(name)s” is empty.") % {"name": name}, code="empty_file"
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    image = _image(upload, name)
    if image is not None:
        return image
    for signature, content_type, extension in DOCUMENT_SIGNATURES:
        if head.startswith(signature):
            return Checked(upload, name, content_type, extension, upload.size)
    if _is_text(upload):
        return Checked(upload, name, *TEXT, upload.size)
    raise ValidationError(
        _(
            "“%(name)s” cannot be sent: send images (PNG, JPEG, GIF, WebP), "
            "PDF, ZIP or gzip archives, office documents or plain text."
        )
        % {"name": name},
        code="file_type",
    )


def _broken(name: str) -> ValidationError:
    return ValidationError(
        _("“%(name)s” looks like an image but cannot be read.") % {"name": name},
        code="invalid_image",
    )


def _image(upload: UploadedFile, name: str) -> Checked | None:
    """The upload as an image, with its thumbnail; None when it is none of
    the accepted formats (then it may be a document), ValidationError when
    it claims to be one and is broken, or too big to decode."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that;
            # our own, lower, limit is checked first, but make both refusals.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(IMAGE_FORMATS)) as image:
                return _thumbnailed(upload, name, image)
    except UnidentifiedImageError:
        return None
    except ValidationError:
        raise
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,  # truncated or corrupt data
        SyntaxError,  # Pillow's parsers raise it on malformed headers
        ValueError,
        EOFError,
    ) as error:
        raise _broken(name) from error
    finally:
        upload.seek(0)


def _thumbnailed(upload: UploadedFile, name: str, image: Image.Image) -> Checked:
    content_type, extension = IMAGE_FORMATS[image.format]
    width, height = image.size  # from the header: nothing decoded yet
    if width < 1 or height < 1:
        raise _broken(name)
    if width * height > settings.CHAT_UPLOAD_MAX_PIXELS:
        raise ValidationError(
            _("“%(name)s” has too many pixels: at most %(count)s million.")
            % {"name": name, "count": settings.CHAT_UPLOAD_MAX_PIXELS // 1_000_000},
            code="too_many_pixels",
        )
    image.load()  # the first frame of an animation: what the thumbnail shows
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in {"RGBA", "LA", "PA"} or (
        upright.mode == "P" and "transparency" in upright.info
    )
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    full_width, full_height = pixels.size
    pixels.thumbnail(settings.CHAT_THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    # Only the pixels go on: a fresh image carries no EXIF, ICC profile, XMP
    # or comment of the upload's (Pillow copies .info along otherwise).
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=85, method=4)
    return Checked(
        upload,
        name,
        content_type,
        extension,
        upload.size,
        width=full_width,
        height=full_height,
        thumbnail=out.getvalue(),
        thumb_width=clean.width,
        thumb_height=clean.height,
    )


def _is_text(upload: UploadedFile) -> bool:
    """UTF-8 throughout, with no control characters but tab, line feed,
    carriage return and form feed (a binary file has NULs, or bytes no
    UTF-8 sequence starts with, within its first few kilobytes)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    try:
        for chunk in upload.chunks(_CHUNK):
            if _NOT_TEXT.search(decoder.decode(chunk)):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        upload.seek(0)
    return True
