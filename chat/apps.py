from django.apps import AppConfig


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out
        from django.contrib.sessions.models import Session
        from django.db.models.signals import post_delete

        from chat import signals

        # Receivers are held weakly: module-level functions stay alive, local
        # closures would be collected as soon as ready() returns. Logout
        # flushes the session; expired-session clean-up and an administrator
        # deleting sessions remove the rows.
        user_logged_out.connect(signals.on_logout, dispatch_uid="chat-poll-logout")
        post_delete.connect(
            signals.on_session_deleted, sender=Session, dispatch_uid="chat-poll-session"
        )
