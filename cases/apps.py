from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The case core: cases, contacts, residents, departments, agreements, calendars."""

    name = "cases"
