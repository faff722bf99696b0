from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    """Inbound and outbound channel adapters (one folder per channel)."""

    name = "channels_app"
    verbose_name = "Channels"

    def ready(self) -> None:
        from cases.services.hooks import register_transition_hook
        from channels_app.notices.services import notices_on_transition

        register_transition_hook("notices", notices_on_transition)
