"""{% avatar user %}, {{ user|display_name }} and {{ user|handle }}: how a
user is drawn and named anywhere (accounts.selectors decides; the partial
draws)."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts import selectors

register = template.Library()


@register.inclusion_tag("accounts/partials/avatar.html")
def avatar(user, size: str = selectors.DEFAULT_SIZE) -> dict:
    """{% avatar user size="sm" %} (xs, sm, md, lg): the uploaded picture, or
    initials on a colour of the user's. Decorative: the name is printed
    beside it. No query for a user fetched with select_related("profile")."""
    return {"avatar": selectors.avatar_of(user, size)}


@register.filter
def display_name(user) -> SafeString:
    """The display name, else the username, escaped in <bdi>: it keeps its
    own direction without reordering the text around it."""
    return format_html("<bdi>{}</bdi>", selectors.name_of(user))


@register.filter
def display_name_text(user) -> str:
    """The display name, else the username, as plain text (escaped where it
    is printed): for attributes such as aria-label, where <bdi> cannot go."""
    return selectors.name_of(user)


@register.filter
def handle(user) -> str:
    """The "@bob" beside a display name, "" where the username is the name shown:
    print it wherever two people could be taken for each other."""
    return selectors.handle_of(user)
