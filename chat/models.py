from django.conf import settings
from django.db import models
from django.urls import reverse


class Room(models.Model):
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
    # Private rooms (and direct messages) are seen only by their members.
    is_private = models.BooleanField(default=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="chat_rooms", blank=True
    )
    # "<low user id>:<high user id>" for a direct-message room: one per pair.
    dm_key = models.CharField(max_length=50, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("chat:room", kwargs={"slug": self.slug})


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages"
    )
    content = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The cursor is the id: "room R after N" and "last 25 of room R"
            # are both range scans of this index.
            models.Index(fields=["room", "id"], name="chat_message_room_id"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}: {self.content[:40]}"
