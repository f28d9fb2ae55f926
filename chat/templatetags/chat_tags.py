import re

from django import template
from django.utils.html import escape, format_html, urlize
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_TAG = re.compile(r"(<[^>]+>)")
_MENTION = re.compile(r"(?<![\w@&#])@([\w.@+-]+)")


def _field(message, name: str):
    # A Message, or a plain dict of sample data in the pattern library.
    if isinstance(message, dict):
        return message.get(name, "")
    return getattr(message, name)


@register.filter
def message_html(message) -> SafeString:
    """A message's text as HTML: escaped, links made clickable (opening in a
    new tab, no referrer power), @mentions of real users highlighted, line
    breaks kept. Nothing else the author typed is interpreted."""
    html = urlize(_field(message, "content"), nofollow=True, autoescape=True)
    html = html.replace(' rel="nofollow">', ' rel="nofollow noopener" target="_blank">')
    known = set(_field(message, "mentions") or ())
    if known:
        html = _highlight_mentions(html, known)
    return mark_safe(html.replace("\n", "<br>"))


def _highlight_mentions(html: str, known: set[str]) -> str:
    def mark(match: re.Match) -> str:
        name = match.group(1).rstrip(".")
        if name not in known:
            return match.group(0)
        rest = match.group(1)[len(name) :]
        return f'<strong class="mention">@{escape(name)}</strong>{rest}'

    out, inside_link = [], False
    # Only plain text between tags is searched, never attributes or link text.
    for part in _TAG.split(html):
        if part.startswith("<"):
            inside_link = part.startswith("<a ") or (inside_link and part != "</a>")
            out.append(part)
        else:
            out.append(part if inside_link else _MENTION.sub(mark, part))
    return "".join(out)


@register.filter
def bdi(value) -> SafeString | list[SafeString]:
    """`value`, or each name of a list, escaped in <bdi>: a name inside a
    translated sentence ({% blocktranslate with name=…|bdi %}) keeps its own
    direction without reordering the words around it."""
    if isinstance(value, (list, tuple)):
        return [format_html("<bdi>{}</bdi>", item) for item in value]
    return format_html("<bdi>{}</bdi>", value)


@register.simple_tag
def message_variant(message, viewer_id, viewer_name) -> str:
    """How a message looks to one viewer: all viewers of a variant share one
    cached rendering."""
    if _field(message, "user_id") == viewer_id:
        return "own"
    return "mention" if mentions_user(message, viewer_name) else "other"


@register.filter
def mentions_user(message, username: str) -> bool:
    return bool(username) and username in (_field(message, "mentions") or ())


@register.inclusion_tag("chat/partials/object_panel.html", takes_context=True)
def chat_room_for(context, obj, height: str = "h-96") -> dict:
    """{% chat_room_for obj %}: the live room of any object, in any page."""
    # Imported here: template tag modules load before the app registry is ready
    # in some tools (e.g. pattern libraries).
    from chat.views import room_panel_context

    request = context["request"]
    return room_panel_context(request, obj, panel_height=height)
