"""Pictures made in the test, as a browser would upload them."""

import io
import struct

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


def gif_of_frames(count: int, delay: int = 0) -> bytes:
    """A 1x1 GIF of `count` frames, black and white in turn, written block by
    block: 23 bytes a frame, so 100,000 in 2.3 MB (Pillow's writer would
    take long, and merge frames that are alike). `delay` in hundredths of a
    second."""
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)  # a palette of two colours
    palette = b"\x00\x00\x00\xff\xff\xff"
    control = b"!\xf9\x04\x00" + struct.pack("<H", delay) + b"\x00\x00"
    place = b",\x00\x00\x00\x00\x01\x00\x01\x00\x00"  # at 0,0, 1x1
    # LZW, 2-bit codes: clear, the colour's index, end.
    black, white = b"\x02\x02\x44\x01\x00", b"\x02\x02\x4c\x01\x00"
    pair = control + place + black + control + place + white
    frames = pair * (count // 2) + (control + place + black) * (count % 2)
    return b"GIF89a" + screen + palette + frames + b";"


def webp_chunk(kind: bytes, payload: bytes) -> bytes:
    padding = b"\x00" * (len(payload) & 1)
    return kind + struct.pack("<I", len(payload)) + payload + padding


def webp_of_nested_frames(depth: int) -> bytes:
    """A 1x1 animated WebP whose one frame (ANMF chunk) holds a frame, which
    holds a frame… `depth` deep, the picture in the innermost: 24 bytes a
    level. libwebp reads one frame."""
    out = io.BytesIO()
    red, blue = Image.new("RGBA", (1, 1), "red"), Image.new("RGBA", (1, 1), "blue")
    red.save(out, format="WEBP", save_all=True, append_images=[blue], lossless=True)
    data, chunks, pos = out.getvalue(), [], 12
    while pos + 8 <= len(data):
        size = struct.unpack_from("<I", data, pos + 4)[0]
        chunks.append((data[pos : pos + 4], data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    frame = next(payload for kind, payload in chunks if kind == b"ANMF")
    place = frame[:16]  # where the frame goes and for how long
    for _level in range(depth - 1):
        frame = place + webp_chunk(b"ANMF", frame)
    body = b"WEBP" + b"".join(
        webp_chunk(kind, payload) for kind, payload in chunks if kind != b"ANMF"
    )
    body += webp_chunk(b"ANMF", frame)
    return b"RIFF" + struct.pack("<I", len(body)) + body
