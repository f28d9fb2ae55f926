from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import usernames


class NameSkeleton(models.Model):
    """The digest of the look-alike key (accounts.usernames) of each name a
    user is shown by: their username, and their display name when it is not
    a look-alike of that username. Signup and the settings find a look-alike
    of anyone's name with one indexed query; the unique digest stops two
    people who take look-alike names at the same moment (two usernames, two
    display names, or one of each) from both getting them. A post_save
    signal keeps the username's row for every user however made (signup,
    createsuperuser, the admin, a rename); accounts.services.profile_update
    keeps the display name's."""

    class Kind(models.TextChoices):
        USERNAME = "username"
        DISPLAY_NAME = "display_name"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="name_skeletons",
    )
    kind = models.CharField(max_length=12, choices=Kind, default=Kind.USERNAME)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="accounts_one_skeleton_per_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.digest[:12]}"


def hold_name(user, kind: str, digest: str) -> bool:
    """Record the user's name of that kind; False, recording nothing, when
    another row holds a look-alike."""
    try:
        with transaction.atomic():
            NameSkeleton.objects.update_or_create(
                user=user, kind=kind, defaults={"digest": digest}
            )
    except IntegrityError:
        return False
    return True


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def keep_skeleton(sender, instance, raw, update_fields, **kwargs) -> None:
    # A login saves last_login alone; fixtures load as they are.
    if raw or (update_fields is not None and "username" not in update_fields):
        return
    digest = usernames.digest(usernames.key(instance.get_username()))
    kind = NameSkeleton.Kind
    if hold_name(instance, kind.USERNAME, digest):
        return
    # Renamed to a look-alike of one's own display name: the username's row
    # holds the name for both.
    own = NameSkeleton.objects.filter(
        user=instance, kind=kind.DISPLAY_NAME, digest=digest
    )
    if own.delete()[0] and hold_name(instance, kind.USERNAME, digest):
        return
    # Another user holds a look-alike name (older than this check, or
    # made by an administrator): that row keeps the name protected, and
    # this user holds none. Signup checks for this and refuses.
    NameSkeleton.objects.filter(user=instance, kind=kind.USERNAME).delete()


DISPLAY_NAME_MAX_LENGTH = 50


def avatar_path(profile: "Profile", filename: str) -> str:
    """avatars/<user id>/<the name accounts.services.avatar_set chose>."""
    return f"avatars/{profile.user_id}/{filename}"


class Profile(models.Model):
    """A user's settings. Made on first save of the settings page; a user
    without one has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # Others see "Seen by <you>" under what you have read (as Zulip lets
    # one turn off); your own read marks (unread counts) are kept either way.
    read_receipts = models.BooleanField(default=True)
    # Shown instead of the username where set (accounts.selectors.name_of);
    # the username stays the handle: mentions, direct conversations.
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX_LENGTH, blank=True)
    # A 256x256 WebP re-encoded from the upload (accounts.avatars), under a
    # new random name each time: served by accounts.views.avatar.
    avatar = models.ImageField(upload_to=avatar_path, max_length=200, blank=True)
    # One more at each change of how others see the user (display name,
    # avatar; accounts.services): lists that show them drawn (the sidebar's
    # direct conversations) fold it into their version, so they are drawn
    # again without comparing names.
    appearance = models.PositiveIntegerField(default=0, editable=False)
    # Blank: the browser's Accept-Language, and the site's TIME_ZONE.
    language = models.CharField(max_length=10, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"settings of {self.user_id}"
