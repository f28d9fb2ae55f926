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
