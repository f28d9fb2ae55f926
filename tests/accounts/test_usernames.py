"""Signup refuses look-alikes of existing names, reserved names and
invisible formatting characters."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from accounts.models import UsernameSkeleton

pytestmark = pytest.mark.django_db

SIMILAR = "This username looks too much like an existing one."
RESERVED = "This username is reserved."
INVISIBLE = "Usernames cannot contain invisible formatting characters"


def signup(client, username):
    password = "x-Very-long-pw-9"
    return client.post(
        "/accounts/signup/",
        {"username": username, "password1": password, "password2": password},
    )


def error(response, soup) -> str:
    return soup(response).select_one("#id_username-error").get_text()


def test_a_new_name_signs_up(client):
    assert signup(client, "carol").status_code == 303
    assert UsernameSkeleton.objects.filter(user__username="carol").exists()


@pytest.mark.parametrize(
    "look_alike",
    [
        "\u0430lice",  # Cyrillic a
        "\u0410LICE",  # Cyrillic capital A; ALICE is Django's own check
        "a1ice",  # digit one
        "aIice",  # capital I, which casefolds to i but looks like l
        "\uff411ice",  # fullwidth a, which NFKC folds, and digit one
    ],
)
def test_a_look_alike_of_an_existing_name_is_refused(client, soup, user, look_alike):
    response = signup(client, look_alike)
    assert response.status_code == 400
    assert SIMILAR in error(response, soup)
    assert get_user_model().objects.count() == 1


def test_names_made_outside_signup_count_too(client, soup):
    get_user_model().objects.create_superuser("carol", password="pw")
    response = signup(client, "c\u0430rol")
    assert response.status_code == 400
    assert SIMILAR in error(response, soup)


def test_a_renamed_user_frees_the_old_name_and_holds_the_new(client, user):
    user.username = "alicia"
    user.save()
    assert signup(client, "\u0430licia").status_code == 400
    assert signup(client, "alice").status_code == 303


def test_a_deleted_user_frees_the_name(client, user):
    user.delete()
    assert signup(client, "\u0430lice").status_code == 303


def test_logins_do_not_rewrite_the_skeleton(client, user, django_assert_num_queries):
    from django.contrib.auth.models import update_last_login

    with django_assert_num_queries(1):  # the UPDATE of last_login alone
        update_last_login(None, user)


@pytest.mark.parametrize("name", ["Admin", "ROOT", "\u0430dmin", "rnoderator", "me"])
def test_reserved_names_are_refused(client, soup, name):
    response = signup(client, name)
    assert response.status_code == 400
    assert RESERVED in error(response, soup)
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    "mark",
    [
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\u2069",  # pop directional isolate
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        "\u200d",  # zero width joiner
        "\u3164",  # Hangul filler: a letter that draws nothing
    ],
)
def test_invisible_characters_are_refused_with_a_clear_message(client, soup, mark):
    response = signup(client, f"eve{mark}lyn")
    assert response.status_code == 400
    message = error(response, soup)
    assert INVISIBLE in message
    assert "Enter a valid username" not in message  # one clear message
    assert not get_user_model().objects.exists()


def test_django_s_own_validator_already_refuses_bidi_controls():
    """Our message is clearer, and does not depend on Django's pattern."""
    with pytest.raises(ValidationError):
        UnicodeUsernameValidator()("eve\u202elyn")


def test_a_look_alike_that_signs_up_meanwhile_is_refused_not_a_500(
    client, soup, user, monkeypatch
):
    """The form's check passed, then the look-alike's skeleton was taken by
    the time of the insert: the unique constraint decides."""
    from accounts.forms import SignupForm

    unchecked = lambda self: self.data["username"]  # noqa: E731
    monkeypatch.setattr(SignupForm, "clean_username", unchecked)
    response = signup(client, "\u0430lice")
    assert response.status_code == 400
    assert SIMILAR in error(response, soup)
    assert get_user_model().objects.count() == 1


def test_the_migration_fills_skeletons_of_existing_users(make_user):
    alice, look_alike = make_user("alice"), make_user("bob")
    # Users from before the check: a look-alike pair among them.
    get_user_model().objects.filter(pk=look_alike.pk).update(username="\u0430lice")
    UsernameSkeleton.objects.all().delete()
    migration = importlib.import_module("accounts.migrations.0001_initial")
    migration.fill_skeletons(apps, None)
    # One row per skeleton: the older user holds it, which protects the name.
    assert list(UsernameSkeleton.objects.values_list("user", flat=True)) == [alice.pk]
