import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from accounts import usernames


def fill_display_names(apps, schema_editor):
    """Existing display names' keys, oldest user first, where no username
    or older display name holds a look-alike (that row protects the name
    already; the newer display name stays as it is until it is changed)."""
    NameSkeleton = apps.get_model("accounts", "NameSkeleton")
    Profile = apps.get_model("accounts", "Profile")
    taken = set(NameSkeleton.objects.values_list("digest", flat=True).iterator())
    rows = []
    profiles = (
        Profile.objects.exclude(display_name="")
        .order_by("user_id")
        .values_list("user_id", "display_name")
    )
    for user_id, display_name in profiles.iterator():
        digest = usernames.digest(usernames.key(display_name))
        if digest not in taken:
            taken.add(digest)
            rows.append(
                NameSkeleton(user_id=user_id, kind="display_name", digest=digest)
            )
    NameSkeleton.objects.bulk_create(rows, batch_size=1000)


def forget_display_names(apps, schema_editor):
    """Back to one row per user, as UsernameSkeleton had."""
    NameSkeleton = apps.get_model("accounts", "NameSkeleton")
    NameSkeleton.objects.filter(kind="display_name").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_profile_appearance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # RenameModel renames the content type too: backwards, Django reads
        # it through the state this migration depends on, which must be the
        # content types' table as it is (without the old "name" column).
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RenameModel("UsernameSkeleton", "NameSkeleton"),
        migrations.AlterField(
            model_name="nameskeleton",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="name_skeletons",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="nameskeleton",
            name="kind",
            field=models.CharField(
                choices=[("username", "Username"), ("display_name", "Display Name")],
                default="username",
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="nameskeleton",
            constraint=models.UniqueConstraint(
                fields=("user", "kind"), name="accounts_one_skeleton_per_name"
            ),
        ),
        migrations.RunPython(fill_display_names, forget_display_names),
    ]
