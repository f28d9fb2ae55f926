from django.contrib import admin

from chat import services
from chat.models import Attachment, Message, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_by", "created_at"]
    search_fields = ["name", "slug"]
    list_filter = ["created_at"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["created_by"]

    def get_readonly_fields(self, request, obj=None):
        # A room's kind never changes once it exists: poll grants issued for
        # a public room count on it staying public (chat/live/grants.py).
        return ["kind", "dm_key"] if obj is not None else []


class AttachmentInline(admin.TabularInline):
    """A message's files, to look at: they go with the message (deleting it
    here deletes them), never one by one."""

    model = Attachment
    extra = 0
    can_delete = False
    fields = ["name", "content_type", "size", "width", "height"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    inlines = [AttachmentInline]
    list_display = ["id", "room", "user", "short_content", "created_at"]
    search_fields = ["content", "user__username", "room__name"]
    list_filter = ["room", "created_at"]
    list_select_related = ["room", "user"]
    # What a message says changes only through the services (an edit by its
    # author, a delete here or in the room), each numbered so that open
    # pages are told; a plain save here would be seen by no one.
    readonly_fields = [
        "room",
        "user",
        "kind",
        "content",
        "mentions",
        "reply_to",
        "created_at",
        "seq",
        "edited_at",
        "deleted_at",
        "deleted_by",
        "reactions_seen",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # messages are sent in rooms (or by the API)

    @admin.display(description="content")
    def short_content(self, obj: Message) -> str:
        return obj.content[:80]

    # Deleting here leaves a tombstone, as deleting in the room does: the
    # row keeps its place for cursors and open pages, and every page polling
    # the room is told (a new change number). One already a tombstone stays.

    def delete_model(self, request, obj: Message) -> None:
        if not obj.is_deleted:
            services.message_delete(message=obj, deleter=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for message in queryset.filter(deleted_at__isnull=True).select_related("room"):
            services.message_delete(message=message, deleter=request.user)
