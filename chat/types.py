from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """An HttpRequest as seen after django-htmx's middleware (for typing)."""

    htmx: HtmxDetails
