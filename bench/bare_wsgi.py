"""The floor: a bare Django view that answers 204, nothing else.

Served by the same gunicorn.conf.py as the chat (GUNICORN_WSGI_APP=
bench.bare_wsgi:application), so the difference between the two is what the
chat's settings, middleware and poll view cost on top of Django and gunicorn.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    ALLOWED_HOSTS=["*"],
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "bench-bare-floor-key"),
    USE_I18N=False,
    DATABASES={},
)


def empty(request, anything=""):
    return HttpResponse(status=204)


urlpatterns = [path("<path:anything>", empty), path("", empty)]

application = get_wsgi_application()
