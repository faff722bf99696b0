from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Shared plumbing: errors, the on-commit helper, API helpers. No business models."""

    name = "common"
