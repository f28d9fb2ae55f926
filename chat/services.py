"""Writes. Views call these; nothing else touches the models for writing.
Each states the rules of what it does: a view that calls one need not know
them, and a template only hides what the service would refuse anyway."""

import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from chat import attachments, presence, selectors
from chat.live import query
from chat.models import Attachment, Membership, Mention, Message, Reaction, Room


def _name_slug(name: str) -> str:
    """A public room's slug, from its name. Private and direct rooms have
    random slugs, so which slugs are taken says nothing about them."""
    base = slugify(name)[:90] or "room"
    slug, n = base, 1
    while Room.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _random_slug() -> str:
    # 64 random bits: a private room's address cannot be guessed from its
    # name, nor found by trying.
    return secrets.token_hex(8)


def room_create(
    *, name: str, created_by: AbstractBaseUser, is_private: bool = False
) -> Room:
    name = name.strip()
    if not name:
        raise ValidationError(_("A room needs a name."), code="blank")
    # Only rooms the creator can see count, so private names do not leak.
    visible = selectors.rooms_visible_to(user=created_by)
    if visible.filter(name__iexact=name).exists():
        raise ValidationError(_("A room with this name already exists."), code="taken")
    kind = Room.Kind.PRIVATE if is_private else Room.Kind.PUBLIC
    for _attempt in range(5):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    name=name,
                    slug=_random_slug() if is_private else _name_slug(name),
                    created_by=created_by,
                    kind=kind,
                )
                # The creator belongs from the start: no join notice.
                Membership.objects.create(room=room, user=created_by)
                return room
        except IntegrityError:
            # Another request took the same slug between our check and insert.
            continue
    raise ValidationError(_("Could not name this room; try another name."), code="slug")


ACTION_PREFIX = "/me "
MENTION = re.compile(r"(?<![\w@])@([\w.@+-]+)")


def _mentioned_usernames(content: str) -> list[str]:
    names = {name.rstrip(".") for name in MENTION.findall(content)}
    if not names:
        return []
    found = get_user_model().objects.filter(username__in=names)
    return sorted(found.values_list("username", flat=True))


def _typed(content: str) -> tuple[str, str]:
    """(kind, content) of what a user typed: "/me waves" is an action."""
    if content.startswith(ACTION_PREFIX):
        return Message.Kind.ACTION, content[len(ACTION_PREFIX) :].strip()
    return Message.Kind.MESSAGE, content


def message_create(
    *,
    room: Room,
    author: AbstractBaseUser,
    content: str,
    reply_to: Message | None = None,
    files: Sequence[UploadedFile] = (),
) -> Message:
    """Store what a user typed: "/me waves" becomes an action, @names of
    existing users are recorded as mentions. Sending to a public room one
    has not joined joins it first. `reply_to`: a message of the same room
    this one answers (selectors.message_get found it). `files`: attached,
    each checked by its content (chat.attachments: ValidationError naming
    the file refused, and then nothing is stored); with files, the text may
    be blank."""
    kind, content = _typed(content)
    if not content.strip() and not files:
        raise ValidationError(_("Type a message before sending."), code="blank")
    if reply_to is not None:
        if reply_to.room_id != room.pk:
            raise ValidationError(_("Reply to a message of this room."), code="reply")
        refusal = selectors.reply_refusal(message=reply_to)
        if refusal:
            raise ValidationError(refusal, code="reply")
    attachments.check_count(list(files))
    checked = [attachments.check(upload) for upload in files]
    if room.kind == Room.Kind.PUBLIC:
        room_join(room=room, user=author)
    message = _message_insert_with_files(
        checked,
        room=room,
        user=author,
        kind=kind,
        content=content,
        mentions=_mentioned_usernames(content),
        reply_to=reply_to,
    )
    # Whoever just sent is no longer typing.
    presence.typing(
        room_id=room.pk,
        user_id=author.pk,
        username=author.get_username(),
        active=False,
    )
    return message


def system_notice_create(*, room: Room, text: str) -> Message:
    return _message_insert(room=room, user=None, kind=Message.Kind.SYSTEM, content=text)


def room_join(*, room: Room, user: AbstractBaseUser) -> bool:
    """Join a public room, announced with a join notice; False when the user
    already belongs. Private rooms and direct conversations are joined only
    by being added."""
    if Membership.objects.filter(room=room, user=user).exists():
        return False
    if room.kind != Room.Kind.PUBLIC:
        raise PermissionDenied(_("Only a member can add you to this room."))
    try:
        with transaction.atomic():
            membership = Membership.objects.create(room=room, user=user)
            notice = _message_insert(
                room=room, user=user, kind=Message.Kind.JOIN, content=""
            )
            # One joins caught up: what came before is not "unread".
            membership.last_read_id = notice.id
            membership.save(update_fields=["last_read_id"])
    except IntegrityError:  # a second tab won the race
        return False
    return True


def room_leave(*, room: Room, user: AbstractBaseUser) -> bool:
    """Leave a room, announced with a leave notice; False when the user did
    not belong. Leaving a private room loses access to it. A direct
    conversation cannot be left: there would be no way back."""
    if room.kind == Room.Kind.DIRECT:
        raise PermissionDenied(_("A direct conversation cannot be left."))
    with transaction.atomic():
        deleted, _rows = Membership.objects.filter(room=room, user=user).delete()
        if deleted:
            _message_insert(room=room, user=user, kind=Message.Kind.LEAVE, content="")
    return bool(deleted)


def room_mark_read(*, room: Room, user_id: int, message_id: int) -> None:
    """Advance the user's read mark (never backwards), where they belong.
    Every delivering poll runs it: written out (chat/live/query.py says why,
    with the numbers)."""
    query.mark_read(room_id=room.pk, user_id=user_id, message_id=message_id)


def room_open(*, room: Room, user_id: int) -> selectors.Page:
    """The newest page of a room, counted as read: what the page shows, with
    the first message of it that was unread (the "New messages" divider)."""
    page = selectors.messages_latest(room=room)
    if page.last_id:
        unread = selectors.first_unread(page=page, room=room, user_id=user_id)
        page = replace(page, first_unread=unread)
        room_mark_read(room=room, user_id=user_id, message_id=page.last_id)
    return page


def room_open_at(
    *, room: Room, user_id: int, around: int | None = None, after: int | None = None
) -> selectors.Page:
    """A page of the room opened at a message (`around`: its permalink) or
    after one (`after`: "Load newer" without script). Counted as read only
    once it reaches the newest message, as room_open's page: a permalink
    into old history leaves what came after it unread."""
    if around is not None:
        page = selectors.messages_around(room=room, around=around)
    else:
        page = selectors.messages_newer(room=room, after=after or 0)
    if page.next_id is None and page.last_id:
        room_mark_read(room=room, user_id=user_id, message_id=page.last_id)
    return page


def send_changes(
    *, room: Room, message: Message, after: int, since: int, start: int
) -> selectors.Changes:
    """What a sender's page is missing once `message` is stored: it must hold
    the message itself. Read up to the message's own change number, every
    change before it having committed; a message between the page and it
    changed since (an edit, a reaction, racing this read) would end the batch
    ahead of it, and then the read is made again holding the room's lock,
    which stops every change until it is done. Rarely: the lock is not held
    for the common read (on SQLite it stops every write)."""
    changes = selectors.page_changes(
        room=room, after=after, since=since, start=start, newest=message.seq
    )
    if changes.more or (changes.new and changes.new[-1].id >= message.id):
        return changes
    with transaction.atomic():
        newest = (
            Room.objects.select_for_update()
            .values_list("seq", flat=True)
            .get(pk=room.pk)
        )
        return selectors.page_changes(
            room=room, after=after, since=since, start=start, newest=newest
        )


def changes_deliver(
    *, room: Room, user_id: int, changes: selectors.Changes
) -> selectors.Changes:
    """Count what a poll delivers as read: the page now shows it."""
    if changes.new:
        room_mark_read(room=room, user_id=user_id, message_id=changes.after)
    return changes


def _take_seq(room_id: int) -> int:
    """The room's next change number. Must run inside a transaction: the
    UPDATE takes the room's row lock (SQLite: the database's one write lock,
    IMMEDIATE transactions) and holds it until commit, so the changes of one
    room commit in the order of their numbers."""
    Room.objects.filter(pk=room_id).update(seq=models.F("seq") + 1)
    return Room.objects.filter(pk=room_id).values_list("seq", flat=True).get()


def _message_insert(**fields) -> Message:
    """Store a message so that, per room, ids and change numbers become
    visible in order.

    Pollers fetch "changed after N", so a change that committed after a
    higher number was already seen would be skipped for good. Taking the
    number (and with it the room's row lock) before the insert serialises the
    writers of one room: the id and the number are taken and committed while
    the lock is held, so commit order equals id order equals number order.
    The savepoint makes this hold inside ATOMIC_REQUESTS too: the lock is
    held until the outer transaction commits, which is after the insert.
    """
    with transaction.atomic():
        fields["seq"] = _take_seq(fields["room"].pk)
        fields.update(_neighbours(fields))
        message = Message.objects.create(**fields)
        _mentions_keep(message)
        return message


def _message_insert_with_files(checked: list[attachments.Checked], **fields) -> Message:
    """_message_insert, and the message's attachments in the same
    transaction: a poll sees the message with its files or not at all.
    The files are written to storage first, outside the transaction (the
    room's lock is not held while they upload to a remote storage), under
    random names; if the message is not stored, they are deleted."""
    if not checked:
        return _message_insert(**fields)
    field = Attachment._meta.get_field("file")
    storage = field.storage
    owner = Attachment(message=Message(room_id=fields["room"].pk))
    rows, stored = [], []
    try:
        for item in checked:
            # 128 random bits: the name says nothing of the message or file.
            token = secrets.token_urlsafe(16)
            row = Attachment(
                name=item.name,
                content_type=item.content_type,
                size=item.size,
                width=item.width,
                height=item.height,
                thumb_width=item.thumb_width,
                thumb_height=item.thumb_height,
            )
            item.upload.seek(0)
            row.file.name = storage.save(
                field.generate_filename(owner, f"{token}.{item.extension}"),
                item.upload,
            )
            stored.append(row.file.name)
            if item.thumbnail is not None:
                name = f"{token}.thumb.{attachments.THUMBNAIL_EXTENSION}"
                row.thumbnail.name = storage.save(
                    field.generate_filename(owner, name),
                    ContentFile(item.thumbnail),
                )
                stored.append(row.thumbnail.name)
            rows.append(row)
        with transaction.atomic():
            message = _message_insert(**fields, attachment_count=len(rows))
            for row in rows:
                row.message = message
            Attachment.objects.bulk_create(rows)
    except BaseException:
        for name in stored:  # nothing refers to them
            storage.delete(name)
        raise
    return message


# Consecutive messages of one author closer than this share one header.
GROUP_WINDOW = timedelta(minutes=5)


def _neighbours(fields: dict) -> dict:
    """previous_at and continues for a message about to be stored (holding
    the room's lock, so the previous message is the one before it for good).
    """
    previous = (
        Message.objects.filter(room_id=fields["room"].pk)
        .order_by("-id")
        .values("user_id", "kind", "created_at", "deleted_at")
        .first()
    )
    if previous is None:
        return {"previous_at": None, "continues": False}
    user = fields.get("user")
    kind = fields.get("kind", Message.Kind.MESSAGE)
    return {
        "previous_at": previous["created_at"],
        "continues": (
            user is not None
            and kind == previous["kind"] == Message.Kind.MESSAGE
            and previous["user_id"] == user.pk
            and previous["deleted_at"] is None
            and timezone.now() - previous["created_at"] <= GROUP_WINDOW
        ),
    }


def _mentions_keep(message: Message) -> None:
    """The Mention rows of `message` as its `mentions` list says, in the
    caller's transaction."""
    Mention.objects.filter(message=message).delete()
    if message.mentions:
        users = get_user_model().objects.filter(username__in=message.mentions)
        Mention.objects.bulk_create(
            Mention(message=message, user_id=pk, room_id=message.room_id)
            for pk in users.values_list("pk", flat=True)
        )


def _still_there(message: Message, refusal: str, **fields) -> None:
    """Update `message` unless it was deleted since the caller read it, when
    `refusal` is raised (undoing the caller's transaction). Call it holding
    the room's lock (_take_seq): the caller checked its refusal against the
    message as read before, which a delete may have overtaken."""
    live = Message.objects.filter(pk=message.pk, deleted_at__isnull=True)
    if not live.update(**fields):
        raise PermissionDenied(refusal)


def _message_change(message: Message, refusal: str, **fields) -> Message:
    """Change a stored message under the same ordering as an insert (see
    _message_insert): it takes the room's next change number, so every page
    polling the room gets it, once, in order. A message deleted meanwhile
    takes no change: `refusal` says so."""
    with transaction.atomic():
        fields["seq"] = _take_seq(message.room_id)
        _still_there(message, refusal, **fields)
        for name, value in fields.items():
            setattr(message, name, value)
        if "mentions" in fields:
            _mentions_keep(message)
    return message


def message_edit(
    *, message: Message, editor: AbstractBaseUser, content: str
) -> Message:
    """Replace the text of one's own message (selectors.message_edit_refusal
    says when one may). Its kind stays (an action is edited as what follows
    "/me"); mentions are found again; an unchanged text changes nothing."""
    refusal = selectors.message_edit_refusal(message=message, user=editor)
    if refusal:
        raise PermissionDenied(refusal)
    if content == message.content:
        return message
    return _message_change(
        message,
        _("This message was deleted."),
        content=content,
        mentions=_mentioned_usernames(content),
        edited_at=timezone.now(),
    )


def message_delete(*, message: Message, deleter: AbstractBaseUser) -> Message:
    """Delete a message: its author, the room's creator or a staff user may
    (selectors.message_delete_refusal). It stays as a tombstone, its text,
    mentions, reactions and attachments (rows and files) gone, so cursors
    and open pages keep their place; every page polling the room shows the
    tombstone."""
    refusal = selectors.message_delete_refusal(message=message, user=deleter)
    if refusal:
        raise PermissionDenied(refusal)
    with transaction.atomic():
        message = _message_change(
            message,
            _("This message was already deleted."),
            content="",
            mentions=[],
            deleted_at=timezone.now(),
            deleted_by=deleter,
            reactions_seen=[],
            attachment_count=0,
        )
        Reaction.objects.filter(message=message).delete()
        # Their files go once this commits (models.attachment_files_delete).
        Attachment.objects.filter(message=message).delete()
        _successor_regroup(message)
    return message


def _successor_regroup(deleted: Message) -> None:
    """The message after a deleted one no longer continues its group: it
    draws its own header, or the tombstone would leave it nameless. A change
    like any other (holding the room's lock), so open pages redraw it."""
    successor = (
        Message.objects.filter(room_id=deleted.room_id, id__gt=deleted.pk)
        .order_by("id")
        .first()
    )
    if successor is not None and successor.continues and not successor.deleted_at:
        _message_change(successor, "", continues=False)


def reaction_toggle(*, message: Message, user: AbstractBaseUser, emoji: str) -> bool:
    """Add the user's `emoji` to a message, or take it back if it is there;
    True when added. Anyone who may see the room may react, not to a
    deleted message nor to a notice."""
    if emoji not in Reaction.Emoji.values:
        raise ValidationError(_("Pick one of the offered reactions."), code="emoji")
    refusal = selectors.reaction_refusal(message=message)
    if refusal:
        raise PermissionDenied(refusal)
    with transaction.atomic():
        # The room's number first: the lock orders toggles of the same
        # reaction, so "there already?" cannot race.
        seq = _take_seq(message.room_id)
        removed, _rows = Reaction.objects.filter(
            message=message, user=user, emoji=emoji
        ).delete()
        if not removed:
            Reaction.objects.create(message=message, user=user, emoji=emoji)
        seen = [
            [r.emoji, r.user_id, r.user.get_username()]
            for r in Reaction.objects.filter(message=message)
            .select_related("user")
            .order_by("id")
        ]
        _still_there(
            message, _("This message was deleted."), seq=seq, reactions_seen=seen
        )
    message.seq, message.reactions_seen = seq, seen
    return not removed


def room_member_add(
    *, room: Room, added_by: AbstractBaseUser, username: str
) -> AbstractBaseUser:
    """Add a member to a private room (selectors.member_add_refusal says who
    may: its creator; a direct conversation never gains a third person)."""
    refusal = selectors.member_add_refusal(room=room, user=added_by)
    if refusal:
        raise PermissionDenied(refusal)
    User = get_user_model()
    try:
        member = User.objects.get(username=username.strip())
    except User.DoesNotExist:
        raise ValidationError(_("No user with that name."), code="unknown") from None
    with transaction.atomic():
        _membership, created = Membership.objects.get_or_create(room=room, user=member)
        if not created:
            raise ValidationError(
                _("%(name)s is already a member.") % {"name": member.get_username()},
                code="member",
            )
        system_notice_create(
            room=room,
            text=_("%(member)s was added by %(by)s.")
            % {"member": member.get_username(), "by": added_by.get_username()},
        )
    return member


def _direct_name(low: AbstractBaseUser, high: AbstractBaseUser) -> str:
    """A direct room's stored name, cut to the column: two usernames of up to
    150 characters each would not fit, and PostgreSQL refuses what is too
    long. Pages show the other person's name, never this one."""
    name = f"{low.get_username()} & {high.get_username()}"
    limit = Room._meta.get_field("name").max_length
    return name if len(name) <= limit else name[: limit - 1] + "…"


def direct_room_get_or_create(
    *, user: AbstractBaseUser, other: AbstractBaseUser
) -> Room:
    """The one direct conversation of two users, created on first use."""
    low, high = sorted([user, other], key=lambda u: u.pk)
    key = f"{low.pk}:{high.pk}"
    try:
        return Room.objects.get(dm_key=key)
    except Room.DoesNotExist:
        pass
    refusal = selectors.direct_refusal(user=user, other=other)
    if refusal:
        raise ValidationError(refusal, code="refused")
    try:
        with transaction.atomic():
            room = Room.objects.create(
                name=_direct_name(low, high),
                slug=_random_slug(),
                created_by=user,
                kind=Room.Kind.DIRECT,
                dm_key=key,
            )
            room.members.add(low, high)
            return room
    except IntegrityError:
        # The other user opened it at the same moment.
        return Room.objects.get(dm_key=key)


def room_for_object(
    *, obj: models.Model, created_by: AbstractBaseUser | None = None
) -> Room:
    """The room attached to `obj`, created (public) on first use."""
    content_type = ContentType.objects.get_for_model(obj)
    lookup = {"content_type": content_type, "object_id": str(obj.pk)}
    room = Room.objects.filter(**lookup).first()
    if room is not None:
        return room
    name = (str(obj).strip() or content_type.name)[:80]
    try:
        with transaction.atomic():
            room = Room.objects.create(
                name=name, slug=_name_slug(name), created_by=created_by, **lookup
            )
            if created_by is not None:
                # Who starts it belongs from the start: no join notice.
                Membership.objects.create(room=room, user=created_by)
            return room
    except IntegrityError:  # created at the same moment by another request
        return Room.objects.get(**lookup)
