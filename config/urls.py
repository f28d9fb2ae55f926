from django.conf import settings
from django.contrib import admin
from django.urls import include, path

import chat.converters  # noqa: F401 (registers <id:…>)
from chat import api as chat_api
from chat.views import rooms as chat_rooms

urlpatterns = [
    path("", chat_rooms.landing, name="landing"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path(
        "api/rooms/<slug:slug>/messages/",
        chat_api.room_messages,
        name="api_messages",
    ),
    path(
        "api/rooms/<slug:slug>/messages/<int:message_id>/",
        chat_api.message_detail,
        name="api_message",
    ),
    path(
        "api/rooms/<slug:slug>/messages/<int:message_id>/delete/",
        chat_api.message_delete,
        name="api_message_delete",
    ),
    path(
        "api/rooms/<slug:slug>/messages/<int:message_id>/reactions/",
        chat_api.message_reactions,
        name="api_reactions",
    ),
    path("api/search/", chat_api.search, name="api_search"),
    path("", include("chat.urls")),
]

if settings.PATTERN_LIBRARY_ENABLED:
    # A development tool with its own inline scripts, shown in an iframe of
    # its own pages: outside the product's strict policy.
    from csp.decorators import csp_exempt
    from django.urls import URLPattern
    from django.views.decorators.clickjacking import xframe_options_sameorigin
    from pattern_library import urls as pattern_urls

    def _relaxed(patterns: list[URLPattern]) -> list[URLPattern]:
        return [
            URLPattern(
                p.pattern,
                xframe_options_sameorigin(csp_exempt()(p.callback)),
                p.default_args,
                p.name,
            )
            for p in patterns
        ]

    urlpatterns.append(
        path(
            "pattern-library/",
            include((_relaxed(pattern_urls.urlpatterns), "pattern_library")),
        )
    )

if settings.BROWSER_RELOAD:
    urlpatterns.append(path("__reload__/", include("django_browser_reload.urls")))
