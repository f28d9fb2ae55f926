"""How many frames a picture holds and how many pixels decoding them all
makes, read from the file's own structure without decoding anything, so
that a picture past the limits is refused before Pillow decodes a frame
(chat/attachments.py, accounts/avatars.py).

Pillow is no help for a GIF: the format states no frame count, and
Image.n_frames seeks through every frame, a Python loop over the whole
file (a 10 MB GIF can hold 435,000 frames of one pixel). Here the GIF's
blocks are skipped by their lengths, as Pillow reads them, and counting
stops as soon as a limit is passed: the refusal costs a few hundred blocks
whatever the file holds. A PNG states its frame count (APNG's acTL chunk,
read when Pillow opens it) and Pillow decodes no more than that; a WebP's
frames are its ANMF chunks, counted here wherever they are (a frame inside
a frame is not WebP, but counts: the walk is iterative, bounded by the
file's length, and never recurses). Every frame of an animation is decoded
as a whole picture, the size of its canvas."""

import re
import struct
from collections import Counter
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class Extent:
    """What decoding every frame of a picture makes: `frames` pictures of
    `pixels` pixels in all. Counted only until a limit was passed: then at
    least one of them is past its limit, and the file may hold more."""

    frames: int
    pixels: int


def extent(
    image: Image.Image,
    data: bytes,
    *,
    max_frames: int,
    max_pixels: int | None = None,
) -> Extent:
    """The frames and pixels of `image`, just opened by Pillow from `data`
    (nothing decoded yet), counted until past `max_frames` or `max_pixels`
    (None: frames only)."""
    width, height = image.size
    if image.format == "GIF":
        return _gif(data, max_frames, max_pixels)
    if image.format == "WEBP":
        anmf = webp_chunks(data, max_frames=max_frames)[b"ANMF"]
        frames = max(anmf, getattr(image, "n_frames", 1))  # libwebp's count
    elif image.format == "PNG":
        frames = getattr(image, "n_frames", 1)  # an APNG's stated count
    else:  # JPEG (MPO too): only its first picture is ever decoded
        frames = 1
    return Extent(frames, frames * width * height)


# --- GIF ----------------------------------------------------------------------

# Between blocks Pillow skips any byte but these: an extension, an image, the
# trailer.
_EXTENSION, _IMAGE, _TRAILER = 0x21, 0x2C, 0x3B
_GIF_BLOCK = re.compile(rb"[!,;]")
_COMMENT, _APPLICATION = 0xFE, 0xFF
_SCREEN = struct.Struct("<HHB")  # the canvas's width and height, its flags
_DESCRIPTOR = struct.Struct("<HHHHB")  # an image's left, top, width, height, flags


def _gif(data: bytes, max_frames: int, max_pixels: int | None) -> Extent:
    """Pillow's GifImagePlugin._seek, block by block, reading only lengths.
    A frame placed past the canvas makes the canvas larger, for it and every
    frame after it, as Pillow does."""
    width, height, flags = _SCREEN.unpack_from(data, 6)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # global palette
    end = len(data)
    frames = pixels = 0
    while frames <= max_frames and (max_pixels is None or pixels <= max_pixels):
        if pos < end and data[pos] not in (_EXTENSION, _IMAGE, _TRAILER):
            found = _GIF_BLOCK.search(data, pos)
            pos = found.start() if found else end
        if pos >= end or data[pos] == _TRAILER:
            break
        pos += 1
        if data[pos - 1] == _EXTENSION:
            pos = _past_extension(data, pos, first_frame=frames == 0)
            continue
        if pos + _DESCRIPTOR.size > end:
            break  # cut short: Pillow reads no image there
        left, top, frame_width, frame_height, frame_flags = _DESCRIPTOR.unpack_from(
            data, pos
        )
        pos += _DESCRIPTOR.size
        if frame_flags & 0x80:  # its own palette
            pos += 3 << ((frame_flags & 7) + 1)
        if pos >= end:
            break  # no LZW code size: cut short too
        pos = _past_sub_blocks(data, pos + 1)  # the LZW code size, the pixels
        width, height = max(width, left + frame_width), max(height, top + frame_height)
        frames += 1
        pixels += width * height
    return Extent(frames, pixels)


def _sub_block(data: bytes, pos: int) -> tuple[int, int]:
    """The length of the sub-block at `pos` (0: the terminator, or the end)
    and where the next begins, as GifImageFile.data() reads it."""
    if pos >= len(data):
        return 0, pos
    return data[pos], pos + 1 + data[pos]


def _past_sub_blocks(data: bytes, pos: int) -> int:
    """Past the sub-blocks from `pos` and the terminator that ends them (at
    least one read), as `while self.data(): pass` in Pillow's reader."""
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += 1 + size
        if not size:
            break
    return pos


def _past_extension(data: bytes, pos: int, *, first_frame: bool) -> int:
    """Past the extension whose label is at `pos`, exactly as Pillow reads
    it: its first sub-block, for the first frame's NETSCAPE2.0 application
    extension one more, then sub-blocks up to a terminator, reading at least
    one more (so past an empty first sub-block, Pillow reads on). A comment
    is read up to its terminator alone."""
    if pos >= len(data):
        return pos
    label = data[pos]
    size, pos = _sub_block(data, pos + 1)
    if label == _COMMENT:
        return _past_sub_blocks(data, pos) if size else pos
    if (
        label == _APPLICATION
        and first_frame
        and size
        and data.startswith(b"NETSCAPE2.0", pos - size, pos)
    ):
        _size, pos = _sub_block(data, pos)  # the loop count
    return _past_sub_blocks(data, pos)


# --- WebP ---------------------------------------------------------------------

_CHUNK = struct.Struct("<4sI")  # a chunk's kind and size


def webp_chunks(data: bytes, *, max_frames: int | None = None) -> Counter[bytes]:
    """How many chunks of each kind a WebP holds, those inside its frames
    (ANMF) included, at any depth; counting stops past `max_frames` ANMF.
    Iterative: a file of frames nested a thousand deep costs as much as one
    of a thousand frames."""
    kinds: dict[bytes, int] = {}
    header = _CHUNK.unpack_from
    pending = [(12, len(data))]  # after "RIFF", its size, "WEBP"
    while pending:
        start, end = pending.pop()
        while start + 8 <= end:
            kind, size = header(data, start)
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind == b"ANMF":  # a frame: 16 bytes of its place, then chunks
                if max_frames is not None and kinds[kind] > max_frames:
                    return Counter(kinds)
                pending.append((start + 24, min(start + 8 + size, end)))
            start += 8 + size + (size & 1)
    return Counter(kinds)
