"""The address throttle: too many failed logins from one address, whatever
the usernames tried (password spraying), refuse that address's logins for a
while. django-axes locks a (username, address) pair; this is the other half.

Only failures count (Django's user_login_failed signal), so an office behind
one address is not throttled by its colleagues' logins. Past
ACCOUNTS_LOGIN_ADDRESS_RATE the address is marked in the shared cache for
one period, and AddressThrottleBackend refuses its logins before any
password is checked.
"""

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.client_ip import client_ip
from chat.ratelimit import allow, parse_rate

SCOPE = "login-failures"


def _blocked_key(address: str) -> str:
    return f"accounts:login-blocked:{address}"


def is_throttled(request: HttpRequest) -> bool:
    """Whether this request was refused by the throttle (for the view)."""
    return getattr(request, "login_address_throttled", False)


class AddressThrottleBackend:
    """Refuses every login from a throttled address and authenticates no
    one. It has no get_user(), so no session can name it as its backend."""

    def authenticate(self, request, **credentials):
        if request is not None and cache.get(_blocked_key(client_ip(request))):
            request.login_address_throttled = True
            # authenticate() stops here and sends user_login_failed.
            raise PermissionDenied
        return None


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs) -> None:
    # Refusals by the throttle itself checked no password: not counted, so
    # the address gets its full allowance again after one period.
    if request is None or is_throttled(request):
        return
    rate = settings.ACCOUNTS_LOGIN_ADDRESS_RATE
    address = client_ip(request)
    if not allow(scope=SCOPE, key=address, rate=rate):
        cache.set(_blocked_key(address), True, timeout=parse_rate(rate).period)
        request.login_address_throttled = True
