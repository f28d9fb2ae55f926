"""accounts.client_ip: REMOTE_ADDR unless a proxy header is configured."""

import pytest
from django.test import RequestFactory

from accounts.client_ip import client_ip


def request(**meta):
    return RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", **meta)


def test_without_the_setting_the_header_is_ignored():
    assert client_ip(request(HTTP_X_FORWARDED_FOR="192.0.2.1")) == "10.0.0.1"


@pytest.mark.parametrize(
    ("count", "header", "expected"),
    [
        (1, "192.0.2.1", "192.0.2.1"),
        # What the client sent stays left of what the proxy appended.
        (1, "192.0.2.66, 198.51.100.7", "198.51.100.7"),
        (2, "192.0.2.66, 198.51.100.7, 10.1.1.1", "198.51.100.7"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
        # Fewer entries than proxies, or no address: the proxy's own.
        (2, "198.51.100.7", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_with_the_setting_the_address_is_counted_from_the_right(
    settings, count, header, expected
):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.CLIENT_IP_PROXY_COUNT = count
    assert client_ip(request(HTTP_X_FORWARDED_FOR=header)) == expected


def test_axes_asks_the_same_function(settings):
    from axes.helpers import get_client_ip_address

    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.CLIENT_IP_PROXY_COUNT = 1
    assert get_client_ip_address(request(HTTP_X_FORWARDED_FOR="192.0.2.9")) == (
        "192.0.2.9"
    )
