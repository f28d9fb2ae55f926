from django.contrib.auth import views as auth_views
from django.urls import path

import chat.converters  # noqa: F401 (registers <id:…>)
from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/avatar/", views.avatar_upload, name="avatar_upload"),
    path("settings/avatar/remove/", views.avatar_remove, name="avatar_remove"),
    path("password/", views.password_change, name="password_change"),
    path("avatars/<id:user_id>/<str:name>", views.avatar, name="avatar"),
    path("login/", views.LoginView.as_view(), name="login"),
    # Django's LogoutView accepts POST only, so a link cannot log anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
