from django.urls import path

import chat.converters  # noqa: F401 (registers <id:…>)
from chat.views import (
    direct,
    files,
    members,
    mentions,
    message,
    messages,
    objects,
    people,
    reactions,
    rooms,
    search,
    sidebar,
)

app_name = "chat"

urlpatterns = [
    path("rooms/", rooms.room_list, name="room_list"),
    path("sidebar/", sidebar.sidebar, name="sidebar"),
    path("rooms/for-object/", objects.object_room_start, name="object_room"),
    path("rooms/<slug:slug>/", rooms.room_detail, name="room"),
    path("rooms/<slug:slug>/messages/", messages.room_messages, name="messages"),
    path(
        "rooms/<slug:slug>/messages/<id:message_id>/",
        message.message_detail,
        name="message",
    ),
    path(
        "rooms/<slug:slug>/messages/<id:message_id>/edit/",
        message.message_edit,
        name="message_edit",
    ),
    path(
        "rooms/<slug:slug>/messages/<id:message_id>/delete/",
        message.message_delete,
        name="message_delete",
    ),
    path(
        "rooms/<slug:slug>/messages/<id:message_id>/reactions/",
        reactions.reactions,
        name="reactions",
    ),
    path("rooms/<slug:slug>/compose/", messages.compose, name="compose"),
    path(
        "rooms/<slug:slug>/files/<id:attachment_id>/<str:name>",
        files.attachment,
        name="attachment",
    ),
    path(
        "rooms/<slug:slug>/files/<id:attachment_id>/thumb/<str:name>",
        files.thumbnail,
        name="attachment_thumb",
    ),
    path("rooms/<slug:slug>/members/", members.member_add, name="member_add"),
    path("rooms/<slug:slug>/join/", rooms.room_join, name="join"),
    path("rooms/<slug:slug>/leave/", rooms.room_leave, name="leave"),
    path("rooms/<slug:slug>/typing/", rooms.room_typing, name="typing"),
    path("dm/<str:username>/", direct.direct_message, name="dm"),
    path("people/", people.people, name="people"),
    path("mentions/", mentions.mentions, name="mentions"),
    path("search/", search.search, name="search"),
]
