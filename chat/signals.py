"""Ending a session ends its poll grants at once (see chat.polltoken)."""

from chat import polltoken


def on_logout(sender, request, **kwargs) -> None:
    polltoken.session_ended(request.session.session_key)


def on_session_deleted(sender, instance, **kwargs) -> None:
    polltoken.session_ended(instance.session_key)
