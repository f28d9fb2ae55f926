"""Reads, in plain ORM. Each returns querysets, lists or model instances,
ready to render. The room access rule is stated once, in rooms_visible_to."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import (
    Count,
    F,
    FilteredRelation,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Cast, Coalesce, Concat, Lower, NullIf
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Profile
from accounts.selectors import name_of, user_drawn
from chat.models import Attachment, Membership, Mention, Message, Reaction, Room


def rooms_visible_to(*, user: AbstractBaseUser) -> QuerySet[Room]:
    """The room access rule, the only statement of it: an active, signed-in
    user sees the public rooms and the rooms they belong to. Each room
    carries `membership_id`, the viewer's membership (None where they have
    none).

    Every way in goes through here: pages, fragments, sends, the API, the
    room list, the duplicate-name check. A poll on a grant (chat/live/) was
    issued under it, and its one query checks what the grant depends on
    (session, active user, membership); tests/chat/test_access.py runs every
    case down every path.
    """
    if not (user.is_authenticated and user.is_active):
        return Room.objects.none()
    # A join on the viewer's own membership (at most one row: unique per user
    # and room), rather than a subquery: the same rows, cheaper for the ORM
    # to build (every page, send and full-path poll builds it).
    mine = FilteredRelation("memberships", condition=Q(memberships__user=user))
    return (
        Room.objects.annotate(mine=mine)
        .filter(Q(kind=Room.Kind.PUBLIC) | Q(mine__isnull=False))
        .annotate(membership_id=F("mine__id"))
    )


def room_get(*, slug: str, user: AbstractBaseUser) -> Room:
    """The room `user` may see; 404 (not 403) otherwise, so names do not leak."""
    try:
        return rooms_visible_to(user=user).get(slug=slug)
    except Room.DoesNotExist:
        raise Http404("No such room.") from None


def room_by_id(room_id: int) -> Room | None:
    """A room by id, for a poll whose grant chat.live found still good: the
    grant was issued under the access rule, and the same request checked
    what it depends on."""
    return Room.objects.filter(pk=room_id).first()


def direct_room_find(*, user: AbstractBaseUser, other: AbstractBaseUser) -> Room | None:
    """The direct conversation of two users, if they have started one."""
    low, high = sorted([user.pk, other.pk])
    return rooms_visible_to(user=user).filter(dm_key=f"{low}:{high}").first()


def direct_refusal(*, user: AbstractBaseUser, other: AbstractBaseUser) -> str | None:
    """Why `user` may not start a direct conversation with `other`, or None.
    A conversation that exists stays open to read, whoever left since."""
    if user.pk == other.pk:
        return _("A direct message needs someone else.")
    if not other.is_active:
        return _("%(name)s's account is closed: no new conversation can start.") % {
            "name": other.get_username()
        }
    return None


def member_add_refusal(*, room: Room, user: AbstractBaseUser) -> str | None:
    """Why `user` may not add members to `room`, or None when they may: only
    the creator of a private room may. A direct conversation never gains a
    third person."""
    if room.kind == Room.Kind.DIRECT:
        return _(
            "A direct conversation stays between its two people. "
            "Create a private room to talk with more."
        )
    if room.kind == Room.Kind.PUBLIC:
        return _("Public rooms are open to everyone: there is no one to add.")
    if room.created_by_id != user.pk:
        return _("Only the room's creator can add members.")
    return None


def room_list(*, user: AbstractBaseUser) -> QuerySet[Room]:
    """Visible rooms, newest activity first, each with `last_activity` and
    `unread` (others' messages after the user's last-read id, in the rooms
    the user belongs to)."""
    # Nested inside the unread subquery: the room is the outer query's outer.
    # No membership, no read mark: a room one has not joined counts nothing.
    last_read = Membership.objects.filter(
        room=OuterRef(OuterRef("pk")), user=user
    ).values("last_read_id")[:1]
    unread = (
        Message.objects.filter(room=OuterRef("pk"), id__gt=Subquery(last_read))
        .exclude(user=user)
        .order_by()
        .values("room")
        .annotate(n=Count("id"))
        .values("n")
    )
    newest = Message.objects.filter(room=OuterRef("pk")).order_by("-id")
    return (
        rooms_visible_to(user=user)
        .annotate(
            last_activity=Coalesce(
                Subquery(newest.values("created_at")[:1]), "created_at"
            ),
            unread=Coalesce(Subquery(unread), Value(0)),
        )
        .order_by("-last_activity", "name")
    )


# Public rooms one has not joined, listed in the sidebar: the most active;
# the room list has them all.
SIDEBAR_PUBLIC = 10


@dataclass(frozen=True)
class Sidebar:
    """What the sidebar lists: the rooms one belongs to, the most active
    public rooms one has not joined (`more_public`: there are others), the
    direct conversations (each with `partner_user`, the other person as
    {% avatar %} and |display_name draw them: selectors.partner_of). The
    rooms one belongs to carry `unread` and `mentions` (unread messages that
    name the viewer). `version` changes whenever any of it may have."""

    joined: list[Room]
    public: list[Room]
    direct: list[Room]
    more_public: bool
    version: str

    @property
    def mentions(self) -> int:
        """Unread mentions of the viewer in all their rooms: the badge of
        the mentions inbox."""
        return sum(getattr(room, "mentions", 0) for room in self.joined + self.direct)

    def waiting(self, *, outside: str = "") -> tuple[int, int]:
        """Unread messages and unread mentions in one's rooms but the room
        `outside` (the page's, by slug: its poll reads what comes there
        within seconds): what the tab's title counts (chat.context.title_prefix)."""
        rooms = [room for room in self.joined + self.direct if room.slug != outside]
        return (
            sum(getattr(room, "unread", 0) for room in rooms),
            sum(getattr(room, "mentions", 0) for room in rooms),
        )


def sidebar_version(*, user: AbstractBaseUser) -> str:
    """A short fingerprint of what the sidebar shows, in one aggregate
    query: the rooms one sees (how many, the newest), which of them one
    belongs to, their change numbers (a message, an edit, a delete) and
    one's read marks there, and how each direct conversation's other person
    is drawn (accounts.Profile.appearance). Equal versions: the sidebar
    would draw the same. Written out (chat.live.query, where the sidebar's
    unchanged refresh computes the same on its grant): through the ORM, it
    cost a hundred times as much to compose as to run.

    Not in it: a username changed by an administrator (a direct
    conversation without a display name shows it) and which public rooms
    one has not joined were busiest; both show at the next change."""
    # Imported here: chat.live.query reads this module's RECEIPTS_COUNTED.
    from chat.live import query

    if not (user.is_authenticated and user.is_active):
        return query.SIDEBAR_EMPTY
    return query.sidebar_version(user_id=user.pk)


def sidebar(*, user: AbstractBaseUser) -> Sidebar:
    """The sidebar's rooms in two queries: one's own (with unread counts,
    mentions and, for a direct conversation, the other person's name), and
    the most active public rooms one has not joined."""
    # Read first: a change racing the lists leaves an older version, and the
    # next refresh draws again, rather than a newer one that would hide it.
    version = sidebar_version(user=user)
    last_read = Membership.objects.filter(
        room=OuterRef(OuterRef("pk")), user=user
    ).values("last_read_id")[:1]
    mentions = (
        Mention.objects.filter(
            user=user, room=OuterRef("pk"), message_id__gt=Subquery(last_read)
        )
        .exclude(message__user=user)
        .order_by()
        .values("room")
        .annotate(n=Count("id"))
        .values("n")
    )
    own = list(
        annotate_direct_partner(room_list(user=user), viewer_id=user.pk)
        .filter(mine__isnull=False)
        .annotate(mentions=Coalesce(Subquery(mentions), Value(0)))
        .order_by("name")
    )
    public = list(room_list(user=user).filter(mine__isnull=True)[: SIDEBAR_PUBLIC + 1])
    for room in own:
        room.partner_user = partner_of(room)
    # By the name shown: the display name, else the username.
    direct = sorted(
        (room for room in own if room.kind == Room.Kind.DIRECT),
        key=lambda room: (
            name_of(room.partner_user).casefold() if room.partner_user else "",
            room.pk,
        ),
    )
    return Sidebar(
        joined=[room for room in own if room.kind != Room.Kind.DIRECT],
        public=public[:SIDEBAR_PUBLIC],
        direct=direct,
        more_public=len(public) > SIDEBAR_PUBLIC,
        version=version,
    )


def direct_partner(*, room: Room, user: AbstractBaseUser):
    """The other person in a direct conversation, with their profile (None
    elsewhere, or once they are gone): how the conversation is titled for
    `user`."""
    if room.kind != Room.Kind.DIRECT:
        return None
    others = room.members.exclude(pk=user.pk).select_related("profile")
    return others.order_by("pk").first()


def room_members(*, room: Room) -> QuerySet:
    """The room's members with their profiles (drawn without a query each),
    by the name shown: the display name, else the username."""
    shown = Coalesce(NullIf("profile__display_name", Value("")), "username")
    return room.members.select_related("profile").order_by(Lower(shown), "username")


def _messages(room: Room) -> QuerySet[Message]:
    """A room's messages as the partials draw them: with the author, and the
    message each answers and its author, in one query (who reacted is kept
    on the message). Through the room's manager: each knows its room."""
    return room.messages.select_related("user__profile", "reply_to__user")


def with_attachments(messages: list[Message]) -> list[Message]:
    """`messages`, the attachments of those that have some fetched in one
    query for all (prefetch_related, on the rows already read): a partial
    then draws them with no query per message. A batch of messages without
    attachments (Message.attachment_count) asks nothing more: the poll's
    delivering path stays one query."""
    having = [m for m in messages if m.attachment_count]
    if having:
        prefetch_related_objects(having, "attachments")
    return messages


def message_get(*, room: Room, message_id: int) -> Message:
    """A message of a room the caller already may see (room_get); 404
    otherwise."""
    try:
        message = _messages(room).get(pk=message_id)
    except Message.DoesNotExist:
        raise Http404("No such message.") from None
    return with_attachments([message])[0]


def message_find(*, room: Room, message_id: int) -> Message | None:
    """message_get, or None."""
    return next(
        iter(with_attachments(list(_messages(room).filter(pk=message_id)))), None
    )


def attachment_get(*, room: Room, attachment_id: int) -> Attachment:
    """An attachment of a message of a room the caller already may see
    (room_get); 404 otherwise. A deleted message has none."""
    try:
        return Attachment.objects.get(
            pk=attachment_id,
            message__room=room,
            message__deleted_at__isnull=True,
        )
    except Attachment.DoesNotExist:
        raise Http404("No such file.") from None


def may_moderate(*, room: Room, user: AbstractBaseUser) -> bool:
    """The room's creator and staff users may delete anyone's message."""
    return bool(user.is_staff) or (
        room.created_by_id is not None and room.created_by_id == user.pk
    )


EDITABLE_KINDS = (Message.Kind.MESSAGE, Message.Kind.ACTION)
REACTION_CHOICES = Reaction.Emoji.choices


def _get(message, name: str):
    # A Message, or a dict of sample data in the pattern library.
    return message.get(name) if isinstance(message, dict) else getattr(message, name)


def edit_refusal(message: Message, user_id: int | None) -> str | None:
    """Why the user `user_id` may not edit `message`, or None: one edits
    one's own messages (not notices), while not deleted and, where
    CHAT_EDIT_WINDOW is set, within that many seconds of sending."""
    if _get(message, "user_id") != user_id or _get(message, "kind") not in (
        EDITABLE_KINDS
    ):
        return _("You can only edit your own messages.")
    if _get(message, "deleted_at"):
        return _("This message was deleted.")
    window = settings.CHAT_EDIT_WINDOW
    created = _get(message, "created_at")
    if (
        window is not None
        and created
        and timezone.now() - created > timedelta(seconds=window)
    ):
        return _("Messages can only be edited for %(minutes)s minutes.") % {
            "minutes": f"{window / 60:g}"
        }
    return None


def delete_refusal(
    message: Message, user_id: int | None, moderates: bool
) -> str | None:
    """Why the user `user_id` may not delete `message`, or None: its author
    may (not a notice); a moderator (may_moderate) may delete any message."""
    if _get(message, "deleted_at"):
        return _("This message was already deleted.")
    if moderates:
        return None
    if _get(message, "user_id") != user_id or _get(message, "kind") not in (
        EDITABLE_KINDS
    ):
        return _("You can only delete your own messages.")
    return None


def message_edit_refusal(*, message: Message, user: AbstractBaseUser) -> str | None:
    return edit_refusal(message, user.pk)


def message_delete_refusal(*, message: Message, user: AbstractBaseUser) -> str | None:
    return delete_refusal(message, user.pk, may_moderate(room=message.room, user=user))


def reaction_refusal(*, message: Message) -> str | None:
    """Why nobody may react to `message` (deleted, or a notice), or None.
    Who may see the room may react."""
    if _get(message, "deleted_at"):
        return _("This message was deleted.")
    if _get(message, "kind") not in EDITABLE_KINDS:
        return _("Notices take no reactions.")
    return None


def reply_refusal(*, message: Message) -> str | None:
    """Why nobody may answer `message` (a notice), or None. A deleted message
    may be answered: the reply quotes it as deleted (it may have been
    deleted while the reply was being written)."""
    if _get(message, "kind") not in EDITABLE_KINDS:
        return _("Notices cannot be answered.")
    return None


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    has_older: bool
    # The first message after the page; None when it reaches the newest.
    next_id: int | None = None
    # The first of its messages the viewer had not read (room_open).
    first_unread: int | None = None

    @property
    def first_id(self) -> int | None:
        return self.messages[0].id if self.messages else None

    @property
    def last_id(self) -> int | None:
        return self.messages[-1].id if self.messages else None


def _page_before(qs: QuerySet[Message], size: int) -> Page:
    # Fetch one extra row to learn whether anything older exists.
    rows = list(qs.order_by("-id")[: size + 1])
    return Page(
        messages=with_attachments(rows[:size][::-1]), has_older=len(rows) > size
    )


def messages_latest(*, room: Room, size: int | None = None) -> Page:
    return _page_before(_messages(room), size or settings.CHAT_PAGE_SIZE)


def messages_before(*, room: Room, before: int, size: int | None = None) -> Page:
    return _page_before(
        _messages(room).filter(id__lt=before), size or settings.CHAT_PAGE_SIZE
    )


def message_next_id(*, room: Room, after: int | None) -> int | None:
    """The id of the first message after `after` (None: none)."""
    if after is None:
        return None
    return (
        room.messages.filter(id__gt=after)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def messages_around(*, room: Room, around: int, size: int | None = None) -> Page:
    """The page a permalink opens: the message `around` (which the caller
    found in the room) with up to half a page before it and the rest after;
    what one side lacks, the other fills. The message is marked
    `highlighted` for the partial."""
    size = size or settings.CHAT_PAGE_SIZE
    qs = _messages(room)
    older = list(qs.filter(id__lt=around).order_by("-id")[:size])
    # One extra row tells whether (and which) messages follow the page.
    newer = list(qs.filter(id__gte=around).order_by("id")[: size + 1])
    n_newer = min(len(newer), size - min(len(older), size // 2))
    n_older = min(len(older), size - n_newer)
    for message in newer[:1]:
        message.highlighted = message.id == around
    return Page(
        messages=with_attachments(older[:n_older][::-1] + newer[:n_newer]),
        has_older=len(older) > n_older,
        next_id=newer[n_newer].id if len(newer) > n_newer else None,
    )


def first_unread(*, page: Page, room: Room, user_id: int) -> int | None:
    """The first message of `page` by someone else after the user's read
    mark in the room; None when they do not belong or have read it all."""
    last_read = (
        Membership.objects.filter(room=room, user_id=user_id)
        .values_list("last_read_id", flat=True)
        .first()
    )
    if last_read is None:
        return None
    return next(
        (m.id for m in page.messages if m.id > last_read and m.user_id != user_id),
        None,
    )


def messages_newer(*, room: Room, after: int, size: int | None = None) -> Page:
    """The page after the message `after`: what "Load newer" brings."""
    size = size or settings.CHAT_PAGE_SIZE
    rows = list(_messages(room).filter(id__gt=after).order_by("id")[: size + 1])
    return Page(
        messages=with_attachments(rows[:size]),
        has_older=room.messages.filter(id__lte=after).exists(),
        next_id=rows[size].id if len(rows) > size else None,
    )


def messages_after(
    *, room: Room, after: int, upto: int | None = None, limit: int | None = None
) -> list[Message]:
    """Messages after the cursor `after` (and up to `upto`, when given), in id
    order, at most CHAT_POLL_LIMIT."""
    qs = _messages(room).filter(id__gt=after).order_by("id")
    if upto is not None:
        qs = qs.filter(id__lte=upto)
    return with_attachments(list(qs[: limit or settings.CHAT_POLL_LIMIT]))


def changes_held(
    *, room: Room, since: int, newest: int, start: int, after: int
) -> list[Message]:
    """Messages a page holds (ids `start` to `after`) whose latest change is
    numbered after `since` and up to `newest`, in change-number order, at
    most CHAT_POLL_LIMIT + 1: one more than a poll brings says that more are
    waiting (page_changes). The cursor comes from the client: a page that
    claims to hold the whole room as of its first change would otherwise
    be sent the whole room at once."""
    limit = settings.CHAT_POLL_LIMIT
    return with_attachments(
        list(
            _messages(room)
            .filter(seq__gt=since, seq__lte=newest, id__gte=start, id__lte=after)
            .order_by("seq")[: limit + 1]
        )
    )


def room_newest_id(*, room: Room) -> int:
    """The id of the room's newest message (0: none yet): an index probe."""
    return room.messages.aggregate(newest=Max("id"))["newest"] or 0


def cursor_refusal(
    *,
    room: Room,
    after: int,
    since: int,
    start: int,
    newest: int,
    new: list[Message] | None = None,
    newest_id: int | None = None,
) -> str | None:
    """Why no page of `room` can stand at this cursor (None: one can), the
    room's change number being `newest`: a page holds messages `start` to
    `after` of the room, as of a change number it was given. One past the
    room's newest message or change number is forged, or from another
    room. `new`: the messages after `after`, when already read (any of them
    puts `after` below the newest: no query); `newest_id`: room_newest_id's
    answer, when already read."""
    if since > newest:
        return _("'seq' is past this room's newest change: load the room again.")
    if start > after:
        return _("'start' is after 'after': load the room again.")
    if after and not new:
        if newest_id is None:
            newest_id = room_newest_id(room=room)
        if after > newest_id:
            return _("'after' is past this room's newest message: load the room again.")
    return None


def held_changes_possible(*, new: list[Message], since: int, newest: int) -> bool:
    """Whether anything but `new` can have changed between change numbers
    `since` and `newest`: every number names one change, so when each is the
    latest change of one of the new messages, no held message changed and
    the page needs no second query (a poll sent on by new messages only)."""
    return sum(1 for m in new if since < m.seq <= newest) < newest - since


@dataclass(frozen=True)
class Changes:
    """What a page holding messages `start`..`after` as of change number
    `since` has not seen, up to change number `seq`."""

    new: list[Message]  # after its newest, in id order: appended
    changed: list[Message]  # held, changed since: each swapped in place
    after: int  # the page's newest id once it shows them
    seq: int  # the change number the page then holds
    more: bool  # a full batch: more new or changed messages are waiting

    def __bool__(self) -> bool:
        return bool(self.new or self.changed)


def page_changes(
    *,
    room: Room,
    after: int,
    since: int,
    start: int,
    newest: int,
    new: list[Message] | None = None,
    changed: list[Message] | None = None,
) -> Changes:
    """What a page is missing, for a room whose change number was `newest`
    when read (before this). Changes commit in number order (services), so
    every change up to `newest` is in what the queries after it see: the
    page may take `newest` as its number. `new`, `changed`: those reads,
    already made (chat.live.batches shares them among the polls of a room).

    What changed after `newest` (racing these reads) is left for the next
    poll, whose gate it opens: each change comes once, none is missed."""
    if new is None:
        new = messages_after(room=room, after=after)
    # Only what the page can take as of `newest`: a message stored since
    # (racing this read) comes with the next poll, once. The first with a
    # later number ends the batch, so the page never holds a later id
    # without the earlier ones.
    for i, message in enumerate(new):
        if message.seq > newest:
            new = new[:i]
            break
    if changed is None:
        changed = []
        if held_changes_possible(new=new, since=since, newest=newest):
            changed = changes_held(
                room=room, since=since, newest=newest, start=start, after=after
            )
    after = new[-1].id if new else after
    seq = newest
    more = len(new) >= settings.CHAT_POLL_LIMIT
    if more:
        seq = seq_below_waiting(room=room, after=after, seq=seq)
    if len(changed) > settings.CHAT_POLL_LIMIT:
        # The first changes by number, and the page's number up to the last
        # of them: the rest come with the next poll, which fires at once.
        changed = changed[: settings.CHAT_POLL_LIMIT]
        seq, more = min(seq, changed[-1].seq), True
    changed = sorted(changed, key=lambda message: message.id)
    return Changes(new=new, changed=changed, after=after, seq=seq, more=more)


def seq_below_waiting(*, room: Room, after: int, seq: int) -> int:
    """`seq`, or less: new messages wait after id `after` (a full batch),
    and a cursor must stay below each one's number, or the next read after
    it would find nothing."""
    waiting = room.messages.filter(id__gt=after).aggregate(low=Min("seq"))["low"]
    return seq if waiting is None else min(seq, waiting - 1)


def reactions_by_emoji(
    reactions_seen,
) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """A message's reactions ([emoji, user id, username] each, oldest first)
    as (emoji, label, [(user id, username)]) in the offered order: how the
    page and the API both show them."""
    by_emoji: dict[str, list[tuple[int, str]]] = {}
    for emoji, user_id, username in reactions_seen or ():
        by_emoji.setdefault(emoji, []).append((user_id, username))
    return [
        (emoji, str(label), by_emoji[emoji])
        for emoji, label in REACTION_CHOICES
        if emoji in by_emoji
    ]


# Readers counted at most: the poller's receipts version (chat.live.query
# counts the same). Past it, "Seen by" stops changing, so a big room's polls
# are not sent on by every reader.
RECEIPTS_COUNTED = 51


@dataclass(frozen=True)
class Receipts:
    """Who has read a room up to its newest message, and want it known
    (accounts.Profile.read_receipts): `readers`, (user id, username) by
    username, at most RECEIPTS_COUNTED. They are shown to the newest
    message's author, as a messenger shows you who read what you sent."""

    message_id: int | None
    author_id: int | None
    readers: tuple[tuple[int, str], ...]

    @property
    def count(self) -> int:
        return len(self.readers)

    def shown_to(self, viewer_id: int) -> int | None:
        """How many read receipts `viewer_id`'s page tracks: those of their
        own message, when it is the newest (None: they see none, and their
        polls need not count them)."""
        if self.message_id is None or self.author_id != viewer_id:
            return None
        return self.count


def room_receipts(
    *, room: Room, viewer_id: int | None = None, newest: Message | None = None
) -> Receipts:
    """Read receipts for the room's newest message, from the read marks, in
    one query. `newest`: that message, when the caller has it; if it is not
    `viewer_id`'s, they see no receipts, and none are read."""
    if newest is not None and newest.user_id != viewer_id:
        return Receipts(message_id=newest.id, author_id=newest.user_id, readers=())
    latest = room.messages.order_by("-id")
    rows = list(
        room.memberships.filter(last_read_id__gte=Subquery(latest.values("id")[:1]))
        .exclude(user__profile__read_receipts=False)
        .annotate(
            newest_id=Subquery(latest.values("id")[:1]),
            author_id=Subquery(latest.values("user_id")[:1]),
        )
        .order_by("user__username")
        .values_list("user_id", "user__username", "newest_id", "author_id")[
            :RECEIPTS_COUNTED
        ]
    )
    if not rows:
        message_id, author_id = latest.values_list("id", "user_id").first() or (
            None,
            None,
        )
        return Receipts(message_id=message_id, author_id=author_id, readers=())
    return Receipts(
        message_id=rows[0][2],
        author_id=rows[0][3],
        readers=tuple((user_id, name) for user_id, name, _id, _author in rows),
    )


def room_for_object(*, obj: models.Model, user: AbstractBaseUser) -> Room | None:
    """The room attached to `obj`, if it was started and `user` may see it."""
    content_type = ContentType.objects.get_for_model(obj)
    return (
        rooms_visible_to(user=user)
        .filter(content_type=content_type, object_id=str(obj.pk))
        .first()
    )


# Usernames are at most this long (Django's AbstractUser): a longer search
# matches no one, and is not sent to the database at all.
PEOPLE_QUERY_MAX = 150


def _direct_key_of(viewer_id: int) -> models.Case:
    """For each user row, the dm_key their direct conversation with
    `viewer_id` has (or would have): "<low id>:<high id>", as
    services.direct_room_get_or_create writes it."""
    pk = Cast("pk", models.CharField())
    return models.Case(
        models.When(
            pk__lt=viewer_id,
            then=Concat(pk, Value(f":{viewer_id}")),
        ),
        default=Concat(Value(f"{viewer_id}:"), pk),
        output_field=models.CharField(),
    )


def people_find(*, viewer: AbstractBaseUser, query: str = "") -> QuerySet:
    """Everyone `viewer` could start a direct conversation with (active users
    other than themselves: services.direct_room_get_or_create refuses oneself,
    selectors.direct_refusal), whose username contains `query` (any case),
    by username in any case. Each carries `direct_slug`, the slug of the viewer's direct
    conversation with them, None until one is started: one query for any
    number of rows."""
    query = query.strip()
    people = get_user_model().objects.filter(is_active=True).exclude(pk=viewer.pk)
    if len(query) > PEOPLE_QUERY_MAX or "\x00" in query:
        # PostgreSQL cannot even compare NUL; no username holds one.
        return people.none()
    if query:
        people = people.filter(username__icontains=query)
    direct = Room.objects.filter(
        kind=Room.Kind.DIRECT,
        dm_key=OuterRef("direct_key"),
        memberships__user=viewer,
    )
    return (
        people.select_related("profile")  # drawn without a query each
        .annotate(direct_key=_direct_key_of(viewer.pk))
        .annotate(direct_slug=Subquery(direct.values("slug")[:1]))
        .order_by(Lower("username"), "username", "pk")
    )


def annotate_direct_partner(qs: QuerySet[Room], *, viewer_id: int) -> QuerySet[Room]:
    """Rooms, each with, in a direct conversation, the other person (how the
    conversation is titled for the viewer): `partner_id`, `partner` (their
    username), `partner_name` and `partner_avatar` (their profile's display
    name and avatar file; None without a profile). All None in any other
    room, or once the other person is gone. Subqueries in the rooms' own
    query: one query for a list of any length (partner_of draws them)."""
    partner_id = (
        Membership.objects.filter(room=OuterRef("pk"))
        .exclude(user_id=viewer_id)
        .order_by("user_id")
        .values("user_id")[:1]
    )
    user = get_user_model().objects.filter(pk=OuterRef("partner_id"))
    profile = Profile.objects.filter(user_id=OuterRef("partner_id"))
    return qs.annotate(
        partner_id=models.Case(
            models.When(kind=Room.Kind.DIRECT, then=Subquery(partner_id)),
            default=None,
            output_field=models.IntegerField(),
        ),
        partner=Subquery(user.values("username")[:1]),
        partner_name=Subquery(profile.values("display_name")[:1]),
        partner_avatar=Subquery(profile.values("avatar")[:1]),
    )


def partner_of(room: Room) -> dict | None:
    """A direct conversation's other person, from annotate_direct_partner's
    columns, as {% avatar %} and |display_name take them; None elsewhere."""
    if room.partner_id is None:
        return None
    return user_drawn(
        user_id=room.partner_id,
        username=room.partner,
        display_name=room.partner_name,
        avatar_name=room.partner_avatar,
    )


def mentions_of(*, user: AbstractBaseUser) -> QuerySet[Message]:
    """Messages by others that mention `user` (@name), in the rooms they may
    see, newest first, each with its room and author and `unread`: after
    the user's read mark in a room they belong to. Deleted messages keep no
    mentions (services.message_delete), so never appear.

    Not those of a public room the user left (and has not joined again):
    leaving says the room is not for them, and the sidebar's badge counts
    the rooms they belong to alone. A public room they never joined keeps
    its mentions: someone calling them in."""
    last_read = Membership.objects.filter(room=OuterRef("room"), user=user).values(
        "last_read_id"
    )[:1]
    left = (
        Message.objects.filter(user=user, kind=Message.Kind.LEAVE)
        .exclude(room__memberships__user=user)
        .values("room")
    )
    return (
        Message.objects.filter(
            mention_rows__user=user,
            room__in=rooms_visible_to(user=user).values("pk"),
            deleted_at__isnull=True,
        )
        .exclude(user=user)
        .exclude(room__in=left)
        .select_related("room", "user__profile")
        .annotate(last_read=Subquery(last_read))
        .annotate(
            unread=models.Case(
                models.When(last_read__isnull=False, id__gt=F("last_read"), then=True),
                default=False,
                output_field=models.BooleanField(),
            )
        )
        .order_by("-id")
    )
