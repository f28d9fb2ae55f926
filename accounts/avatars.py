"""An uploaded picture made into an avatar: checked by its content, turned
upright, cropped to a centred square, 256x256, re-encoded as WebP with no
metadata. Nothing of the upload but its pixels reaches the stored file.

The format is Pillow's reading of the bytes, never the file's name or the
type the browser claims; the size, the pixel count and an animation's frame
count are checked before anything is decoded (a small file can claim to be
a huge picture, or hold a hundred thousand frames). An animation's first
frame is its avatar."""

import io
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from chat import frames

SIZE = 256  # pixels, each side
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
EXTENSION = "webp"
CONTENT_TYPE = "image/webp"


def _refusal() -> ValidationError:
    return ValidationError(
        _("Upload a PNG, JPEG, GIF or WebP image."), code="invalid_image"
    )


def normalise(upload: UploadedFile) -> bytes:
    """The avatar's WebP bytes, or ValidationError saying what is wrong."""
    max_bytes = settings.ACCOUNTS_AVATAR_MAX_BYTES
    if upload.size is None or upload.size > max_bytes:
        raise ValidationError(
            _("The image is too large: at most %(size)s.")
            % {"size": filesizeformat(max_bytes)},
            code="file_too_large",
        )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:  # the declared size was wrong
        raise ValidationError(
            _("The image is too large: at most %(size)s.")
            % {"size": filesizeformat(max_bytes)},
            code="file_too_large",
        )
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that;
            # our own, lower, limit is checked below, but make both refusals.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _encode(data)
    except ValidationError:
        raise
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        UnidentifiedImageError,
        OSError,  # truncated or corrupt data
        SyntaxError,  # Pillow's parsers raise it on malformed headers
        ValueError,
        EOFError,
    ) as error:
        raise _refusal() from error


def _encode(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS)) as image:
        if image.format not in ACCEPTED_FORMATS:
            raise _refusal()
        width, height = image.size  # from the header: nothing decoded yet
        if width < 1 or height < 1:
            raise _refusal()
        if width * height > settings.ACCOUNTS_AVATAR_MAX_PIXELS:
            raise ValidationError(
                _("The image has too many pixels: at most %(count)s million.")
                % {"count": settings.ACCOUNTS_AVATAR_MAX_PIXELS // 1_000_000},
                code="too_many_pixels",
            )
        # Only the first frame is decoded; an animation's frames are still
        # counted (from its blocks, up to the limit), as an attachment's are.
        max_frames = settings.ACCOUNTS_AVATAR_MAX_FRAMES
        if frames.extent(image, data, max_frames=max_frames).frames > max_frames:
            raise ValidationError(
                _("The image has too many frames: at most %(count)s.")
                % {"count": max_frames},
                code="too_many_frames",
            )
        image.load()  # the first frame of an animation
        upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in {"RGBA", "LA", "PA"} or (
        upright.mode == "P" and "transparency" in upright.info
    )
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    square = ImageOps.fit(pixels, (SIZE, SIZE), method=Image.Resampling.LANCZOS)
    # Only the pixels go on: a fresh image carries no EXIF, ICC profile, XMP
    # or comment of the upload's (Pillow copies .info along otherwise).
    clean = Image.frombytes(square.mode, square.size, square.tobytes())
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()
