import django.db.models.deletion
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import migrations, models

from accounts import usernames


def fill_skeletons(apps, schema_editor):
    """Existing users' skeletons, oldest first. Names that already look
    alike keep one row between them (the oldest user's), which protects the
    name as well as two would."""
    User = apps.get_model(settings.AUTH_USER_MODEL)
    name_field = get_user_model().USERNAME_FIELD  # not kept on historical models
    UsernameSkeleton = apps.get_model("accounts", "UsernameSkeleton")
    taken = set()
    rows = []
    names = User.objects.order_by("pk").values_list("pk", name_field)
    for pk, username in names.iterator():
        digest = usernames.digest(usernames.key(username))
        if digest not in taken:
            taken.add(digest)
            rows.append(UsernameSkeleton(user_id=pk, digest=digest))
    UsernameSkeleton.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="UsernameSkeleton",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="username_skeleton", to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.RunPython(fill_skeletons, migrations.RunPython.noop),
    ]
