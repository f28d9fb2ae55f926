"""{% avatar user %} and {{ user|display_name }}."""

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template

from accounts import selectors, services
from tests.accounts.images import png_upload

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template("{% load accounts_tags %}" + source).render(Context(context))


def test_initials_on_the_users_colour_without_a_profile(user, soup):
    html = render('{% avatar user size="md" %}', user=user)
    assert "<img" not in html
    assert ">A</span>" in html
    assert selectors.PALETTE[user.pk % len(selectors.PALETTE)] in html
    assert 'aria-hidden="true"' in html and "h-12 w-12" in html


def test_colours_differ_between_neighbours(make_user):
    colours = {selectors.avatar_of(make_user(f"user{i}")).colour for i in range(8)}
    assert len(colours) == 8


def test_the_uploaded_picture(user):
    profile = services.avatar_set(user=user, upload=png_upload())
    html = render("{% avatar user %}", user=user)
    name = profile.avatar.name.rsplit("/")[-1]
    assert f'src="/accounts/avatars/{user.pk}/{name}"' in html
    assert 'alt=""' in html and 'width="32" height="32"' in html


def test_no_query_with_the_profile_selected(user, make_user, django_assert_num_queries):
    services.avatar_set(user=user, upload=png_upload())
    services.profile_update(user=make_user("bob"), display_name="Bobby")
    make_user("carol")  # no profile at all
    users = list(get_user_model().objects.select_related("profile").order_by("pk"))
    with django_assert_num_queries(0):
        html = render(
            "{% for u in users %}{% avatar u %}{{ u|display_name }}{% endfor %}",
            users=users,
        )
    assert html.count("<img") == 1
    assert "<bdi>Bobby</bdi>" in html and "<bdi>carol</bdi>" in html


def test_display_name_is_escaped_and_isolated(user):
    services.profile_update(user=user, display_name="<b>Al</b>")
    user.refresh_from_db()
    assert render("{{ user|display_name }}", user=user) == (
        "<bdi>&lt;b&gt;Al&lt;/b&gt;</bdi>"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alice", "A"),
        ("Ada Lovelace", "AL"),
        ("ada_m_lovelace", "AL"),
        ("  ", "?"),
        ("@@@", "?"),
        ("élodie durand", "ÉD"),
        ("e\u0301lodie", "É"),  # a combining accent stays with its letter
        ("ßara", "ß"),  # upper case would make two letters
        ("山田 太郎", "山太"),
        ("مريم علي", "مع"),
        ("🎉 party", "🎉P"),
        ("👍🏽 yes", "👍🏽Y"),  # with its skin tone
        ("👩\u200d💻 dev", "👩\u200d💻D"),  # a joined emoji whole
        ("🇪🇸 fan", "🇪🇸F"),  # a flag: both letters
    ],
)
def test_initials(name, expected):
    assert selectors.initials(name) == expected
