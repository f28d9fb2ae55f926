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


# --- display names no one could take for someone else ---

SIMILAR_NAME = "looks too much like the name of someone else"
RESERVED_NAME = "cannot be or contain a reserved word"
INVISIBLE_NAME = "invisible or control characters"
BLANK_NAME = "at least one visible letter, digit or symbol"

DOUBLE_STRUCK_ALICE = "\U0001d552\U0001d55d\U0001d55a\U0001d554\U0001d556"
FRAKTUR_SYSTEM = "\U0001d530\U0001d536\U0001d530\U0001d531\U0001d522\U0001d52a"


def display_name_of(user) -> str:
    profile = Profile.objects.filter(user=user).first()
    return profile.display_name if profile else ""


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("alice", SIMILAR_NAME),  # another user's username
        ("\u0430lice", SIMILAR_NAME),  # with a Cyrillic a
        (DOUBLE_STRUCK_ALICE, SIMILAR_NAME),
        (" ALICE ", SIMILAR_NAME),
        ("a1ice", SIMILAR_NAME),
        ("alice\ufe0f", SIMILAR_NAME),  # a variation selector draws nothing
        ("system", RESERVED_NAME),
        ("admin (staff)", RESERVED_NAME),
        ("Alice [Moderator]", RESERVED_NAME),
        (FRAKTUR_SYSTEM, RESERVED_NAME),
        ("everyone (all)", RESERVED_NAME),
        ("\u2800", INVISIBLE_NAME),  # the Braille blank
        ("alice\u2800", INVISIBLE_NAME),
        ("\u0301\ufe0f", BLANK_NAME),  # a lone accent and a variation selector
    ],
)
def test_a_display_name_others_could_take_for_someone_else_is_refused(
    client_for, user, other_user, soup, typed, reason
):
    """bob may not show himself as alice, the site, or nothing at all."""
    response = save(client_for(other_user, htmx=False), display_name=typed)
    assert response.status_code == 400
    assert reason in field_error(soup(response), "id_display_name")
    assert display_name_of(other_user) == ""


def test_a_look_alike_of_another_display_name_is_refused(
    client_for, user, other_user, soup
):
    services.profile_update(user=user, display_name="Ada Lovelace")
    for typed in ("ada lovelace", "Ad\u0430  Lovelace"):  # Cyrillic a, two spaces
        response = save(client_for(other_user, htmx=False), display_name=typed)
        assert response.status_code == 400
        assert SIMILAR_NAME in field_error(soup(response), "id_display_name")
    assert display_name_of(other_user) == ""


def test_one_s_own_username_is_one_s_own_to_show(client_for, user, other_user):
    """alice may be "Alice" (or "\u0430lice"); bob may not."""
    for typed in ("Alice", "\u0430lice", "alice"):
        assert save(client_for(user, htmx=False), display_name=typed).status_code == 303
        assert display_name_of(user) == typed
    assert (
        save(client_for(other_user, htmx=False), display_name="Alice").status_code
        == 400
    )


def test_a_display_name_once_changed_or_cleared_is_free_again(user, other_user):
    services.profile_update(user=user, display_name="Ada")
    with pytest.raises(ValidationError):
        services.profile_update(user=other_user, display_name="ADA")
    services.profile_update(user=user, display_name="Ada L.")
    services.profile_update(user=other_user, display_name="ADA")
    with pytest.raises(ValidationError):
        services.profile_update(user=user, display_name="\u0430da")
    services.profile_update(user=other_user, display_name="")
    services.profile_update(user=user, display_name="\u0430da")
    assert display_name_of(user) == "\u0430da"


def test_a_look_alike_taken_meanwhile_is_refused_not_a_500(
    client_for, user, other_user, soup, monkeypatch
):
    """The form's check passed, then someone else took a look-alike by the
    time of the write: the unique digest decides, and nothing is saved."""
    services.profile_update(user=user, display_name="Ada Lovelace")
    monkeypatch.setattr(
        services.usernames, "keys_to_check", lambda name: set()
    )  # the checks see no one
    response = save(client_for(other_user, htmx=False), display_name="ADA LOVELACE")
    assert response.status_code == 400
    assert SIMILAR_NAME in field_error(soup(response), "id_display_name")
    assert display_name_of(other_user) == ""


def test_role_words_are_refused_anywhere_other_reserved_words_only_alone(user):
    for refused in ("Support", "Alice - support", "Sys Admin", "me", "here!"):
        with pytest.raises(ValidationError):
            services.clean_display_name(refused)
    for kept in ("Call me Al", "Here & There", "Help Desk", "Amanda Root"):
        assert services.clean_display_name(kept) == kept
