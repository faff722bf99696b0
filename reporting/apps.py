from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """Rollups and the yearly channel-strategy report (filled by a later issue)."""

    name = "reporting"
