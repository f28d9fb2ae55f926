from urllib.parse import parse_qsl, urlencode

from chat import services


def say(room, author, content: str):
    """A message `author` sends to `room`, through the service."""
    return services.message_create(room=room, author=author, content=content)


def without_grant(url: str) -> str:
    """A poller's URL without its grant (`t`): the same poll, on the full
    path."""
    path, _, query = url.partition("?")
    fields = [(name, value) for name, value in parse_qsl(query) if name != "t"]
    return f"{path}?{urlencode(fields)}"
