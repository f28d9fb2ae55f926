"""Attachments: checked by their content, thumbnails and full pictures
made clean and upright, sent with or without text (with or without
script), served only to those who may read the room with headers that let
nothing run, drawn with no query per message, gone from storage with their
message."""

import functools
import gzip
import io
import json
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from PIL import (
    ExifTags,
    Image,
    ImageCms,
    ImageFile,
    ImageSequence,
    JpegImagePlugin,
    PngImagePlugin,
)

from chat import attachments, selectors, services
from chat.models import Attachment, Message
from tests.accounts.images import (
    gif_of_frames,
    image_bytes,
    photo_on_its_side,
    upload,
    webp_of_nested_frames,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
SCRIPT = b"<script>alert(document.cookie)</script>\n"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>\n'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 8


def send_url(room) -> str:
    return f"/rooms/{room.slug}/messages/"


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def png(name: str = "picture.png", **kwargs):
    return upload(image_bytes("PNG", **kwargs), name=name)


def send(room, author, *files, content: str = "") -> Message:
    return services.message_create(
        room=room, author=author, content=content, files=list(files)
    )


def stored() -> list[str]:
    """Every file in storage, under attachments/."""
    found = []

    def walk(folder: str) -> None:
        folders, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{name}" for name in files)
        for sub in folders:
            walk(f"{folder}/{sub}")

    if default_storage.exists("attachments"):
        walk("attachments")
    return sorted(found)


def opened(field) -> Image.Image:
    with default_storage.open(field.name, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def file_url(attachment: Attachment) -> str:
    room = attachment.message.room
    return f"/rooms/{room.slug}/files/{attachment.pk}/{attachment.name}"


def thumb_url(attachment: Attachment) -> str:
    room = attachment.message.room
    return f"/rooms/{room.slug}/files/{attachment.pk}/thumb/{attachment.thumb_name}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- What a file is: its content, never its name -----------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
    ],
)
def test_each_image_format_is_an_image_with_a_webp_thumbnail(
    room, user, fmt, content_type
):
    message = send(room, user, upload(image_bytes(fmt, size=(60, 40)), name="x"))
    attachment = message.attachments.get()
    assert attachment.content_type == content_type and attachment.is_image
    assert (attachment.width, attachment.height) == (60, 40)
    thumbnail = opened(attachment.thumbnail)
    assert thumbnail.format == "WEBP" and thumbnail.size == (60, 40)
    assert (attachment.thumb_width, attachment.thumb_height) == (60, 40)
    assert attachment.file.name.startswith(f"attachments/{room.pk}/")


def test_a_png_renamed_txt_is_an_image(room, user):
    renamed = upload(image_bytes("PNG"), name="notes.txt", content_type="text/plain")
    attachment = send(room, user, renamed).attachments.get()
    assert attachment.content_type == "image/png" and attachment.is_image
    assert attachment.name == "notes.txt"  # shown as sent
    assert attachment.file.name.endswith(".png")  # stored as what it is


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (PDF, "application/pdf"),
        (zip_bytes(), "application/zip"),
        (gzip.compress(b"log line\n" * 50), "application/gzip"),
        ("Grüße, naïve café ☕\r\n\ttabbed\n".encode(), "text/plain"),
    ],
)
def test_documents_are_known_by_their_content(room, user, data, content_type):
    sent = upload(data, name="whatever.bin", content_type="image/png")
    attachment = send(room, user, sent).attachments.get()
    assert attachment.content_type == content_type
    assert not attachment.is_image and not attachment.thumbnail
    assert attachment.size == len(data)


@pytest.mark.parametrize(
    ("data", "name"),
    [(SCRIPT, "cute-cat.png"), (HTML, "page.html"), (SVG, "logo.svg")],
)
def test_markup_and_scripts_are_text_never_images(room, user, data, name):
    sent = upload(data, name=name, content_type="image/png")
    attachment = send(room, user, sent).attachments.get()
    assert attachment.content_type == "text/plain"
    assert not attachment.is_image and not attachment.thumbnail


@pytest.mark.parametrize(
    "data",
    [EXE, b"\x00\x01\x02binary", b"\xff\xfe\xfd not utf-8", b"ok\x1b[31m"],
)
def test_other_files_are_refused_and_nothing_is_stored(room, user, data):
    with pytest.raises(ValidationError) as refused:
        send(room, user, png(), upload(data, name="setup.exe"), content="here")
    assert "“setup.exe” cannot be sent" in refused.value.messages[0]
    assert not Message.objects.filter(kind="message").exists()
    assert Attachment.objects.count() == 0 and stored() == []


def test_a_broken_image_is_refused(room, user):
    cut = image_bytes("JPEG", size=(200, 200), colour="blue")[:300]
    with pytest.raises(ValidationError, match="looks like an image but cannot be"):
        send(room, user, upload(cut, name="cut.jpg"))
    assert stored() == []


def test_too_many_pixels_is_refused(room, user, settings):
    settings.CHAT_UPLOAD_MAX_PIXELS = 100 * 100
    with pytest.raises(ValidationError, match="too many pixels"):
        send(room, user, png(size=(101, 100)))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header says it is width x height."""
    data = image_bytes("PNG", size=(1, 1))
    ihdr = struct.pack(">II", width, height) + data[24:29]
    chunk = b"IHDR" + ihdr
    return data[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


def test_a_decompression_bomb_is_a_400_in_the_form(htmx_client, room, settings, soup):
    settings.CHAT_UPLOAD_MAX_PIXELS = 10**12  # then Pillow's own limit
    bomb = upload(_png_claiming(100_000, 100_000), name="bomb.png")
    response = htmx_client.post(send_url(room), {"content": "", "files": [bomb]})
    assert response.status_code == 400
    error = soup(response).select_one("#send-error").get_text(strip=True)
    assert error == "“bomb.png” looks like an image but cannot be read."
    assert Attachment.objects.count() == 0 and stored() == []


def test_names_are_cleaned_of_paths_and_invisible_characters():
    assert attachments.clean_name("C:\\Users\\me\\invoice.pdf") == "invoice.pdf"
    assert attachments.clean_name("../../etc/passwd") == "passwd"
    assert attachments.clean_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert attachments.clean_name("a\x00b\nc.txt") == "abc.txt"
    assert attachments.clean_name("..") == "file"
    assert attachments.clean_name("") == "file"
    long = attachments.clean_name("x" * 400 + ".jpeg")
    assert len(long) == 255 and long.endswith(".jpeg")


# --- Thumbnails: upright, small, no metadata --------------------------------


def test_the_thumbnail_is_turned_upright_and_has_no_metadata(room, user):
    photo = photo_on_its_side(size=(300, 200))
    assert b"SecretCam" in photo
    attachment = send(room, user, upload(photo, name="p.jpg")).attachments.get()
    # Upright it is 200 wide and 300 high.
    assert (attachment.width, attachment.height) == (200, 300)
    thumbnail = opened(attachment.thumbnail)
    assert thumbnail.size == (200, 300)
    assert not thumbnail.getexif()
    pixels = thumbnail.convert("RGB")
    # Turned clockwise: the red top is now on the right, the blue on the left.
    left, right = pixels.getpixel((20, 150)), pixels.getpixel((180, 150))
    assert left[2] > 200 and left[0] < 60, left
    assert right[0] > 200 and right[2] < 60, right
    with default_storage.open(attachment.thumbnail.name, "rb") as handle:
        data = handle.read()
    assert b"SecretCam" not in data and b"Exif" not in data


@pytest.mark.parametrize(
    ("size", "thumb"),
    [
        ((3000, 1000), (1200, 400)),
        ((1000, 2000), (400, 800)),
        ((1200, 800), (1200, 800)),
        ((100, 50), (100, 50)),  # never enlarged
    ],
)
def test_the_thumbnail_is_at_most_1200_by_800_keeping_the_ratio(
    room, user, size, thumb
):
    attachment = send(room, user, png(size=size)).attachments.get()
    assert opened(attachment.thumbnail).size == thumb
    assert (attachment.thumb_width, attachment.thumb_height) == thumb
    assert (attachment.width, attachment.height) == size


def test_a_picture_is_drawn_fitted_in_480_by_320_keeping_the_ratio(
    htmx_client, room, user, soup
):
    """The <img> says the size it is drawn at, so nothing moves as it loads;
    its thumbnail has more pixels, for sharp screens."""
    wide = send(room, user, png(size=(3000, 1000)))
    tall = send(room, user, png(size=(300, 900)))
    for message, drawn in ((wide, ("480", "160")), (tall, ("107", "320"))):
        response = htmx_client.get(f"/rooms/{room.slug}/messages/{message.pk}/")
        thumb = soup(response).select_one("img.attachment-thumb")
        assert (thumb["width"], thumb["height"]) == drawn


# --- The full picture: a clean copy, never the bytes sent --------------------

SECRETS = (b"SecretCam", b"SN-0042-SECRET", b"secret comment", b"secret xmp")


def stored_bytes(field) -> bytes:
    with default_storage.open(field.name, "rb") as handle:
        return handle.read()


def reopened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _exif(orientation: int | None = None) -> bytes:
    """EXIF as a phone writes it: camera, serial number, where it was
    taken and, when given, how to turn the picture."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "SN-0042-SECRET"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 21.0, 8.0)
    return exif.tobytes()


@functools.cache  # the profile holds the time it was made: one for all
def _srgb() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _has_gps(data: bytes) -> bool:
    return bool(reopened(data).getexif().get_ifd(ExifTags.IFD.GPSInfo))


def assert_clean(data: bytes) -> Image.Image:
    image = reopened(data)
    assert not image.getexif()
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
    assert not any(secret in data for secret in SECRETS)
    return image


def test_a_photos_gps_and_camera_are_gone_and_it_is_stored_upright(
    room, user, client_for
):
    """300x200 as sent, a red top left corner on blue, and EXIF saying
    "turn 90° clockwise to view": stored 200x300, the red corner top right."""
    picture = Image.new("RGB", (300, 200), "blue")
    picture.paste((255, 0, 0), (0, 0, 60, 40))
    out = io.BytesIO()
    picture.save(
        out,
        format="JPEG",
        quality=95,
        exif=_exif(orientation=6),
        comment=b"secret comment",
        xmp=b"<x:xmpmeta>secret xmp</x:xmpmeta>",
        icc_profile=_srgb(),
    )
    photo = out.getvalue()
    assert _has_gps(photo) and all(secret in photo for secret in SECRETS)
    attachment = send(room, user, upload(photo, name="IMG_0001.jpg")).attachments.get()
    data = stored_bytes(attachment.file)
    image = assert_clean(data)
    assert b"Exif\x00\x00" not in data
    assert image.format == "JPEG" and image.size == (200, 300)
    assert image.info["icc_profile"] == _srgb()  # colours, not personal: kept
    pixels = image.convert("RGB")
    top_right, top_left = pixels.getpixel((185, 20)), pixels.getpixel((15, 20))
    assert top_right[0] > 200 and top_right[2] < 60, top_right
    assert top_left[2] > 200 and top_left[0] < 60, top_left
    bottom_right = pixels.getpixel((185, 280))
    assert bottom_right[2] > 200 and bottom_right[0] < 60, bottom_right
    # What is stored is what the row says, and what everyone is served.
    assert attachment.size == len(data)
    assert (attachment.width, attachment.height) == (200, 300)
    response = client_for(user, htmx=False).get(file_url(attachment))
    assert response["Content-Type"] == "image/jpeg"
    assert body(response) == data


def test_an_upright_jpeg_keeps_its_own_quality_but_no_metadata(room, user):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(
        out,
        format="JPEG",
        quality=70,
        subsampling=1,
        exif=_exif(),
        comment=b"secret comment",
    )
    photo = out.getvalue()
    attachment = send(room, user, upload(photo, name="p.jpg")).attachments.get()
    image = assert_clean(stored_bytes(attachment.file))
    sent = reopened(photo)
    # Encoded again with the same tables and subsampling ("keep").
    assert image.quantization == sent.quantization
    assert JpegImagePlugin.get_sampling(image) == 1
    assert (attachment.width, attachment.height) == (64, 48)


def test_a_pngs_text_and_exif_are_gone_its_pixels_and_colour_profile_kept(room, user):
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "SecretCam")
    text.add_text("Comment", "secret comment", zip=True)  # zTXt
    text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret xmp</x:xmpmeta>")
    picture = Image.new("RGBA", (40, 30), (255, 0, 0, 128))
    picture.paste((0, 0, 255, 0), (0, 0, 10, 10))
    out = io.BytesIO()
    picture.save(out, format="PNG", pnginfo=text, exif=_exif(), icc_profile=_srgb())
    sent = out.getvalue()
    assert all(chunk in sent for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"))
    attachment = send(room, user, upload(sent, name="a.png")).attachments.get()
    data = stored_bytes(attachment.file)
    image = assert_clean(data)
    assert image.text == {}
    assert not any(chunk in data for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"))
    assert image.info["icc_profile"] == _srgb()
    assert image.mode == "RGBA" and image.tobytes() == picture.tobytes()
    assert attachment.size == len(data)


def _frames(data: bytes) -> list[tuple[bytes, int]]:
    """Each frame as shown (RGBA pixels) and for how long."""
    image = Image.open(io.BytesIO(data))
    shown = []
    for frame in ImageSequence.Iterator(image):
        frame.load()
        shown.append((frame.convert("RGBA").tobytes(), frame.info["duration"]))
    return shown


def test_an_animated_gif_keeps_every_frame_its_timing_and_transparency(room, user):
    """Three frames, the second transparent where the first was red."""
    red = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    red.paste((255, 0, 0, 255), (0, 0, 20, 20))
    blue = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    blue.paste((0, 0, 255, 255), (20, 20, 40, 40))
    green = Image.new("RGBA", (40, 40), (0, 255, 0, 255))
    out = io.BytesIO()
    red.save(
        out,
        format="GIF",
        save_all=True,
        append_images=[blue, green],
        duration=[100, 200, 300],
        loop=0,
        disposal=2,
        comment=b"secret comment",
    )
    sent = out.getvalue()
    attachment = send(room, user, upload(sent, name="a.gif")).attachments.get()
    data = stored_bytes(attachment.file)
    image = assert_clean(data)
    assert image.format == "GIF" and image.n_frames == 3
    assert image.info["loop"] == 0
    assert _frames(data) == _frames(sent)
    assert [duration for _pixels, duration in _frames(data)] == [100, 200, 300]


@pytest.mark.parametrize("lossless", [True, False])
def test_a_webps_exif_and_xmp_are_gone_lossless_staying_lossless(room, user, lossless):
    picture = Image.new("RGBA", (40, 30), (255, 0, 0, 128))
    out = io.BytesIO()
    picture.save(
        out,
        format="WEBP",
        lossless=lossless,
        exif=_exif(),
        xmp=b"<x:xmpmeta>secret xmp</x:xmpmeta>",
        icc_profile=_srgb(),
    )
    sent = out.getvalue()
    assert _has_gps(sent)
    attachment = send(room, user, upload(sent, name="w.webp")).attachments.get()
    data = stored_bytes(attachment.file)
    image = assert_clean(data)
    assert b"EXIF" not in data and b"XMP " not in data
    assert image.format == "WEBP" and image.info["icc_profile"] == _srgb()
    assert (b"VP8L" in data) is lossless and (b"VP8 " in data) is not lossless
    if lossless:
        assert image.tobytes() == reopened(sent).tobytes()
    assert attachment.content_type == "image/webp" and attachment.size == len(data)


def test_an_animated_webp_is_turned_frame_by_frame_and_keeps_its_timing(room, user):
    first = Image.new("RGBA", (30, 20), (255, 0, 0, 255))
    first.paste((0, 255, 0, 255), (0, 0, 5, 5))  # the top left corner
    second = Image.new("RGBA", (30, 20), (0, 0, 255, 128))
    out = io.BytesIO()
    first.save(
        out,
        format="WEBP",
        save_all=True,
        append_images=[second],
        duration=[70, 90],
        loop=3,
        lossless=True,
        exif=_exif(orientation=6),
    )
    sent = out.getvalue()
    attachment = send(room, user, upload(sent, name="a.webp")).attachments.get()
    data = stored_bytes(attachment.file)
    image = assert_clean(data)
    assert image.n_frames == 2 and image.size == (20, 30) and image.info["loop"] == 3
    assert [duration for _pixels, duration in _frames(data)] == [70, 90]
    # Turned clockwise: the green corner is now the top right one.
    assert image.getpixel((17, 2)) == (0, 255, 0, 255)
    image.seek(1)
    assert image.size == (20, 30) and image.getpixel((0, 0)) == (0, 0, 255, 128)
    assert (attachment.width, attachment.height) == (20, 30)


def test_a_jpeg_carrying_more_pictures_is_stored_as_its_first(room, user):
    """A phone's JPEG with a depth or gain map after it opens as MPO."""
    out = io.BytesIO()
    Image.new("RGB", (50, 40), "red").save(
        out,
        format="MPO",
        save_all=True,
        append_images=[Image.new("RGB", (50, 40), "blue")],
        exif=_exif(),
    )
    sent = out.getvalue()
    attachment = send(room, user, upload(sent, name="m.jpg")).attachments.get()
    assert attachment.content_type == "image/jpeg" and attachment.is_image
    image = assert_clean(stored_bytes(attachment.file))
    assert image.format == "JPEG" and getattr(image, "n_frames", 1) == 1
    assert image.getpixel((25, 20))[0] > 200


def test_a_picture_too_large_once_cleaned_is_the_inline_400(
    htmx_client, room, settings, soup
):
    """A small, rough JPEG on its side: turned, it is encoded again at a
    better quality, and is larger than the upload was."""
    out = io.BytesIO()
    noise = Image.effect_noise((200, 150), 60).convert("RGB")
    noise.save(out, format="JPEG", quality=20, exif=_exif(orientation=6))
    sent = out.getvalue()
    settings.CHAT_UPLOAD_MAX_BYTES = len(sent)
    response = htmx_client.post(
        send_url(room), {"content": "", "files": [upload(sent, name="rough.jpg")]}
    )
    assert response.status_code == 400
    page = soup(response)
    error = page.select_one("#send-form #send-error").get_text(strip=True)
    assert error == (
        "“rough.jpg” is too large once copied without its metadata: files are "
        f"at most {filesizeformat(len(sent))}."
    )
    assert page.select_one("#send-files")["aria-invalid"] == "true"
    assert Attachment.objects.count() == 0 and stored() == []


def test_a_picture_that_cannot_be_copied_clean_is_refused_not_stored_as_sent(
    room, user, monkeypatch
):
    picture = png(name="shot.png")
    save = Image.Image.save

    def failing(image, fp, format=None, **params):
        if format == "PNG":
            raise OSError("encoder error -2")
        return save(image, fp, format, **params)

    monkeypatch.setattr(Image.Image, "save", failing)
    with pytest.raises(ValidationError) as refused:
        send(room, user, picture, content="look")
    assert refused.value.messages == [
        "“shot.png” cannot be sent: it could not be copied without its metadata "
        "(such as where it was taken)."
    ]
    assert not Message.objects.filter(kind="message").exists()
    assert stored() == []


def test_an_animation_is_held_to_the_pixels_of_one_picture_in_all(room, user, settings):
    frames = [Image.new("RGB", (30, 20), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    settings.CHAT_UPLOAD_MAX_PIXELS = 30 * 20 * 2 - 1
    with pytest.raises(ValidationError, match="too many pixels in all its frames"):
        send(room, user, upload(out.getvalue(), name="a.gif"))
    settings.CHAT_UPLOAD_MAX_PIXELS = 30 * 20 * 2
    assert send(room, user, upload(out.getvalue(), name="a.gif")).attachments.get()


def decoding(monkeypatch) -> list[str]:
    """The format of every frame Pillow decodes from now on."""
    decoded = []
    load = ImageFile.ImageFile.load

    def counted(image):
        decoded.append(image.format)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return decoded


def test_a_gif_of_100000_frames_is_refused_before_any_is_decoded(
    htmx_client, room, soup, monkeypatch
):
    """100,000 frames of one pixel in 2.3 MB, within the pixels allowed:
    decoding them took seconds and hundreds of megabytes (435,000 fit in
    10 MB). The frames are counted from the file's blocks first."""
    many = upload(gif_of_frames(100_000), name="many.gif")
    decoded = decoding(monkeypatch)
    response = htmx_client.post(send_url(room), {"content": "", "files": [many]})
    assert response.status_code == 400
    error = soup(response).select_one("#send-error").get_text(strip=True)
    assert error == "“many.gif” has too many frames: at most 500."
    assert decoded == []
    assert not Message.objects.filter(kind="message").exists()
    assert Attachment.objects.count() == 0 and stored() == []


def _animation(fmt: str, count: int) -> bytes:
    colours = ["red", "blue"] * count  # alike frames would be merged
    frames = [Image.new("RGB", (8, 6), colour) for colour in colours[:count]]
    out = io.BytesIO()
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:])
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_an_animation_may_have_at_most_the_frames_allowed(
    room, user, settings, monkeypatch, fmt
):
    settings.CHAT_UPLOAD_MAX_FRAMES = 3
    decoded = decoding(monkeypatch)
    with pytest.raises(ValidationError) as refused:
        send(room, user, upload(_animation(fmt, 4), name="four"))
    assert refused.value.messages == ["“four” has too many frames: at most 3."]
    assert decoded == [] and stored() == []
    attachment = send(room, user, upload(_animation(fmt, 3))).attachments.get()
    assert reopened(stored_bytes(attachment.file)).n_frames == 3


def _gif_growing(size: tuple[int, int]) -> bytes:
    """A GIF of a 1x1 canvas, its second frame `size` at 0,0: Pillow makes
    the canvas that large for that frame and every one after it."""
    out = io.BytesIO()
    Image.new("P", size, 0).save(out, format="GIF")
    big = out.getvalue()
    start = 13 + (3 << ((big[10] & 7) + 1))  # past the header and palette
    assert big[start : start + 1] == b","  # the image, nothing before it
    return gif_of_frames(1)[:-1] + big[start:]


def test_an_animations_pixels_count_the_canvas_its_frames_make(
    room, user, settings, monkeypatch
):
    """Not the first frame's size times the frames: a later frame may be
    larger, and the canvas grows to hold it."""
    growing = _gif_growing((100, 100))
    settings.CHAT_UPLOAD_MAX_PIXELS = 1 + 100 * 100 - 1
    decoded = decoding(monkeypatch)
    with pytest.raises(ValidationError, match="too many pixels in all its frames"):
        send(room, user, upload(growing, name="grows.gif"))
    assert decoded == [] and stored() == []
    settings.CHAT_UPLOAD_MAX_PIXELS = 1 + 100 * 100
    assert send(room, user, upload(growing, name="grows.gif")).attachments.get()


def test_a_webp_of_frames_nested_1500_deep_is_refused_not_a_500(
    htmx_client, room, soup
):
    deep = upload(webp_of_nested_frames(1500), name="deep.webp")
    response = htmx_client.post(send_url(room), {"content": "", "files": [deep]})
    assert response.status_code == 400
    error = soup(response).select_one("#send-error").get_text(strip=True)
    assert error == "“deep.webp” has too many frames: at most 500."
    assert Attachment.objects.count() == 0 and stored() == []


def test_frames_nested_deeper_than_python_recurses_are_read_without_recursing(
    room, user, settings
):
    """With a limit above its depth, what libwebp reads of it (one frame)
    is stored, its chunks walked to the innermost without recursing."""
    settings.CHAT_UPLOAD_MAX_FRAMES = 10_000
    deep = upload(webp_of_nested_frames(1500), name="deep.webp")
    attachment = send(room, user, deep).attachments.get()
    data = stored_bytes(attachment.file)
    assert reopened(data).format == "WEBP" and b"VP8L" in data  # still lossless


@pytest.mark.parametrize(
    "tail",
    [
        b",\x00\x00",  # an image's place, cut short
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x87\x00\x00",  # its palette, cut short
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x80" + b"\x00" * 6,  # no pixels
        b"!",  # an extension with no label
    ],
    ids=["place", "palette", "pixels", "extension"],
)
def test_a_gif_cut_short_after_its_frames_keeps_the_whole_ones(room, user, tail):
    """Pillow's own frame count raised struct.error or IndexError there: a
    500. The whole frames before the cut are kept."""
    cut = gif_of_frames(2)[:-1] + tail  # no trailer
    attachment = send(room, user, upload(cut, name="cut.gif")).attachments.get()
    assert reopened(stored_bytes(attachment.file)).n_frames == 2


@pytest.mark.parametrize(
    "control",
    [b"!\xf9\x01\x00\x00", b"!\xf9\x03\x01\x00\x00\x00"],
    ids=["no duration", "no transparent colour"],
)
def test_a_gif_whose_later_frame_pillow_cannot_read_is_refused_not_a_500(
    room, user, control
):
    """A frame's control block too short for what it says: Pillow's reader
    raises struct.error or IndexError on it, not OSError."""
    frame = gif_of_frames(1)[13 + 6 : -1]  # past the header and palette
    broken = gif_of_frames(2)[:-1] + control + frame + b";"
    with pytest.raises(ValidationError, match="looks like an image but cannot be"):
        send(room, user, upload(broken, name="broken.gif"))
    assert stored() == []


def test_alike_frames_too_long_together_for_a_gif_are_refused_not_a_500(room, user):
    """Pillow writes alike frames as one, their durations added: two of
    655.35 s are longer than a GIF frame may last (OverflowError)."""
    frames = gif_of_frames(1, delay=65535)[:-1]
    frame = frames[13 + 6 :]  # past the header and palette
    long = upload(frames + frame + b";", name="long.gif")
    with pytest.raises(ValidationError) as refused:
        send(room, user, long)
    assert refused.value.messages == [
        "“long.gif” cannot be sent: it could not be copied without its metadata "
        "(such as where it was taken)."
    ]
    assert stored() == []


# --- Sending --------------------------------------------------------------------


def test_the_send_form_posts_multipart_with_a_labelled_file_input(
    auth_client, room, soup
):
    form = soup(auth_client.get(f"/rooms/{room.slug}/")).select_one("#send-form")
    assert form["enctype"] == "multipart/form-data"
    assert form["hx-encoding"] == "multipart/form-data"
    field = form.select_one("input#send-files[type=file][name=files]")
    assert field is not None and field.has_attr("multiple")
    assert form.select_one("label[for=send-files]").get_text(strip=True)
    assert form["hx-indicator"] == "#send-busy"
    assert form.select_one("#send-busy") is not None
    assert "input[name='files']" in form["hx-disabled-elt"]
    # Queued behind polls, never replacing one (see the htmx notes).
    assert form["hx-sync"] == "#messages:queue first"


def test_a_message_of_files_alone_is_sent_and_drawn(htmx_client, room, user, soup):
    pdf = upload(PDF, name="notes.pdf", content_type="application/pdf")
    response = htmx_client.post(
        send_url(room), {"content": "", "files": [png(size=(80, 60)), pdf]}
    )
    assert response.status_code == 200
    message = Message.objects.get(kind="message")
    assert message.content == "" and message.attachment_count == 2
    page = soup(response)
    article = page.select_one(f"#message-{message.pk}")
    image, card = article.select(".attachments > li")
    [picture] = Attachment.objects.filter(content_type="image/png")
    link = image.select_one("a.attachment-image")
    assert link["href"] == file_url(picture)
    thumb = link.select_one("img.attachment-thumb")
    assert thumb["src"] == thumb_url(picture)
    assert (thumb["width"], thumb["height"]) == ("80", "60")
    assert thumb["alt"] == "picture.png"
    assert card.select_one(".attachment-file .attachment-name").get_text() == (
        "notes.pdf"
    )
    assert card.select_one(".attachment-size").get_text() == f"{len(PDF)}\xa0bytes"
    assert card.select_one(".attachment-type").get_text() == "PDF document"
    # The form comes back empty, ready for the next message.
    assert page.select_one("#send-form")["hx-swap-oob"] == "true"


def test_a_plain_multipart_post_sends_and_redirects_303(auth_client, room):
    response = auth_client.post(send_url(room), {"content": "look", "files": [png()]})
    assert response.status_code == 303
    assert response["Location"] == f"/rooms/{room.slug}/"
    assert Message.objects.get(content="look").attachments.count() == 1


def test_nothing_and_no_files_is_still_the_blank_error(htmx_client, room, soup):
    response = htmx_client.post(send_url(room), {"content": " ", "files": []})
    assert response.status_code == 400
    error = soup(response).select_one("#send-error").get_text(strip=True)
    assert error == "Type a message before sending."


def test_a_refused_file_is_the_inline_400_with_htmx(htmx_client, room, settings, soup):
    settings.CHAT_UPLOAD_MAX_BYTES = 1000
    big = image_bytes("PNG", size=(200, 200), colour=None, compress_level=0)
    assert len(big) > 1000
    response = htmx_client.post(
        send_url(room),
        {"content": "see this", "after": 0, "files": [upload(big, name="big.png")]},
    )
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#send-form"
    assert response["HX-Reswap"] == "outerHTML"
    page = soup(response)
    error = page.select_one("#send-form #send-error").get_text(strip=True)
    assert error == "“big.png” is too large: files are at most 1000\xa0bytes."
    field = page.select_one("#send-files")
    assert field["aria-invalid"] == "true"
    assert field["aria-describedby"] == "send-error"
    # What was typed stays; nothing was stored.
    assert page.select_one("#send-content")["value"] == "see this"
    assert page.select("#poller") == []
    assert not Message.objects.filter(kind="message").exists()
    assert stored() == []


def test_a_refused_file_is_the_room_page_with_the_error_without_script(
    auth_client, room, soup
):
    response = auth_client.post(
        send_url(room), {"content": "", "files": [upload(EXE, name="setup.exe")]}
    )
    assert response.status_code == 400
    page = soup(response)
    assert page.select_one("#messages") is not None
    error = page.select_one("#send-form #send-error").get_text(strip=True)
    assert error.startswith("“setup.exe” cannot be sent")
    assert Attachment.objects.count() == 0 and stored() == []


def test_too_many_files_are_refused(htmx_client, room, settings, soup):
    settings.CHAT_UPLOAD_MAX_FILES = 2
    response = htmx_client.post(
        send_url(room), {"content": "", "files": [png(), png(), png()]}
    )
    assert response.status_code == 400
    error = soup(response).select_one("#send-error").get_text(strip=True)
    assert error == "Send at most 2 files with one message."
    assert stored() == []


def test_files_stored_for_a_message_that_fails_are_deleted(room, user, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Attachment.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        send(room, user, png(), upload(PDF, name="a.pdf"))
    assert stored() == []
    assert not Message.objects.filter(kind="message").exists()


# --- Serving ------------------------------------------------------------------


def test_an_image_is_served_inline_with_headers_that_let_nothing_run(
    room, user, client_for
):
    attachment = send(room, user, png(name="cat.png")).attachments.get()
    response = client_for(user, htmx=False).get(file_url(attachment))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="cat.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy
    assert response["Cache-Control"].startswith("private")
    assert body(response).startswith(b"\x89PNG")
    thumb = client_for(user, htmx=False).get(thumb_url(attachment))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    assert thumb["Content-Disposition"] == 'inline; filename="cat.webp"'
    assert thumb["Content-Security-Policy"] == policy
    assert body(thumb).startswith(b"RIFF")


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (HTML, "page.html", "text/plain; charset=utf-8"),
        (SVG, "logo.svg", "text/plain; charset=utf-8"),
        (SCRIPT, "cute-cat.png", "text/plain; charset=utf-8"),
        (PDF, "notes.pdf", "application/pdf"),
    ],
)
def test_everything_else_is_only_ever_a_download(
    room, user, client_for, data, name, content_type
):
    attachment = send(room, user, upload(data, name=name)).attachments.get()
    response = client_for(user, htmx=False).get(file_url(attachment))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert body(response) == data
    # No thumbnail to ask for.
    no_thumb = f"/rooms/{room.slug}/files/{attachment.pk}/thumb/x.webp"
    assert client_for(user, htmx=False).get(no_thumb).status_code == 404


def test_a_non_ascii_name_is_a_safe_header(room, user, client_for):
    attachment = send(room, user, png(name='naïve "quote".png')).attachments.get()
    response = client_for(user, htmx=False).get(file_url(attachment))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; filename*=utf-8''")
    assert '"quote"' not in disposition and "\n" not in disposition


@pytest.fixture
def private_file(user, make_user):
    """alice's picture in a private room she shares with bob."""
    room = services.room_create(name="Inner", created_by=user, is_private=True)
    bob = make_user("bob")
    room.members.add(bob)
    return send(room, user, png()).attachments.get(), bob


def test_a_private_rooms_file_is_404_to_outsiders_even_with_the_url(
    private_file, make_user, client_for
):
    attachment, bob = private_file
    outsider = client_for(make_user("eve"), htmx=False)
    for url in (file_url(attachment), thumb_url(attachment)):
        assert client_for(bob, htmx=False).get(url).status_code == 200
        assert outsider.get(url).status_code == 404


def test_a_member_who_leaves_loses_the_files(private_file, client_for):
    attachment, bob = private_file
    services.room_leave(room=attachment.message.room, user=bob)
    assert client_for(bob, htmx=False).get(file_url(attachment)).status_code == 404


def test_a_direct_conversations_file_is_404_to_a_third_person(
    user, other_user, make_user, client_for
):
    room = services.direct_room_get_or_create(user=user, other=other_user)
    attachment = send(room, user, upload(PDF, name="a.pdf")).attachments.get()
    partner = client_for(other_user, htmx=False)
    assert partner.get(file_url(attachment)).status_code == 200
    third = client_for(make_user("carol"), htmx=False)
    assert third.get(file_url(attachment)).status_code == 404


def test_a_file_under_another_room_or_name_is_404(room, make_room, user, client_for):
    attachment = send(room, user, png()).attachments.get()
    client = client_for(user, htmx=False)
    other = make_room("Other")
    for url in (
        f"/rooms/{other.slug}/files/{attachment.pk}/picture.png",
        f"/rooms/{room.slug}/files/{attachment.pk}/other.png",
        f"/rooms/{room.slug}/files/999999/picture.png",
    ):
        assert client.get(url).status_code == 404, url


def test_serving_needs_a_login(room, user, client):
    attachment = send(room, user, png()).attachments.get()
    response = client.get(file_url(attachment))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_only_get(room, user, client_for):
    attachment = send(room, user, png()).attachments.get()
    assert client_for(user, htmx=False).post(file_url(attachment)).status_code == 405


# --- Deleting: rows and files, once committed ----------------------------------


def test_deleting_the_message_deletes_its_files_once_committed(
    room, user, client_for, django_capture_on_commit_callbacks
):
    message = send(room, user, png(), upload(PDF, name="a.pdf"), content="two")
    [picture, pdf] = message.attachments.all()
    files = stored()
    assert len(files) == 3  # the picture, its thumbnail, the PDF
    with django_capture_on_commit_callbacks() as callbacks:
        services.message_delete(message=message, deleter=user)
        # Not before the commit: a rolled back delete keeps them.
        assert stored() == files
    for callback in callbacks:
        callback()
    assert stored() == []
    assert Attachment.objects.count() == 0
    message.refresh_from_db()
    assert message.attachment_count == 0
    client = client_for(user, htmx=False)
    assert client.get(file_url(picture)).status_code == 404
    assert client.get(file_url(pdf)).status_code == 404


def test_a_rolled_back_delete_keeps_the_files(
    room, user, django_capture_on_commit_callbacks
):
    send(room, user, png())
    files = stored()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        room.delete()
        raise RuntimeError("changed my mind")
    assert stored() == files and Attachment.objects.count() == 1


def test_deleting_a_room_deletes_its_files(
    room, user, django_capture_on_commit_callbacks
):
    send(room, user, png(), upload(PDF, name="a.pdf"))
    assert stored()
    with django_capture_on_commit_callbacks(execute=True):
        room.delete()
    assert stored() == []


def test_deleting_a_user_deletes_their_files(
    room, user, other_user, django_capture_on_commit_callbacks
):
    send(room, other_user, png())
    mine = send(room, user, upload(PDF, name="mine.pdf")).attachments.get()
    with django_capture_on_commit_callbacks(execute=True):
        other_user.delete()
    assert stored() == [mine.file.name]


# --- Drawing: prefetched, no query per message ------------------------------


def test_a_deleted_message_shows_no_attachments(htmx_client, room, user, soup):
    message = send(room, user, png(), content="oops")
    services.message_delete(message=message, deleter=user)
    response = htmx_client.get(f"/rooms/{room.slug}/messages/{message.pk}/")
    article = soup(response).select_one(f"#message-{message.pk}")
    assert article["data-kind"] == "deleted"
    assert article.select(".attachments") == []


def test_a_poll_draws_attachments_with_no_query_per_message(
    room, user, other_user, make_messages, django_assert_num_queries
):
    """The messages of a batch and, for those with attachments, all their
    attachments in one more query; drawing asks nothing."""
    start = make_messages(room, 1)[0]
    sent = [
        send(room, other_user, png(), upload(PDF, name=f"{i}.pdf"), content=f"{i}")
        for i in range(4)
    ]
    make_messages(room, 2)  # plain ones between: no attachments, no query
    room.refresh_from_db()
    with django_assert_num_queries(2):  # the messages, then every attachment
        changes = selectors.page_changes(
            room=room, after=start.id, since=start.seq, start=0, newest=room.seq
        )
    assert sent[0] in changes.new
    context = {
        "room": room,
        "viewer_id": user.pk,
        "viewer_name": "alice",
        "viewer_moderates": False,
        "message_list": changes.new,
        "changed_list": [],
    }
    with django_assert_num_queries(0):
        html = render_to_string("chat/partials/changes.html", context)
    assert html.count('class="attachment-thumb') == 4
    assert html.count("attachment-file") == 4


def test_a_delivering_poll_costs_as_much_for_one_message_with_files_as_for_four(
    room, user, other_user, client_for, soup
):
    services.room_join(room=room, user=other_user)
    client = client_for(user)

    def poll(sending: int) -> int:
        room.refresh_from_db()
        after = room.messages.order_by("-id").values_list("id", flat=True).first()
        url = f"/rooms/{room.slug}/messages/?after={after}&seq={room.seq}"
        for i in range(sending):
            send(room, other_user, png(), upload(PDF, name="a.pdf"), content=f"{i}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert len(soup(response).select("img.attachment-thumb")) == sending
        return len(queries)

    assert poll(1) == poll(4)


def test_a_batch_without_attachments_asks_nothing_more(
    room, make_messages, django_assert_num_queries
):
    said = make_messages(room, 3)
    room.refresh_from_db()
    with django_assert_num_queries(1):
        selectors.page_changes(
            room=room, after=0, since=said[0].seq - 1, start=0, newest=room.seq
        )


def test_the_other_user_gets_the_picture_with_their_next_poll(
    room, user, other_user, client_for, poller_url, soup
):
    services.room_join(room=room, user=other_user)
    bob = client_for(other_user)
    url = poller_url(bob, room)
    message = send(room, user, png(), content="look")
    response = bob.get(url)
    assert response.status_code == 200
    article = soup(response).select_one(f"#message-{message.pk}")
    attachment = message.attachments.get()
    assert article.select_one("img.attachment-thumb")["src"] == thumb_url(attachment)


def test_a_reply_to_files_alone_quotes_them_as_attachments(
    htmx_client, room, user, other_user, soup
):
    files_only = send(room, other_user, png())
    reply = services.message_create(
        room=room, author=user, content="nice", reply_to=files_only
    )
    response = htmx_client.get(f"/rooms/{room.slug}/messages/{reply.pk}/")
    quote = soup(response).select_one(".reply-quote")
    assert "attachments" in quote.get_text()


# --- The API ---------------------------------------------------------------------


def api_url(room) -> str:
    return f"/api/rooms/{room.slug}/messages/"


def test_the_api_sends_files_with_a_multipart_post(auth_client, room, user):
    response = auth_client.post(
        api_url(room),
        {
            "content": "from the app",
            "files": [png(size=(30, 20)), upload(PDF, name="a.pdf")],
        },
    )
    assert response.status_code == 201
    data = response.json()
    picture, pdf = data["attachments"]
    found = Attachment.objects.get(pk=picture["id"])
    assert picture == {
        "id": found.pk,
        "name": "picture.png",
        "content_type": "image/png",
        "size": found.size,
        "url": file_url(found),
        "thumb_url": thumb_url(found),
        "width": 30,
        "height": 20,
        "thumb_width": 30,
        "thumb_height": 20,
    }
    assert pdf["content_type"] == "application/pdf" and pdf["thumb_url"] is None
    assert pdf["width"] is None and pdf["size"] == len(PDF)
    assert auth_client.get(pdf["url"]).status_code == 200


def test_the_api_lists_attachments_in_every_read(auth_client, room, user):
    with_files = send(room, user, png(), content="pic")
    plain = services.message_create(room=room, author=user, content="plain")
    for query in ("", "?after=0", "?since=0"):
        messages = auth_client.get(api_url(room) + query).json()["messages"]
        by_id = {m["id"]: m for m in messages}
        assert [a["name"] for a in by_id[with_files.pk]["attachments"]] == [
            "picture.png"
        ]
        assert by_id[plain.pk]["attachments"] == []
    one = auth_client.get(f"{api_url(room)}{with_files.pk}/").json()
    assert len(one["attachments"]) == 1


def test_the_api_refuses_a_bad_file_with_json(auth_client, room):
    response = auth_client.post(
        api_url(room), {"content": "", "files": [upload(EXE, name="setup.exe")]}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("“setup.exe” cannot be sent")
    assert stored() == []


def test_the_api_still_refuses_a_blank_json_message(auth_client, room):
    response = auth_client.post(
        api_url(room), json.dumps({"content": ""}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Type a message before sending."


def test_a_deleted_message_lists_no_attachments_in_the_api(auth_client, room, user):
    message = send(room, user, png())
    response = auth_client.delete(f"{api_url(room)}{message.pk}/")
    assert response.status_code == 200 and response.json()["attachments"] == []


def test_the_admin_shows_a_messages_files_and_deletes_them_with_it(
    room, user, admin_client, django_capture_on_commit_callbacks
):
    message = send(room, user, png(name="board.png"), content="see")
    url = f"/admin/chat/message/{message.pk}/change/"
    assert "board.png" in admin_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/chat/message/{message.pk}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    assert Attachment.objects.count() == 0 and stored() == []


def test_the_drawn_links_serve_a_name_of_any_characters(htmx_client, room, user, soup):
    name = "été 50% #1? a&b.png"
    message = send(room, user, png(name=name), upload(PDF, name=f"{name}.pdf"))
    page = soup(htmx_client.get(f"/rooms/{room.slug}/messages/{message.pk}/"))
    links = [
        page.select_one(".attachment-image")["href"],
        page.select_one(".attachment-thumb")["src"],
        page.select_one(".attachment-file")["href"],
    ]
    for link in links:
        assert "#" not in link and "?" not in link, link
        assert htmx_client.get(link).status_code == 200, link
