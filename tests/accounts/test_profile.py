"""The settings page: display name, language, time zone, read receipts, and
the password; each a plain POST (303 once saved, 400 with inline errors)."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import services
from accounts.models import Profile
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SETTINGS = "/accounts/settings/"
PASSWORD_URL = "/accounts/password/"


def field_error(page, field_id: str) -> str:
    field = page.select_one(f"#{field_id}")
    assert field["aria-invalid"] == "true"
    error_id = field["aria-describedby"].split()[-1]
    return page.select_one(f"#{error_id}").get_text(strip=True)


def save(client, **fields):
    data = {"read_receipts": "on", "language": "", "time_zone": "", **fields}
    return client.post(SETTINGS, data)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Ada   Lovelace ", "Ada Lovelace"),
        ("", ""),
        ("مريم", "مريم"),
        ("山田 太郎", "山田 太郎"),
        ("Zoë 🎉", "Zoë 🎉"),
        ("x" * 50, "x" * 50),
    ],
)
def test_display_names_kept(typed, stored):
    assert services.clean_display_name(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "evil\u202etxt.exe",  # right-to-left override
        "a\u2066b",  # left-to-right isolate
        "zero\u200bwidth",  # zero-width space
        "join\u200dme",  # zero-width joiner
        "line\nbreak",
        "nul\x00here",
        "para\u2029graph",
        "\u3164",  # a Hangul filler: a blank name
        "x" * 51,
    ],
)
def test_display_names_refused(typed):
    with pytest.raises(ValidationError):
        services.clean_display_name(typed)


def test_saving_the_settings(client_for, user, soup):
    client = client_for(user, htmx=False)
    response = save(
        client,
        display_name=" Alice  A. ",
        language="es",
        time_zone="Europe/Madrid",
        read_receipts="",
    )
    assert response.status_code == 303 and response["Location"] == SETTINGS
    profile = Profile.objects.get(user=user)
    assert (profile.display_name, profile.language, profile.time_zone) == (
        "Alice A.",
        "es",
        "Europe/Madrid",
    )
    assert profile.read_receipts is False
    page = soup(client.get(SETTINGS))
    assert page.select_one("#notices").get_text(strip=True) == "Ajustes guardados."
    assert page.select_one("#id_display_name")["value"] == "Alice A."
    assert page.select_one("#id_language option[selected]")["value"] == "es"
    assert page.select_one("#id_time_zone option[selected]")["value"] == (
        "Europe/Madrid"
    )
    assert page.select_one("#settings-form input[name=read_receipts][checked]") is None


def test_a_refused_display_name_is_an_inline_error(client_for, user, soup):
    response = save(client_for(user, htmx=False), display_name="a\u202eb")
    assert response.status_code == 400
    assert "invisible or control characters" in field_error(
        soup(response), "id_display_name"
    )
    assert not Profile.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("field", "value"), [("language", "fr"), ("time_zone", "Mars/Olympus_Mons")]
)
def test_unknown_language_or_zone_is_an_inline_error(
    client_for, user, soup, field, value
):
    response = save(client_for(user, htmx=False), **{field: value})
    assert response.status_code == 400
    assert field_error(soup(response), f"id_{field}")


def test_the_service_refuses_what_the_form_would(user):
    with pytest.raises(ValidationError):
        services.profile_update(user=user, time_zone="Nowhere/Atall")
    with pytest.raises(ValidationError):
        services.profile_update(user=user, language="xx")
    assert not Profile.objects.filter(user=user).exists()


def test_profile_update_leaves_other_settings_alone(user):
    services.profile_update(user=user, display_name="Al", language="es")
    services.profile_update(user=user, read_receipts=False)
    profile = Profile.objects.get(user=user)
    assert (profile.display_name, profile.language) == ("Al", "es")


def test_each_change_of_how_others_see_one_counts_in_appearance(user):
    """The sidebar's version folds it in (chat.selectors.sidebar_version):
    it must move with the display name and the avatar, and only with them."""
    from tests.accounts.images import png_upload

    def appearance() -> int:
        return Profile.objects.get(user=user).appearance

    services.profile_update(user=user, language="es")
    assert appearance() == 0
    services.profile_update(user=user, display_name="Al")
    assert appearance() == 1
    services.profile_update(user=user, display_name="Al", read_receipts=False)
    assert appearance() == 1  # the same name again
    services.avatar_set(user=user, upload=png_upload())
    assert appearance() == 2
    services.avatar_remove(user=user)
    services.avatar_remove(user=user)  # nothing left to remove
    assert appearance() == 3


def test_the_page_offers_every_section(client_for, user, soup):
    page = soup(client_for(user, htmx=False).get(SETTINGS))
    assert page.select_one("#avatar-form")["enctype"] == "multipart/form-data"
    assert page.select_one("#avatar-form input[type=file][name=avatar]")
    assert page.select_one("#avatar-preview .avatar-initials")
    assert page.select_one("#avatar-remove-form") is None  # nothing to remove
    languages = [o["value"] for o in page.select("#id_language option")]
    assert languages == ["", "en", "es"]
    zones = [o["value"] for o in page.select("#id_time_zone option")]
    assert zones[0] == "" and "America/New_York" in zones
    for name in ("old_password", "new_password1", "new_password2"):
        assert page.select_one(f"#password-form input[type=password][name={name}]")
    for form in page.select("form[method=post]"):
        assert form.select_one("input[name=csrfmiddlewaretoken]")


def test_settings_need_a_login():
    response = Client().get(SETTINGS)
    assert response.status_code == 302


def test_password_change_keeps_this_session_and_ends_others(user, client_for, soup):
    client = client_for(user, htmx=False)
    elsewhere = client_for(user, htmx=False)
    new = "a-brand-new-passphrase-42"
    response = client.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 303
    page = client.get(SETTINGS)
    assert page.status_code == 200
    assert "Password changed." in soup(page).select_one("#notices").get_text()
    assert elsewhere.get(SETTINGS).status_code == 302  # logged out there
    user.refresh_from_db()
    assert not user.check_password(PASSWORD) and user.check_password(new)
    # The login form agrees.
    login = "/accounts/login/"
    assert (
        Client().post(login, {"username": "alice", "password": PASSWORD}).status_code
        == 200
    )
    assert (
        Client().post(login, {"username": "alice", "password": new}).status_code == 302
    )


def test_a_wrong_old_password_is_an_inline_error(user, client_for, soup):
    response = client_for(user, htmx=False).post(
        PASSWORD_URL,
        {"old_password": "nope", "new_password1": "x-y-z-123456", "new_password2": "x"},
    )
    assert response.status_code == 400
    page = soup(response)
    assert field_error(page, "id_old_password")
    assert field_error(page, "id_new_password2")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_wants_a_post(user, client_for):
    assert client_for(user, htmx=False).get(PASSWORD_URL).status_code == 405
