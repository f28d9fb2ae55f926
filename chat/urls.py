from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("rooms/", views.room_list, name="room_list"),
    path("rooms/<slug:slug>/", views.room_detail, name="room"),
    path("rooms/<slug:slug>/messages/", views.room_messages, name="messages"),
    path("rooms/<slug:slug>/members/", views.room_member_add, name="member_add"),
    path("rooms/<slug:slug>/leave/", views.room_leave, name="leave"),
    path("rooms/<slug:slug>/typing/", views.room_typing, name="typing"),
    path("dm/<str:username>/", views.direct_message, name="dm"),
]
