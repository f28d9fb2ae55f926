"""The client's address, as django-axes and the login throttle see it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, unless settings.CLIENT_IP_HEADER names a header that our
    proxies set (e.g. HTTP_X_FORWARDED_FOR).

    Each of the CLIENT_IP_PROXY_COUNT proxies appends the address it received
    the request from, so the client's address is that many entries from the
    right; anything further left was sent by the client and may be forged.
    Without the setting the header is ignored, since any client can send one.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    header = settings.CLIENT_IP_HEADER
    if not header:
        return remote
    entries = [e.strip() for e in request.META.get(header, "").split(",")]
    count = settings.CLIENT_IP_PROXY_COUNT
    if len(entries) < count:
        return remote  # not set by all our proxies: nothing to trust in it
    try:
        return str(ipaddress.ip_address(entries[-count]))
    except ValueError:
        return remote
