"""chat.frames counts an animation's frames and pixels as Pillow would
decode them, without decoding: for any GIF made of any blocks, the count is
Pillow's own (where Pillow can count), reading the frames counted raises
nothing a refusal does not catch, and the pixels are those of the canvases
Pillow draws them on."""

import io
import itertools
import struct
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageSequence

from chat import frames
from tests.accounts.images import gif_of_frames, webp_of_nested_frames

MAX_PIXELS = 10**6
SCREEN = b"GIF89a" + struct.pack("<HHBBB", 2, 2, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"


def sub_blocks(blocks: list[bytes]) -> bytes:
    return b"".join(bytes([len(block)]) + block for block in blocks)


WHOLE = [b"\x02\x44\x01\x00", b"\x01\x44\x01\x01\x00"]  # in one sub-block, in two


def image(place, palette: bool, pixels: bytes) -> bytes:
    return (
        b","
        + struct.pack("<HHHHB", *place, 0x80 if palette else 0)
        + (b"\0" * 6 if palette else b"")
        + b"\x02"  # the LZW code size
        + pixels
    )


# One pixel (the pixels given), anywhere from 0,0 to 3,3: past the 2x2 canvas
# too, which Pillow then makes larger.
PLACE = st.tuples(st.integers(0, 3), st.integers(0, 3), st.just(1), st.just(1))
IMAGE = st.builds(
    image,
    PLACE,
    st.booleans(),
    # Mostly whole pixels; none; cut short.
    st.sampled_from([*WHOLE * 4, b"\x00", b"\x02D"]),
)
EXTENSION = st.builds(
    lambda label, blocks, ended: (
        b"!"
        + bytes([label])
        + sub_blocks(blocks)
        # Pillow reads on past an extension's empty first sub-block.
        + (b"\0" if ended else b"")
    ),
    st.sampled_from([0xF9, 0xFE, 0xFF, 0x01, ord(","), ord("!")]),
    st.lists(st.binary(min_size=1, max_size=4), max_size=3),
    st.booleans(),
)
BLOCK = st.one_of(
    IMAGE,
    EXTENSION,
    st.sampled_from(
        [
            b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00",  # the loop count
            b"!\xff\x0bNETSCAPE2.0\x00",  # Pillow reads one more sub-block
            b"!\xf9\x00",
            b"!",
        ]
    ),
    st.binary(max_size=3),  # bytes between blocks, which Pillow skips
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.builds(image, PLACE, st.booleans(), st.sampled_from(WHOLE)),
    blocks=st.lists(BLOCK, max_size=10),
    trailer=st.booleans(),
)
def test_a_gifs_frames_and_pixels_are_pillows(first, blocks, trailer):
    data = SCREEN + first + b"".join(blocks) + (b";" if trailer else b"")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            image = Image.open(io.BytesIO(data))
        except Exception:  # not a GIF to Pillow: never counted
            return
        counted = frames.extent(image, data, max_frames=100, max_pixels=MAX_PIXELS)
        if counted.pixels > MAX_PIXELS:
            return  # refused before anything is decoded: counting stopped
        try:
            expected = Image.open(io.BytesIO(data)).n_frames
        except Exception:  # Pillow's count fails on a cut image
            expected = None
        else:
            assert counted.frames == expected
        # The frames counted, and no more, are what the clean copy reads.
        canvases = []
        try:
            for frame in itertools.islice(
                ImageSequence.Iterator(image), counted.frames
            ):
                canvases.append(frame.width * frame.height)
                frame.load()
        except (OSError, ValueError, struct.error, IndexError):
            return  # blocks or pixels Pillow cannot read (a 400)
        assert len(canvases) == counted.frames
        assert sum(canvases) == counted.pixels


def test_counting_stops_past_the_limit():
    many = gif_of_frames(100_000)
    image = Image.open(io.BytesIO(many))
    assert frames.extent(image, many, max_frames=500) == frames.Extent(501, 501)
    assert frames.extent(image, many, max_frames=10**6).frames == 100_000


def test_a_webps_frames_are_its_anmf_chunks_at_any_depth():
    out = io.BytesIO()
    pictures = [Image.new("RGB", (3, 2), colour) for colour in ("red", "blue") * 3]
    pictures[0].save(out, format="WEBP", save_all=True, append_images=pictures[1:])
    six = out.getvalue()
    image = Image.open(io.BytesIO(six))
    assert frames.extent(image, six, max_frames=10) == frames.Extent(6, 6 * 3 * 2)
    deep = webp_of_nested_frames(1500)
    assert frames.webp_chunks(deep)[b"ANMF"] == 1500
    assert frames.webp_chunks(deep, max_frames=500)[b"ANMF"] == 501
