from chat import services


def say(room, author, content: str):
    """A message `author` sends to `room`, through the service."""
    return services.message_create(room=room, author=author, content=content)
