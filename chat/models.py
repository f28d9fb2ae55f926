from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from chat.attachments import IMAGE_FORMATS

# What is shown and served inline: the images chat.attachments checked.
IMAGE_TYPES = frozenset(content_type for content_type, _ext in IMAGE_FORMATS.values())


class Room(models.Model):
    class Kind(models.TextChoices):
        # Anyone signed in may read a public room; joining makes it one of
        # "your" rooms. Private rooms and direct conversations are seen by
        # their members only.
        PUBLIC = "public", _("public")
        PRIVATE = "private", _("private")
        DIRECT = "direct", _("direct conversation")

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=100, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rooms_created",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Fixed at creation (read-only in the admin): a poll grant issued for a
    # public room to someone who has not joined it counts on it staying public.
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.PUBLIC)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="chat_rooms",
        blank=True,
    )
    # The room's change counter: every change to its messages (a new one, an
    # edit, a delete, a reaction) takes the next number, under the room's row
    # lock, and stamps it on the message as Message.seq. Pollers hold the
    # number they have seen; "anything after N?" is one primary-key read.
    seq = models.BigIntegerField(default=0, editable=False)
    # "<low user id>:<high user id>" for a direct conversation: one per pair.
    dm_key = models.CharField(max_length=50, unique=True, null=True, blank=True)
    # Optionally attached to any object, which then has its own room
    # ({% chat_room_for obj %}); a CharField id fits integer and UUID keys.
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True
    )
    # NULL, not "", for rooms without an object: NULLs never collide in the
    # unique constraint.
    object_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    content_object = GenericForeignKey("content_type", "object_id")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="one_room_per_object"
            ),
            # A pair's key is what makes a direct conversation one per pair.
            models.CheckConstraint(
                condition=Q(kind="direct", dm_key__isnull=False)
                | (~Q(kind="direct") & Q(dm_key__isnull=True)),
                name="direct_rooms_have_a_pair_key",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("chat:room", kwargs={"slug": self.slug})

    @property
    def is_private(self) -> bool:
        """Seen by members only (a private room or a direct conversation)."""
        return self.kind != self.Kind.PUBLIC

    @property
    def is_direct(self) -> bool:
        return self.kind == self.Kind.DIRECT


class Message(models.Model):
    class Kind(models.TextChoices):
        MESSAGE = "message", _("message")
        ACTION = "action", _("action (/me)")
        JOIN = "join", _("join notice")
        LEAVE = "leave", _("leave notice")
        SYSTEM = "system", _("system notice")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # Null only for system notices, which nobody wrote.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="messages",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.MESSAGE)
    content = models.TextField(blank=True)
    # Usernames of existing users mentioned as @name, found when stored, so
    # rendering needs no query.
    mentions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The room's change number (Room.seq) of this message's latest change:
    # its version. Pages poll "changed after N" in this order.
    seq = models.BigIntegerField(default=0, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A deleted message stays as a tombstone: its content and mentions are
    # wiped, its place in the log (and every cursor) stays.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    # Who reacted with what, [[emoji, user id, username], ...] oldest first:
    # kept by the service that toggles a Reaction (the record, with its one
    # per user and emoji constraint), so drawing a message needs no query.
    reactions_seen = models.JSONField(default=list, blank=True, editable=False)
    # Where it sits among its neighbours, fixed when stored (services), so a
    # message draws its group and day separator with no query and alike in
    # every batch: the previous message's time (a day separator when the
    # viewer's date differs), and whether it continues that message's group
    # (same author, both plain messages, within GROUP_WINDOW, the previous
    # not deleted; deleting a message ends its successor's continuation).
    previous_at = models.DateTimeField(null=True, blank=True, editable=False)
    continues = models.BooleanField(default=False, editable=False)
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
    )
    # How many Attachment rows it has, fixed when stored (0 once deleted):
    # the selectors fetch attachments only for messages that have some, so a
    # batch of plain messages costs no query more (selectors.with_attachments).
    attachment_count = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            # "room R after id N" and "last 25 of room R" are range scans of
            # this index; "changed in room R after change N", of the next.
            models.Index(fields=["room", "id"], name="chat_message_room_id"),
            models.Index(fields=["room", "seq"], name="chat_message_room_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}: {self.content[:40]}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def first_line(self) -> str:
        """What a reply quotes of it."""
        return self.content.split("\n", 1)[0][:140]


class Mention(models.Model):
    """A user named as @name in a message: the rows behind "mentions of me"
    (the sidebar's badge), kept by the services with `Message.mentions`,
    which stays the copy the partials draw from."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="mention_rows"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # The message's room, kept here so a room's unread mentions of a user are
    # one index range: (user, room, message id).
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="one_mention")
        ]
        indexes = [
            models.Index(fields=["user", "room", "message"], name="chat_mention_unread")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.message_id}"


class Reaction(models.Model):
    """One user's emoji on one message: toggled, at most once per emoji."""

    class Emoji(models.TextChoices):
        THUMBS_UP = "👍", _("thumbs up")
        HEART = "❤️", _("heart")
        LAUGH = "😂", _("laughing")
        PARTY = "🎉", _("party")
        WOW = "😮", _("surprised")
        THANKS = "🙏", _("thank you")

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reactions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    emoji = models.CharField(max_length=8, choices=Emoji)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="one_reaction_per_emoji"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.emoji} on {self.message_id}"


class Membership(models.Model):
    """A user belongs to a room: what lets them into a private room or a
    direct conversation, what makes a public room one of theirs, and how far
    they have read. Leaving deletes it, which also ends the poll grants that
    name it (chat/live/)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_memberships",
    )
    last_read_id = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "room"], name="one_membership_per_user_and_room"
            )
        ]
        indexes = [
            # "Who has read up to the newest message" (read receipts): a
            # range of this index, on every poll.
            models.Index(fields=["room", "last_read_id"], name="chat_membership_read"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room} (read to {self.last_read_id})"


def attachment_path(attachment: "Attachment", filename: str) -> str:
    """attachments/<room id>/<the random name chat.services chose>: nothing
    in it can be guessed from the message or the file's own name."""
    return f"attachments/{attachment.message.room_id}/{filename}"


class Attachment(models.Model):
    """A file sent with a message, checked by its content (chat.attachments):
    an image (shown inline through its thumbnail) or a document (offered as
    a download). Never changed once stored; deleting the message deletes it,
    and its files once that is committed (attachment_files_delete)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    # An image's picture as the page shows it: upright, at most
    # CHAT_THUMBNAIL_SIZE, no metadata (WebP). Empty for other files.
    thumbnail = models.FileField(upload_to=attachment_path, max_length=255, blank=True)
    # The name it was sent with, cleaned (chat.attachments.clean_name): shown,
    # and the name it is served under.
    name = models.CharField(max_length=255)
    # Read from the content, never the name or the browser's word.
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    # An image's size upright (the full picture), and its thumbnail's.
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    thumb_width = models.PositiveIntegerField(null=True, blank=True)
    thumb_height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} on {self.message_id}"

    @property
    def is_image(self) -> bool:
        """Shown inline (its thumbnail) and served inline; anything else is
        only ever a download."""
        return bool(self.thumbnail) and self.content_type in IMAGE_TYPES

    @property
    def thumb_name(self) -> str:
        """The name the thumbnail is served under: the file's, as WebP."""
        stem = self.name.rsplit(".", 1)[0] if "." in self.name[1:] else self.name
        return f"{stem}.webp"


@receiver(post_delete, sender=Attachment)
def attachment_files_delete(sender, instance: Attachment, **kwargs) -> None:
    """The files go once the deletion is committed (a rolled back one keeps
    them), however the row went: a deleted message, or a room or user
    deleted with everything in it. A storage that fails then is logged, not
    raised: the rows are gone either way."""
    names = [field.name for field in (instance.file, instance.thumbnail) if field]
    storage = instance.file.storage

    def delete() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete, robust=True)
