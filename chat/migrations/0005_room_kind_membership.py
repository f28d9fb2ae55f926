"""Rooms get an explicit kind (public, private, direct); RoomVisit becomes
Membership, the one record of who belongs to a room (the through model of
Room.members); private and direct rooms get unguessable slugs."""

import secrets

from django.conf import settings
from django.db import migrations, models
from django.db.models import Q


def random_slug() -> str:
    return secrets.token_hex(8)


def forwards(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    Membership = apps.get_model("chat", "Membership")
    Room.objects.filter(dm_key__isnull=False).update(kind="direct")
    Room.objects.filter(dm_key__isnull=True, is_private=True).update(kind="private")
    # Everyone in the old member list belongs to the room from now on.
    for room in Room.objects.exclude(kind="public"):
        have = set(
            Membership.objects.filter(room=room).values_list("user_id", flat=True)
        )
        Membership.objects.bulk_create(
            Membership(room=room, user_id=user_id)
            for user_id in room.members.values_list("pk", flat=True)
            if user_id not in have
        )
        # A slug made from the name told anyone naming a room alike that a
        # private room by that name existed.
        room.slug = random_slug()
        room.save(update_fields=["slug"])


def backwards(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    Membership = apps.get_model("chat", "Membership")
    Room.objects.exclude(kind="public").update(is_private=True)
    for membership in Membership.objects.filter(room__is_private=True):
        membership.room.members.add(membership.user_id)


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_room_for_object"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("RoomVisit", "Membership"),
        migrations.RemoveConstraint(model_name="membership", name="unique_visit"),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                fields=("user", "room"), name="one_membership_per_user_and_room"
            ),
        ),
        migrations.AlterField(
            model_name="membership",
            name="room",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE,
                related_name="memberships",
                to="chat.room",
            ),
        ),
        migrations.AlterField(
            model_name="membership",
            name="user",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE,
                related_name="chat_memberships",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="room",
            name="kind",
            field=models.CharField(
                choices=[
                    ("public", "public"),
                    ("private", "private"),
                    ("direct", "direct conversation"),
                ],
                default="public",
                max_length=10,
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="room", name="is_private"),
        migrations.RemoveField(model_name="room", name="members"),
        migrations.AddField(
            model_name="room",
            name="members",
            field=models.ManyToManyField(
                blank=True,
                related_name="chat_rooms",
                through="chat.Membership",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="room",
            constraint=models.CheckConstraint(
                condition=Q(kind="direct", dm_key__isnull=False)
                | (~Q(kind="direct") & Q(dm_key__isnull=True)),
                name="direct_rooms_have_a_pair_key",
            ),
        ),
    ]
