import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from html import unescape
from pathlib import Path

from django import template
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html, urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from chat.search import highlight_html

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
def search_html(marked: str) -> SafeString:
    """A search result's text (chat.search: the engine's markers around the
    matches) as HTML: escaped, the matches in <mark>."""
    return highlight_html(marked or "")


@register.filter
def bdi(value) -> SafeString | list[SafeString]:
    """`value`, or each name of a list, escaped in <bdi>: a name inside a
    translated sentence ({% blocktranslate with name=…|bdi %}) keeps its own
    direction without reordering the words around it."""
    if isinstance(value, (list, tuple)):
        return [format_html("<bdi>{}</bdi>", item) for item in value]
    return format_html("<bdi>{}</bdi>", value)


@register.simple_tag
def partials_version() -> str:
    """A hash of the source of the message partials, part of each cached
    rendering's key: after a deploy that changed a partial, no process
    serves markup drawn by the old one."""
    return _partials_version()


@lru_cache(maxsize=1)
def _partials_version() -> str:
    # Once per process: the folder the engine finds message.html in, and all
    # it includes (kinds/), as the loaders see them.
    origin = Path(get_template("chat/partials/message.html").origin.name).parent
    digest = hashlib.sha256()
    for path in sorted(origin.rglob("*.html")):
        digest.update(path.relative_to(origin).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def forget_partials_version() -> None:
    """Work the version out again on next use (tests that edit partials)."""
    _partials_version.cache_clear()


@register.simple_tag
def message_variant(message, viewer_id, viewer_name) -> str:
    """How a message looks to one viewer: own, mentions the viewer, or
    other."""
    if _field(message, "user_id") == viewer_id:
        return "own"
    mentions = _field(message, "mentions") or ()
    return "mention" if viewer_name and viewer_name in mentions else "other"


@register.simple_tag
def message_author(message, variant, room) -> SafeString:
    """A message's author's name (display name, else username) in <bdi>;
    for anyone but the viewer (the look's variant is not "own") and outside
    a direct conversation, a link to message them (chat:dm: a GET that opens
    the conversation, or offers to start it). Depends on the message (its
    room, its author and how they appear) and the variant alone, so it fits
    the message's cached rendering."""
    from accounts.selectors import name_of

    user = _field(message, "user")
    username, name = _field(user, "username"), name_of(user)
    if variant == "own" or (room and _field(room, "is_direct")):
        return format_html("<bdi>{}</bdi>", name)
    return format_html(
        '<a href="{}" class="message-author-link hover:underline"'
        ' aria-label="{}" title="@{}"><bdi>{}</bdi></a>',
        reverse("chat:dm", kwargs={"username": username}),
        _("Message %(name)s") % {"name": name},
        username,
        name,
    )


@register.simple_tag
def reaction_choices() -> list[tuple[str, str]]:
    """The emoji one may react with, and their names."""
    from chat.selectors import REACTION_CHOICES

    return REACTION_CHOICES


@dataclass(frozen=True)
class Reacted:
    """One emoji under a message: how many, who, whether the viewer."""

    emoji: str
    label: str
    count: int
    names: tuple[str, ...]
    mine: bool


@dataclass(frozen=True)
class Look:
    """Everything about a message that depends on who views it. The
    partials may tell viewers apart only through this: viewers with the same
    `key` share one cached rendering."""

    variant: str  # own, mention, other
    can_edit: bool
    can_delete: bool
    can_react: bool
    reactions: tuple[Reacted, ...]

    @property
    def key(self) -> str:
        mine = "".join(r.emoji for r in self.reactions if r.mine)
        flags = f"{self.can_edit:d}{self.can_delete:d}{self.can_react:d}"
        # Times are drawn in the viewer's zone (accounts.middleware).
        zone = timezone.get_current_timezone_name()
        return f"{self.variant}.{flags}.{mine}.{zone}"


@register.simple_tag
def message_look(message, viewer_id, viewer_name, moderates=False) -> Look:
    """How `message` looks to one viewer (moderates: the viewer may delete
    anyone's message in the room). The rules are the services': a control is
    shown only where the service would accept it."""
    from chat import selectors  # the app registry is ready by render time

    reactions = tuple(
        Reacted(
            emoji=emoji,
            label=label,
            count=len(who),
            names=tuple(name for _id, name in who),
            mine=any(user_id == viewer_id for user_id, _name in who),
        )
        for emoji, label, who in selectors.reactions_by_emoji(
            _field(message, "reactions_seen")
        )
    )
    return Look(
        variant=message_variant(message, viewer_id, viewer_name),
        can_edit=selectors.edit_refusal(message, viewer_id) is None,
        can_delete=selectors.delete_refusal(message, viewer_id, moderates) is None,
        can_react=selectors.reaction_refusal(message=message) is None,
        reactions=reactions,
    )


@register.inclusion_tag("chat/partials/object_panel.html", takes_context=True)
def chat_room_for(context, obj, height: str = "h-96") -> dict:
    """{% chat_room_for obj %}: the live room of any object, in any page."""
    # Imported here: template tag modules load before the app registry is ready
    # in some tools (e.g. pattern libraries).
    from chat.context import object_panel_context

    return object_panel_context(context["request"], obj, panel_height=height)


def _shell_drawn(context) -> bool:
    """Whether the page draws the sidebar: as base.html asks."""
    if context.get("is_pattern_library") or context.get("request") is None:
        return False  # sample pages: no database behind them
    return bool(getattr(context.get("user"), "is_authenticated", False))


@register.inclusion_tag("chat/partials/sidebar.html", takes_context=True)
def chat_sidebar(context) -> dict:
    """{% chat_sidebar %}: the signed-in user's sidebar, the page's room
    highlighted. Read only where a page draws it (never in fragments): once,
    by {% chat_title %} when the page has one."""
    from chat.context import sidebar_context

    return sidebar_context(
        context["request"],
        current_slug=getattr(context.get("room"), "slug", ""),
        everywhere=context.get("sidebar_everywhere", False),
        title=context.get("chat_page_title", ""),
        sidebar=context.get("chat_shell_sidebar"),
    )


class ChatTitleNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context) -> SafeString:
        own = self.nodelist.render(context)
        if not _shell_drawn(context):
            return own
        from chat import selectors
        from chat.context import title_prefix

        sidebar = selectors.sidebar(user=context["request"].user)
        # For {% chat_sidebar %}, further down the page: the same sidebar,
        # and the page's own title, as text, for its refresh to carry.
        context["chat_shell_sidebar"] = sidebar
        context["chat_page_title"] = unescape(own)
        slug = getattr(context.get("room"), "slug", "")
        return escape(title_prefix(sidebar, current_slug=slug)) + own


@register.tag
def chat_title(parser, token) -> ChatTitleNode:
    """{% chat_title %}…{% endchat_title %} around the page's title (in
    <title>): "(3) " before it while messages wait in one's other rooms,
    "(3 @) " while one of them mentions the reader (chat.context.title_prefix),
    for a signed-in user; the sidebar's refresh keeps it current."""
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("chat_title takes no arguments")
    nodelist = parser.parse(("endchat_title",))
    parser.delete_first_token()
    return ChatTitleNode(nodelist)


SEEN_NAMES = 5  # names shown in "Seen by"; past them, "and N others"


@dataclass(frozen=True)
class SeenBy:
    names: tuple[str, ...]
    more: int  # readers beyond the names shown
    direct: bool  # a direct conversation: a plain "Seen"
    many: bool = False  # more readers than are counted: "and many others"


@register.simple_tag
def seen_by(receipts, viewer_id, room) -> SeenBy:
    """Read receipts as one viewer sees them: under their own message, when
    it is the newest, the others who have read it ("Seen" in a direct
    conversation); under anyone else's, nothing."""
    direct = bool(room and _field(room, "is_direct"))
    author = _field(receipts, "author_id") if receipts else None
    if author is None or author != viewer_id:
        return SeenBy(names=(), more=0, direct=direct)
    others = [
        name
        for user_id, name in _field(receipts, "readers") or ()
        if user_id not in (viewer_id, author)
    ]
    from chat.selectors import RECEIPTS_COUNTED

    readers = _field(receipts, "readers") or ()
    return SeenBy(
        names=tuple(others[:SEEN_NAMES]),
        more=max(0, len(others) - SEEN_NAMES),
        direct=direct,
        # Counting stops at RECEIPTS_COUNTED: past it, no number is true.
        many=len(readers) >= RECEIPTS_COUNTED,
    )


@dataclass(frozen=True)
class Place:
    """Where a message sits among the messages drawn before it, for one
    viewer (their time zone): a day separator before it, or its header left
    out as it continues the previous message's group."""

    day: date  # its date in the viewer's zone
    day_break: bool  # the first message of its day on the page
    grouped: bool  # continues the group of the message above it: no header


@register.simple_tag(takes_context=True)
def message_place(context, message) -> Place:
    """The context's `page_start` (else its page's first message): the id of
    the first message the page shows, drawn as the start of a day and of a
    group whatever came before it in the room. Otherwise the message's
    stored neighbours decide (services._neighbours): a batch appended below
    the page continues its groups and days exactly."""
    page_start = context.get("page_start")
    if not page_start and context.get("page") is not None:
        page_start = _field(context["page"], "first_id")
    created = _field(message, "created_at")
    previous = _field(message, "previous_at")
    day = timezone.localdate(created) if created else timezone.localdate()
    first = bool(page_start) and str(_field(message, "id")) == str(page_start)
    day_break = first or not previous or timezone.localdate(previous) != day
    return Place(
        day=day,
        day_break=day_break,
        grouped=bool(_field(message, "continues")) and not day_break,
    )


@register.simple_tag
def day_label(day: date) -> str:
    """A day separator's words, in the viewer's zone: Today, Yesterday, a
    weekday and date this year, else with the year."""
    today = timezone.localdate()
    if day == today:
        return pgettext("day separator", "Today")
    if day == today - timedelta(days=1):
        return pgettext("day separator", "Yesterday")
    if day.year == today.year:
        return date_format(day, pgettext("day separator", "l, F j"))
    return date_format(day, pgettext("day separator", "l, F j, Y"))


@register.filter
def appearance(user) -> str:
    """What of a message's author its drawing shows besides the username
    (display name, avatar): part of its cache key, so a new avatar or name
    is drawn afresh."""
    from accounts.selectors import appearance_key

    return appearance_key(user)


@dataclass(frozen=True)
class AttachmentDrawn:
    """An attachment as attachments.html draws it."""

    id: int
    name: str
    size: int
    is_image: bool
    url: str
    thumb_url: str
    # The size it is drawn at: the thumbnail fitted in ATTACHMENT_BOX, its
    # ratio kept (narrower screens shrink it further, still in ratio).
    width: int | None
    height: int | None
    label: str  # a document's badge: PDF, ZIP, GZ, TXT
    kind: str  # what a document is, in words


# Pictures are drawn at most this wide and high in the log (CSS pixels);
# their thumbnails have more pixels than that, for sharp screens.
ATTACHMENT_BOX = (480, 320)


def _fitted(width, height) -> tuple[int | None, int | None]:
    if not width or not height:
        return None, None
    scale = min(1, ATTACHMENT_BOX[0] / width, ATTACHMENT_BOX[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _file_kinds() -> dict[str, tuple[str, str]]:
    # content type -> (badge, what it is); gettext at each drawing (language)
    return {
        "application/pdf": ("PDF", _("PDF document")),
        "application/zip": ("ZIP", _("ZIP archive")),
        "application/gzip": ("GZ", _("gzip archive")),
        "text/plain": ("TXT", _("Text file")),
    }


@register.simple_tag
def message_attachments(message, room) -> list[AttachmentDrawn]:
    """A message's attachments with their URLs, as selectors.with_attachments
    fetched them (no query); or the sample data's `attachments` in the
    pattern library (each may give its `url` and `thumb_url`)."""
    if isinstance(message, dict):
        rows = message.get("attachments") or []
    else:
        rows = message.attachments.all()
    slug = _field(room, "slug")
    drawn = []
    for row in rows:
        pk, name = _field(row, "id"), _field(row, "name")
        is_image = bool(_field(row, "is_image"))
        thumb_name = _field(row, "thumb_name") if is_image else ""
        shown = _fitted(_field(row, "thumb_width"), _field(row, "thumb_height"))
        label, kind = _file_kinds().get(
            _field(row, "content_type"), ("FILE", _("File"))
        )
        drawn.append(
            AttachmentDrawn(
                id=pk,
                name=name,
                size=_field(row, "size"),
                is_image=is_image,
                url=(isinstance(row, dict) and row.get("url"))
                or reverse("chat:attachment", args=[slug, pk, name]),
                thumb_url=(
                    (isinstance(row, dict) and row.get("thumb_url"))
                    or reverse("chat:attachment_thumb", args=[slug, pk, thumb_name])
                    if is_image
                    else ""
                ),
                width=shown[0],
                height=shown[1],
                label=label,
                kind=kind,
            )
        )
    return drawn
