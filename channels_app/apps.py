from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    """Inbound and outbound channel adapters (one folder per channel; filled by later issues)."""

    name = "channels_app"
    verbose_name = "Channels"
