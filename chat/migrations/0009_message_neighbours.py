from datetime import timedelta

from django.db import migrations, models

# chat.services.GROUP_WINDOW when this was written; a migration keeps its own.
GROUP_WINDOW = timedelta(minutes=5)


def neighbours(apps, schema_editor):
    """Stored messages take what the services now fix when storing one: the
    previous message's time and whether they continue its group."""
    Message = apps.get_model("chat", "Message")
    rows = Message.objects.order_by("room_id", "id").only(
        "id", "room_id", "user_id", "kind", "created_at", "deleted_at"
    )
    previous, batch = None, []
    for message in rows.iterator(chunk_size=2000):
        if previous is not None and previous.room_id == message.room_id:
            message.previous_at = previous.created_at
            message.continues = (
                message.kind == previous.kind == "message"
                and message.user_id is not None
                and message.user_id == previous.user_id
                and previous.deleted_at is None
                and message.created_at - previous.created_at <= GROUP_WINDOW
            )
            batch.append(message)
        previous = message
        if len(batch) >= 2000:
            Message.objects.bulk_update(batch, ["previous_at", "continues"])
            batch = []
    Message.objects.bulk_update(batch, ["previous_at", "continues"])


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0008_mentions"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="continues",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="message",
            name="previous_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(neighbours, migrations.RunPython.noop),
    ]
