from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django_htmx.http import HttpResponseClientRedirect

from chat.types import HtmxHttpRequest


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like Django's, but an htmx request gets HX-Redirect instead of a 302.

    A 302 would be followed by XMLHttpRequest and the login page swapped into
    the message log; HX-Redirect makes htmx load the login page as a page,
    coming back to the page the user was on.
    """

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            try:
                next_url = request.htmx.current_url_abs_path or "/"
            except ValueError:  # a malformed HX-Current-URL: as if absent
                next_url = "/"
            query = urlencode({"next": next_url})
            return HttpResponseClientRedirect(f"{settings.LOGIN_URL}?{query}")
        return redirect_to_login(request.get_full_path())

    return wrapper
