from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff users and their roles."""

    name = "accounts"
