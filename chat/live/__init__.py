"""The poll's fast path: how a tab learns "nothing new" for almost nothing.

Every open room page polls every two seconds, so nearly every request the
chat serves is an empty poll; and every open page's sidebar asks every five
seconds whether it changed. This package is everything that makes those
cheap; the rest of chat/ is plain Django.

    grants.py      The signed grant in the poller's URL (`t`): user, room,
                   membership, a hash of the session key, issue time. Issued
                   on the full path (chat.views.messages) once the access
                   rule held; honoured for a quarter to half of
                   CHAT_POLL_TOKEN_MAX_AGE, and only with its session's
                   cookie.
    middleware.py  FastPollMiddleware, first in MIDDLEWARE. A GET of the
                   poll URL from htmx with a grant that verifies goes
                   through query.poll_check:
                     - the grant no longer counts: the full stack answers;
                     - nothing new and the page shows the current "who is
                       here": 204, with the headers the stack would add;
                     - something new: the request goes on down the stack
                       carrying request.poll_grant, and the view delivers it
                       without reading the session or the user.
                   The sidebar's refresh (GET /sidebar/, its grant issued
                   for the slug grants.SIDEBAR) through query.sidebar_check:
                   204 when the grant counts and the sidebar's version is
                   the page's; else chat.views.sidebar answers (a change
                   drawn, an aged grant renewed alone, or login).
    query.py       The hand-written queries: whether the grant still counts
                   (session row alive, user active, membership still there)
                   and whether the room has anything after the cursor; the
                   sidebar's version, with the same checks for its grant.
    throttle.py    A per-process flood guard, so the hot path never writes
                   the shared cache; the full path does the real counting.

What is not here: the delivering poll (chat.views.messages, the same
selectors and services as every other read and write, in the ORM), the
access rule (chat.selectors.rooms_visible_to), presence (chat.presence).
The threat model of the grant is in SECURITY.md; its costs are measured by
make bench (docs/benchmarks.md, parts a and b).
"""
