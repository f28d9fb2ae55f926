"""A poll never answers 500 for a lock that passes.

Every open tab asks every two seconds whether anything is new. A database
that is briefly locked (SQLite: another connection's write outlasting the
busy timeout, or SQLITE_LOCKED; PostgreSQL: a lock timeout, a deadlock or a
serialization failure) is no fault of the page: the read is tried again a
few times, then answered 503 with Retry-After, which htmx does not swap, so
the poller stays as it is and its next tick recovers by itself.

Only reads are retried (GET): a write that failed may have been a send, and
the page that sent it decides whether to send again.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

# SQLite's primary result codes for "try again": SQLITE_BUSY, SQLITE_LOCKED.
_SQLITE_CODES = {5, 6}
# PostgreSQL's: serialization_failure, deadlock_detected, lock_not_available.
_POSTGRES_STATES = {"40001", "40P01", "55P03"}

ATTEMPTS = 3
PAUSE = 0.05  # seconds before the second try, doubled before each next
RETRY_AFTER = 2  # seconds: one poll interval

T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """Whether `error` (Django's, wrapping the driver's) is a lock or a
    conflict that the same statement may get past a moment later."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    code = getattr(cause, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_CODES
    return getattr(cause, "sqlstate", None) in _POSTGRES_STATES


def retried(read: Callable[[], T]) -> T:
    """`read()`, tried again after a transient error, ATTEMPTS times in all;
    the last error is raised. Inside a transaction nothing is tried again:
    the error has ended the transaction (PostgreSQL), and the statements
    before it in the same transaction would not be repeated."""
    pause = PAUSE
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return read()
        except OperationalError as error:
            in_transaction = connections[DEFAULT_DB_ALIAS].in_atomic_block
            if attempt == ATTEMPTS or in_transaction or not is_transient(error):
                raise
        time.sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")  # the loop returns or raises


def busy() -> HttpResponse:
    """The answer to a read the database could not serve for now."""
    response = HttpResponse(
        _("The chat is busy. Trying again in a moment."),
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def reads_survive_locks(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """A view whose GETs are tried again after a transient database error,
    then answered busy(); its other methods as they are."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        try:
            return retried(lambda: view(request, *args, **kwargs))
        except OperationalError as error:
            if not is_transient(error):
                raise
            return busy()

    return wrapper
