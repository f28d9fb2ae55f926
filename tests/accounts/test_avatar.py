"""Avatars: checked by content, turned upright, 256x256 WebP with no metadata,
stored under a new name each time, served to logged-in users only."""

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from accounts import services
from accounts.models import Profile
from tests.accounts.images import (
    gif_of_frames,
    image_bytes,
    photo_on_its_side,
    png_upload,
    upload,
    webp_of_nested_frames,
)

pytestmark = pytest.mark.django_db

UPLOAD = "/accounts/settings/avatar/"
REMOVE = "/accounts/settings/avatar/remove/"


def stored_image(profile: Profile) -> Image.Image:
    with default_storage.open(profile.avatar.name, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def avatar_error(soup, response) -> str:
    page = soup(response)
    field = page.select_one("#avatar-form input[type=file][name=avatar]")
    assert field["aria-invalid"] == "true"
    error_id = field["aria-describedby"].split()[-1]
    return page.select_one(f"#{error_id}").get_text(strip=True)


def test_upload_makes_a_256_square_webp(client_for, user, soup):
    client = client_for(user, htmx=False)
    response = client.post(UPLOAD, {"avatar": png_upload(size=(300, 120))})
    assert response.status_code == 303 and response["Location"] == "/accounts/settings/"
    profile = Profile.objects.get(user=user)
    image = stored_image(profile)
    assert image.format == "WEBP" and image.size == (256, 256)
    assert profile.avatar.name.startswith(f"avatars/{user.pk}/")
    assert profile.avatar.name.endswith(".webp")
    page = soup(client.get("/accounts/settings/"))
    assert "Picture saved." in page.select_one("#notices").get_text()
    assert page.select_one("#avatar-preview img")["src"].endswith(
        profile.avatar.name.rsplit("/", 1)[1]
    )
    assert page.select_one("#avatar-remove-form button") is not None


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_each_accepted_format(user, fmt):
    profile = services.avatar_set(user=user, upload=upload(image_bytes(fmt)))
    assert stored_image(profile).size == (256, 256)


def test_type_comes_from_the_content_not_the_name(user, client_for, soup):
    # A PNG called .txt and sent as text: a PNG all the same.
    renamed = upload(image_bytes("PNG"), name="notes.txt", content_type="text/plain")
    profile = services.avatar_set(user=user, upload=renamed)
    assert stored_image(profile).format == "WEBP"
    # A script called .png and sent as image/png: refused, nothing changes.
    script = upload(b"<script>alert(1)</script>\n" * 10, name="me.png")
    client = client_for(user, htmx=False)
    response = client.post(UPLOAD, {"avatar": script})
    assert response.status_code == 400
    assert avatar_error(soup, response) == "Upload a PNG, JPEG, GIF or WebP image."
    assert Profile.objects.get(user=user).avatar.name == profile.avatar.name
    assert default_storage.exists(profile.avatar.name)


def test_other_image_formats_are_refused(user):
    bmp = upload(image_bytes("BMP"), name="me.png")
    with pytest.raises(services.ValidationError):
        services.avatar_set(user=user, upload=bmp)
    assert not Profile.objects.filter(user=user).exclude(avatar="").exists()


def test_too_many_bytes_is_refused_before_reading(user, client_for, soup, settings):
    settings.ACCOUNTS_AVATAR_MAX_BYTES = 1000
    big = image_bytes("PNG", size=(200, 200), colour=None, compress_level=0)
    assert len(big) > 1000
    response = client_for(user, htmx=False).post(UPLOAD, {"avatar": upload(big)})
    assert response.status_code == 400
    assert avatar_error(soup, response).startswith("The image is too large")
    assert list(default_storage.listdir("")[0]) == []  # nothing stored


def test_too_many_pixels_is_refused(user, client_for, soup, settings):
    settings.ACCOUNTS_AVATAR_MAX_PIXELS = 100 * 100
    response = client_for(user, htmx=False).post(
        UPLOAD, {"avatar": png_upload(size=(101, 100))}
    )
    assert response.status_code == 400
    assert avatar_error(soup, response).startswith("The image has too many pixels")


@pytest.mark.parametrize(
    "data",
    [gif_of_frames(80_000), webp_of_nested_frames(1500)],  # under 2 MB
    ids=["80000 frames", "1500 nested frames"],
)
def test_an_animation_of_too_many_frames_is_refused(user, client_for, soup, data):
    """An avatar is an animation's first frame; the frames are counted all
    the same, before anything is decoded, as an attachment's are."""
    response = client_for(user, htmx=False).post(UPLOAD, {"avatar": upload(data)})
    assert response.status_code == 400
    assert avatar_error(soup, response) == "The image has too many frames: at most 500."
    assert not Profile.objects.filter(user=user).exclude(avatar="").exists()
    assert list(default_storage.listdir("")[0]) == []  # nothing stored


def test_the_frames_allowed_are_a_setting(user, settings):
    settings.ACCOUNTS_AVATAR_MAX_FRAMES = 3
    with pytest.raises(services.ValidationError, match="too many frames: at most 3"):
        services.avatar_set(user=user, upload=upload(gif_of_frames(4)))
    profile = services.avatar_set(user=user, upload=upload(gif_of_frames(3)))
    assert stored_image(profile).size == (256, 256)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header says it is width x height: a decompression
    bomb as far as Pillow's own check goes."""
    data = image_bytes("PNG", size=(1, 1))
    ihdr = struct.pack(">II", width, height) + data[24:29]
    chunk = b"IHDR" + ihdr
    return data[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


def test_a_decompression_bomb_is_a_form_error(user, client_for, soup, settings):
    settings.ACCOUNTS_AVATAR_MAX_PIXELS = 10**12  # Pillow's own limit then
    bomb = upload(_png_claiming(100_000, 100_000))
    response = client_for(user, htmx=False).post(UPLOAD, {"avatar": bomb})
    assert response.status_code == 400
    assert avatar_error(soup, response) == "Upload a PNG, JPEG, GIF or WebP image."


def test_truncated_image_is_a_form_error(user, client_for, soup):
    cut = image_bytes("JPEG", size=(200, 200), colour="blue")[:300]
    response = client_for(user, htmx=False).post(UPLOAD, {"avatar": upload(cut)})
    assert response.status_code == 400


def test_no_file_is_a_form_error(user, client_for, soup):
    response = client_for(user, htmx=False).post(UPLOAD, {})
    assert response.status_code == 400
    assert avatar_error(soup, response) == "Choose a picture to upload."


def test_exif_orientation_is_applied_and_metadata_dropped(user):
    photo = photo_on_its_side()
    assert b"SecretCam" in photo
    profile = services.avatar_set(user=user, upload=upload(photo, name="p.jpg"))
    image = stored_image(profile).convert("RGB")
    # Turned clockwise: the red top is now on the right, the blue on the left.
    left, right = image.getpixel((30, 128)), image.getpixel((226, 128))
    assert left[2] > 200 and left[0] < 60, left
    assert right[0] > 200 and right[2] < 60, right
    assert not stored_image(profile).getexif()
    with default_storage.open(profile.avatar.name, "rb") as handle:
        stored = handle.read()
    assert b"SecretCam" not in stored and b"Exif" not in stored


def test_replacing_deletes_the_old_file_and_changes_the_name(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.avatar_set(user=user, upload=png_upload()).avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        second = services.avatar_set(user=user, upload=png_upload()).avatar.name
    assert first != second
    assert not default_storage.exists(first) and default_storage.exists(second)


def test_remove_deletes_the_file(
    user, client_for, soup, django_capture_on_commit_callbacks
):
    name = services.avatar_set(user=user, upload=png_upload()).avatar.name
    client = client_for(user, htmx=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REMOVE)
    assert response.status_code == 303
    assert Profile.objects.get(user=user).avatar.name == ""
    assert not default_storage.exists(name)
    page = soup(client.get("/accounts/settings/"))
    assert page.select_one("#avatar-preview img") is None
    assert page.select_one("#avatar-preview .avatar-initials").get_text() == "A"
    assert page.select_one("#avatar-remove-form") is None


def test_remove_and_upload_want_a_post(user, client_for):
    client = client_for(user, htmx=False)
    assert client.get(REMOVE).status_code == 405
    assert client.get(UPLOAD).status_code == 405


def _url(profile: Profile) -> str:
    return f"/accounts/avatars/{profile.user_id}/{profile.avatar.name.rsplit('/')[-1]}"


def test_served_with_safe_headers_to_any_logged_in_user(user, other_user, client_for):
    profile = services.avatar_set(user=user, upload=png_upload())
    response = client_for(other_user, htmx=False).get(_url(profile))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "max-age=31536000" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"RIFF")


def test_serving_needs_a_login(user):
    profile = services.avatar_set(user=user, upload=png_upload())
    response = Client().get(_url(profile))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_unknown_and_old_names_are_404(user, other_user, client_for):
    client = client_for(other_user, htmx=False)
    assert client.get(f"/accounts/avatars/{user.pk}/nothing.webp").status_code == 404
    old = services.avatar_set(user=user, upload=png_upload())
    old_url = _url(old)
    services.avatar_set(user=user, upload=png_upload())
    assert client.get(old_url).status_code == 404
    # Someone else's name under this user's id.
    theirs = services.avatar_set(user=other_user, upload=png_upload())
    name = theirs.avatar.name.rsplit("/")[-1]
    assert client.get(f"/accounts/avatars/{user.pk}/{name}").status_code == 404
