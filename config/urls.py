from django.contrib import admin
from django.urls import include, path

from chat import api as chat_api
from chat import views as chat_views

urlpatterns = [
    path("", chat_views.landing, name="landing"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path(
        "api/rooms/<slug:slug>/messages/",
        chat_api.room_messages,
        name="api_messages",
    ),
    path("", include("chat.urls")),
]
