"""Signup refuses look-alikes of existing names, reserved names and
invisible formatting characters."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from accounts.models import NameSkeleton

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
    assert NameSkeleton.objects.filter(user__username="carol").exists()


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
    NameSkeleton.objects.all().delete()
    migration = importlib.import_module("accounts.migrations.0001_initial")
    migration.fill_skeletons(RenamedSince(), None)
    # One row per skeleton: the older user holds it, which protects the name.
    assert list(NameSkeleton.objects.values_list("user", flat=True)) == [alice.pk]


class RenamedSince:
    """The models as 0001 named them: UsernameSkeleton is NameSkeleton now
    (0005), whose rows 0001 made are all of the username kind."""

    def get_model(self, app_label: str, model_name: str | None = None):
        if model_name == "UsernameSkeleton":
            model_name = "NameSkeleton"
        return apps.get_model(app_label, model_name)


# --- usernames and display names share one set of names ---


def test_a_username_like_someone_s_display_name_is_refused(
    client, soup, user, other_user
):
    from accounts import services

    services.profile_update(user=other_user, display_name="Carol")
    for look_alike in ("carol", "c\u0430rol", "CAROL"):
        response = signup(client, look_alike)
        assert response.status_code == 400
        assert SIMILAR in error(response, soup)
    services.profile_update(user=other_user, display_name="")  # free again
    assert signup(client, "carol").status_code == 303


def test_a_display_name_taken_during_signup_is_refused_not_a_500(
    client, soup, user, other_user, monkeypatch
):
    """The form's check passed, then the name became bob's display name by
    the time of the insert: the unique constraint decides."""
    from accounts import services
    from accounts.forms import SignupForm

    services.profile_update(user=other_user, display_name="Carol")
    unchecked = lambda self: self.data["username"]  # noqa: E731
    monkeypatch.setattr(SignupForm, "clean_username", unchecked)
    response = signup(client, "carol")
    assert response.status_code == 400
    assert SIMILAR in error(response, soup)
    assert not get_user_model().objects.filter(username="carol").exists()


def test_renamed_to_one_s_own_display_name_the_username_holds_it(client, user):
    from accounts import services

    services.profile_update(user=user, display_name="Alicia")
    user.username = "alicia"
    user.save()
    held = NameSkeleton.objects.filter(user=user)
    assert list(held.values_list("kind", flat=True)) == ["username"]
    services.profile_update(user=user, display_name="Ally")
    assert signup(client, "\u0430licia").status_code == 400  # still held
    assert held.count() == 2


def test_the_migration_keeps_existing_display_names(make_user):
    """Oldest first; a display name that looks like a username, or like an
    older display name, gets no row: the older row protects the name."""
    from accounts.models import Profile

    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    # Display names from before the check, one of them one's own username.
    for person, shown in (
        (alice, "ALICE"),
        (bob, "Alice"),
        (carol, "Zed"),
        (dave, "zed"),
    ):
        Profile.objects.create(user=person, display_name=shown)
    migration = importlib.import_module("accounts.migrations.0005_nameskeleton")
    migration.fill_display_names(apps, None)
    rows = NameSkeleton.objects.filter(kind=NameSkeleton.Kind.DISPLAY_NAME)
    assert list(rows.values_list("user", flat=True)) == [carol.pk]
