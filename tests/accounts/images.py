"""Pictures made in the test, as a browser would upload them."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (40, 30), colour="red", **save
) -> bytes:
    out = io.BytesIO()
    mode = "RGB" if fmt in {"JPEG", "BMP"} else "RGBA"
    Image.new(mode, size, colour).save(out, format=fmt, **save)
    return out.getvalue()


def upload(
    data: bytes, name: str = "me.png", content_type: str = "image/png"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_upload(**kwargs) -> SimpleUploadedFile:
    return upload(image_bytes("PNG", **kwargs))


def photo_on_its_side(size: tuple[int, int] = (200, 200)) -> bytes:
    """A JPEG, top half red and bottom half blue, whose EXIF says "rotate
    90° clockwise to view" (orientation 6), with a camera name."""
    width, height = size
    image = Image.new("RGB", size, "red")
    image.paste((0, 0, 255), (0, height // 2, width, height))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()
