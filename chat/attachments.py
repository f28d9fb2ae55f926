"""Files sent with a message, checked by their content before anything is
stored (chat.services.message_create stores what this accepts).

The policy, by what the bytes are (never the file's name or the type the
browser claims):

- PNG, JPEG, GIF and WebP that Pillow opens and decodes are images: shown
  inline as a thumbnail made here (turned upright by its EXIF orientation,
  at most CHAT_THUMBNAIL_SIZE, re-encoded as WebP with no metadata), the
  full picture a click away, served inline as what it is. The full picture
  stored is not the bytes sent but a clean copy made here: upright, in the
  format sent, at full size, every frame of an animation kept, and no
  metadata but the ICC colour profile (no EXIF with its GPS position and
  camera serial, no XMP, IPTC, comments or PNG text), since everyone in
  the room can open it. One that cannot be copied so within
  CHAT_UPLOAD_MAX_BYTES is refused rather than stored as sent. An
  animation of more than CHAT_UPLOAD_MAX_FRAMES frames, or whose frames
  together have more than CHAT_UPLOAD_MAX_PIXELS pixels, is refused before
  any is decoded (chat/frames.py counts them from the file's blocks).
- PDF, ZIP (which office documents are: docx, xlsx, odt…), gzip and UTF-8
  text are documents: a card with a download link, served only ever as an
  attachment. Text is anything that decodes as UTF-8 with no control
  characters but tabs, line and page breaks: HTML, SVG and scripts
  included, stored and served as text/plain, so never run or drawn.
- Anything else is refused, with the file's name and the reason.

A refused file stops the whole send: nothing is stored."""

import codecs
import io
import itertools
import re
import struct
import unicodedata
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import (
    ExifTags,
    Image,
    ImageOps,
    ImageSequence,
    JpegImagePlugin,
    UnidentifiedImageError,
)

from chat import frames

# Pillow's format name -> (content type, stored extension).
IMAGE_FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# A JPEG carrying more pictures after its own (a phone's depth or HDR gain
# map, a stereo pair) opens as MPO: it is a JPEG, and only its first
# picture is kept (the others hold metadata of their own).
_FORMAT_OF = {"MPO": "JPEG"}
# Lossy re-encodings (JPEG turned upright, lossy WebP): no visible loss.
CLEAN_QUALITY = 90
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
    """An accepted file: what is stored of it, and its thumbnail (images).
    `content`: the bytes stored instead of the upload's (an image's clean
    copy), None to store the upload as sent (documents); `size`, `width`
    and `height` describe what is stored."""

    upload: UploadedFile
    name: str
    content_type: str
    extension: str
    size: int
    content: bytes | None = None
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
    """The upload as an image, with its thumbnail and its clean copy; None
    when it is none of the accepted formats (then it may be a document),
    ValidationError when it claims to be one and is broken, or too big to
    decode or to store."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that;
            # our own, lower, limit is checked first, but make both refusals.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(IMAGE_FORMATS)) as image:
                return _prepared(upload, name, image)
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
        # Pillow's GIF reader on a block too short for what it says, met
        # when seeking to the frame after it.
        struct.error,
        IndexError,
    ) as error:
        raise _broken(name) from error
    finally:
        upload.seek(0)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or (
        image.mode in {"P", "L", "RGB"} and "transparency" in image.info
    )


def _prepared(upload: UploadedFile, name: str, image: Image.Image) -> Checked:
    """The image within the limits, with its thumbnail and the clean copy
    stored in its place."""
    fmt = _FORMAT_OF.get(image.format, image.format)
    content_type, extension = IMAGE_FORMATS[fmt]
    width, height = image.size  # from the header: nothing decoded yet
    if width < 1 or height < 1:
        raise _broken(name)
    max_pixels = settings.CHAT_UPLOAD_MAX_PIXELS
    if width * height > max_pixels:
        raise ValidationError(
            _("“%(name)s” has too many pixels: at most %(count)s million.")
            % {"name": name, "count": max_pixels // 1_000_000},
            code="too_many_pixels",
        )
    # The clean copy decodes every frame of an animation: they are counted
    # first, from the file's blocks (chat/frames.py), and all of them
    # together are held to the pixels one still picture may have.
    data = _read_all(upload)
    max_frames = settings.CHAT_UPLOAD_MAX_FRAMES
    extent = frames.extent(image, data, max_frames=max_frames, max_pixels=max_pixels)
    if extent.frames > max_frames:
        raise ValidationError(
            _("“%(name)s” has too many frames: at most %(count)s.")
            % {"name": name, "count": max_frames},
            code="too_many_frames",
        )
    if extent.pixels > max_pixels:
        raise _too_many_pixels_in_all(name, max_pixels)
    image.load()  # the first frame of an animation: what the thumbnail shows
    upright = ImageOps.exif_transpose(image)
    pixels = upright.convert("RGBA" if _has_alpha(upright) else "RGB")
    full_width, full_height = pixels.size
    pixels.thumbnail(settings.CHAT_THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    # Only the pixels go on: a fresh image carries no EXIF, ICC profile, XMP
    # or comment of the upload's (Pillow copies .info along otherwise).
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=85, method=4)
    content = _cleaned(data, name, image, upright, fmt, extent.frames)
    return Checked(
        upload,
        name,
        content_type,
        extension,
        len(content),
        content=content,
        width=full_width,
        height=full_height,
        thumbnail=out.getvalue(),
        thumb_width=clean.width,
        thumb_height=clean.height,
    )


def _read_all(upload: UploadedFile) -> bytes:
    """The upload's bytes (at most CHAT_UPLOAD_MAX_BYTES), leaving it where
    Pillow, which reads it too, left it."""
    position = upload.tell()
    upload.seek(0)
    data = upload.read()
    upload.seek(position)
    return data


def _too_many_pixels_in_all(name: str, max_pixels: int) -> ValidationError:
    return ValidationError(
        _(
            "“%(name)s” has too many pixels in all its frames: at most "
            "%(count)s million."
        )
        % {"name": name, "count": max_pixels // 1_000_000},
        code="too_many_pixels",
    )


def _cleaned(
    data: bytes,
    name: str,
    image: Image.Image,
    upright: Image.Image,
    fmt: str,
    count: int,
) -> bytes:
    """The picture to store instead of the upload (`data`): `upright` (its
    first frame, turned as its EXIF orientation says) and the animation's
    other `count` - 1 frames, in its format, with nothing of the upload's
    metadata but its ICC profile. Every image saved here has an emptied
    .info and is given what to write explicitly: Pillow's writers copy a
    comment, XMP or text from .info otherwise. ValidationError when it
    cannot be made or is too large: the upload itself is never stored."""
    keep: dict = {}
    if icc_profile := image.info.get("icc_profile"):
        keep["icc_profile"] = icc_profile  # colours, not personal: kept
    if fmt != "JPEG" and count > 1:
        pictures, keep = _animation(image, keep, name, count)
    else:
        pictures = [upright]
        if "transparency" in upright.info:
            keep["transparency"] = upright.info["transparency"]
    for picture in pictures:
        picture.info = {}
    out = io.BytesIO()
    try:
        if fmt == "JPEG":
            _save_jpeg(image, upright, out, keep)
        else:
            if fmt == "WEBP" and _webp_is_lossless(data):
                keep["lossless"] = True
            elif fmt == "WEBP":
                keep["quality"] = CLEAN_QUALITY
            # PNG and GIF are lossless: every pixel as sent.
            pictures[0].save(out, format=fmt, append_images=pictures[1:], **keep)
    # OverflowError: Pillow writes alike frames as one, their durations
    # added, which may be longer than a GIF's frame can last.
    except (OSError, ValueError, TypeError, OverflowError) as error:
        raise ValidationError(
            _(
                "“%(name)s” cannot be sent: it could not be copied without its "
                "metadata (such as where it was taken)."
            )
            % {"name": name},
            code="image_not_cleaned",
        ) from error
    content = out.getvalue()
    max_bytes = settings.CHAT_UPLOAD_MAX_BYTES
    if len(content) > max_bytes:
        raise ValidationError(
            _(
                "“%(name)s” is too large once copied without its metadata: "
                "files are at most %(size)s."
            )
            % {"name": name, "size": filesizeformat(max_bytes)},
            code="file_too_large",
        )
    return content


def _animation(
    image: Image.Image, keep: dict, name: str, count: int
) -> tuple[list[Image.Image], dict]:
    """Every frame of an animated PNG, GIF or WebP, as Pillow composes it
    (the whole picture at that moment), turned upright, all in one mode;
    and what the animation is saved with: each frame's duration, its loop
    count (a GIF without one plays once) and, for WebP, its background.
    No more than the `count` frames counted are read, nor more pixels than
    allowed, should Pillow ever read the file otherwise than chat.frames."""
    pictures, durations = [], []
    max_pixels, pixels = settings.CHAT_UPLOAD_MAX_PIXELS, 0
    for frame in itertools.islice(ImageSequence.Iterator(image), count):
        pixels += frame.width * frame.height  # its canvas, not yet decoded
        if pixels > max_pixels:
            raise _too_many_pixels_in_all(name, max_pixels)
        frame.load()  # a WebP frame's duration is known once it is decoded
        durations.append(frame.info.get("duration", 0))
        pictures.append(ImageOps.exif_transpose(frame))
    alpha = any(_has_alpha(picture) for picture in pictures)
    mode = "RGBA" if alpha else "RGB"
    pictures = [picture.convert(mode) for picture in pictures]
    keep = {**keep, "save_all": True, "duration": durations}
    if "loop" in image.info:
        keep["loop"] = image.info["loop"]
    if image.format == "WEBP" and "background" in image.info:
        keep["background"] = image.info["background"]
    if image.format == "GIF" and alpha:
        # The frames are whole pictures: each must replace the one before,
        # or what turned transparent would still show the frame before.
        keep["disposal"] = 2
    return pictures, keep


def _save_jpeg(
    image: Image.Image, upright: Image.Image, out: io.BytesIO, keep: dict
) -> None:
    """A JPEG that needs no turning is encoded again with its own
    quantisation tables and chroma subsampling (quality="keep"): the same
    blocks quantised the same way, it loses next to nothing and keeps its
    size. Pillow allows "keep" only when saving the decoded JPEG itself, not
    a turned copy; and turned, its 8x8 blocks are new ones, on which a table
    made for its rows would now apply to its columns. So a turned JPEG is
    encoded at CLEAN_QUALITY, keeping the original's subsampling (no
    colour detail halved that was not already)."""
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    if image.format == "JPEG" and orientation not in range(2, 9):
        image.info = {}  # Pillow's writer would copy its comment along
        image.save(out, format="JPEG", quality="keep", optimize=True, **keep)
        return
    upright.save(
        out,
        format="JPEG",
        quality=CLEAN_QUALITY,
        subsampling=JpegImagePlugin.get_sampling(image),
        optimize=True,
        **keep,
    )


def _webp_is_lossless(data: bytes) -> bool:
    """Whether a WebP's pictures are all lossless (VP8L chunks, no VP8 one),
    so that its clean copy is too: a sticker or a screenshot keeps every
    pixel, a lossy photo is not made many times larger."""
    kinds = frames.webp_chunks(data)  # its frames' chunks too, never recursing
    return b"VP8L" in kinds and b"VP8 " not in kinds


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
